import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Output } from '../../core/protocol.ts';
import { BASE_MESSAGE_KINDS, toBaseTopic, toCommandTopic, type BaseMessageKind } from '../../core/topics.ts';
import type { SimBaseInfo } from '../../base-sim/base-info.ts';
import { toBatchInstallMessage, toBizOperationMessage, toHealthMessage, toQueryBaselineMessage } from '../../base-sim/messages.ts';
import { BaseRegistry } from '../../bridge/base-registry.ts';
import { handleMessage, needsModuleList, type HandledMessage, type HandlerDeps, type MessageOutcome } from '../../bridge/handle-message.ts';
import * as ex from '../core/protocol-examples.ts';

// The base of the protocol examples (koupleless-protocol.md "Examples").
const INFO: SimBaseInfo = { identity: '10.1.0.45', name: 'base', version: '1.0.0', clusterName: 'default', localIP: '10.1.0.45', localHostName: 'base-7d9f8c6b5-x2kq9' };
const ID = INFO.identity;
const TS = 1727000005000;
const NOW = TS + 2_000;

const topic = (kind: BaseMessageKind, id = ID, env = 'default') => toBaseTopic(env, id, kind);
const json = (v: unknown) => JSON.stringify(v);
const envelope = (data: unknown, ts = TS) => json({ publishTimestamp: ts, data });

/** A realistic payload for every kind a base publishes. */
function validPayload(kind: BaseMessageKind, ts = TS): string {
  switch (kind) {
    case 'heart':
      return ex.HEARTBEAT.replace('1727000000123', String(ts));
    case 'queryBaseline':
      return json(toQueryBaselineMessage(INFO, ts));
    case 'health':
      return json(toHealthMessage(INFO, [], { masterBizState: 'ACTIVATED', startedAt: ts - 60_000 }, ts));
    case 'simpleBiz':
      return ex.SIMPLE_BIZ.replace('1727000002000', String(ts));
    case 'biz':
      return envelope({ code: 'SUCCESS', message: null, data: [{ bizName: 'biz1', bizVersion: '0.0.1', bizState: 'ACTIVATED', mainClass: 'com.example.Biz1Application', webContextPath: '/biz1', bizStateRecords: [{ changeTime: 1726999990000, state: 'ACTIVATED', reason: 'STARTED', message: 'Biz start succeed' }] }] }, ts);
    case 'bizOperation':
      return ex.INSTALL_REPLY.replace('1727000005000', String(ts));
    case 'batchInstallBizResponse':
      return json(toBatchInstallMessage({ code: 'SUCCESS', data: { code: 'SUCCESS', message: 'batch install success' } }, ts));
  }
}

interface Harness {
  readonly deps: HandlerDeps;
  readonly registry: BaseRegistry;
  readonly calls: string[];
  handle(t: string, payload: string | Buffer, meta?: { retain?: boolean }): HandledMessage;
  snapshot(): string;
}

/** A registry that knows the example base, its (empty) module list and a pending install of biz1. */
function harness(o: { known?: boolean; now?: number; maxMessageAgeMs?: number; maxClockSkewMs?: number; clock?: () => number } = {}): Harness {
  const registry = new BaseRegistry();
  if (o.known ?? true) {
    registry.recordHeartbeat(ID, { metadata: { identity: ID, name: 'base', version: '1.0.0', clusterName: 'default' }, localIP: ID, hostName: INFO.localHostName, state: 'activated', publishTimestamp: TS - 10_000 }, NOW - 10_000);
    registry.recordModules(ID, [], NOW - 10_000);
    registry.recordOpSent(ID, { kind: 'install', bizName: 'biz1', bizVersion: '0.0.1', bizUrl: 'https://example.invalid/biz1-0.0.1-ark-biz.jar', sentAt: NOW - 5_000 });
  }
  const calls: string[] = [];
  const deps: HandlerDeps = {
    registry,
    env: 'default',
    now: o.clock ?? (() => o.now ?? NOW),
    maxMessageAgeMs: o.maxMessageAgeMs ?? 0,
    maxClockSkewMs: o.maxClockSkewMs ?? 3_600_000,
    onBaseChanged: (id, what) => calls.push(`changed ${id} ${what}`),
    onBaselineQuery: (id) => calls.push(`baseline ${id}`),
    requestModuleList: (id) => calls.push(`list ${id}`),
  };
  return {
    deps,
    registry,
    calls,
    handle: (t, payload, meta) => handleMessage(t, typeof payload === 'string' ? Buffer.from(payload) : payload, deps, meta),
    snapshot: () => json(registry.list().map((b) => ({ ...b, ops: [...b.ops], installedUrls: [...b.installedUrls] }))),
  };
}

test('every kind is accepted with a realistic payload and recorded', () => {
  const expectations: Record<BaseMessageKind, { calls: string[]; check: (h: Harness) => void }> = {
    heart: {
      calls: [`changed ${ID} heartbeat`],
      check: (h) => {
        assert.equal(h.registry.get(ID)!.lastPublishTimestamp, TS);
        assert.equal(h.registry.get(ID)!.lastHeartbeatAt, NOW);
      },
    },
    queryBaseline: { calls: [`baseline ${ID}`], check: () => undefined },
    health: {
      calls: [`changed ${ID} health`],
      check: (h) => {
        const health = h.registry.get(ID)!.health!;
        assert.deepEqual(health.masterBizInfo, { bizName: 'base', bizState: 'ACTIVATED', bizVersion: '1.0.0' });
        assert.equal(health.jvm['max memory(M)'], 2048);
        assert.equal(h.registry.get(ID)!.healthAt, NOW);
      },
    },
    simpleBiz: {
      calls: [`changed ${ID} modules`],
      check: (h) => assert.deepEqual(h.registry.get(ID)!.modules, [{ bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED', reason: 'STARTED', message: 'Biz start succeed', changeTime: 1726999990000 }]),
    },
    biz: {
      calls: [`changed ${ID} modules`],
      check: (h) => assert.deepEqual(h.registry.get(ID)!.modules, [{ bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED', reason: 'STARTED', message: 'Biz start succeed', changeTime: 1726999990000 }]),
    },
    bizOperation: {
      // The reply proves biz1:0.0.1 ACTIVATED and the last list had no other version: no list asked for.
      calls: [`changed ${ID} operation`],
      check: (h) => {
        const op = h.registry.get(ID)!.ops.get('biz1:0.0.1')!;
        assert.deepEqual(op.result, { ok: true, code: 'SUCCESS', message: 'Install Biz: biz1:0.0.1 success', at: NOW });
        assert.deepEqual(h.registry.get(ID)!.modules, [{ bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED' }]);
      },
    },
    batchInstallBizResponse: { calls: [`list ${ID}`], check: () => undefined },
  };
  for (const kind of BASE_MESSAGE_KINDS) {
    const h = harness();
    const r = h.handle(topic(kind), validPayload(kind));
    assert.equal(r.kind, kind);
    assert.equal(r.outcome, 'accepted', `${kind}: ${r.reason}`);
    assert.deepEqual(h.calls, expectations[kind].calls, kind);
    expectations[kind].check(h);
  }
});

test('the first heartbeat of a new base creates it', () => {
  const h = harness({ known: false });
  assert.equal(h.handle(ex.HEARTBEAT_TOPIC, ex.HEARTBEAT).outcome, 'accepted');
  const b = h.registry.get('10.1.0.45')!;
  assert.equal(b.nodeName, 'virtual-node-10.1.0.45');
  assert.equal(b.localIP, '10.1.0.45');
  assert.equal(b.hostName, 'base-7d9f8c6b5-x2kq9');
  assert.deepEqual(b.metadata, { identity: '10.1.0.45', name: 'base', version: '1.0.0', clusterName: 'default' });
  assert.deepEqual(h.calls, ['changed 10.1.0.45 heartbeat']);
});

// Upstream's own tests send these on every topic (koupleless-protocol.md, defect 9), plus shapes of our own.
const GARBAGE: Array<[string, string]> = [
  ['empty', ''],
  ['whitespace', ' \n'],
  ['not JSON', '{"publishTimestamp":'],
  ['publishTimestamp only', '{"publishTimestamp":0}'],
  ['null data', '{"publishTimestamp":0,"data":null}'],
  ['JSON null', 'null'],
  ['JSON array', '[]'],
  ['JSON number', '42'],
  ['timestamp as string', json({ publishTimestamp: String(TS), data: {} })],
  ['no timestamp', json({ data: {} })],
  ['data is a string', envelope('hello')],
  ['data is an empty object', envelope({})],
];

const WRONG_SHAPES: Record<BaseMessageKind, Array<[string, unknown]>> = {
  heart: [
    ['no identity', { baseMetadata: { name: 'base' }, localIP: '10.1.0.45', state: 'activated' }],
    ['empty localIP', { baseMetadata: { identity: ID }, localIP: '', state: 'activated' }],
    ['no state', { baseMetadata: { identity: ID }, localIP: '10.1.0.45' }],
    ['identity a number', { baseMetadata: { identity: 45 }, localIP: '10.1.0.45', state: 'activated' }],
  ],
  queryBaseline: [
    ['empty identity', { identity: '' }],
    ['an array', [{ identity: ID }]],
  ],
  health: [
    ['FAILED code', { code: 'FAILED', message: 'oops' }],
    ['no healthData', { code: 'SUCCESS', data: {} }],
    ['jvm a string', { code: 'SUCCESS', data: { healthData: { jvm: 'x' } } }],
    ['masterBizInfo wrong', { code: 'SUCCESS', data: { healthData: { masterBizInfo: { bizName: 1 } } } }],
  ],
  simpleBiz: [
    ['no version and state', [{ name: 'biz1' }]],
    ['empty name', [{ name: '', version: '1', state: 'activated' }]],
    ['null item', [null]],
  ],
  biz: [
    ['FAILED code', { code: 'FAILED', message: 'x', data: [] }],
    ['item without version', { code: 'SUCCESS', data: [{ bizName: 'biz1', bizState: 'ACTIVATED' }] }],
    ['data an object', { code: 'SUCCESS', data: {} }],
    ['no code', { data: [] }],
  ],
  bizOperation: [
    ['unknown command', { command: 'restartBiz', bizName: 'biz1', bizVersion: '0.0.1', response: { code: 'SUCCESS' } }],
    ['no response', { command: 'installBiz', bizName: 'biz1', bizVersion: '0.0.1' }],
    ['empty bizName', { command: 'installBiz', bizName: '', bizVersion: '0.0.1', response: { code: 'SUCCESS' } }],
    ['no bizVersion (fastjson dropped a null)', { command: 'installBiz', bizName: 'biz1', response: { code: 'SUCCESS' } }],
    ['response without code', { command: 'installBiz', bizName: 'biz1', bizVersion: '0.0.1', response: {} }],
  ],
  batchInstallBizResponse: [
    ['other command', { command: 'installBiz', response: { code: 'SUCCESS' } }],
    ['no response', { command: 'batchInstallBiz' }],
    ['response without code', { command: 'batchInstallBiz', response: {} }],
  ],
};

test('every kind × malformed input: outcome malformed, no registry change, no callbacks', () => {
  let checked = 0;
  for (const kind of BASE_MESSAGE_KINDS) {
    const inputs: Array<[string, string]> = [
      ...GARBAGE,
      ...WRONG_SHAPES[kind].map(([name, data]): [string, string] => [name, envelope(data)]),
      // Another kind's valid payload on this kind's topic.
      ...BASE_MESSAGE_KINDS.filter((k) => k !== kind).map((k): [string, string] => [`a ${k} payload`, validPayload(k)]),
    ];
    for (const known of [true, false]) {
      for (const [name, payload] of inputs) {
        const h = harness({ known });
        const before = h.snapshot();
        const r = h.handle(topic(kind), payload);
        const what = `${kind} / ${name} / ${known ? 'known' : 'unknown'} base`;
        assert.equal(r.outcome, 'malformed', what);
        assert.equal(r.kind, kind, what);
        assert.ok(r.reason && r.reason.length > 0, `${what}: a reason`);
        assert.equal(h.snapshot(), before, what);
        assert.deepEqual(h.calls, [], what);
        checked++;
      }
    }
  }
  assert.ok(checked > 200, `${checked} cases`);
});

test('stale messages are ignored when maxMessageAgeMs is set', () => {
  for (const kind of BASE_MESSAGE_KINDS) {
    const stale = harness({ maxMessageAgeMs: 10_000, now: TS + 10_001 });
    const before = stale.snapshot();
    const r = stale.handle(topic(kind), validPayload(kind));
    assert.equal(r.outcome, 'stale', kind);
    assert.match(r.reason ?? '', /published 10001ms ago/, kind);
    assert.equal(stale.snapshot(), before, kind);
    assert.deepEqual(stale.calls, [], kind);

    const edge = harness({ maxMessageAgeMs: 10_000, now: TS + 10_000 });
    assert.equal(edge.handle(topic(kind), validPayload(kind)).outcome, 'accepted', `${kind} at the limit`);

    const anyAge = harness({ maxMessageAgeMs: 0, now: TS + 86_400_000 });
    assert.equal(anyAge.handle(topic(kind), validPayload(kind)).outcome, 'accepted', `${kind} with the check off`);
  }
});

test('topics of another env, commands and unknown topics are not ours', () => {
  const cases: Array<[string, string]> = [
    ['other env', topic('heart', ID, 'dev')],
    ['env in upper case', topic('heart', ID, 'default').replace('koupleless_default', 'koupleless_DEFAULT')],
    ['a command topic', toCommandTopic('default', ID, 'installBiz')],
    ['the baseline we publish', toCommandTopic('default', ID, 'baseline')],
    ['unknown base message', `koupleless_default/${ID}/base/restart`],
    ['too deep', `koupleless_default/${ID}/base/heart/extra`],
    ['not koupleless', 'other/10.1.0.45/base/heart'],
    ['empty', ''],
  ];
  for (const [name, t] of cases) {
    const h = harness();
    const before = h.snapshot();
    const r = h.handle(t, validPayload('heart', TS + 1_000));
    assert.equal(r.outcome, 'unknownTopic', name);
    assert.equal(h.snapshot(), before, name);
    assert.deepEqual(h.calls, [], name);
  }
});

test('non-heartbeat messages from a base never heard of are ignored', () => {
  const kinds: BaseMessageKind[] = ['health', 'simpleBiz', 'biz', 'bizOperation', 'batchInstallBizResponse'];
  for (const kind of kinds) {
    const h = harness();
    const before = h.snapshot();
    const r = h.handle(topic(kind, '10.1.0.99'), validPayload(kind));
    assert.deepEqual(r, { kind, outcome: 'unknownBase', reason: 'no heartbeat from 10.1.0.99 yet' }, kind);
    assert.equal(h.snapshot(), before, kind);
    assert.equal(h.registry.get('10.1.0.99'), undefined, kind);
    assert.deepEqual(h.calls, [], kind);
  }
  // A base asks for its baseline right after connecting, maybe before its first heartbeat is seen:
  // answered from the pods bound to its node name, without recording anything.
  const h = harness({ known: false });
  assert.equal(h.handle(topic('queryBaseline'), validPayload('queryBaseline')).outcome, 'accepted');
  assert.deepEqual(h.calls, [`baseline ${ID}`]);
  assert.deepEqual(h.registry.list(), []);
});

test('every heartbeat counts on the bridge\'s clock, whatever its publishTimestamp (no single message can block a base)', () => {
  let at = NOW;
  const h = harness({ clock: () => at });
  // A far-future heartbeat within the skew limit, then the base's clock steps back by an hour.
  for (const [ts, t] of [[TS + 50 * 60_000, NOW], [TS - 60 * 60_000, NOW + 10_000], [TS - 60 * 60_000 - 1, NOW + 20_000]] as const) {
    at = t;
    const r = h.handle(topic('heart'), validPayload('heart', ts));
    assert.equal(r.outcome, 'accepted', `publishTimestamp ${ts}`);
  }
  const b = h.registry.get(ID)!;
  assert.equal(b.lastPublishTimestamp, TS - 60 * 60_000 - 1);
  assert.equal(b.lastHeartbeatAt, NOW + 20_000, 'receive time, not the base\'s clock');
});

test('a publishTimestamp further ahead than --max-clock-skew is rejected with a reason; bases 10 minutes off are not', () => {
  const skew = 15 * 60_000;
  for (const [aheadMs, outcome] of [[10 * 60_000, 'accepted'], [-10 * 60_000, 'accepted'], [skew, 'accepted'], [skew + 1, 'futureTimestamp'], [365 * 86_400_000, 'futureTimestamp']] as const) {
    for (const kind of ['heart', 'health', 'simpleBiz'] as const) {
      const h = harness({ maxClockSkewMs: skew });
      const before = h.snapshot();
      const r = h.handle(topic(kind), validPayload(kind, NOW + aheadMs));
      assert.equal(r.outcome, outcome, `${kind} ${aheadMs}ms ahead`);
      if (outcome === 'futureTimestamp') {
        assert.match(r.reason ?? '', /ahead of the bridge's clock \(limit --max-clock-skew 900s\)/);
        assert.equal(h.snapshot(), before);
        assert.deepEqual(h.calls, []);
      }
    }
  }
  // 0 turns the check off.
  assert.equal(harness({ maxClockSkewMs: 0 }).handle(topic('heart'), validPayload('heart', NOW + 365 * 86_400_000)).outcome, 'accepted');
});

test('hostile but well-formed: retained messages, identity mismatches and non-IP localIPs change nothing', () => {
  const cases: Array<{ name: string; t: string; payload: string; retain?: boolean; outcome: MessageOutcome; reason: RegExp }> = [
    { name: 'retained heartbeat', t: topic('heart'), payload: validPayload('heart'), retain: true, outcome: 'retained', reason: /retained message on koupleless_default\/10\.1\.0\.45\/base\/heart/ },
    { name: 'retained module list', t: topic('simpleBiz'), payload: validPayload('simpleBiz'), retain: true, outcome: 'retained', reason: /retained/ },
    { name: 'heartbeat for another identity', t: topic('heart', '10.1.0.99'), payload: validPayload('heart'), outcome: 'identityMismatch', reason: /topic names base "10\.1\.0\.99" but the payload says "10\.1\.0\.45"/ },
    { name: 'baseline query for another identity', t: topic('queryBaseline', '10.1.0.99'), payload: validPayload('queryBaseline'), outcome: 'identityMismatch', reason: /payload says "10\.1\.0\.45"/ },
    { name: 'localIP a host name', t: topic('heart'), payload: validPayload('heart').replace('"localIP":"10.1.0.45"', '"localIP":"base.example"'), outcome: 'badAddress', reason: /localIP "base\.example" is not an IPv4 or IPv6 address/ },
    { name: 'localIP out of range', t: topic('heart'), payload: validPayload('heart').replace('"localIP":"10.1.0.45"', '"localIP":"10.1.0.300"'), outcome: 'badAddress', reason: /not an IPv4 or IPv6/ },
  ];
  for (const c of cases) {
    const h = harness();
    const before = h.snapshot();
    const r = h.handle(c.t, c.payload, c.retain ? { retain: true } : undefined);
    assert.equal(r.outcome, c.outcome, c.name);
    assert.match(r.reason ?? '', c.reason, c.name);
    assert.equal(h.snapshot(), before, c.name);
    assert.deepEqual(h.calls, [], c.name);
  }
  // IPv6 is an address too.
  const h = harness();
  assert.equal(h.handle(topic('heart'), validPayload('heart').replace('"localIP":"10.1.0.45"', '"localIP":"2001:db8::7"')).outcome, 'accepted');
  assert.equal(h.registry.get(ID)!.localIP, '2001:db8::7');
});

const opReply = (command: 'installBiz' | 'uninstallBiz', response: Output, biz = { bizName: 'biz1', bizVersion: '0.0.1' }) => json(toBizOperationMessage(command, biz, response, TS));
const FAILED_INSTALL = JSON.parse(ex.FAILED_INSTALL_RESPONSE) as Output;

test('operation replies: REPEAT_BIZ on install and NOT_FOUND_BIZ on uninstall are successes', () => {
  const cases: Array<{ name: string; pending: 'install' | 'uninstall'; modules: Array<{ bizName: string; bizVersion: string; state: string }>; payload: string; outcome: MessageOutcome; ok: boolean; code: string; message: RegExp; modulesAfter: string[] }> = [
    { name: 'install SUCCESS (doc example)', pending: 'install', modules: [], payload: ex.INSTALL_REPLY, outcome: 'accepted', ok: true, code: 'SUCCESS', message: /^Install Biz: biz1:0\.0\.1 success$/, modulesAfter: ['biz1:0.0.1 ACTIVATED'] },
    { name: 'install FAILED + REPEAT_BIZ (doc example)', pending: 'install', modules: [], payload: opReply('installBiz', FAILED_INSTALL), outcome: 'accepted', ok: true, code: 'REPEAT_BIZ', message: /install biz not success!: Biz: biz1:0\.0\.1 has been installed/, modulesAfter: ['biz1:0.0.1 RESOLVED'] },
    { name: 'uninstall FAILED + NOT_FOUND_BIZ', pending: 'uninstall', modules: [{ bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED' }], payload: opReply('uninstallBiz', { code: 'FAILED', message: 'uninstall biz not success!', data: { code: 'NOT_FOUND_BIZ', message: 'biz not found' } }), outcome: 'accepted', ok: true, code: 'NOT_FOUND_BIZ', message: /biz not found/, modulesAfter: [] },
    { name: 'uninstall SUCCESS', pending: 'uninstall', modules: [{ bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED' }], payload: opReply('uninstallBiz', { code: 'SUCCESS', data: { code: 'SUCCESS', message: 'Uninstall biz: biz1:0.0.1 success.' } }), outcome: 'accepted', ok: true, code: 'SUCCESS', message: /Uninstall biz/, modulesAfter: [] },
    { name: 'lower-case success', pending: 'install', modules: [], payload: opReply('installBiz', { code: 'success' }), outcome: 'accepted', ok: true, code: 'SUCCESS', message: /^SUCCESS$/, modulesAfter: ['biz1:0.0.1 RESOLVED'] },
    { name: 'REPEAT_BIZ on uninstall is a failure', pending: 'uninstall', modules: [{ bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED' }], payload: opReply('uninstallBiz', { code: 'FAILED', message: 'no', data: { code: 'REPEAT_BIZ' } }), outcome: 'failedCode', ok: false, code: 'REPEAT_BIZ', message: /^no$/, modulesAfter: ['biz1:0.0.1 ACTIVATED'] },
    { name: 'NOT_FOUND_BIZ on install is a failure', pending: 'install', modules: [], payload: opReply('installBiz', { code: 'FAILED', message: 'no', data: { code: 'NOT_FOUND_BIZ' } }), outcome: 'failedCode', ok: false, code: 'NOT_FOUND_BIZ', message: /^no$/, modulesAfter: [] },
    { name: 'install FAILED', pending: 'install', modules: [], payload: opReply('installBiz', { code: 'FAILED', message: 'install biz not success!', data: { code: 'FAILED', message: 'jar download failed', bizInfos: [{ bizName: 'biz1', bizVersion: '0.0.1', bizState: 'BROKEN' }] } }), outcome: 'failedCode', ok: false, code: 'FAILED', message: /^install biz not success!: jar download failed$/, modulesAfter: [] },
    { name: 'internal error, no data', pending: 'install', modules: [], payload: opReply('installBiz', { code: 'CMD_PROCESS_INTERNAL_ERROR', message: null }), outcome: 'failedCode', ok: false, code: 'CMD_PROCESS_INTERNAL_ERROR', message: /^CMD_PROCESS_INTERNAL_ERROR$/, modulesAfter: [] },
  ];
  for (const c of cases) {
    const h = harness();
    h.registry.recordModules(ID, c.modules, NOW - 1);
    h.registry.recordOpSent(ID, { kind: c.pending, bizName: 'biz1', bizVersion: '0.0.1', bizUrl: 'u', sentAt: NOW - 1_000 });
    const r = h.handle(topic('bizOperation'), c.payload);
    assert.equal(r.outcome, c.outcome, c.name);
    if (!c.ok) assert.match(r.reason ?? '', c.message, c.name);
    const result = h.registry.get(ID)!.ops.get('biz1:0.0.1')!.result!;
    assert.equal(result.ok, c.ok, c.name);
    assert.equal(result.code, c.code, c.name);
    assert.match(result.message, c.message, c.name);
    assert.equal(result.at, NOW, c.name);
    assert.deepEqual(h.registry.get(ID)!.modules!.map((m) => `${m.bizName}:${m.bizVersion} ${m.state}`), c.modulesAfter, c.name);
    // Look at the base again; ask for its list unless the reply proved the install (needsModuleList).
    const proven = c.name === 'install SUCCESS (doc example)';
    assert.deepEqual(h.calls, [...(proven ? [] : [`list ${ID}`]), `changed ${ID} operation`], c.name);
  }
});

test('a reply to an operation never sent is unexpected and changes nothing', () => {
  const h = harness();
  const before = h.snapshot();
  const r = h.handle(topic('bizOperation'), opReply('installBiz', { code: 'SUCCESS' }, { bizName: 'biz2', bizVersion: '1.0.0' }));
  assert.deepEqual(r, { kind: 'bizOperation', outcome: 'unexpected', reason: 'no installBiz of biz2:1.0.0 pending' });
  assert.equal(h.snapshot(), before);
  // Only a fresh module list is asked for; nothing is reconciled.
  assert.deepEqual(h.calls, [`list ${ID}`]);
});

test('a reply whose command differs from the one sent is unexpected', () => {
  const h = harness();
  const before = h.snapshot();
  const r = h.handle(topic('bizOperation'), opReply('uninstallBiz', { code: 'SUCCESS' }));
  assert.equal(r.outcome, 'unexpected');
  assert.equal(h.snapshot(), before);
});

test('needsModuleList: only an install proven ACTIVATED, with no other version listed before or after, skips the list', () => {
  const act = (v: string, state = 'ACTIVATED') => ({ bizName: 'biz1', bizVersion: v, state });
  const reply = (o: Partial<Parameters<typeof needsModuleList>[0]> = {}) => ({ kind: 'install' as const, ok: true, bizName: 'biz1', bizVersion: '2.0.0', bizInfos: [act('2.0.0')], ...o });
  const cases: Array<[string, Parameters<typeof needsModuleList>[0], Parameters<typeof needsModuleList>[1], boolean]> = [
    ['proven install, nothing else listed', reply(), [], false],
    ['proven install, another module listed', reply(), [{ bizName: 'cart', bizVersion: '1.0.0', state: 'ACTIVATED' }], false],
    ['lower-case state', reply({ bizInfos: [act('2.0.0', 'activated')] }), [], false],
    ['another version was listed (it may have been taken along)', reply(), [act('1.0.0')], true],
    ['the reply names another version too', reply({ bizInfos: [act('2.0.0'), act('1.0.0', 'DEACTIVATED')] }), [], true],
    ['installed DEACTIVATED', reply({ bizInfos: [act('2.0.0', 'DEACTIVATED')] }), [], true],
    ['no bizInfos (REPEAT_BIZ)', reply({ bizInfos: [] }), [], true],
    ['bizInfos of another version only', reply({ bizInfos: [act('3.0.0')] }), [], true],
    ['failed install', reply({ ok: false }), [], true],
    ['uninstall', reply({ kind: 'uninstall', bizInfos: [] }), [], true],
    ['no list yet', reply(), undefined, true],
  ];
  for (const [name, r, listed, want] of cases) assert.equal(needsModuleList(r, listed), want, name);
});
