import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_MESSAGE_KINDS,
  parseTopic,
  toBasePrefix,
  toBaseSubscriptions,
  toBaseTopic,
  toCommandTopic,
  toControllerSubscriptions,
  toTopicRoot,
  type CommandKind,
} from '../../core/topics.ts';

test('topic root and prefix (env lower-cased, identity kept as is)', () => {
  assert.equal(toTopicRoot('default'), 'koupleless_default');
  assert.equal(toTopicRoot('DEV'), 'koupleless_dev');
  assert.equal(toBasePrefix('default', '10.1.0.45'), 'koupleless_default/10.1.0.45');
});

test('command topics, including baseline under base/', () => {
  const cases: Array<[CommandKind, string]> = [
    ['health', 'koupleless_default/10.1.0.45/health'],
    ['queryAllBiz', 'koupleless_default/10.1.0.45/queryAllBiz'],
    ['installBiz', 'koupleless_default/10.1.0.45/installBiz'],
    ['uninstallBiz', 'koupleless_default/10.1.0.45/uninstallBiz'],
    ['baseline', 'koupleless_default/10.1.0.45/base/baseline'],
  ];
  for (const [kind, want] of cases) assert.equal(toCommandTopic('default', '10.1.0.45', kind), want);
});

test('base topics match the protocol table', () => {
  assert.deepEqual(
    BASE_MESSAGE_KINDS.map((k) => toBaseTopic('default', 'b1', k)),
    [
      'koupleless_default/b1/base/heart',
      'koupleless_default/b1/base/queryBaseline',
      'koupleless_default/b1/base/health',
      'koupleless_default/b1/base/simpleBiz',
      'koupleless_default/b1/base/biz',
      'koupleless_default/b1/base/bizOperation',
      'koupleless_default/b1/base/batchInstallBizResponse',
    ],
  );
});

test('subscriptions: controller sees every base message; a base sees its commands and baseline', () => {
  assert.deepEqual(toControllerSubscriptions('default'), ['koupleless_default/+/base/+']);
  assert.deepEqual(toBaseSubscriptions('default', '10.1.0.45'), ['koupleless_default/10.1.0.45/+', 'koupleless_default/10.1.0.45/base/baseline']);
});

test('parseTopic: base → controller topics', () => {
  for (const kind of BASE_MESSAGE_KINDS) {
    assert.deepEqual(parseTopic(toBaseTopic('default', '10.1.0.45', kind)), { env: 'default', baseIdentity: '10.1.0.45', kind, direction: 'fromBase' });
  }
});

test('parseTopic: controller → base topics, baseline included', () => {
  for (const kind of ['health', 'queryAllBiz', 'installBiz', 'uninstallBiz', 'baseline'] as const) {
    assert.deepEqual(parseTopic(toCommandTopic('dev', 'id-1', kind)), { env: 'dev', baseIdentity: 'id-1', kind, direction: 'toBase' });
  }
});

test('parseTopic round-trips identities with dots', () => {
  const t = parseTopic(toBaseTopic('default', 'a.b.c.d', 'heart'));
  assert.equal(t?.baseIdentity, 'a.b.c.d');
});

test('parseTopic: garbage is undefined', () => {
  const garbage = [
    '',
    'koupleless_default',
    'koupleless_default/id',
    'koupleless_/id/health',
    'koupleless_default//health',
    'koupleless_default/id/',
    'koupleless_default/id/base/',
    'koupleless_default/id/other/heart',
    'koupleless_default/id/base/heart/extra',
    'other_default/id/base/heart',
    '/koupleless_default/id/base/heart',
    'KOUPLELESS_default/id/base/heart',
  ];
  for (const topic of garbage) assert.equal(parseTopic(topic), undefined, topic);
});
