import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import type { ModuleObservation } from '../../core/module-status.ts';
import type { BaseRecord } from '../../bridge/base-registry.ts';
import { MODULE_LIST_RETRY_MS, planModules, toPodKey, toRetryDelay, type ModuleCommand, type ModulePlan } from '../../bridge/plan-modules.ts';
import { toLiveness, type Liveness } from '../../bridge/plan-node.ts';
import { SETTINGS, T0, toBase, toHealth, toJarUrl, toModulePod, toOp, toReported } from './fixtures.ts';

const S = SETTINGS;
const V1 = { name: 'orders', version: '1.0.0' };
const V2 = { name: 'orders', version: '2.0.0' };
const CART = { name: 'cart', version: '0.0.1-SNAPSHOT' };

function plan(base: BaseRecord | undefined, pods: V1Pod[], now = T0, liveness: Liveness | undefined = base ? toLiveness(base, now, S) : undefined, podsFresh = true): ModulePlan {
  return planModules({ base, liveness, pods, podsFresh, settings: S, now });
}

/** Commands as compact strings: `install orders:1.0.0 <url> (shop/p1)`. */
function cmds(p: ModulePlan): string[] {
  return p.commands.map((c: ModuleCommand) => `${c.kind} ${c.module.bizName}:${c.module.bizVersion} ${c.module.bizUrl}${c.installStrategy ? ` [${c.installStrategy}]` : ''}${c.podKey ? ` (${c.podKey})` : ''}`);
}

function obs(p: ModulePlan, podKey: string, container: string): ModuleObservation | undefined {
  return p.observations.get(podKey)?.get(container);
}

test('toRetryDelay doubles from the base and is capped', () => {
  const cases: Array<[number, number]> = [[0, 2_000], [1, 2_000], [2, 4_000], [3, 8_000], [6, 64_000], [7, 120_000], [50, 120_000]];
  for (const [attempts, want] of cases) assert.equal(toRetryDelay(attempts, S), want, `attempts ${attempts}`);
});

test('toPodKey is namespace/name', () => {
  assert.equal(toPodKey(toModulePod({ name: 'p1', namespace: 'ns', modules: [V1] })), 'ns/p1');
});

test('a bound pod whose module is missing gets an install', () => {
  const p = plan(toBase({ modules: [] }), [toModulePod({ name: 'p1', modules: [V1] })]);
  assert.deepEqual(cmds(p), [`install orders:1.0.0 ${toJarUrl('orders', '1.0.0')} (shop/p1)`]);
  assert.equal(p.commands[0]!.why, 'module pod bound to this base');
  assert.deepEqual(obs(p, 'shop/p1', 'orders'), { kind: 'installing' });
  assert.equal(p.queryModules, false);
  assert.deepEqual(p.release, []);
});

test('one install per module of a multi-module pod', () => {
  const p = plan(toBase({ modules: [toReported('cart', '0.0.1-SNAPSHOT')] }), [toModulePod({ name: 'p1', modules: [V1, CART] })]);
  assert.deepEqual(cmds(p), [`install orders:1.0.0 ${toJarUrl('orders', '1.0.0')} (shop/p1)`]);
  assert.equal(obs(p, 'shop/p1', 'cart')?.kind, 'reported');
});

test('nothing is commanded while the module list is unknown: ask for it', () => {
  const pods = [toModulePod({ name: 'p1', modules: [V1] }), toModulePod({ name: 'old', modules: [CART], deleting: T0 + 30_000 })];
  const p = plan(toBase({ modules: undefined }), pods);
  assert.deepEqual(cmds(p), []);
  assert.equal(p.queryModules, true);
  assert.deepEqual(obs(p, 'shop/p1', 'orders'), { kind: 'waitingForBase', message: 'waiting for the base\'s module list' });
  // The deleted pod's module may still be there: hold the pod until its grace period ends.
  assert.deepEqual(p.release, []);
  // Asked again after MODULE_LIST_RETRY_MS if no list comes (a lost query or reply), not at the next poll.
  assert.equal(p.requeueAfterMs, MODULE_LIST_RETRY_MS);
});

test('a plan never waits for the module-list poll: each wait for a module list is asked for and retried within MODULE_LIST_RETRY_MS', () => {
  const done = toOp({ kind: 'install', bizName: 'orders', bizVersion: '2.0.0', result: { ok: true, code: 'SUCCESS', message: '', at: T0 } });
  const both = [toReported('orders', '1.0.0'), toReported('orders', '2.0.0')];
  const cases: Array<{ what: string; base: BaseRecord; pods: V1Pod[]; query: boolean }> = [
    { what: 'module list unknown (joined, reconnected, failover)', base: toBase({ modules: undefined }), pods: [toModulePod({ name: 'p1', modules: [V1] })], query: true },
    { what: 'module list unknown, no pods', base: toBase({ modules: undefined }), pods: [], query: true },
    { what: 'a confirmed hand-off install newer than the last list', base: toBase({ modules: both, modulesAt: T0 - 1, ops: [done] }), pods: [toModulePod({ name: 'p2', modules: [V2] })], query: true },
    { what: 'the list is newer than the install: nothing to wait for', base: toBase({ modules: both, modulesAt: T0 + 1, ops: [done] }), pods: [toModulePod({ name: 'p2', modules: [V2] })], query: false },
  ];
  for (const c of cases) {
    const p = plan(c.base, c.pods);
    assert.equal(p.queryModules, c.query, c.what);
    if (c.query) assert.equal(p.requeueAfterMs, MODULE_LIST_RETRY_MS, c.what);
    assert.ok(p.requeueAfterMs === undefined || p.requeueAfterMs < S.moduleListPollMs, `${c.what}: requeue ${p.requeueAfterMs}`);
  }
});

test('an install in flight is not resent until commandTimeout', () => {
  const base = toBase({ modules: [], ops: [toOp({ kind: 'install', bizName: 'orders', bizVersion: '1.0.0', sentAt: T0 })] });
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  const cases: Array<[number, string[], number | undefined]> = [
    [T0 + 1, [], S.commandTimeoutMs - 1],
    [T0 + 10_000, [], S.commandTimeoutMs - 10_000],
    [T0 + S.commandTimeoutMs - 1, [], 50],
    [T0 + S.commandTimeoutMs, [`install orders:1.0.0 ${toJarUrl('orders', '1.0.0')} (shop/p1)`], undefined],
  ];
  for (const [now, want, requeue] of cases) {
    const p = plan({ ...base, lastHeartbeatAt: now }, [pod], now);
    assert.deepEqual(cmds(p), want, `at +${now - T0}`);
    assert.equal(p.requeueAfterMs, requeue, `requeue at +${now - T0}`);
    assert.deepEqual(obs(p, 'shop/p1', 'orders'), { kind: 'installing' });
  }
});

test('a failed install is retried after the backoff, and the pod says why', () => {
  const failed = (attempts: number) => toOp({ kind: 'install', bizName: 'orders', bizVersion: '1.0.0', attempts, result: { ok: false, code: 'FAILED', message: 'jar not found', at: T0 } });
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  const cases: Array<{ attempts: number; after: number; install: boolean; requeue?: number }> = [
    { attempts: 1, after: 0, install: false, requeue: 2_000 },
    { attempts: 1, after: 1_999, install: false, requeue: 50 },
    { attempts: 1, after: 2_000, install: true },
    { attempts: 3, after: 7_000, install: false, requeue: 1_000 },
    { attempts: 3, after: 8_000, install: true },
    { attempts: 20, after: 119_000, install: false, requeue: 1_000 },
    { attempts: 20, after: 120_000, install: true },
  ];
  for (const c of cases) {
    const now = T0 + c.after;
    const p = plan(toBase({ modules: [], ops: [failed(c.attempts)], lastHeartbeatAt: now }), [pod], now);
    const name = `attempts ${c.attempts} +${c.after}ms`;
    assert.equal(p.commands.length, c.install ? 1 : 0, name);
    if (c.install) assert.match(p.commands[0]!.why, /^retrying after FAILED: jar not found/, name);
    assert.equal(p.requeueAfterMs, c.requeue, name);
    const o = obs(p, 'shop/p1', 'orders');
    assert.equal(o?.kind, 'installFailed', name);
    assert.match((o as { message: string }).message, /FAILED: jar not found/, name);
    if (!c.install) assert.match((o as { message: string }).message, /next try at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z/, name);
  }
});

test('a module the base reports (or confirmed REPEAT_BIZ) needs nothing', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  // (DEACTIVATED without a rival is reinstalled: see the hand-off tests.)
  const states = ['ACTIVATED', 'RESOLVED', 'BROKEN'];
  for (const state of states) {
    const p = plan(toBase({ modules: [toReported('orders', '1.0.0', state)] }), [pod]);
    assert.deepEqual(cmds(p), [], state);
    assert.deepEqual(obs(p, 'shop/p1', 'orders'), { kind: 'reported', state, reason: undefined, message: undefined, since: undefined }, state);
  }
  const repeat = toOp({ kind: 'install', bizName: 'orders', bizVersion: '1.0.0', result: { ok: true, code: 'REPEAT_BIZ', message: 'already there', at: T0 } });
  const p = plan(toBase({ modules: [toReported('orders', '1.0.0', 'RESOLVED')], ops: [repeat], installedUrls: { 'orders:1.0.0': toJarUrl('orders', '1.0.0') } }), [pod]);
  assert.deepEqual(cmds(p), []);
  assert.equal(p.requeueAfterMs, undefined);
});

test('a deleted pod\'s module is uninstalled, then the pod is released', () => {
  const url = toJarUrl('orders', '1.0.0');
  const deleting = toModulePod({ name: 'p1', modules: [V1], deleting: T0 + 30_000, phase: 'Running' });
  const present = plan(toBase({ modules: [toReported('orders', '1.0.0')], installedUrls: { 'orders:1.0.0': url } }), [deleting]);
  assert.deepEqual(cmds(present), [`uninstall orders:1.0.0 ${url} (shop/p1)`]);
  assert.equal(present.commands[0]!.why, 'pod shop/p1 was deleted');
  assert.deepEqual(present.release, []);
  assert.equal(present.requeueAfterMs, 30_000);
  assert.deepEqual(obs(present, 'shop/p1', 'orders'), { kind: 'uninstalling' });

  const gone = plan(toBase({ modules: [] }), [deleting]);
  assert.deepEqual(cmds(gone), []);
  assert.deepEqual(gone.release, ['shop/p1']);
  assert.deepEqual(obs(gone, 'shop/p1', 'orders'), { kind: 'reported', state: 'DEACTIVATED', message: 'uninstalled' });
});

test('an uninstall in flight is not resent until commandTimeout; a failed one backs off', () => {
  const deleting = toModulePod({ name: 'p1', modules: [V1], deleting: T0 + 300_000 });
  const modules = [toReported('orders', '1.0.0')];
  const inFlight = toOp({ kind: 'uninstall', bizName: 'orders', bizVersion: '1.0.0', sentAt: T0 });
  assert.deepEqual(cmds(plan(toBase({ modules, ops: [inFlight], lastHeartbeatAt: T0 + 5_000 }), [deleting], T0 + 5_000)), []);
  assert.equal(plan(toBase({ modules, ops: [inFlight], lastHeartbeatAt: T0 + 5_000 }), [deleting], T0 + 5_000).requeueAfterMs, 25_000);
  assert.equal(cmds(plan(toBase({ modules, ops: [inFlight], lastHeartbeatAt: T0 + 30_000 }), [deleting], T0 + 30_000)).length, 1);

  const failed = toOp({ kind: 'uninstall', bizName: 'orders', bizVersion: '1.0.0', attempts: 2, result: { ok: false, code: 'FAILED', message: 'busy', at: T0 } });
  const early = plan(toBase({ modules, ops: [failed], lastHeartbeatAt: T0 + 1_000 }), [deleting], T0 + 1_000);
  assert.deepEqual(cmds(early), []);
  assert.equal(early.requeueAfterMs, 3_000);
  assert.equal(cmds(plan(toBase({ modules, ops: [failed], lastHeartbeatAt: T0 + 4_000 }), [deleting], T0 + 4_000)).length, 1);
});

test('a deleted pod is released when its grace period is over, the base is gone or dead', () => {
  const deleting = toModulePod({ name: 'p1', modules: [V1], deleting: T0 + 30_000 });
  const modules = [toReported('orders', '1.0.0')];
  const graceOver = plan(toBase({ modules, lastHeartbeatAt: T0 + 30_000 }), [deleting], T0 + 30_000);
  assert.deepEqual(graceOver.release, ['shop/p1']);
  // The module is still on the base and nobody wants it: the uninstall still goes out.
  assert.deepEqual(cmds(graceOver), [`uninstall orders:1.0.0  (shop/p1)`]);

  const noBase = plan(undefined, [deleting], T0);
  assert.deepEqual(noBase.release, ['shop/p1']);
  assert.deepEqual(cmds(noBase), []);
  assert.equal(noBase.queryModules, false);

  const dead = plan(toBase({ modules }), [deleting], T0 + 1_000, { kind: 'dead', message: 'gone' });
  assert.deepEqual(dead.release, ['shop/p1']);
  assert.deepEqual(cmds(dead), []);

  // NotReady but not dead: keep waiting for the grace period.
  const silent = plan(toBase({ modules }), [deleting], T0 + 1_000, { kind: 'notReady', reason: 'BaseUnreachable', message: '' });
  assert.deepEqual(silent.release, []);
  assert.equal(silent.requeueAfterMs, 29_000);
});

test('a module still wanted by a live pod is not uninstalled when another pod with it is deleted', () => {
  const modules = [toReported('orders', '1.0.0')];
  const pods = [toModulePod({ name: 'old', modules: [V1], deleting: T0 + 30_000 }), toModulePod({ name: 'new', modules: [V1], phase: 'Running' })];
  const p = plan(toBase({ modules }), pods);
  assert.deepEqual(cmds(p), []);
  assert.deepEqual(p.release, ['shop/old']);
  assert.equal(obs(p, 'shop/new', 'orders')?.kind, 'reported');
});

test('a module nobody claims is uninstalled', () => {
  const url = toJarUrl('cart', '0.0.1-SNAPSHOT');
  const cases: Array<[string, V1Pod[], Record<string, string>, string[]]> = [
    ['no pods at all', [], {}, ['uninstall cart:0.0.1-SNAPSHOT ']],
    ['URL remembered', [], { 'cart:0.0.1-SNAPSHOT': url }, [`uninstall cart:0.0.1-SNAPSHOT ${url}`]],
    ['only a Failed pod wants it', [toModulePod({ name: 'p1', modules: [CART], phase: 'Failed' })], {}, ['uninstall cart:0.0.1-SNAPSHOT ']],
    ['only a Succeeded pod wants it', [toModulePod({ name: 'p1', modules: [CART], phase: 'Succeeded' })], {}, ['uninstall cart:0.0.1-SNAPSHOT ']],
  ];
  for (const [name, pods, installedUrls, want] of cases) {
    const p = plan(toBase({ modules: [toReported('cart', '0.0.1-SNAPSHOT')], installedUrls }), pods);
    assert.deepEqual(cmds(p).sort(), want.sort(), name);
    const un = p.commands.find((c) => c.kind === 'uninstall')!;
    assert.equal(un.why, 'no module pod claims this module', name);
    assert.equal(un.podKey, undefined, name);
  }
});

test('the master biz is never uninstalled', () => {
  const cases: Array<[string, BaseRecord]> = [
    ['bizName = base metadata name', toBase({ modules: [toReported('base', '1.0.0')] })],
    ['bizName = health masterBizInfo', toBase({ modules: [toReported('shop-app', '3.1.0')], health: { jvm: {}, cpu: {}, masterBizInfo: { bizName: 'shop-app', bizState: 'ACTIVATED', bizVersion: '3.1.0' } } })],
  ];
  for (const [name, base] of cases) {
    const p = plan(base, []);
    assert.deepEqual(cmds(p), [], name);
    assert.equal(p.queryModules, false, name);
  }
});

test('an in-place image change uninstalls the old jar first, then installs the new one', () => {
  const oldUrl = toJarUrl('orders', '1.0.0');
  const newUrl = 'https://repo.example.invalid/hotfix/orders-1.0.0-ark-biz.jar';
  const pod = toModulePod({ name: 'p1', modules: [{ ...V1, url: newUrl }], phase: 'Running' });
  const first = plan(toBase({ modules: [toReported('orders', '1.0.0')], installedUrls: { 'orders:1.0.0': oldUrl } }), [pod]);
  assert.deepEqual(cmds(first), [`uninstall orders:1.0.0 ${oldUrl} (shop/p1)`]);
  assert.match(first.commands[0]!.why, /image changed to https:\/\/repo\.example\.invalid\/hotfix/);

  const inFlight = plan(toBase({ modules: [toReported('orders', '1.0.0')], installedUrls: { 'orders:1.0.0': oldUrl }, ops: [toOp({ kind: 'uninstall', bizName: 'orders', bizVersion: '1.0.0', bizUrl: oldUrl, sentAt: T0 })], lastHeartbeatAt: T0 + 1_000 }), [pod], T0 + 1_000);
  assert.deepEqual(cmds(inFlight), []);
  assert.equal(inFlight.requeueAfterMs, 29_000);

  // Uninstalled: the base no longer lists it and the bridge forgot the old URL.
  const done = toOp({ kind: 'uninstall', bizName: 'orders', bizVersion: '1.0.0', bizUrl: oldUrl, result: { ok: true, code: 'SUCCESS', message: '', at: T0 + 2_000 } });
  const second = plan(toBase({ modules: [], ops: [done], lastHeartbeatAt: T0 + 2_000 }), [pod], T0 + 2_000);
  assert.deepEqual(cmds(second), [`install orders:1.0.0 ${newUrl} (shop/p1)`]);

  // The same URL (or one the bridge never recorded, e.g. after a restart) is no change.
  assert.deepEqual(cmds(plan(toBase({ modules: [toReported('orders', '1.0.0')], installedUrls: { 'orders:1.0.0': newUrl } }), [pod])), []);
  assert.deepEqual(cmds(plan(toBase({ modules: [toReported('orders', '1.0.0')] }), [pod])), []);
});

test('a failed uninstall for an image change backs off like any failed uninstall', () => {
  const oldUrl = toJarUrl('orders', '1.0.0');
  const pod = toModulePod({ name: 'p1', modules: [{ ...V1, url: 'https://repo.example.invalid/hotfix/orders-1.0.0-ark-biz.jar' }] });
  const failed = toOp({ kind: 'uninstall', bizName: 'orders', bizVersion: '1.0.0', bizUrl: oldUrl, result: { ok: false, code: 'FAILED', message: 'busy', at: T0 } });
  const p = plan(toBase({ modules: [toReported('orders', '1.0.0')], installedUrls: { 'orders:1.0.0': oldUrl }, ops: [failed], lastHeartbeatAt: T0 + 100 }), [pod], T0 + 100);
  assert.deepEqual(cmds(p), []);
  assert.equal(p.requeueAfterMs, 1_900);
});

test('no commands while the base is not ready, but pods still get observations', () => {
  const pods = [toModulePod({ name: 'p1', modules: [V1] }), toModulePod({ name: 'p2', modules: [CART], phase: 'Running' })];
  const modules = [toReported('cart', '0.0.1-SNAPSHOT'), toReported('stray', '9.9.9')];
  const cases: Array<[string, BaseRecord, number]> = [
    ['unreachable', toBase({ modules }), T0 + S.notReadyAfterMs],
    ['leaving', toBase({ modules, state: 'deactivated' }), T0],
    ['unhealthy', toBase({ modules, health: toHealth('BROKEN') }), T0],
  ];
  for (const [name, base, now] of cases) {
    const p = plan(base, pods, now);
    assert.deepEqual(cmds(p), [], name);
    assert.equal(p.queryModules, false, name);
    assert.deepEqual(obs(p, 'shop/p1', 'orders'), { kind: 'waitingForBase', message: 'the base is not Ready' }, name);
    assert.equal(obs(p, 'shop/p2', 'cart')?.kind, 'reported', name);
  }
  const unknown = plan(undefined, pods, T0);
  assert.deepEqual(cmds(unknown), []);
  assert.deepEqual(obs(unknown, 'shop/p1', 'orders'), { kind: 'waitingForBase', message: 'no heartbeat from this base yet' });
});

test('rolling update: install v2 beside v1, then uninstall only v1 once its pod is deleted', () => {
  const v1Pod = toModulePod({ name: 'orders-v1-abc', modules: [V1], phase: 'Running' });
  const v2Pod = toModulePod({ name: 'orders-v2-xyz', modules: [V2] });
  const both = plan(toBase({ modules: [toReported('orders', '1.0.0')] }), [v1Pod, v2Pod]);
  assert.deepEqual(cmds(both), [`install orders:2.0.0 ${toJarUrl('orders', '2.0.0')} (shop/orders-v2-xyz)`]);
  assert.equal(obs(both, 'shop/orders-v1-abc', 'orders')?.kind, 'reported');
  assert.equal(obs(both, 'shop/orders-v2-xyz', 'orders')?.kind, 'installing');

  const v1Deleted = toModulePod({ name: 'orders-v1-abc', modules: [V1], phase: 'Running', deleting: T0 + 30_000 });
  const after = plan(toBase({ modules: [toReported('orders', '1.0.0', 'DEACTIVATED'), toReported('orders', '2.0.0')] }), [v1Deleted, v2Pod]);
  assert.deepEqual(cmds(after), [`uninstall orders:1.0.0  (shop/orders-v1-abc)`]);
  assert.deepEqual(after.release, []);
  assert.equal(obs(after, 'shop/orders-v2-xyz', 'orders')?.kind, 'reported');

  const v1Gone = plan(toBase({ modules: [toReported('orders', '2.0.0')] }), [v1Deleted, v2Pod]);
  assert.deepEqual(cmds(v1Gone), []);
  assert.deepEqual(v1Gone.release, ['shop/orders-v1-abc']);
});

test('a container that is not a valid module is reported as failed, never installed', () => {
  const pod = toModulePod({
    name: 'p1',
    modules: [],
    containers: [
      { name: 'orders', image: toJarUrl('orders', '1.0.0'), env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] },
      { name: 'sidecar', image: 'nginx:1.27' },
    ],
  });
  const p = plan(toBase({ modules: [] }), [pod]);
  assert.deepEqual(cmds(p), [`install orders:1.0.0 ${toJarUrl('orders', '1.0.0')} (shop/p1)`]);
  assert.equal(obs(p, 'shop/p1', 'sidecar')?.kind, 'installFailed');
});

test('two live pods wanting one module give one install', () => {
  const pods = [toModulePod({ name: 'a', modules: [V1] }), toModulePod({ name: 'b', modules: [V1] })];
  const p = plan(toBase({ modules: [] }), pods);
  assert.deepEqual(cmds(p), [`install orders:1.0.0 ${toJarUrl('orders', '1.0.0')} (shop/a)`]);
  assert.equal(obs(p, 'shop/b', 'orders')?.kind, 'installing');
});

test('the plan is stable: planning twice with the same input gives the same plan', () => {
  const base = toBase({ modules: [toReported('cart', '0.0.1-SNAPSHOT'), toReported('stray', '1.0.0')] });
  const pods = [toModulePod({ name: 'p1', modules: [V1, CART] }), toModulePod({ name: 'p2', modules: [V2], deleting: T0 + 5_000 })];
  assert.deepEqual(plan(base, pods), plan(base, pods));
});

// --- Rollouts at arklet's defaults (docs/bridge.md "Rollouts") ---------------------------------------

const DEP = 'orders';
const oldPod = (o: { deleting?: number; version?: typeof V1 } = {}) =>
  toModulePod({ name: 'orders-aaa-1', modules: [o.version ?? V1], phase: 'Running', deployment: { name: DEP, revision: 'aaa' }, created: T0 - 60_000, ...(o.deleting ? { deleting: o.deleting } : {}) });
const newPod = (version = V2) => toModulePod({ name: 'orders-bbb-1', modules: [version], deployment: { name: DEP, revision: 'bbb' }, created: T0 - 1_000 });

test('hand-off: the new revision\'s version replaces the old one with uninstallThenInstall, no separate uninstall', () => {
  const url2 = toJarUrl('orders', '2.0.0');
  const cases: Array<{ name: string; pods: V1Pod[]; modules: ReturnType<typeof toReported>[]; want: string[] }> = [
    { name: 'old pod live (surge)', pods: [oldPod(), newPod()], modules: [toReported('orders', '1.0.0')], want: [`install orders:2.0.0 ${url2} [uninstallThenInstall] (shop/orders-bbb-1)`] },
    { name: 'old pod deleting', pods: [oldPod({ deleting: T0 + 30_000 }), newPod()], modules: [toReported('orders', '1.0.0')], want: [`install orders:2.0.0 ${url2} [uninstallThenInstall] (shop/orders-bbb-1)`] },
    { name: 'v1 unclaimed', pods: [newPod()], modules: [toReported('orders', '1.0.0')], want: [`install orders:2.0.0 ${url2} [uninstallThenInstall] (shop/orders-bbb-1)`] },
    { name: 'nothing of it on the base', pods: [newPod()], modules: [], want: [`install orders:2.0.0 ${url2} (shop/orders-bbb-1)`] },
    // rollout undo: the pods of the older template are the newest pods now.
    { name: 'rollout undo', pods: [toModulePod({ name: 'orders-bbb-1', modules: [V2], phase: 'Running', deployment: { name: DEP, revision: 'bbb' }, created: T0 - 60_000 }), toModulePod({ name: 'orders-aaa-9', modules: [V1], deployment: { name: DEP, revision: 'aaa' }, created: T0 - 1_000 })], modules: [toReported('orders', '2.0.0')], want: [`install orders:1.0.0 ${toJarUrl('orders', '1.0.0')} [uninstallThenInstall] (shop/orders-aaa-9)`] },
  ];
  for (const c of cases) assert.deepEqual(cmds(plan(toBase({ modules: c.modules }), c.pods)), c.want, c.name);
});

test('hand-off: the superseded old pod is never reinstalled and says who replaced it', () => {
  const p = plan(toBase({ modules: [toReported('orders', '2.0.0')] }), [oldPod(), newPod()]);
  assert.deepEqual(cmds(p), []);
  const o = obs(p, 'shop/orders-aaa-1', 'orders');
  assert.equal(o?.kind, 'handedOff');
  assert.match((o as { message: string }).message, /replaced on this base by orders:2\.0\.0 of pod shop\/orders-bbb-1/);
  assert.equal(obs(p, 'shop/orders-bbb-1', 'orders')?.kind, 'reported');
  // Before the hand-off completes the old pod still shows its running module.
  assert.equal(obs(plan(toBase({ modules: [toReported('orders', '1.0.0')] }), [oldPod(), newPod()]), 'shop/orders-aaa-1', 'orders')?.kind, 'reported');
});

test('two workloads with one bizName never hand off to each other: installOnly, and the DEACTIVATED one says why', () => {
  const other = toModulePod({ name: 'billing-ccc-1', modules: [V1], phase: 'Running', deployment: { name: 'billing', revision: 'ccc' }, created: T0 - 60_000 });
  const p = plan(toBase({ modules: [toReported('orders', '1.0.0')] }), [other, newPod()]);
  assert.deepEqual(cmds(p), [`install orders:2.0.0 ${toJarUrl('orders', '2.0.0')} (shop/orders-bbb-1)`]);
  const later = plan(toBase({ modules: [toReported('orders', '1.0.0'), toReported('orders', '2.0.0', 'DEACTIVATED')] }), [other, newPod()]);
  assert.deepEqual(cmds(later), [], 'no reinstall while the rival is claimed');
  const o = obs(later, 'shop/orders-bbb-1', 'orders') as { kind: string; state: string; message: string };
  assert.equal(o.state, 'DEACTIVATED');
  assert.match(o.message, /orders:1\.0\.0 of pod shop\/billing-ccc-1 \(another workload\) is active on this base/);
});

test('a DEACTIVATED module whose rival is gone is reinstalled with uninstallThenInstall, at most once per backoff', () => {
  const modules = [toReported('orders', '1.0.0'), toReported('orders', '2.0.0', 'DEACTIVATED')];
  const want = [`install orders:2.0.0 ${toJarUrl('orders', '2.0.0')} [uninstallThenInstall] (shop/orders-bbb-1)`];
  assert.deepEqual(cmds(plan(toBase({ modules }), [newPod()])), want, 'rival unclaimed');
  assert.deepEqual(cmds(plan(toBase({ modules }), [oldPod({ deleting: T0 + 30_000 }), newPod()])), want, 'rival deleting');
  assert.deepEqual(cmds(plan(toBase({ modules: [toReported('orders', '2.0.0', 'DEACTIVATED')] }), [newPod()])), want, 'rival already uninstalled (arklet keeps it DEACTIVATED)');
  // A reinstall that the base confirmed but still lists DEACTIVATED is not repeated at once.
  const done = toOp({ kind: 'install', bizName: 'orders', bizVersion: '2.0.0', result: { ok: true, code: 'SUCCESS', message: '', at: T0 } });
  const again = plan(toBase({ modules, ops: [done], lastHeartbeatAt: T0 + 1_000 }), [newPod()], T0 + 1_000);
  assert.deepEqual(cmds(again), []);
  assert.equal(again.requeueAfterMs, S.retryBackoffMaxMs - 1_000);
});

test('rollout restart (same version): the new pod takes over the module, nothing is installed or uninstalled', () => {
  const restarted = toModulePod({ name: 'orders-bbb-1', modules: [V1], deployment: { name: DEP, revision: 'bbb' }, created: T0 - 1_000 });
  const modules = [toReported('orders', '1.0.0')];
  const surge = plan(toBase({ modules }), [oldPod(), restarted]);
  assert.deepEqual(cmds(surge), []);
  assert.equal(obs(surge, 'shop/orders-bbb-1', 'orders')?.kind, 'reported');
  // The old pod's deletion releases it without touching the module the new pod claims.
  const deleted = plan(toBase({ modules }), [oldPod({ deleting: T0 + 30_000 }), restarted]);
  assert.deepEqual(cmds(deleted), []);
  assert.deepEqual(deleted.release, ['shop/orders-aaa-1']);
});

test('version mismatch: the base lists our install under the jar\'s own version: no uninstall, no reinstall, a clear failure', () => {
  const snap = { name: 'orders', version: '1.0.0', url: 'https://repo.example.invalid/orders/orders-1.0.0-SNAPSHOT-ark-biz.jar' };
  const pod = toModulePod({ name: 'p1', modules: [snap], phase: 'Pending' });
  const ok = (code: string) => toOp({ kind: 'install', bizName: 'orders', bizVersion: '1.0.0', bizUrl: snap.url, result: { ok: true, code, message: '', at: T0 } });
  for (const code of ['SUCCESS', 'REPEAT_BIZ']) {
    const p = plan(toBase({ modules: [toReported('orders', '1.0.0-SNAPSHOT')], ops: [ok(code)], installedUrls: { 'orders:1.0.0': snap.url } }), [pod]);
    assert.deepEqual(cmds(p), [], code);
    assert.deepEqual(obs(p, 'shop/p1', 'orders'), {
      kind: 'installFailed',
      message: "base reports orders as version 1.0.0-SNAPSHOT, but BIZ_VERSION is 1.0.0: set env BIZ_VERSION to the version in the jar's pom.xml (1.0.0-SNAPSHOT)",
    }, code);
    assert.equal(p.requeueAfterMs, undefined, `${code}: nothing to retry`);
  }
  // Once the pod is deleted, what the base installed for it goes, attributed to the pod.
  const deleting = toModulePod({ name: 'p1', modules: [snap], deleting: T0 + 30_000 });
  const gone = plan(toBase({ modules: [toReported('orders', '1.0.0-SNAPSHOT')], ops: [ok('SUCCESS')] }), [deleting]);
  assert.deepEqual(cmds(gone), ['uninstall orders:1.0.0-SNAPSHOT  (shop/p1)']);
  assert.deepEqual(gone.release, []);
  // A version installed by us from another URL is not an alias: it is unclaimed and goes (hand-off).
  const other = plan(toBase({ modules: [toReported('orders', '0.9.0')], ops: [ok('SUCCESS')], installedUrls: { 'orders:0.9.0': toJarUrl('orders', '0.9.0') } }), [pod]);
  assert.notEqual(obs(other, 'shop/p1', 'orders')?.kind, 'installFailed');
});

test('a confirmed install the base does not list is retried after the backoff base, not at once', () => {
  const done = toOp({ kind: 'install', bizName: 'orders', bizVersion: '1.0.0', result: { ok: true, code: 'SUCCESS', message: '', at: T0 } });
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  const early = plan(toBase({ modules: [], ops: [done], lastHeartbeatAt: T0 + 500 }), [pod], T0 + 500);
  assert.deepEqual(cmds(early), []);
  assert.equal(early.requeueAfterMs, S.retryBackoffBaseMs - 500);
  assert.equal(cmds(plan(toBase({ modules: [], ops: [done], lastHeartbeatAt: T0 + S.retryBackoffBaseMs }), [pod], T0 + S.retryBackoffBaseMs)).length, 1);
});

test('a pod cache that is not fresh blocks every removal: uninstalls and uninstallThenInstall wait', () => {
  const stale = (base: BaseRecord, pods: V1Pod[]) => plan(base, pods, T0, undefined, false);
  const cases: Array<{ name: string; base: BaseRecord; pods: V1Pod[] }> = [
    { name: 'unclaimed module', base: toBase({ modules: [toReported('cart', '0.0.1-SNAPSHOT')] }), pods: [] },
    { name: 'deleted pod\'s module', base: toBase({ modules: [toReported('orders', '1.0.0')] }), pods: [oldPod({ deleting: T0 + 30_000 })] },
    { name: 'hand-off install', base: toBase({ modules: [toReported('orders', '1.0.0')] }), pods: [oldPod(), newPod()] },
    { name: 'DEACTIVATED reinstall', base: toBase({ modules: [toReported('orders', '2.0.0', 'DEACTIVATED')] }), pods: [newPod()] },
    { name: 'image change', base: toBase({ modules: [toReported('orders', '1.0.0')], installedUrls: { 'orders:1.0.0': 'https://repo.example.invalid/old/orders-1.0.0-ark-biz.jar' } }), pods: [oldPod()] },
  ];
  for (const c of cases) {
    const p = planModules({ base: c.base, liveness: toLiveness(c.base, T0, S), pods: c.pods, podsFresh: false, settings: S, now: T0 });
    assert.deepEqual(cmds(p), [], c.name);
    assert.equal(p.requeueAfterMs, 1_000, c.name);
    assert.equal(cmds(plan(c.base, c.pods)).length, 1, `${c.name}: fresh`);
  }
  // A plain install removes nothing: it does not wait.
  assert.equal(cmds(stale(toBase({ modules: [] }), [newPod()])).length, 1);
});

test('an install failure shows one line plus what to check; the full answer is kept as detail', () => {
  const trace = 'java.lang.IllegalStateException: Start biz orders:1.0.0 failed\n\tat com.alipay.sofa.ark.container.model.BizModel.start(BizModel.java:42)\n\tat x.y(Z.java:1)';
  const failed = toOp({ kind: 'install', bizName: 'orders', bizVersion: '1.0.0', result: { ok: false, code: 'FAILED', message: trace, at: T0 } });
  const p = plan(toBase({ modules: [], ops: [failed] }), [toModulePod({ name: 'p1', modules: [V1] })]);
  const o = obs(p, 'shop/p1', 'orders') as { kind: string; message: string; detail: string };
  assert.equal(o.kind, 'installFailed');
  assert.ok(!o.message.includes('\n'), o.message);
  assert.match(o.message, /^FAILED: java\.lang\.IllegalStateException: Start biz orders:1\.0\.0 failed \(next try at .*\); check the jar URL/);
  assert.equal(o.detail, `FAILED: ${trace}`);
  const long = toOp({ ...failed, result: { ok: false, code: 'FAILED', message: 'x'.repeat(1_000), at: T0 } });
  const lp = obs(plan(toBase({ modules: [], ops: [long] }), [toModulePod({ name: 'p1', modules: [V1] })]), 'shop/p1', 'orders') as { message: string };
  assert.ok(lp.message.length < 400, `${lp.message.length}`);
});

test('after a confirmed hand-off install, a version the last module list still shows is not uninstalled until a newer list says so', () => {
  const done = toOp({ kind: 'install', bizName: 'orders', bizVersion: '2.0.0', result: { ok: true, code: 'SUCCESS', message: '', at: T0 } });
  const modules = [toReported('orders', '1.0.0'), toReported('orders', '2.0.0')];
  const stale = plan(toBase({ modules, modulesAt: T0 - 1, ops: [done] }), [newPod()]);
  assert.deepEqual(cmds(stale), []);
  assert.equal(stale.queryModules, true, 'the newer list is asked for');
  assert.equal(stale.requeueAfterMs, MODULE_LIST_RETRY_MS);
  const fresh = plan(toBase({ modules, modulesAt: T0 + 1, ops: [done] }), [newPod()]);
  assert.deepEqual(cmds(fresh), ['uninstall orders:1.0.0 ']);
});

test('a rollout that changes only the jar URL: the newest pod decides, so the new jar replaces the old one', () => {
  const oldUrl = toJarUrl('orders', '1.0.0');
  const newUrl = 'https://repo.example.invalid/hotfix/orders-1.0.0-ark-biz.jar';
  const hotfix = toModulePod({ name: 'orders-bbb-1', modules: [{ ...V1, url: newUrl }], deployment: { name: DEP, revision: 'bbb' }, created: T0 - 1_000 });
  const p = plan(toBase({ modules: [toReported('orders', '1.0.0')], installedUrls: { 'orders:1.0.0': oldUrl } }), [oldPod(), hotfix]);
  assert.deepEqual(cmds(p), [`uninstall orders:1.0.0 ${oldUrl} (shop/orders-bbb-1)`]);
});

test('while a Ready base\'s module list is read again, a pod that already shows its modules keeps its status; new pods and bases that are not Ready still get one', () => {
  const shown = toModulePod({ name: 'p1', modules: [V1], status: { phase: 'Running', containerStatuses: [{ name: 'orders', image: toJarUrl('orders', '1.0.0'), imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(T0) } } }] } });
  const fresh = toModulePod({ name: 'p2', modules: [CART] });
  const relisting = plan(toBase({ modules: undefined }), [shown, fresh]);
  assert.equal(relisting.queryModules, true);
  assert.equal(relisting.observations.has('shop/p1'), false, 'no status write: nothing new to say');
  assert.deepEqual(obs(relisting, 'shop/p2', 'cart'), { kind: 'waitingForBase', message: 'waiting for the base\'s module list' });
  // A base that is not Ready: its pods must say so (not Ready), list or no list.
  const gone = toBase({ modules: undefined });
  const late = T0 + S.notReadyAfterMs + 1_000;
  const notReady = plan(gone, [shown], late, toLiveness(gone, late, S));
  assert.equal(notReady.observations.has('shop/p1'), true);
});

test('only a first install for a bound pod is routine; a resend, a retry and a hand-off are not', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  const routineOf = (p: ModulePlan) => p.commands.map((c) => c.routine === true);
  assert.deepEqual(routineOf(plan(toBase({ modules: [] }), [pod])), [true], 'first install');
  const timedOut = toBase({ modules: [], ops: [toOp({ kind: 'install', bizName: 'orders', bizVersion: '1.0.0', sentAt: T0 })], lastHeartbeatAt: T0 + S.commandTimeoutMs });
  assert.deepEqual(routineOf(plan(timedOut, [pod], T0 + S.commandTimeoutMs)), [false], 'resent after the command timeout');
  const failed = toBase({ modules: [], ops: [toOp({ kind: 'install', bizName: 'orders', bizVersion: '1.0.0', result: { ok: false, code: 'FAILED', message: 'x', at: T0 } })], lastHeartbeatAt: T0 + 5_000 });
  assert.deepEqual(routineOf(plan(failed, [pod], T0 + 5_000)), [false], 'retry');
  const handOff = toBase({ modules: [{ bizName: 'orders', bizVersion: '0.9.0', state: 'ACTIVATED' }] });
  assert.deepEqual(routineOf(plan(handOff, [pod])), [false], 'hand-off (uninstallThenInstall)');
});
