/**
 * Micro benchmark of one base's module pass (bridge/module-reconciler.ts `reconcile`): the planning,
 * status building and comparing the bridge does for every pass, without I/O (the publisher and the
 * status patch answer at once, as in test/bridge/module-reconciler.test.ts). A base fills up with
 * `--pods` module pods one at a time, as in bench/bridge.ts's converge phase: each pod brings a pass
 * that sends its install, the base's reply brings a pass that writes Running, and the pod's watch
 * echo is folded back into the cache. Then `--steady` passes over the full, unchanged base (what a
 * module-list poll costs).
 *
 *   node bench/module-pass.ts [--pods 10] [--rounds 2000] [--steady 20000]
 *
 * Reports µs per pass for both phases and the heap allocated per pass (V8's sampling heap profiler
 * over a tenth of the passes, collected objects included), so a change to the pass shows its CPU and GC cost in one run.
 */
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import type * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { BaseRegistry } from '../bridge/base-registry.ts';
import type { BridgeContext } from '../bridge/context.ts';
import { ALWAYS_HEARD } from '../bridge/hearing.ts';
import { createBridgeMetrics } from '../bridge/metrics.ts';
import { createModuleReconciler } from '../bridge/module-reconciler.ts';
import type { PodIndex } from '../bridge/pod-index.ts';
import type { CoordinationApi, CoreApi } from '../core/kube-apis.ts';
import { createSilentLogger } from '../core/logger.ts';
import { SETTINGS, T0, toModulePod } from '../test/bridge/fixtures.ts';

const { values: a } = parseArgs({
  options: {
    pods: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2000' },
    steady: { type: 'string', default: '20000' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log('node bench/module-pass.ts [--pods 10] [--rounds 2000] [--steady 20000]: µs and heap bytes per module pass of one base');
  process.exit(0);
}
const PODS = Number(a.pods);
const ROUNDS = Number(a.rounds);
const STEADY = Number(a.steady);
const BASE = '10.1.0.45';

/** V8's sampling heap profiler, keeping collected objects too: the bytes a phase allocates. */
const inspector = new Session();
inspector.connect();
await inspector.post('HeapProfiler.enable');
async function measureAllocation<T>(fn: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  await inspector.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const result = await fn();
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  const sum = (n: { selfSize: number; children: readonly unknown[] }): number => n.selfSize + n.children.reduce<number>((acc, c) => acc + sum(c as typeof n), 0);
  return { result, bytes: sum(profile.head) };
}

function world() {
  let clock = T0;
  let pods: k8s.V1Pod[] = [];
  let rv = 0;
  const registry = new BaseRegistry();
  registry.recordHeartbeat(BASE, { metadata: { identity: BASE, name: 'base', version: '1.0.0', clusterName: 'default' }, localIP: BASE, hostName: 'h', state: 'activated', publishTimestamp: T0 }, T0);
  registry.recordModules(BASE, [], T0);
  const index: PodIndex = { podsOnNode: () => pods, all: () => pods, isSynced: () => true, isFresh: () => true, synced: Promise.resolve(), stop: async () => undefined };
  const sent: Array<{ bizName: string; bizVersion: string }> = [];
  const core = {
    patchNamespacedPodStatusMetadata: async (req: { name: string; body: { status: k8s.V1PodStatus } }) => {
      // The watch echo: the cache's pod is replaced by the written version.
      const version = String(++rv);
      pods = pods.map((p) => (p.metadata!.name === req.name ? { ...p, metadata: { ...p.metadata, resourceVersion: version }, status: req.body.status } : p));
      return { metadata: { resourceVersion: version } };
    },
    deleteNamespacedPod: async () => ({}),
  } as unknown as CoreApi;
  const ctx: BridgeContext = {
    hearing: () => ALWAYS_HEARD,
    settings: { ...SETTINGS, installingStatusDelayMs: 1_000 },
    registry,
    nodes: { list: () => [], get: () => undefined, isSynced: () => true, isFresh: () => true, synced: Promise.resolve(), stop: async () => undefined },
    pods: index,
    core,
    coordination: {} as CoordinationApi,
    workloadRevisions: { read: async () => new Map() },
    publish: async (_id, _kind, payload) => void sent.push(payload as { bizName: string; bizVersion: string }),
    recordEvent: () => undefined,
    logger: createSilentLogger(),
    metrics: createBridgeMetrics(new Registry()),
    now: () => clock,
    isLeader: () => true,
    owns: () => true,
  };
  const reconciler = createModuleReconciler(ctx);
  return {
    reconcile: () => reconciler.reconcile(BASE),
    addPod: (i: number) => {
      pods = [...pods, toModulePod({ name: `m${i}`, namespace: 'bench', modules: [{ name: `biz${i}`, version: '1.0.0' }], created: clock, uid: `uid-${i}` })];
      pods[pods.length - 1]!.metadata!.resourceVersion = String(++rv);
    },
    /** The base answers every install sent so far (SUCCESS, bizInfos naming the module ACTIVATED). */
    reply: () => {
      clock += 200;
      for (const m of sent.splice(0)) {
        registry.recordOpResult(BASE, { kind: 'install', bizName: m.bizName, bizVersion: m.bizVersion, ok: true, code: 'SUCCESS', message: 'SUCCESS', bizInfos: [{ bizName: m.bizName, bizVersion: m.bizVersion, state: 'ACTIVATED' }] }, clock);
      }
    },
    tick: () => (clock += 1_800),
  };
}

const fill = async () => {
  const w = world();
  for (let i = 0; i < PODS; i++) {
    w.addPod(i);
    await w.reconcile();
    w.reply();
    await w.reconcile();
    w.tick();
  }
  return w;
};
const convergePasses = ROUNDS * PODS * 2;
const t0 = performance.now();
for (let r = 0; r < ROUNDS; r++) await fill();
const converge = performance.now() - t0;
const sample = Math.max(1, Math.floor(ROUNDS / 10));
const { result: last, bytes: sampleBytes } = await measureAllocation(async () => {
  let w = await fill();
  for (let r = 1; r < sample; r++) w = await fill();
  return w;
});
const convergeBytes = (sampleBytes / sample) * ROUNDS;
const t1 = performance.now();
for (let i = 0; i < STEADY; i++) await last.reconcile();
const steady = performance.now() - t1;
const { bytes: steadyBytes } = await measureAllocation(async () => {
  for (let i = 0; i < STEADY / 10; i++) await last.reconcile();
});
const us = (ms: number, n: number) => ((ms * 1000) / n).toFixed(1);
const kb = (bytes: number, n: number) => (bytes / n / 1024).toFixed(1);
console.log(`module pass, ${PODS} pods per base, node ${process.version}`);
console.log(`converge: ${convergePasses} passes, ${us(converge, convergePasses)} µs and ${kb(convergeBytes, convergePasses)} KiB allocated per pass`);
console.log(`steady:   ${STEADY} passes over ${PODS} unchanged pods, ${us(steady, STEADY)} µs and ${kb(steadyBytes, STEADY / 10)} KiB allocated per pass`);
