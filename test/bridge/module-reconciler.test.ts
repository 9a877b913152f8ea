// The module reconciler with an injected context: a real BaseRegistry, metrics and logger; the pod
// cache, the publisher and the Kubernetes client are small in-memory objects passed in (no module mocks).
import { ALWAYS_HEARD } from '../../bridge/hearing.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import type { CoordinationApi, CoreApi } from '../../core/kube-apis.ts';
import { Registry } from 'prom-client';
import { createSilentLogger } from '../../core/logger.ts';
import type { CommandKind } from '../../core/topics.ts';
import { ControllerError } from '../../core/errors.ts';
import { BaseRegistry } from '../../bridge/base-registry.ts';
import type { BridgeContext } from '../../bridge/context.ts';
import type { BridgeSettings } from '../../bridge/config.ts';
import { createBridgeMetrics } from '../../bridge/metrics.ts';
import { toRevisionKey } from '../../bridge/module-claims.ts';
import { createModuleReconciler, isSameStatusInputs, WRITES_PER_PASS } from '../../bridge/module-reconciler.ts';
import type { PodIndex } from '../../bridge/pod-index.ts';
import { BASE_ID, SETTINGS, T0, toJarUrl, toModulePod, toReported } from './fixtures.ts';

interface World {
  pods: k8s.V1Pod[];
  fresh: boolean;
  published: Array<{ id: string; kind: CommandKind; payload: Record<string, unknown> }>;
  publish: (id: string, kind: CommandKind, payload: unknown) => Promise<void>;
  patches: Array<{ name: string; body: unknown }>;
  patchError?: unknown;
  /** Awaited before each status patch is recorded (to hold writes in flight). */
  beforePatch?: () => Promise<void>;
  events: string[];
  clock: number;
  /** Each revision read the reconciler asked for (lists of `ns/Kind/name` keys), and the answers. */
  revisionReads: string[][];
  rsRevisions: Map<string, number>;
}

function setup(o: { modules?: ReturnType<typeof toReported>[]; pods?: k8s.V1Pod[]; settings?: Partial<BridgeSettings> } = {}) {
  const registry = new BaseRegistry();
  registry.recordHeartbeat(BASE_ID, { metadata: { identity: BASE_ID, name: 'base', version: '1.0.0', clusterName: 'default' }, localIP: BASE_ID, hostName: 'h', state: 'activated', publishTimestamp: T0 }, T0);
  if (o.modules) registry.recordModules(BASE_ID, o.modules, T0);
  const w: World = {
    pods: o.pods ?? [],
    fresh: true,
    published: [],
    publish: async (id, kind, payload) => {
      w.published.push({ id, kind, payload: payload as Record<string, unknown> });
    },
    patches: [],
    events: [],
    clock: T0,
    revisionReads: [],
    rsRevisions: new Map(),
  };
  const pods: PodIndex = {
    podsOnNode: (n) => w.pods.filter((p) => p.spec?.nodeName === n),
    all: () => w.pods,
    isSynced: () => true,
    isFresh: () => w.fresh,
    synced: Promise.resolve(),
    stop: async () => undefined,
  };
  const core = {
    patchNamespacedPodStatusMetadata: async (req: { name: string; body: unknown }) => {
      if (w.patchError) throw w.patchError;
      await w.beforePatch?.();
      w.patches.push({ name: req.name, body: req.body });
      return { metadata: { resourceVersion: `written-${w.patches.length}` } };
    },
    deleteNamespacedPod: async () => ({}),
  } as unknown as CoreApi;
  const ctx: BridgeContext = {
    hearing: () => ALWAYS_HEARD,
    settings: { ...SETTINGS, ...o.settings },
    registry,
    nodes: { list: () => [], get: () => undefined, isSynced: () => true, isFresh: () => true, synced: Promise.resolve(), stop: async () => undefined },
    pods,
    core,
    coordination: {} as CoordinationApi,
    workloadRevisions: {
      read: async (refs) => {
        const keys = refs.map(toRevisionKey);
        w.revisionReads.push(keys);
        return new Map(keys.map((k) => [k, w.rsRevisions.get(k)]));
      },
    },
    publish: (id, kind, payload) => w.publish(id, kind, payload),
    recordEvent: (t, type, reason, message) => w.events.push(`${t.kind}/${t.name} ${type} ${reason}: ${message}`),
    logger: createSilentLogger(),
    metrics: createBridgeMetrics(new Registry()),
    now: () => w.clock,
    isLeader: () => true,
    owns: () => true,
  };
  return { w, registry, reconciler: createModuleReconciler(ctx) };
}

const V1 = { name: 'orders', version: '1.0.0' };
const CART = { name: 'cart', version: '0.0.1' };

test('a bound pod gets its install, the pod status is patched with its UID, and an Event says why', async () => {
  const { w, registry, reconciler } = setup({ modules: [], pods: [toModulePod({ name: 'p1', modules: [V1] })] });
  const out = await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.published.map((p) => `${p.kind} ${String(p.payload['bizName'])}:${String(p.payload['bizVersion'])}`), ['installBiz orders:1.0.0']);
  assert.equal(w.published[0]!.payload['bizUrl'], toJarUrl('orders', '1.0.0'));
  assert.equal(registry.get(BASE_ID)!.ops.get('orders:1.0.0')?.kind, 'install');
  assert.equal((w.patches[0]!.body as { metadata: { uid: string } }).metadata.uid, 'uid-p1');
  assert.match(w.events[0]!, /^Pod\/p1 Normal Installing: installBiz orders:1\.0\.0 on base 10\.1\.0\.45: module pod bound to this base$/);
  assert.equal(out.kind, 'requeueAfter');
});

test('the watch echo of our own status write (the version the patch answered) is recognised; other versions are not', async () => {
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  pod.metadata!.resourceVersion = '7';
  const { w, reconciler } = setup({ modules: [], pods: [pod] });
  await reconciler.reconcile(BASE_ID);
  assert.equal(w.patches.length, 1);
  const at = (rv: string): k8s.V1Pod => ({ ...pod, metadata: { ...pod.metadata, resourceVersion: rv } });
  assert.equal(reconciler.isOwnStatusEcho(BASE_ID, at('written-1')), true);
  assert.equal(reconciler.isOwnStatusEcho(BASE_ID, at('7')), false, 'the version the write went over');
  assert.equal(reconciler.isOwnStatusEcho(BASE_ID, at('8')), false, 'someone else\'s version');
  assert.equal(reconciler.isOwnStatusEcho('10.9.9.9', at('written-1')), false, 'another base');
});

test('a rejected publish is not recorded as in flight: the pass fails (queue backoff), stops sending, and the next pass re-plans', async () => {
  const { w, registry, reconciler } = setup({ modules: [], pods: [toModulePod({ name: 'p1', modules: [V1] }), toModulePod({ name: 'p2', modules: [CART] })] });
  let calls = 0;
  w.publish = async () => {
    calls++;
    throw new ControllerError('MQTT_UNAVAILABLE', 'the MQTT link is down');
  };
  const out = await reconciler.reconcile(BASE_ID);
  assert.equal(out.kind, 'error');
  assert.equal(calls, 1, 'no further command once the link refused one');
  assert.equal(registry.get(BASE_ID)!.ops.size, 0, 'nothing counts as in flight');
  assert.equal(w.patches.length, 2, 'pod status is still written');
  // The link is back: the pass plans from what is true now, so a pod deleted meanwhile gets nothing.
  w.pods = [w.pods[1]!];
  w.publish = async (id, kind, payload) => {
    w.published.push({ id, kind, payload: payload as Record<string, unknown> });
  };
  await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.published.map((p) => `${p.kind} ${String(p.payload['bizName'])}`), ['installBiz cart']);
});

test('a command for a pod deleted while an earlier command was being published is not sent', async () => {
  const { w, reconciler } = setup({ modules: [], pods: [toModulePod({ name: 'p1', modules: [V1] }), toModulePod({ name: 'p2', modules: [CART] })] });
  w.publish = async (id, kind, payload) => {
    w.published.push({ id, kind, payload: payload as Record<string, unknown> });
    // While the first publish waits for its ack, p2 is deleted.
    w.pods = w.pods.filter((p) => p.metadata!.name !== 'p2');
  };
  const out = await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.published.map((p) => String(p.payload['bizName'])), ['orders']);
  assert.equal(out.kind, 'requeueAfter');
});

test('hand-off installs carry installStrategy uninstallThenInstall on the wire', async () => {
  const old = toModulePod({ name: 'orders-aaa-1', modules: [V1], phase: 'Running', deployment: { name: 'orders', revision: 'aaa' }, created: T0 - 60_000 });
  const next = toModulePod({ name: 'orders-bbb-1', modules: [{ name: 'orders', version: '2.0.0' }], deployment: { name: 'orders', revision: 'bbb' }, created: T0 - 1_000 });
  const { w, reconciler } = setup({ modules: [toReported('orders', '1.0.0')], pods: [old, next] });
  await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.published.map((p) => p.payload), [{ bizName: 'orders', bizVersion: '2.0.0', bizUrl: toJarUrl('orders', '2.0.0'), installStrategy: 'uninstallThenInstall' }]);
});

test('a stale pod cache sends no uninstall; a fresh one does', async () => {
  const { w, reconciler } = setup({ modules: [toReported('stray', '1.0.0')], pods: [] });
  w.fresh = false;
  assert.deepEqual(await reconciler.reconcile(BASE_ID), { kind: 'requeueAfter', ms: 1_000 });
  assert.equal(w.published.length, 0);
  w.fresh = true;
  await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.published.map((p) => `${p.kind} ${String(p.payload['bizName'])}`), ['uninstallBiz stray']);
});

test('a status patch refused for another pod under the same name (UID precondition) is skipped, not an error', async () => {
  const { w, reconciler } = setup({ modules: [toReported('orders', '1.0.0')], pods: [toModulePod({ name: 'sts-0', modules: [V1] })] });
  w.patchError = Object.assign(new Error('HTTP-Code: 422'), { code: 422, body: '{"message":"Pod \\"sts-0\\" is invalid: metadata.uid: Invalid value: \\"x\\": field is immutable"}' });
  const out = await reconciler.reconcile(BASE_ID);
  assert.notEqual(out.kind, 'error');
  w.patchError = Object.assign(new Error('HTTP-Code: 500'), { code: 500, body: 'boom' });
  await assert.rejects(reconciler.reconcile(BASE_ID), /500/);
});

test('the module-list query memory is pruned when a base goes', async () => {
  const { w, registry, reconciler } = setup();
  reconciler.requestModuleList(BASE_ID);
  for (let i = 0; i < 50; i++) reconciler.requestModuleList(`192.0.2.${i}`);
  assert.ok(reconciler.trackedBases() <= 2 * registry.list().length + 16 + 1, String(reconciler.trackedBases()));
  registry.delete(BASE_ID);
  await reconciler.reconcile(BASE_ID);
  w.clock += 10_000;
  reconciler.requestModuleList('192.0.2.200');
  for (let i = 0; i < 20; i++) reconciler.requestModuleList(`198.51.100.${i}`);
  assert.ok(reconciler.trackedBases() <= 17, String(reconciler.trackedBases()));
});

test('ReplicaSet revisions are read only while a workload has pods of two ReplicaSets on the base, and they decide the newer pod', async () => {
  const V2 = { name: 'orders', version: '2.0.0' };
  const created = T0 - 5_000; // the surge pod and the old replica in the same second
  const old = toModulePod({ name: 'orders-7f9d-old', modules: [V1], phase: 'Running', deployment: { name: 'orders', revision: '7f9d' }, created });
  const { w, reconciler } = setup({ modules: [toReported('orders', '1.0.0')], pods: [old] });
  await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.revisionReads, [], 'steady state: no ReplicaSet read');

  // The rollout's surge pod sorts first by name: without revisions the old pod would win.
  w.pods = [old, toModulePod({ name: 'orders-5bc9-new', modules: [V2], deployment: { name: 'orders', revision: '5bc9' }, created })];
  w.rsRevisions = new Map([['shop/ReplicaSet/orders-7f9d', 1], ['shop/ReplicaSet/orders-5bc9', 2]]);
  await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.revisionReads, [['shop/ReplicaSet/orders-7f9d', 'shop/ReplicaSet/orders-5bc9']]);
  assert.deepEqual(w.published.map((p) => `${p.kind} ${String(p.payload['bizName'])}:${String(p.payload['bizVersion'])} ${String(p.payload['installStrategy'] ?? '')}`), ['installBiz orders:2.0.0 uninstallThenInstall']);
});

test('StatefulSet pods of two revisions: their ControllerRevisions are read and the higher revision wins over a later recreated pod', async () => {
  const V2 = { name: 'orders', version: '2.0.0' };
  const sts = (name: string, revision: string, module: typeof V1, created: number) => toModulePod({ name, modules: [module], phase: 'Running', controller: { kind: 'StatefulSet', name: 'orders', revisionLabel: revision }, created });
  // rollingUpdate.partition: 1 — orders-1 runs the update revision; orders-0 was recreated later at the old one.
  const { w, reconciler } = setup({ modules: [toReported('orders', '2.0.0')], pods: [sts('orders-1', 'orders-6c8f5d', V2, T0 - 60_000), sts('orders-0', 'orders-5d4b7c', V1, T0 - 1_000)] });
  w.rsRevisions = new Map([['shop/ControllerRevision/orders-5d4b7c', 1], ['shop/ControllerRevision/orders-6c8f5d', 2]]);
  await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.revisionReads, [['shop/ControllerRevision/orders-6c8f5d', 'shop/ControllerRevision/orders-5d4b7c']]);
  assert.deepEqual(w.published, [], 'v2 stays: the old-revision pod is handed off, v1 is not reinstalled');
});

test('a pass while the pod cache still shows the version before our write neither writes that status again nor repeats its Events', async () => {
  const pod = toModulePod({ name: 'p1', modules: [V1] });
  pod.metadata!.resourceVersion = '10';
  const { w, registry, reconciler } = setup({ modules: [], pods: [pod] });
  await reconciler.reconcile(BASE_ID);
  assert.equal(w.patches.length, 1, 'installing written');
  // The base confirms; the cache has not seen our first write yet (still resourceVersion 10).
  registry.recordOpResult(BASE_ID, { kind: 'install', bizName: 'orders', bizVersion: '1.0.0', ok: true, code: 'SUCCESS', message: '', bizInfos: [toReported('orders', '1.0.0')] }, T0 + 500);
  w.clock = T0 + 500;
  await reconciler.reconcile(BASE_ID);
  assert.equal(w.patches.length, 2, 'Running written');
  await reconciler.reconcile(BASE_ID);
  await reconciler.reconcile(BASE_ID);
  assert.equal(w.patches.length, 2, 'nothing new: no write while the cache lags');
  assert.equal(w.events.filter((e) => e.includes(' Installed: ')).length, 1, 'one Installed Event');
  // The cache moves on (our write arrived with its own status): that copy is the truth again.
  const last = w.patches.at(-1)!.body as { status: k8s.V1PodStatus };
  w.pods = [{ ...pod, metadata: { ...pod.metadata, resourceVersion: '12' }, status: last.status }];
  await reconciler.reconcile(BASE_ID);
  assert.equal(w.patches.length, 2);
});

test('the status writes of one pass go out together, not one after another', async () => {
  const pods = Array.from({ length: 6 }, (_, i) => toModulePod({ name: `p${i}`, modules: [{ name: `m${i}`, version: '1.0.0' }] }));
  const { w, reconciler } = setup({ modules: [], pods });
  let inFlight = 0;
  let most = 0;
  const release: Array<() => void> = [];
  // Hold every write until all of the pass's writes have started.
  const held = new Promise<void>((r) => release.push(r));
  const patches = w.patches;
  const hook = async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    if (inFlight === WRITES_PER_PASS) release[0]!();
    await held;
    inFlight--;
  };
  w.beforePatch = hook;
  await reconciler.reconcile(BASE_ID);
  assert.equal(most, WRITES_PER_PASS, 'the pass keeps WRITES_PER_PASS writes in flight at once');
  assert.equal(patches.length, pods.length);
});

test('isSameStatusInputs: false whenever an input of the pod status differs', () => {
  const obs = (o: Record<string, unknown>) => new Map([['biz1', { kind: 'reported', state: 'ACTIVATED', ...o } as never]]);
  const at = (observations: ReadonlyMap<string, never>, o: { baseIP?: string | undefined; baseReady?: boolean } = {}) => ({ observations, baseIP: 'baseIP' in o ? o.baseIP : '10.0.0.1', baseReady: o.baseReady ?? true });
  const base = at(obs({}));
  assert.equal(isSameStatusInputs(at(obs({})), base), true, 'same inputs (other objects)');
  assert.equal(isSameStatusInputs(undefined, base), false, 'nothing remembered');
  assert.equal(isSameStatusInputs(at(obs({}), { baseIP: '10.0.0.2' }), base), false, 'base IP');
  assert.equal(isSameStatusInputs(at(obs({}), { baseIP: undefined }), base), false, 'no base IP');
  assert.equal(isSameStatusInputs(at(obs({}), { baseReady: false }), base), false, 'base readiness');
  assert.equal(isSameStatusInputs(at(obs({ state: 'DEACTIVATED' })), base), false, 'module state');
  assert.equal(isSameStatusInputs(at(obs({ reason: 'r' })), base), false, 'reason');
  assert.equal(isSameStatusInputs(at(obs({ message: 'x' })), base), false, 'message');
  assert.equal(isSameStatusInputs(at(obs({ since: 1 })), base), false, 'since');
  const failed = (detail: string) => at(new Map([['biz1', { kind: 'installFailed', message: 'm', detail } as never]]));
  assert.equal(isSameStatusInputs(failed('a'), failed('b')), false, 'detail');
  assert.equal(isSameStatusInputs(at(new Map([['biz2', { kind: 'reported', state: 'ACTIVATED' } as never]])), base), false, 'container name');
  assert.equal(isSameStatusInputs(at(new Map([['biz1', { kind: 'installing' } as never]])), base), false, 'observation kind');
  const two = (a: string, b: string) => at(new Map([[a, { kind: 'installing' } as never], [b, { kind: 'uninstalling' } as never]]));
  assert.equal(isSameStatusInputs(two('a', 'b'), two('a', 'b')), true, 'two containers');
  assert.equal(isSameStatusInputs(two('b', 'a'), two('a', 'b')), false, 'two containers, other order');
  assert.equal(isSameStatusInputs(at(new Map([...obs({}), ['biz2', { kind: 'installing' } as never]])), base), false, 'one container more');
});

const confirm = (registry: BaseRegistry, m: { name: string; version: string }, at: number) =>
  registry.recordOpResult(BASE_ID, { kind: 'install', bizName: m.name, bizVersion: m.version, ok: true, code: 'SUCCESS', message: '', bizInfos: [toReported(m.name, m.version)] }, at);
const containerStates = (body: unknown) => ((body as { status: k8s.V1PodStatus }).status.containerStatuses ?? []).map((c) => Object.keys(c.state ?? {})[0]);

test('with --installing-status-delay, an install confirmed in time takes the pod to Running in one write with one Event', async () => {
  const { w, registry, reconciler } = setup({ modules: [], pods: [toModulePod({ name: 'p1', modules: [V1] })], settings: { installingStatusDelayMs: 1_000 } });
  const out = await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.published.map((p) => p.kind), ['installBiz']);
  assert.equal(w.patches.length, 0, 'no Installing status yet');
  assert.deepEqual(w.events, [], 'no Installing Event for a routine install');
  assert.deepEqual(out, { kind: 'requeueAfter', ms: 1_000 }, 'looks again when the hold ends');
  confirm(registry, V1, T0 + 200);
  w.clock = T0 + 200;
  await reconciler.reconcile(BASE_ID);
  assert.equal(w.patches.length, 1);
  assert.deepEqual(containerStates(w.patches[0]!.body), ['running']);
  assert.equal(w.events.length, 1);
  assert.match(w.events[0]!, /^Pod\/p1 Normal Installed: /);
});

test('with --installing-status-delay, a slow install shows Installing once the hold ends, with the Installing Event then', async () => {
  const { w, registry, reconciler } = setup({ modules: [], pods: [toModulePod({ name: 'p1', modules: [V1] })], settings: { installingStatusDelayMs: 1_000 } });
  await reconciler.reconcile(BASE_ID);
  w.clock = T0 + 400;
  await reconciler.reconcile(BASE_ID);
  assert.equal(w.patches.length, 0, 'still held');
  w.clock = T0 + 1_000;
  await reconciler.reconcile(BASE_ID);
  assert.equal(w.patches.length, 1);
  assert.deepEqual(containerStates(w.patches[0]!.body), ['waiting']);
  assert.deepEqual(w.events, ['Pod/p1 Normal Installing: installBiz orders:1.0.0 on base 10.1.0.45: module pod bound to this base']);
  confirm(registry, V1, T0 + 3_000);
  w.clock = T0 + 3_000;
  await reconciler.reconcile(BASE_ID);
  assert.deepEqual(w.events.map((e) => e.split(':')[0]), ['Pod/p1 Normal Installing', 'Pod/p1 Normal Installed']);
  assert.equal(w.patches.length, 2);
});

test('with --installing-status-delay, a non-routine install (hand-off) is announced when it is sent', async () => {
  const V2 = { name: 'orders', version: '2.0.0' };
  const { w, reconciler } = setup({ modules: [toReported('orders', '1.0.0')], pods: [toModulePod({ name: 'p2', modules: [V2] })], settings: { installingStatusDelayMs: 1_000 } });
  await reconciler.reconcile(BASE_ID);
  assert.equal(String(w.published[0]!.payload['installStrategy']), 'uninstallThenInstall');
  assert.equal(w.events.length, 1);
  assert.match(w.events[0]!, /^Pod\/p2 Normal Installing: installBiz orders:2\.0\.0 on base 10\.1\.0\.45: hand-off: /);
  assert.equal(w.patches.length, 0, 'its first status is held like any other');
});
