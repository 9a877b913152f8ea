import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReportedModule } from '../../core/protocol.ts';
import { BaseRegistry, type OpRecord } from '../../bridge/base-registry.ts';
import { BASE_ID, BASE_IP, T0, toHealth, toJarUrl, toReported } from './fixtures.ts';

const META = { identity: BASE_ID, name: 'base', version: '1.0.0', clusterName: 'default' };

function heartbeat(publishTimestamp: number, state = 'activated', meta = META) {
  return { metadata: meta, localIP: BASE_IP, hostName: 'base-7d9f8c6b5-x2kq9', state, publishTimestamp };
}

/** A registry holding one activated base with a known module list. */
function withBase(modules: readonly ReportedModule[] | 'unknown' = []): BaseRegistry {
  const r = new BaseRegistry();
  assert.equal(r.recordHeartbeat(BASE_ID, heartbeat(T0), T0), true);
  if (modules !== 'unknown') r.recordModules(BASE_ID, modules, T0);
  return r;
}

function op(r: BaseRegistry, key: string): OpRecord | undefined {
  return r.get(BASE_ID)?.ops.get(key);
}

const sent = (kind: 'install' | 'uninstall', bizName = 'orders', bizVersion = '1.0.0', sentAt = T0) => ({ kind, bizName, bizVersion, bizUrl: toJarUrl(bizName, bizVersion), sentAt });
const result = (kind: 'install' | 'uninstall', ok: boolean, bizInfos: ReportedModule[] = [], bizName = 'orders', bizVersion = '1.0.0') => ({ kind, bizName, bizVersion, ok, code: ok ? 'SUCCESS' : 'FAILED', message: ok ? 'done' : 'broken jar', bizInfos });

test('the first heartbeat creates the record', () => {
  const r = new BaseRegistry();
  assert.equal(r.recordHeartbeat('10.1.0.45', heartbeat(T0 - 5, 'ACTIVATED'), T0), true);
  const b = r.get('10.1.0.45')!;
  assert.equal(b.nodeName, 'virtual-node-10.1.0.45');
  assert.equal(b.state, 'activated');
  assert.equal(b.firstSeenAt, T0);
  assert.equal(b.lastHeartbeatAt, T0);
  assert.equal(b.lastPublishTimestamp, T0 - 5);
  assert.equal(b.modules, undefined);
  assert.deepEqual(b.metadata, META);
  assert.equal(r.byNodeName('virtual-node-10.1.0.45'), b);
  assert.equal(r.byNodeName('virtual-node-other'), undefined);
  assert.deepEqual(r.list(), [b]);
});

test('every heartbeat is recorded at its receive time, whatever the base\'s clock says', () => {
  const r = withBase([toReported('orders', '1.0.0')]);
  // Far future, then a clock that stepped back a day: both count (the behaviour before this change
  // silenced the base until its node was deleted).
  assert.equal(r.recordHeartbeat(BASE_ID, heartbeat(T0 + 365 * 86_400_000), T0 + 10_000), true);
  assert.equal(r.recordHeartbeat(BASE_ID, heartbeat(T0 - 86_400_000, 'deactivated', { ...META, version: '0.9.0' }), T0 + 11_000), true);
  const b = r.get(BASE_ID)!;
  assert.equal(b.lastHeartbeatAt, T0 + 11_000);
  assert.equal(b.lastPublishTimestamp, T0 - 86_400_000);
  assert.equal(b.state, 'deactivated');
  assert.equal(b.metadata.version, '0.9.0');
});

test('later heartbeats keep what the base reported, unless it comes back from a non-activated state', () => {
  const cases: Array<[string, string, string, boolean]> = [
    ['activated → activated', 'activated', 'activated', true],
    ['activated → deactivated', 'activated', 'deactivated', true],
    ['deactivated → activated', 'deactivated', 'activated', false],
    ['DEACTIVATED → activated', 'DEACTIVATED', 'activated', false],
  ];
  for (const [name, first, second, kept] of cases) {
    const r = new BaseRegistry();
    r.recordHeartbeat(BASE_ID, heartbeat(T0, first), T0);
    r.recordModules(BASE_ID, [toReported('orders', '1.0.0')], T0);
    r.recordHealth(BASE_ID, toHealth(), T0);
    r.recordOpSent(BASE_ID, sent('install'));
    r.recordHeartbeat(BASE_ID, heartbeat(T0 + 10_000, second, { ...META, version: '1.1.0' }), T0 + 10_000);
    const b = r.get(BASE_ID)!;
    assert.equal(b.modules !== undefined, kept, name);
    assert.equal(b.modulesAt !== undefined, kept, name);
    assert.equal(b.state, second.toLowerCase(), name);
    assert.equal(b.metadata.version, '1.1.0', name);
    assert.equal(b.firstSeenAt, T0, name);
    assert.equal(b.lastHeartbeatAt, T0 + 10_000, name);
    // Health, sent commands and known URLs survive a heartbeat.
    assert.ok(b.health, name);
    assert.equal(b.ops.size, 1, name);
    assert.equal(b.installedUrls.get('orders:1.0.0'), toJarUrl('orders', '1.0.0'), name);
  }
});

test('health and module lists are only recorded for known bases', () => {
  const r = new BaseRegistry();
  assert.equal(r.recordHealth(BASE_ID, toHealth(), T0), false);
  assert.equal(r.recordModules(BASE_ID, [], T0), false);
  assert.equal(r.recordOpResult(BASE_ID, result('install', true), T0), false);
  r.recordOpSent(BASE_ID, sent('install'));
  assert.deepEqual(r.list(), []);

  const known = withBase('unknown');
  assert.equal(known.recordHealth(BASE_ID, toHealth('BROKEN'), T0 + 1), true);
  assert.equal(known.get(BASE_ID)!.health?.masterBizInfo?.bizState, 'BROKEN');
  assert.equal(known.get(BASE_ID)!.healthAt, T0 + 1);
  assert.equal(known.recordModules(BASE_ID, [toReported('a', '1')], T0 + 2), true);
  assert.deepEqual(known.get(BASE_ID)!.modules, [toReported('a', '1')]);
  assert.equal(known.get(BASE_ID)!.modulesAt, T0 + 2);
});

test('recordOpSent counts attempts of the same command until it succeeds', () => {
  const steps: Array<[string, (r: BaseRegistry) => void, number]> = [
    ['first install', (r) => r.recordOpSent(BASE_ID, sent('install')), 1],
    ['resent after a timeout', (r) => r.recordOpSent(BASE_ID, sent('install', 'orders', '1.0.0', T0 + 30_000)), 2],
    ['failed', (r) => r.recordOpResult(BASE_ID, result('install', false), T0 + 31_000), 2],
    ['retried after the failure', (r) => r.recordOpSent(BASE_ID, sent('install', 'orders', '1.0.0', T0 + 33_000)), 3],
    ['succeeded', (r) => r.recordOpResult(BASE_ID, result('install', true), T0 + 34_000), 3],
    ['installed again later', (r) => r.recordOpSent(BASE_ID, sent('install', 'orders', '1.0.0', T0 + 60_000)), 1],
    ['then an uninstall', (r) => r.recordOpSent(BASE_ID, sent('uninstall', 'orders', '1.0.0', T0 + 61_000)), 1],
    ['uninstall resent', (r) => r.recordOpSent(BASE_ID, sent('uninstall', 'orders', '1.0.0', T0 + 91_000)), 2],
  ];
  const r = withBase();
  for (const [name, step, attempts] of steps) {
    step(r);
    assert.equal(op(r, 'orders:1.0.0')?.attempts, attempts, name);
  }
  assert.equal(op(r, 'orders:1.0.0')?.kind, 'uninstall');
  assert.equal(op(r, 'orders:1.0.0')?.sentAt, T0 + 91_000);
  assert.equal(op(r, 'orders:1.0.0')?.result, undefined);
});

test('recordOpSent keeps one record per module key and remembers install URLs', () => {
  const r = withBase();
  r.recordOpSent(BASE_ID, sent('install', 'orders', '1.0.0'));
  r.recordOpSent(BASE_ID, sent('install', 'orders', '2.0.0'));
  r.recordOpSent(BASE_ID, { ...sent('install', 'cart', '1.0.0'), bizUrl: 'file:///tmp/cart.jar' });
  assert.deepEqual([...r.get(BASE_ID)!.ops.keys()].sort(), ['cart:1.0.0', 'orders:1.0.0', 'orders:2.0.0']);
  assert.equal(r.get(BASE_ID)!.installedUrls.get('cart:1.0.0'), 'file:///tmp/cart.jar');
  const urlsBefore = r.get(BASE_ID)!.installedUrls;
  r.recordOpSent(BASE_ID, { ...sent('uninstall', 'cart', '1.0.0'), bizUrl: 'other' });
  assert.equal(r.get(BASE_ID)!.installedUrls, urlsBefore);
});

test('recordOpResult folds the reply into the module list', () => {
  const cases: Array<{ name: string; modules: ReportedModule[] | undefined; sentKind?: 'install' | 'uninstall'; r: ReturnType<typeof result>; want: ReportedModule[] | undefined }> = [
    { name: 'install with bizInfos', modules: [toReported('cart', '1.0.0')], r: result('install', true, [toReported('orders', '1.0.0', 'ACTIVATED')]), want: [toReported('cart', '1.0.0'), toReported('orders', '1.0.0', 'ACTIVATED')] },
    { name: 'install without bizInfos: RESOLVED until the next list', modules: [], r: result('install', true), want: [toReported('orders', '1.0.0', 'RESOLVED')] },
    { name: 'install: bizInfos of other modules are ignored', modules: [toReported('cart', '1.0.0')], r: result('install', true, [toReported('cart', '1.0.0', 'BROKEN')]), want: [toReported('cart', '1.0.0'), toReported('orders', '1.0.0', 'RESOLVED')] },
    { name: 'install of v2 switches v1 off', modules: [toReported('orders', '1.0.0', 'ACTIVATED')], r: result('install', true, [toReported('orders', '1.0.0', 'DEACTIVATED'), toReported('orders', '2.0.0', 'ACTIVATED')], 'orders', '2.0.0'), want: [toReported('orders', '1.0.0', 'DEACTIVATED'), toReported('orders', '2.0.0', 'ACTIVATED')] },
    { name: 'install replaces the stale entry', modules: [toReported('orders', '1.0.0', 'BROKEN')], r: result('install', true, [toReported('orders', '1.0.0', 'ACTIVATED')]), want: [toReported('orders', '1.0.0', 'ACTIVATED')] },
    { name: 'uninstall removes it', modules: [toReported('orders', '1.0.0'), toReported('cart', '1.0.0')], sentKind: 'uninstall', r: result('uninstall', true), want: [toReported('cart', '1.0.0')] },
    { name: 'uninstall even when bizInfos still list it', modules: [toReported('orders', '1.0.0')], sentKind: 'uninstall', r: result('uninstall', true, [toReported('orders', '1.0.0', 'DEACTIVATED')]), want: [] },
    { name: 'uninstall of v1 updates v2 from bizInfos', modules: [toReported('orders', '1.0.0'), toReported('orders', '2.0.0', 'DEACTIVATED')], sentKind: 'uninstall', r: result('uninstall', true, [toReported('orders', '2.0.0', 'ACTIVATED')]), want: [toReported('orders', '2.0.0', 'ACTIVATED')] },
    { name: 'a failure changes no module', modules: [toReported('cart', '1.0.0')], r: result('install', false, [toReported('orders', '1.0.0', 'BROKEN')]), want: [toReported('cart', '1.0.0')] },
    { name: 'unknown list stays unknown', modules: undefined, r: result('install', true, [toReported('orders', '1.0.0')]), want: undefined },
  ];
  for (const c of cases) {
    const r = withBase(c.modules ?? 'unknown');
    r.recordOpSent(BASE_ID, sent(c.sentKind ?? c.r.kind, c.r.bizName, c.r.bizVersion));
    assert.equal(r.recordOpResult(BASE_ID, c.r, T0 + 5_000), true, c.name);
    const got = r.get(BASE_ID)!.modules;
    const sortKey = (m: ReportedModule) => `${m.bizName}:${m.bizVersion}`;
    assert.deepEqual(got && [...got].sort((a, b) => sortKey(a).localeCompare(sortKey(b))), c.want, c.name);
  }
});

test('recordOpResult keeps the command\'s details and stamps the result', () => {
  const r = withBase();
  r.recordOpSent(BASE_ID, sent('install', 'orders', '1.0.0', T0 + 100));
  r.recordOpSent(BASE_ID, sent('install', 'orders', '1.0.0', T0 + 200));
  r.recordOpResult(BASE_ID, result('install', false), T0 + 300);
  assert.deepEqual(op(r, 'orders:1.0.0'), {
    kind: 'install', bizName: 'orders', bizVersion: '1.0.0', bizUrl: toJarUrl('orders', '1.0.0'), sentAt: T0 + 200, attempts: 2,
    result: { ok: false, code: 'FAILED', message: 'broken jar', at: T0 + 300 },
  });
  // A failure keeps the URL (the module may be half there); a successful uninstall forgets it.
  assert.equal(r.get(BASE_ID)!.installedUrls.has('orders:1.0.0'), true);
  r.recordOpSent(BASE_ID, sent('uninstall'));
  r.recordOpResult(BASE_ID, result('uninstall', false), T0 + 400);
  assert.equal(r.get(BASE_ID)!.installedUrls.has('orders:1.0.0'), true);
  r.recordOpResult(BASE_ID, result('uninstall', true), T0 + 500);
  assert.equal(r.get(BASE_ID)!.installedUrls.has('orders:1.0.0'), false);
});

test('recordOpResult without a recorded command still records the answer', () => {
  const r = withBase();
  r.recordOpResult(BASE_ID, result('uninstall', true), T0 + 7);
  assert.deepEqual(op(r, 'orders:1.0.0'), { kind: 'uninstall', bizName: 'orders', bizVersion: '1.0.0', bizUrl: '', sentAt: T0 + 7, attempts: 1, result: { ok: true, code: 'SUCCESS', message: 'done', at: T0 + 7 } });
});

test('recording never mutates a record handed out earlier', () => {
  const r = withBase([toReported('orders', '1.0.0')]);
  const before = r.get(BASE_ID)!;
  const snapshot = { ops: new Map(before.ops), urls: new Map(before.installedUrls), modules: before.modules };
  r.recordOpSent(BASE_ID, sent('install', 'cart', '1.0.0'));
  r.recordOpResult(BASE_ID, result('install', true, [], 'cart', '1.0.0'), T0 + 1);
  r.recordModules(BASE_ID, [], T0 + 2);
  assert.deepEqual(before.ops, snapshot.ops);
  assert.deepEqual(before.installedUrls, snapshot.urls);
  assert.equal(before.modules, snapshot.modules);
  assert.deepEqual(before.modules, [toReported('orders', '1.0.0')]);
});

const ADOPTED_READY = { ready: true, reason: '', message: '' };

test('adopt seeds a base from its Node once (last heard as recorded), and the first heartbeat wins', () => {
  const r = new BaseRegistry();
  r.adopt(BASE_ID, { metadata: META, localIP: BASE_IP, hostName: 'h', lastHeardAt: T0 - 42_000, adopted: ADOPTED_READY });
  const b = r.get(BASE_ID)!;
  assert.equal(b.state, 'activated');
  assert.equal(b.nodeName, 'virtual-node-10.1.0.45');
  assert.equal(b.lastHeartbeatAt, T0 - 42_000, 'never "heard just now"');
  assert.deepEqual(b.adopted, ADOPTED_READY);
  assert.equal(b.lastPublishTimestamp, 0);
  assert.equal(b.modules, undefined);
  assert.equal(b.ops.size, 0);

  // Adopting a known base changes nothing.
  r.recordModules(BASE_ID, [toReported('orders', '1.0.0')], T0);
  const known = r.get(BASE_ID);
  r.adopt(BASE_ID, { metadata: { ...META, version: '9' }, localIP: '1.2.3.4', hostName: 'x', lastHeardAt: T0, adopted: ADOPTED_READY });
  assert.equal(r.get(BASE_ID), known);

  // The base's clock may be anywhere: its first heartbeat is accepted, ends the adoption, and the
  // module list is read again (the base may have restarted while nobody listened).
  assert.equal(r.recordHeartbeat(BASE_ID, heartbeat(1), T0 + 2000), true);
  assert.equal(r.get(BASE_ID)!.firstSeenAt, T0 - 42_000);
  assert.equal(r.get(BASE_ID)!.adopted, undefined);
  assert.equal(r.get(BASE_ID)!.modules, undefined);
});

test('forgetPendingOps drops unanswered commands only (re-planned after a reconnect, never replayed)', () => {
  const r = withBase();
  r.recordOpSent(BASE_ID, sent('install', 'orders'));
  r.recordOpSent(BASE_ID, sent('install', 'cart'));
  r.recordOpResult(BASE_ID, result('install', false, [], 'cart'), T0 + 1);
  r.forgetPendingOps(BASE_ID);
  assert.deepEqual([...r.get(BASE_ID)!.ops.keys()], ['cart:1.0.0']);
  const same = r.get(BASE_ID);
  r.forgetPendingOps(BASE_ID);
  assert.equal(r.get(BASE_ID), same, 'nothing to forget: the record is unchanged');
  r.forgetPendingOps('unknown');
});

test('pruneOps drops answered commands past the history window; a success only once a later module list is in', () => {
  const KEEP = 60_000;
  const r = withBase();
  r.recordOpSent(BASE_ID, sent('install', 'ok-old'));
  r.recordOpResult(BASE_ID, result('install', true, [], 'ok-old'), T0 + 1_000);
  r.recordOpSent(BASE_ID, sent('install', 'failed-old'));
  r.recordOpResult(BASE_ID, result('install', false, [], 'failed-old'), T0 + 1_000);
  r.recordOpSent(BASE_ID, sent('install', 'failed-new'));
  r.recordOpResult(BASE_ID, result('install', false, [], 'failed-new'), T0 + 50_000);
  r.recordOpSent(BASE_ID, sent('install', 'pending'));
  const keys = () => [...r.get(BASE_ID)!.ops.keys()].sort();
  // No module list read since the success: it stays (it is what the module list will confirm).
  r.pruneOps(BASE_ID, T0 + 100_000, KEEP);
  assert.deepEqual(keys(), ['failed-new:1.0.0', 'ok-old:1.0.0', 'pending:1.0.0']);
  r.recordModules(BASE_ID, [toReported('ok-old', '1.0.0')], T0 + 90_000);
  r.pruneOps(BASE_ID, T0 + 100_000, KEEP);
  assert.deepEqual(keys(), ['failed-new:1.0.0', 'pending:1.0.0']);
  r.pruneOps(BASE_ID, T0 + 200_000, KEEP);
  assert.deepEqual(keys(), ['pending:1.0.0'], 'unanswered commands are never pruned here');
  r.pruneOps('unknown', T0, KEEP);
});

test('one record per node: byNodeName follows injective node names, and delete drops the index', () => {
  const r = new BaseRegistry();
  for (const id of ['UPPER.Case', 'upper.case', '10.1.0.45', '10.1.0.45.']) r.recordHeartbeat(id, heartbeat(T0, 'activated', { ...META, identity: id }), T0);
  assert.equal(r.size, 4);
  assert.equal(new Set(r.list().map((b) => b.nodeName)).size, 4);
  for (const b of r.list()) assert.equal(r.byNodeName(b.nodeName)?.identity, b.identity);
  const gone = r.get('10.1.0.45.')!;
  r.delete('10.1.0.45.');
  assert.equal(r.byNodeName(gone.nodeName), undefined);
  assert.equal(r.byNodeName('virtual-node-10.1.0.45')?.identity, '10.1.0.45');
});

test('forgetModules, clearOp and delete', () => {
  const r = withBase([toReported('orders', '1.0.0')]);
  r.recordOpSent(BASE_ID, sent('install', 'cart', '1.0.0'));
  r.forgetModules(BASE_ID);
  assert.equal(r.get(BASE_ID)!.modules, undefined);
  assert.equal(r.get(BASE_ID)!.modulesAt, undefined);
  r.clearOp(BASE_ID, 'cart:1.0.0');
  assert.equal(r.get(BASE_ID)!.ops.size, 0);
  const same = r.get(BASE_ID);
  r.clearOp(BASE_ID, 'nothing:1');
  assert.equal(r.get(BASE_ID), same);
  r.forgetModules('unknown');
  r.clearOp('unknown', 'x');
  r.delete(BASE_ID);
  assert.equal(r.get(BASE_ID), undefined);
  assert.deepEqual(r.list(), []);
});
