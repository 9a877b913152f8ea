import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bizModelSchema,
  parseBatchInstallResponse,
  parseBizOperation,
  parseHealth,
  parseHeartbeat,
  parseModuleList,
  parseQueryBaseline,
  parseSimpleBizList,
  toEnvelope,
  toReportedModuleFromArk,
  toReportedModuleFromSimple,
} from '../../core/protocol.ts';
import * as ex from './protocol-examples.ts';

const env = (data: unknown, publishTimestamp = 1727000000000) => JSON.stringify({ publishTimestamp, data });

// Upstream's own tests send these on every topic (koupleless-protocol.md, defect 9).
const UPSTREAM_GARBAGE: Array<[string, string | Buffer]> = [
  ['empty payload', ''],
  ['empty buffer', Buffer.alloc(0)],
  ['whitespace', '  \n'],
  ['publishTimestamp only', '{"publishTimestamp":0}'],
  ['null data', '{"publishTimestamp":0,"data":null}'],
  ['not JSON', '{"publishTimestamp":'],
  ['JSON null', 'null'],
  ['JSON array', '[]'],
  ['JSON string', '"hello"'],
  ['timestamp as string', '{"publishTimestamp":"1727000000000","data":{}}'],
  ['no timestamp', '{"data":{}}'],
];

const PARSERS = {
  parseHeartbeat,
  parseQueryBaseline,
  parseBizOperation,
  parseBatchInstallResponse,
  parseSimpleBizList,
  parseHealth,
  'parseModuleList(simpleBiz)': (p: string | Buffer) => parseModuleList('simpleBiz', p),
  'parseModuleList(biz)': (p: string | Buffer) => parseModuleList('biz', p),
};

test('the example constants are verbatim copies of koupleless-protocol.md', (t) => {
  const doc = path.resolve(import.meta.dirname, '../../../shared/docs/koupleless-protocol.md');
  if (!existsSync(doc)) {
    t.skip(`protocol doc not found at ${doc} (shared/ is not beside the repository)`);
    return;
  }
  const text = readFileSync(doc, 'utf8');
  for (const [name, value] of Object.entries(ex)) assert.ok(text.includes(value), `${name} is not in the doc verbatim`);
});

test('every parser rejects upstream garbage with a reason, never throws', () => {
  for (const [parserName, parse] of Object.entries(PARSERS)) {
    for (const [what, payload] of UPSTREAM_GARBAGE) {
      const r = parse(payload);
      assert.equal(r.ok, false, `${parserName} accepted ${what}`);
      if (!r.ok) assert.ok(r.reason.length > 0);
    }
  }
});

test('reasons say what is wrong', () => {
  const reason = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);
  assert.equal(reason(parseHeartbeat('')), 'empty payload');
  assert.match(reason(parseHeartbeat('{')) ?? '', /^not JSON: /);
  assert.equal(reason(parseHeartbeat('{"publishTimestamp":0}')), 'envelope has no data');
  assert.match(reason(parseHeartbeat('{"data":{}}')) ?? '', /^bad envelope: publishTimestamp: /);
  assert.match(reason(parseHeartbeat(env({ localIP: 'x', state: 'activated' }))) ?? '', /^bad data: baseMetadata: /);
});

test('parseHeartbeat: the protocol example', () => {
  const r = parseHeartbeat(ex.HEARTBEAT);
  assert.ok(r.ok);
  assert.deepEqual(r.value, {
    publishTimestamp: 1727000000123,
    data: {
      baseMetadata: { identity: '10.1.0.45', name: 'base', version: '1.0.0', clusterName: 'default' },
      localIP: '10.1.0.45',
      localHostName: 'base-7d9f8c6b5-x2kq9',
      port: 0,
      state: 'activated',
    },
  });
});

test('parseHeartbeat: defaults for fields older bases leave out, rejects missing essentials', () => {
  const r = parseHeartbeat(env({ baseMetadata: { identity: 'b1' }, localIP: '10.0.0.1', state: 'ACTIVATED' }));
  assert.ok(r.ok);
  assert.deepEqual(r.value.data, {
    baseMetadata: { identity: 'b1', name: '', version: '', clusterName: '' },
    localIP: '10.0.0.1',
    localHostName: '',
    port: 0,
    state: 'ACTIVATED',
  });
  for (const data of [
    { baseMetadata: { identity: '' }, localIP: '10.0.0.1', state: 'activated' },
    { baseMetadata: { identity: 'b1' }, localIP: '', state: 'activated' },
    { baseMetadata: { identity: 'b1' }, localIP: '10.0.0.1' },
    { baseMetadata: { identity: 'b1' }, localIP: '10.0.0.1', state: 'activated', port: '0' },
    [],
  ]) {
    assert.equal(parseHeartbeat(env(data)).ok, false, JSON.stringify(data));
  }
});

test('parseQueryBaseline', () => {
  const r = parseQueryBaseline(env({ identity: 'b1', name: 'base', version: '1.0.0', clusterName: 'c1' }));
  assert.ok(r.ok);
  assert.deepEqual(r.value.data, { identity: 'b1', name: 'base', version: '1.0.0', clusterName: 'c1' });
  assert.equal(parseQueryBaseline(env({ name: 'base' })).ok, false);
});

test('parseBizOperation: the protocol example, a failed reply, and malformed ones', () => {
  const r = parseBizOperation(ex.INSTALL_REPLY);
  assert.ok(r.ok);
  assert.equal(r.value.publishTimestamp, 1727000005000);
  assert.equal(r.value.data.command, 'installBiz');
  assert.equal(r.value.data.response.code, 'SUCCESS');
  assert.deepEqual(r.value.data.response.data, {
    code: 'SUCCESS',
    message: 'Install Biz: biz1:0.0.1 success',
    bizInfos: [{ bizName: 'biz1', bizVersion: '0.0.1', bizState: 'ACTIVATED' }],
    elapsedSpace: 5242880,
  });
  const failed = parseBizOperation(env({ command: 'installBiz', bizName: 'biz1', bizVersion: '0.0.1', response: JSON.parse(ex.FAILED_INSTALL_RESPONSE) }));
  assert.ok(failed.ok);
  assert.equal(failed.value.data.response.code, 'FAILED');
  assert.deepEqual(failed.value.data.response.data, { code: 'REPEAT_BIZ', message: 'Biz: biz1:0.0.1 has been installed or registered.' });
  const good = { command: 'uninstallBiz', bizName: 'b', bizVersion: '1', response: { code: 'SUCCESS' } };
  assert.equal(parseBizOperation(env(good)).ok, true);
  for (const bad of [
    { ...good, command: 'health' },
    { ...good, bizName: undefined },
    { ...good, bizVersion: '' },
    { ...good, response: undefined },
    { ...good, response: { code: '' } },
  ]) {
    assert.equal(parseBizOperation(env(bad)).ok, false, JSON.stringify(bad));
  }
});

test('parseBatchInstallResponse', () => {
  const ok = parseBatchInstallResponse(env({ command: 'batchInstallBiz', response: { code: 'SUCCESS', data: { code: 'SUCCESS', bizUrlToResponse: {} } } }));
  assert.ok(ok.ok);
  assert.equal(ok.value.data.response.code, 'SUCCESS');
  assert.equal(parseBatchInstallResponse(env({ command: 'installBiz', response: { code: 'SUCCESS' } })).ok, false);
});

test('parseSimpleBizList and parseModuleList(simpleBiz): the protocol example', () => {
  const r = parseSimpleBizList(ex.SIMPLE_BIZ);
  assert.ok(r.ok);
  assert.equal(r.value.data.length, 1);
  const list = parseModuleList('simpleBiz', ex.SIMPLE_BIZ);
  assert.ok(list.ok);
  assert.deepEqual(list.value, {
    publishTimestamp: 1727000002000,
    data: [{ bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED', reason: 'STARTED', message: 'Biz start succeed', changeTime: 1726999990000 }],
  });
  // A record-less module (fastjson writes null) and an empty list are fine.
  const noRecord = parseModuleList('simpleBiz', env([{ name: 'b', version: '1', state: 'resolved', latestStateRecord: null }]));
  assert.ok(noRecord.ok);
  assert.deepEqual(noRecord.value.data, [{ bizName: 'b', bizVersion: '1', state: 'RESOLVED', reason: undefined, message: undefined, changeTime: undefined }]);
  const empty = parseModuleList('simpleBiz', env([]));
  assert.ok(empty.ok);
  assert.deepEqual(empty.value.data, []);
  assert.equal(parseModuleList('simpleBiz', env([{ name: 'b', state: 'activated' }])).ok, false);
  assert.equal(parseModuleList('simpleBiz', env({ code: 'SUCCESS', data: [] })).ok, false);
});

test('parseModuleList(biz): the older full reply, and its non-SUCCESS code', () => {
  const full = env({
    code: 'SUCCESS',
    data: [
      {
        bizName: 'biz1',
        bizVersion: '0.0.1',
        bizState: 'activated',
        mainClass: 'com.example.Biz1',
        webContextPath: '/biz1',
        bizStateRecords: [
          { changeTime: '2024-09-22 10:00:00', state: 'RESOLVED', reason: 'CREATED', message: 'created' },
          { changeTime: 1726999990000, state: 'ACTIVATED', reason: 'STARTED', message: 'Biz start succeed' },
        ],
      },
      { bizName: 'biz2', bizVersion: '1', bizState: 'DEACTIVATED', bizStateRecords: null },
    ],
  });
  const r = parseModuleList('biz', full);
  assert.ok(r.ok);
  assert.deepEqual(r.value.data, [
    { bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED', reason: 'STARTED', message: 'Biz start succeed', changeTime: 1726999990000 },
    { bizName: 'biz2', bizVersion: '1', state: 'DEACTIVATED', reason: undefined, message: undefined, changeTime: undefined },
  ]);
  const noData = parseModuleList('biz', env({ code: 'SUCCESS', data: null }));
  assert.ok(noData.ok);
  assert.deepEqual(noData.value.data, []);
  const failed = parseModuleList('biz', env({ code: 'FAILED', message: 'boom' }));
  assert.deepEqual(failed, { ok: false, reason: 'module list reply code FAILED: boom' });
});

test('state record change times: numbers, numeric strings, dates; blank or junk is no time', () => {
  const at = (changeTime: unknown) =>
    toReportedModuleFromSimple({ name: 'b', version: '1', state: 'activated', latestStateRecord: { changeTime: changeTime as number } }).changeTime;
  assert.equal(at(1726999990000), 1726999990000);
  assert.equal(at('1726999990000'), 1726999990000);
  assert.equal(at('2024-09-22T10:00:00.000Z'), Date.parse('2024-09-22T10:00:00.000Z'));
  assert.equal(at(''), undefined);
  assert.equal(at('   '), undefined);
  assert.equal(at('yesterday'), undefined);
  assert.equal(at(undefined), undefined);
  assert.equal(toReportedModuleFromArk({ bizName: 'b', bizVersion: '1', bizState: 'broken', bizStateRecords: [] }).state, 'BROKEN');
});

// What a real arklet sends for `health` with no type: master biz, JVM, CPU and biz/plugin lists.
const REAL_HEALTH = {
  code: 'SUCCESS',
  data: {
    healthData: {
      masterBizInfo: { bizName: 'base', bizState: 'ACTIVATED', bizVersion: '1.0.0', webContextPath: '/' },
      jvm: { 'java version': '17.0.12', 'java home': '/usr/lib/jvm/java-17', 'java max metaspace': -1, 'java used metaspace': 100663296, 'max heap memory(M)': 2048, 'run time(s)': 12.5 },
      cpu: { count: 4, type: 'Intel(R) Xeon(R)', 'total used (%)': 12.5, 'free (%)': 87.5 },
      bizListInfo: [{ bizName: 'base', bizVersion: '1.0.0', bizState: 'ACTIVATED' }],
      pluginListInfo: [],
    },
  },
};

test('parseHealth: a real arklet reply (string figures among the numbers) keeps the numbers', () => {
  const r = parseHealth(env(REAL_HEALTH));
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value.data, {
    jvm: { 'java max metaspace': -1, 'java used metaspace': 100663296, 'max heap memory(M)': 2048, 'run time(s)': 12.5 },
    cpu: { count: 4, 'total used (%)': 12.5, 'free (%)': 87.5 },
    masterBizInfo: { bizName: 'base', bizState: 'ACTIVATED', bizVersion: '1.0.0' },
  });
});

test('parseHealth: doubly wrapped data, missing figures, and failures', () => {
  const doubled = parseHealth(env({ code: 'SUCCESS', data: { code: 'SUCCESS', data: { healthData: { masterBizInfo: REAL_HEALTH.data.healthData.masterBizInfo } } } }));
  assert.ok(doubled.ok);
  assert.deepEqual(doubled.value.data.jvm, {});
  assert.deepEqual(parseHealth(env({ code: 'FAILED', message: 'can not find biz' })), { ok: false, reason: 'health reply code FAILED' });
  assert.equal(parseHealth(env({ code: 'SUCCESS', data: {} })).ok, false);
  assert.deepEqual(parseHealth(env({ code: 'SUCCESS' })), { ok: false, reason: 'health reply has no healthData' });
  assert.equal(parseHealth(env({ code: 'SUCCESS', data: { healthData: { jvm: [] } } })).ok, false);
});

test('bizModelSchema: what the controller sends on installBiz', () => {
  assert.deepEqual(bizModelSchema.parse(JSON.parse(ex.INSTALL)), {
    bizName: 'biz1',
    bizVersion: '0.0.1',
    bizUrl: 'https://example.invalid/biz1-0.0.1-ark-biz.jar',
  });
  assert.equal(bizModelSchema.safeParse({ bizName: 'b', bizVersion: '1', installStrategy: 'replace' }).success, false);
  assert.equal(bizModelSchema.safeParse({ bizName: '', bizVersion: '1' }).success, false);
});

test('toEnvelope wraps a payload with its publish time', () => {
  assert.deepEqual(toEnvelope({ a: 1 }, 42), { publishTimestamp: 42, data: { a: 1 } });
});
