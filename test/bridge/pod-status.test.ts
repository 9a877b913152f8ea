import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import type { ModuleObservation } from '../../core/module-status.ts';
import { isSamePodStatus, toFirstStatusHoldMs, toPodStatus, toStatusPatch, WrittenStatuses } from '../../bridge/pod-status.ts';
import { BASE_IP, T0, toJarUrl, toModulePod } from './fixtures.ts';

const V1 = { name: 'orders', version: '1.0.0' };
const CART = { name: 'cart', version: '0.0.1' };
const NOW = new Date(T0);

function status(pod: V1Pod, o: Record<string, ModuleObservation>, opts: { baseReady?: boolean; now?: Date; baseIP?: string | undefined } = {}): V1PodStatus {
  return toPodStatus({ pod, observations: new Map(Object.entries(o)), baseIP: 'baseIP' in opts ? opts.baseIP : BASE_IP, baseReady: opts.baseReady ?? true, now: opts.now ?? NOW });
}

/** The status as the API server hands it back: times as strings, truncated to the second. */
function stored(s: V1PodStatus): V1PodStatus {
  return JSON.parse(JSON.stringify(s).replace(/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z/g, '$1Z')) as V1PodStatus;
}

function cond(s: V1PodStatus, type: string): V1PodCondition | undefined {
  return s.conditions?.find((c) => c.type === type);
}

function cs(s: V1PodStatus, name: string): V1ContainerStatus | undefined {
  return s.containerStatuses?.find((c) => c.name === name);
}

const activated = (since?: number): ModuleObservation => ({ kind: 'reported', state: 'ACTIVATED', since });

test('phase, readiness and container state per observation', () => {
  const cases: Array<{ name: string; o: ModuleObservation; restartPolicy?: string; baseReady?: boolean; phase: string; ready: string; containersReady: string; state: Record<string, unknown> }> = [
    { name: 'installing', o: { kind: 'installing' }, phase: 'Pending', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleInstalling', message: 'installBiz sent to the base; waiting for it to confirm' } } },
    { name: 'waiting for the base', o: { kind: 'waitingForBase', message: 'the base is not Ready' }, phase: 'Pending', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'WaitingForBase', message: 'the base is not Ready' } } },
    { name: 'ACTIVATED', o: activated(T0 - 5_000), phase: 'Running', ready: 'True', containersReady: 'True', state: { running: { startedAt: new Date(T0 - 5_000) } } },
    { name: 'activated, lower case, no time', o: { kind: 'reported', state: 'activated' }, phase: 'Running', ready: 'True', containersReady: 'True', state: { running: { startedAt: NOW } } },
    { name: 'ACTIVATED, base not Ready', o: activated(T0 - 5_000), baseReady: false, phase: 'Running', ready: 'False', containersReady: 'True', state: { running: { startedAt: new Date(T0 - 5_000) } } },
    { name: 'RESOLVED', o: { kind: 'reported', state: 'RESOLVED' }, phase: 'Pending', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleStarting' } } },
    { name: 'DEACTIVATED', o: { kind: 'reported', state: 'DEACTIVATED' }, phase: 'Running', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleDeactivated', message: 'installed but not active on the base (another version of this module is active there)' } } },
    { name: 'BROKEN, Always', o: { kind: 'reported', state: 'BROKEN', message: 'ClassNotFound' }, phase: 'Pending', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleBroken', message: 'ClassNotFound' } } },
    { name: 'BROKEN, Never', o: { kind: 'reported', state: 'BROKEN' }, restartPolicy: 'Never', phase: 'Failed', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleBroken', message: 'the base reports the module BROKEN' } } },
    { name: 'STOPPED', o: { kind: 'reported', state: 'STOPPED', since: T0 - 1_000, message: 'stopped by user' }, phase: 'Pending', ready: 'False', containersReady: 'False', state: { terminated: { exitCode: 1, reason: 'ModuleStopped', message: 'stopped by user', finishedAt: new Date(T0 - 1_000) } } },
    { name: 'STOPPED, Never', o: { kind: 'reported', state: 'STOPPED' }, restartPolicy: 'Never', phase: 'Failed', ready: 'False', containersReady: 'False', state: { terminated: { exitCode: 1, reason: 'ModuleStopped', finishedAt: NOW } } },
    { name: 'unknown state', o: { kind: 'reported', state: 'WEIRD' }, phase: 'Pending', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleUnknownState', message: 'the base reports state WEIRD' } } },
    { name: 'install failed, Always', o: { kind: 'installFailed', message: 'FAILED: jar not found (retrying in 2s)' }, phase: 'Pending', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleInstallFailed', message: 'FAILED: jar not found (retrying in 2s)' } } },
    { name: 'install failed, OnFailure', o: { kind: 'installFailed', message: 'x' }, restartPolicy: 'OnFailure', phase: 'Pending', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleInstallFailed', message: 'x' } } },
    { name: 'install failed, Never', o: { kind: 'installFailed', message: 'FAILED: jar not found' }, restartPolicy: 'Never', phase: 'Failed', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleInstallFailed', message: 'FAILED: jar not found' } } },
    { name: 'uninstalling', o: { kind: 'uninstalling' }, phase: 'Pending', ready: 'False', containersReady: 'False', state: { waiting: { reason: 'ModuleUninstalling', message: 'uninstallBiz sent to the base' } } },
  ];
  for (const c of cases) {
    const pod = toModulePod({ name: 'p1', modules: [V1], ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}) });
    const s = status(pod, { orders: c.o }, { baseReady: c.baseReady ?? true });
    assert.equal(s.phase, c.phase, c.name);
    assert.equal(cond(s, 'Ready')?.status, c.ready, c.name);
    assert.equal(cond(s, 'ContainersReady')?.status, c.containersReady, c.name);
    assert.equal(cond(s, 'PodScheduled')?.status, 'True', c.name);
    assert.equal(cond(s, 'Initialized')?.status, 'True', c.name);
    assert.deepEqual(cs(s, 'orders')?.state, c.state, c.name);
    assert.equal(cs(s, 'orders')?.ready, c.containersReady === 'True', c.name);
  }
});

test('container status carries the module image, restart count and the base IP as pod and host IP', () => {
  const s = status(toModulePod({ name: 'p1', modules: [V1] }), { orders: activated(T0) });
  assert.deepEqual(cs(s, 'orders'), { name: 'orders', image: toJarUrl('orders', '1.0.0'), imageID: toJarUrl('orders', '1.0.0'), ready: true, started: true, restartCount: 0, state: { running: { startedAt: NOW } } });
  assert.equal(s.podIP, BASE_IP);
  assert.equal(s.hostIP, BASE_IP);
  assert.deepEqual(s.podIPs, [{ ip: BASE_IP }]);
  assert.deepEqual(s.hostIPs, [{ ip: BASE_IP }]);
  assert.equal(s.qosClass, 'BestEffort');
  assert.equal(s.startTime, NOW);
});

test('without a base IP the previous pod IP is kept; with none at all, no IP fields', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1], status: { phase: 'Running', podIP: '10.9.9.9' } });
  assert.equal(status(pod, {}, { baseIP: undefined }).podIP, '10.9.9.9');
  const fresh = status(toModulePod({ name: 'p2', modules: [V1] }), {}, { baseIP: undefined });
  assert.equal('podIP' in fresh, false);
  assert.equal('hostIP' in fresh, false);
});

test('Ready condition explains itself', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1, CART] });
  const partly = status(pod, { orders: activated(T0), cart: { kind: 'installing' } });
  assert.equal(cond(partly, 'Ready')?.reason, 'ContainersNotReady');
  assert.equal(cond(partly, 'Ready')?.message, 'modules not active: [cart]');
  assert.equal(cond(partly, 'ContainersReady')?.message, 'modules not active: [cart]');
  // Not all modules present yet: still Pending.
  assert.equal(partly.phase, 'Pending');

  const baseDown = status(pod, { orders: activated(T0), cart: activated(T0) }, { baseReady: false });
  assert.equal(cond(baseDown, 'Ready')?.status, 'False');
  assert.equal(cond(baseDown, 'Ready')?.reason, 'BaseNotReady');
  assert.equal(cond(baseDown, 'Ready')?.message, 'the base is not Ready');
  assert.equal(cond(baseDown, 'ContainersReady')?.status, 'True');
  assert.equal(cond(baseDown, 'ContainersReady')?.reason, undefined);

  const ok = status(pod, { orders: activated(T0), cart: activated(T0) });
  assert.equal(cond(ok, 'Ready')?.status, 'True');
  assert.equal(cond(ok, 'Ready')?.reason, undefined);
  assert.equal(cond(ok, 'Ready')?.message, undefined);
});

test('a container without an observation counts as installing', () => {
  const s = status(toModulePod({ name: 'p1', modules: [V1] }), {});
  assert.equal(cs(s, 'orders')?.state?.waiting?.reason, 'ModuleInstalling');
  assert.equal(s.phase, 'Pending');
});

test('a pod that was Running stays Running while a module is present but not started', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1], status: { phase: 'Running' } });
  assert.equal(status(pod, { orders: { kind: 'reported', state: 'RESOLVED' } }).phase, 'Running');
  assert.equal(status(pod, { orders: { kind: 'installing' } }).phase, 'Pending');
});

test('a deleted pod keeps its phase', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1], deleting: T0 + 30_000, status: { phase: 'Running' } });
  const s = status(pod, { orders: { kind: 'uninstalling' } });
  assert.equal(s.phase, 'Running');
  assert.equal(cs(s, 'orders')?.state?.waiting?.reason, 'ModuleUninstalling');
});

test('unchanged input gives the same status later: transition times, startTime and startedAt are kept', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  const first = stored(status(pod, { orders: activated(T0 - 60_000) }, { now: new Date(T0 + 123) }));
  const later = status({ ...pod, status: first }, { orders: activated(T0 - 60_000) }, { now: new Date(T0 + 45_000) });
  for (const c of later.conditions ?? []) assert.equal(new Date(c.lastTransitionTime!).getTime(), T0, c.type);
  assert.equal(new Date(later.startTime!).getTime(), T0);
  assert.equal(isSamePodStatus(first, later), true);
});

test('a Ready change moves only the changed conditions\' transition times', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  const installing = stored(status(pod, { orders: { kind: 'installing' } }, { now: new Date(T0) }));
  const running = status({ ...pod, status: installing }, { orders: activated(T0 + 5_000) }, { now: new Date(T0 + 10_000) });
  assert.equal(new Date(cond(running, 'PodScheduled')!.lastTransitionTime!).getTime(), T0);
  assert.equal(new Date(cond(running, 'Initialized')!.lastTransitionTime!).getTime(), T0);
  assert.equal(new Date(cond(running, 'ContainersReady')!.lastTransitionTime!).getTime(), T0 + 10_000);
  assert.equal(new Date(cond(running, 'Ready')!.lastTransitionTime!).getTime(), T0 + 10_000);
  assert.equal(isSamePodStatus(installing, running), false);

  // Base goes NotReady: Ready flips, ContainersReady does not.
  const down = status({ ...pod, status: stored(running) }, { orders: activated(T0 + 5_000) }, { now: new Date(T0 + 20_000), baseReady: false });
  assert.equal(new Date(cond(down, 'ContainersReady')!.lastTransitionTime!).getTime(), T0 + 10_000);
  assert.equal(new Date(cond(down, 'Ready')!.lastTransitionTime!).getTime(), T0 + 20_000);
});

test('startedAt of a running module is preserved; restartCount carried over', () => {
  const pod = toModulePod({
    name: 'p1',
    modules: [V1],
    status: { phase: 'Running', containerStatuses: [{ name: 'orders', image: 'x', imageID: 'x', ready: true, restartCount: 2, state: { running: { startedAt: new Date(T0 - 3_600_000).toISOString() as unknown as Date } } }] },
  });
  // The base now reports a later change time (e.g. a fresh module list): the pod keeps its start.
  const s = status(pod, { orders: activated(T0 - 10_000) });
  assert.equal(new Date(cs(s, 'orders')!.state!.running!.startedAt!).getTime(), T0 - 3_600_000);
  assert.equal(cs(s, 'orders')?.restartCount, 2);
  // Not running before: the base's time is used.
  const fresh = status(toModulePod({ name: 'p2', modules: [V1] }), { orders: activated(T0 - 10_000) });
  assert.equal(new Date(cs(fresh, 'orders')!.state!.running!.startedAt!).getTime(), T0 - 10_000);
});

test('isSamePodStatus compares at the resolution Kubernetes stores', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  const base = status(pod, { orders: activated(T0) }, { now: new Date(T0) });
  const variants: Array<[string, (s: V1PodStatus) => V1PodStatus, boolean]> = [
    ['identical', (s) => s, true],
    ['times as strings', (s) => JSON.parse(JSON.stringify(s)) as V1PodStatus, true],
    ['stored (second resolution)', (s) => stored(s), true],
    ['same second, other milliseconds', (s) => ({ ...s, conditions: s.conditions!.map((c) => ({ ...c, lastTransitionTime: new Date(T0 + 999) })) }), true],
    ['startedAt, same second', (s) => ({ ...s, containerStatuses: [{ ...s.containerStatuses![0]!, state: { running: { startedAt: new Date(T0 + 500) } } }] }), true],
    ['startTime and qosClass are not compared', (s) => ({ ...s, startTime: new Date(0), qosClass: 'Burstable' }), true],
    ['transition one second later', (s) => ({ ...s, conditions: s.conditions!.map((c) => ({ ...c, lastTransitionTime: new Date(T0 + 1_000) })) }), false],
    ['startedAt one second later', (s) => ({ ...s, containerStatuses: [{ ...s.containerStatuses![0]!, state: { running: { startedAt: new Date(T0 + 1_000) } } }] }), false],
    ['phase', (s) => ({ ...s, phase: 'Pending' }), false],
    ['condition status', (s) => ({ ...s, conditions: s.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c)) }), false],
    ['condition message', (s) => ({ ...s, conditions: s.conditions!.map((c) => (c.type === 'Ready' ? { ...c, message: 'x' } : c)) }), false],
    ['a condition missing', (s) => ({ ...s, conditions: s.conditions!.slice(1) }), false],
    ['pod IP', (s) => ({ ...s, podIP: '10.0.0.1' }), false],
    ['host IP', (s) => ({ ...s, hostIP: '10.0.0.1' }), false],
    ['container ready', (s) => ({ ...s, containerStatuses: [{ ...s.containerStatuses![0]!, ready: false }] }), false],
    ['container image', (s) => ({ ...s, containerStatuses: [{ ...s.containerStatuses![0]!, image: 'other.jar' }] }), false],
    ['running → waiting', (s) => ({ ...s, containerStatuses: [{ ...s.containerStatuses![0]!, state: { waiting: { reason: 'ModuleInstalling' } } }] }), false],
  ];
  for (const [name, change, same] of variants) assert.equal(isSamePodStatus(change(structuredClone(base)), base), same, name);
  assert.equal(isSamePodStatus(undefined, base), false);

  const waiting = (reason: string, message?: string): V1PodStatus => ({ phase: 'Pending', containerStatuses: [{ name: 'orders', image: 'x', imageID: 'x', ready: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } } }] });
  assert.equal(isSamePodStatus(waiting('ModuleInstalling'), waiting('ModuleInstalling')), true);
  assert.equal(isSamePodStatus(waiting('ModuleInstalling'), waiting('ModuleInstallFailed')), false);
  assert.equal(isSamePodStatus(waiting('ModuleInstallFailed', 'a'), waiting('ModuleInstallFailed', 'b')), false);
  const terminated = (finishedAt: number, reason = 'ModuleStopped'): V1PodStatus => ({ phase: 'Failed', containerStatuses: [{ name: 'orders', image: 'x', imageID: 'x', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason, finishedAt: new Date(finishedAt) } } }] });
  assert.equal(isSamePodStatus(terminated(T0), terminated(T0 + 5_000)), true);
  assert.equal(isSamePodStatus(terminated(T0), terminated(T0, 'Other')), false);
});

test('conditions the bridge does not own are kept, in their order, after its own', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1], status: { phase: 'Running', conditions: [
    { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' },
    { type: 'Ready', status: 'True' },
    { type: 'example.com/gate', status: 'False' },
  ] } });
  const s = status(pod, { orders: activated(T0) });
  assert.deepEqual(s.conditions?.map((c) => c.type), ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready', 'DisruptionTarget', 'example.com/gate']);
  assert.equal(cond(s, 'DisruptionTarget')?.reason, 'EvictionByEvictionAPI');
});

test('readiness gates: Ready only when every gate\'s condition is True (kubelet wording)', () => {
  const gated = (conditions: V1PodCondition[]) => {
    const pod = toModulePod({ name: 'p1', modules: [V1], status: { phase: 'Running', conditions } });
    pod.spec!.readinessGates = [{ conditionType: 'a.example/x' }, { conditionType: 'b.example/y' }];
    return status(pod, { orders: activated(T0) });
  };
  const missing = gated([]);
  assert.equal(cond(missing, 'ContainersReady')?.status, 'True');
  assert.equal(cond(missing, 'Ready')?.status, 'False');
  assert.equal(cond(missing, 'Ready')?.reason, 'ReadinessGatesNotReady');
  assert.equal(cond(missing, 'Ready')?.message, 'corresponding condition of pod readiness gate "a.example/x" does not exist., corresponding condition of pod readiness gate "b.example/y" does not exist.');
  const half = gated([{ type: 'a.example/x', status: 'True' }, { type: 'b.example/y', status: 'False' }]);
  assert.equal(cond(half, 'Ready')?.message, 'the status of pod readiness gate "b.example/y" is not "True", but False');
  const all = gated([{ type: 'a.example/x', status: 'True' }, { type: 'b.example/y', status: 'True' }]);
  assert.equal(cond(all, 'Ready')?.status, 'True');
  // Without gates nothing changes.
  assert.equal(cond(status(toModulePod({ name: 'p1', modules: [V1] }), { orders: activated(T0) }), 'Ready')?.status, 'True');
});

test('toStatusPatch: UID precondition, own conditions only (nulls clear stale fields), container statuses replaced whole', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1], status: { phase: 'Running', conditions: [{ type: 'DisruptionTarget', status: 'True' }] } });
  const s = status(pod, { orders: activated(T0) });
  const patch = toStatusPatch(pod, s) as { metadata: { uid: string }; status: { conditions: Array<Record<string, unknown>>; containerStatuses: unknown[] } };
  assert.deepEqual(patch.metadata, { uid: 'uid-p1' });
  assert.deepEqual(patch.status.conditions.map((c) => c['type']), ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']);
  const ready = patch.status.conditions.find((c) => c['type'] === 'Ready')!;
  assert.equal(ready['reason'], null);
  assert.equal(ready['message'], null);
  // An atomic list: the patch's list replaces the stored one; no directive element (it would be stored as data).
  assert.deepEqual(patch.status.containerStatuses, s.containerStatuses);
  assert.equal(patch.status.containerStatuses.length, 1);
});

test('a handed-off module shows why and is not ready; the pod stays Running', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1], status: { phase: 'Running' } });
  const s = status(pod, { orders: { kind: 'handedOff', message: 'replaced on this base by orders:2.0.0 of pod shop/new' } });
  assert.equal(s.phase, 'Running');
  assert.deepEqual(cs(s, 'orders')?.state, { waiting: { reason: 'ModuleHandedOff', message: 'replaced on this base by orders:2.0.0 of pod shop/new' } });
  assert.equal(cond(s, 'Ready')?.status, 'False');
});

test('a failed module\'s one-line cause is in the conditions too, where kubectl describe shows it', () => {
  const pod = toModulePod({ name: 'p1', modules: [V1, CART] });
  const s = status(pod, { orders: activated(T0), cart: { kind: 'installFailed', message: 'FAILED: jar not found; check the jar URL', detail: 'FAILED: jar not found\n\tat x' } });
  assert.equal(cond(s, 'Ready')?.message, 'modules not active: [cart] (cart: ModuleInstallFailed: FAILED: jar not found; check the jar URL)');
  assert.equal(cond(s, 'ContainersReady')?.message, cond(s, 'Ready')?.message);
  assert.equal(cs(s, 'cart')?.state?.waiting?.message, 'FAILED: jar not found; check the jar URL');
});

test('WrittenStatuses: our last write stands in for the cache until the cache shows its version, or a version not of ours', () => {
  const at = (rv: string, phase?: string): V1Pod => ({ metadata: { name: 'p', namespace: 'shop', uid: 'u1', resourceVersion: rv }, spec: { containers: [] }, ...(phase ? { status: { phase } } : {}) });
  const w = new WrittenStatuses();
  assert.equal(w.view(at('10')).status, undefined, 'nothing written: the cache as it is');
  // Write 1 over rv 10 → 11; write 2 (the cache still at 10) → 12.
  w.record(at('10'), { phase: 'Pending' }, at('11', 'Pending'));
  assert.equal(w.view(at('10')).status?.phase, 'Pending');
  w.record(at('10'), { phase: 'Running' }, at('12', 'Running'));
  const cases: Array<[string, string | undefined]> = [['10', 'Running'], ['11', 'Running']];
  for (const [rv, want] of cases) assert.equal(w.view(at(rv, rv === '11' ? 'Pending' : undefined)).status?.phase, want, `cache at ${rv}`);
  assert.equal(w.size, 1);
  assert.equal(w.view(at('12', 'Running')).status?.phase, 'Running', 'caught up: the cache');
  assert.equal(w.size, 0, 'forgotten once caught up');
  // An answer of metadata only (PartialObjectMetadata): the status written stands in, up to its version.
  w.record(at('13'), { phase: 'Running' }, { metadata: { resourceVersion: '14' } });
  assert.equal(w.isLastWrite(at('14')), true, 'the echo of the last write');
  assert.equal(w.isLastWrite(at('13')), false, 'the version the write went over');
  assert.equal(w.isLastWrite(at('15')), false, 'a later version');
  assert.equal(w.view(at('13', 'Pending')).status?.phase, 'Running', 'cache behind: the status written');
  assert.equal(w.view(at('14', 'Succeeded')).status?.phase, 'Succeeded', 'caught up: the cache');
  // Someone else's version ends it too.
  w.record(at('20'), { phase: 'Running' }, at('21', 'Running'));
  assert.equal(w.view(at('25', 'Failed')).status?.phase, 'Failed');
  assert.equal(w.size, 0);
  // Pods that left the base are forgotten; a pod without a resourceVersion is never remembered.
  w.record(at('30'), { phase: 'Running' });
  w.keepOnly([]);
  assert.equal(w.size, 0);
  w.record({ metadata: { uid: 'u2' } }, { phase: 'Running' });
  assert.equal(w.size, 0);
});

test('toFirstStatusHoldMs: a pod without status waits while all its installs are young and unanswered', () => {
  const pod = toModulePod({ name: 'p', modules: [{ name: 'a', version: '1' }, { name: 'b', version: '1' }] });
  const installing = new Map<string, ModuleObservation>([['a', { kind: 'installing' }], ['b', { kind: 'installing' }]]);
  const sent = new Map([['a', T0], ['b', T0 + 300]]);
  const cases: Array<[string, V1Pod, ReadonlyMap<string, ModuleObservation>, ReadonlyMap<string, number>, number, number, number | undefined]> = [
    ['both young: until the later one is 1 s old', pod, installing, sent, T0 + 100, 1_000, 1_200],
    ['the earlier is 1 s old: write now', pod, installing, sent, T0 + 1_000, 1_000, undefined],
    ['delay 0 turns it off', pod, installing, sent, T0, 0, undefined],
    ['one module has no install in flight (waiting, not sent)', pod, installing, new Map([['a', T0]]), T0, 1_000, undefined],
    ['one module already reported', pod, new Map<string, ModuleObservation>([['a', { kind: 'installing' }], ['b', { kind: 'reported', state: 'ACTIVATED' }]]), sent, T0, 1_000, undefined],
    ['one install failed', pod, new Map<string, ModuleObservation>([['a', { kind: 'installing' }], ['b', { kind: 'installFailed', message: 'x' }]]), sent, T0, 1_000, undefined],
    ['a status was written before (e.g. by an earlier bridge)', toModulePod({ name: 'p', modules: [{ name: 'a', version: '1' }, { name: 'b', version: '1' }], status: { phase: 'Pending', containerStatuses: [{ name: 'a', image: 'x', imageID: 'x', ready: false, restartCount: 0 }] } }), installing, sent, T0, 1_000, undefined],
    ['no containers', { ...pod, spec: { containers: [] } }, new Map(), new Map(), T0, 1_000, undefined],
  ];
  for (const [name, p, o, s2, now, delay, want] of cases) assert.equal(toFirstStatusHoldMs(p, o, s2, now, delay), want, name);
});
