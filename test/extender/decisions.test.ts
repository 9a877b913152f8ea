import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { planFilter, planPrioritize, toFilterResult, toHostPriorities, toTieKey, toPlace } from '../../extender/decisions.ts';
import { ClusterSnapshot } from '../../extender/snapshot.ts';
import { PlacementMemory } from '../../extender/placement-memory.ts';
import { EXTENDER_WEIGHT } from '../../extender/scheduler-config.ts';
import type { ExtenderArgs } from '../../extender/extender-args.ts';
import { toNode, toPod } from './fixtures.ts';

const config = { maxModulesPerBase: 100 };

function createSnapshot(names: string[], now = () => 0) {
  const s = new ClusterSnapshot(new PlacementMemory(30_000, now), ['all']);
  s.markSynced('all', true);
  for (const n of names) s.applyNode('add', toNode(n));
  return s;
}

test('cache mode: answers NodeNames, only names that were sent, reasons split by class', () => {
  const s = createSnapshot(['a', 'b', 'c']);
  s.applyNode('add', toNode('old', { baseVersion: '0.1.0' }));
  s.applyPod('all', 'add', toPod({ uid: 'x', nodeName: 'b' }));
  const args: ExtenderArgs = { pod: toPod(), nodeNames: ['a', 'b', 'old', 'real-node'], nodes: undefined };
  const plan = planFilter(args, s, config);
  assert.deepEqual(toFilterResult(plan).NodeNames, ['a']);
  assert.equal(toFilterResult(plan).Nodes, null);
  assert.deepEqual(Object.keys(toFilterResult(plan).FailedNodes), ['b']);
  assert.deepEqual(Object.keys(toFilterResult(plan).FailedAndUnresolvableNodes).sort(), ['old', 'real-node']);
  assert.equal(toFilterResult(plan).Error, '');
  assert.equal(plan.assumed?.nodeName, 'a', 'one node left: the scheduler takes it without scoring');
  assert.ok(!JSON.stringify(toFilterResult(plan)).includes('"c"'), 'c was not sent, so it is never answered');
});

test('full-object mode: answers the Node objects as sent, and uses them rather than the cache', () => {
  const s = createSnapshot(['a', 'b']);
  const sentB = toNode('b', { ready: 'False' }); // fresher than the cache, which says Ready
  const args: ExtenderArgs = { pod: toPod(), nodeNames: undefined, nodes: [toNode('a'), sentB, toNode('unknown-to-cache')] };
  const plan = planFilter(args, s, config);
  assert.equal(toFilterResult(plan).NodeNames, null);
  assert.deepEqual(toFilterResult(plan).Nodes?.items.map((n) => n.metadata?.name), ['a', 'unknown-to-cache']);
  assert.equal(toFilterResult(plan).Nodes?.items[0], args.nodes![0], 'the very object that was sent');
  assert.match(toFilterResult(plan).FailedNodes['b'] ?? '', /not Ready/);
  assert.equal(plan.assumed, undefined, 'two nodes left: wait for prioritize');
});

test('no node fits: an empty list, never null, and no assumption', () => {
  const s = createSnapshot(['a']);
  s.applyPod('all', 'add', toPod({ uid: 'x', nodeName: 'a' }));
  const plan = planFilter({ pod: toPod(), nodeNames: ['a'], nodes: undefined }, s, config);
  assert.deepEqual(toFilterResult(plan).NodeNames, []);
  assert.equal(plan.assumed, undefined);
});

test('prioritize: scores in input order for the names sent; the top one is assumed', () => {
  const s = createSnapshot(['a', 'b', 'c']);
  s.applyPod('all', 'add', toPod({ uid: 'x', nodeName: 'a', modules: [{ bizName: 'demo', bizVersion: '0.9' }] }));
  s.applyPod('all', 'add', toPod({ uid: 'y', nodeName: 'b', modules: [{ bizName: 'other', bizVersion: '1' }] }));
  const pod = toPod();
  const plan = planPrioritize({ pod, nodeNames: ['a', 'b', 'c'], nodes: undefined }, s);
  assert.deepEqual(toHostPriorities(plan), [{ Host: 'a', Score: 4 }, { Host: 'b', Score: 8 }, { Host: 'c', Score: 10 }]);
  assert.deepEqual(plan.assumed, { podUid: pod.metadata!.uid, nodeName: 'c', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }] });
  const noUid = planPrioritize({ pod: { ...pod, metadata: { ...pod.metadata, uid: undefined } }, nodeNames: ['a'], nodes: undefined }, s);
  assert.equal(noUid.assumed, undefined);
});

test('tie key: the module names, else the workload', () => {
  const pod = toPod({ modules: [{ bizName: 'b', bizVersion: '1' }, { bizName: 'a', bizVersion: '1' }] });
  assert.equal(toTieKey(pod, toPlace(pod)), 'a,b');
  const bare: V1Pod = { metadata: { namespace: 'ns', generateName: 'web-' }, spec: { containers: [] } };
  assert.equal(toTieKey(bare, toPlace(bare)), 'ns/web-');
});

/**
 * The scheduler as the extender sees it: its plugins add up to 1300 points of noise per node, the
 * extender's score counts score × weight × 10; binds reach the informer only after `lag` pods.
 */
function simulate(opts: { bases: number; pods: V1Pod[]; lag: number; seed: number; sameUid?: boolean }) {
  const names = Array.from({ length: opts.bases }, (_, i) => `virtual-node-${i}`);
  const s = createSnapshot(names);
  let seed = opts.seed;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const placed = new Map<string, string | undefined>();
  const pendingBinds: V1Pod[] = [];
  for (const pod of opts.pods) {
    const f = planFilter({ pod, nodeNames: names, nodes: undefined }, s, config);
    if (f.assumed) s.assume(f.assumed);
    const feasible = toFilterResult(f).NodeNames!;
    let chosen: string | undefined;
    if (feasible.length === 1) chosen = feasible[0];
    else if (feasible.length > 1) {
      const p = planPrioritize({ pod, nodeNames: feasible, nodes: undefined }, s);
      if (p.assumed) s.assume(p.assumed);
      const total = (h: { Score: number }) => h.Score * EXTENDER_WEIGHT * 10 + Math.floor(random() * 1301);
      chosen = toHostPriorities(p).map((h) => ({ host: h.Host, t: total(h) })).sort((x, y) => y.t - x.t)[0]!.host;
      assert.equal(chosen, p.assumed?.nodeName, 'the weight makes the scheduler follow the extender');
    }
    placed.set(pod.metadata!.name!, chosen);
    if (chosen) pendingBinds.push({ ...pod, spec: { ...pod.spec!, nodeName: chosen } });
    while (pendingBinds.length > opts.lag) s.applyPod('all', 'update', pendingBinds.shift()!);
  }
  for (const b of pendingBinds) s.applyPod('all', 'update', b);
  const perBase = new Map(names.map((n) => [n, s.loadOf(n, undefined).moduleCount]));
  return { placed, perBase };
}

const replicas = (bizName: string, n: number, version = '1.0.0', prefix = bizName, deployment?: { name: string; revision: string }) =>
  Array.from({ length: n }, (_, i) => toPod({ name: `${prefix}-${i}`, uid: `${bizName}-${version}-${i}`, modules: [{ bizName, bizVersion: version }], ...(deployment ? { deployment } : {}) }));

test('spread: N replicas over M bases land on N different bases even when no bind is visible yet', () => {
  for (const [n, m] of [[3, 3], [3, 5], [7, 10], [1, 1]] as const) {
    for (const lag of [0, 1, 100]) {
      const { placed } = simulate({ bases: m, pods: replicas('demo', n), lag, seed: n * 31 + m + lag });
      const nodes = [...placed.values()];
      assert.ok(nodes.every(Boolean), `all ${n} placed over ${m} (lag ${lag})`);
      assert.equal(new Set(nodes).size, n, `${n} replicas over ${m} bases, lag ${lag}: ${nodes.join(' ')}`);
    }
  }
});

test('spread: the replica beyond the number of bases has nowhere to go', () => {
  const { placed } = simulate({ bases: 3, pods: replicas('demo', 4), lag: 100, seed: 7 });
  assert.equal([...placed.values()].filter(Boolean).length, 3);
  assert.equal(placed.get('demo-3'), undefined);
});

test('spread: many modules over many bases stay balanced (max - min <= 1), in any creation order', () => {
  const modules = ['alpha', 'beta', 'gamma', 'delta', 'eps'];
  const sequential = modules.flatMap((m) => replicas(m, 4));
  const interleaved = [0, 1, 2, 3].flatMap((i) => modules.map((m) => replicas(m, 4)[i]!));
  for (const [order, pods] of [['sequential', sequential], ['interleaved', interleaved]] as const) {
    const { placed, perBase } = simulate({ bases: 6, pods, lag: 100, seed: 3 });
    assert.ok([...placed.values()].every(Boolean), order);
    const counts = [...perBase.values()];
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${order}: ${counts.join(',')}`);
    for (const m of modules) {
      const bases = [...placed].filter(([name]) => name.startsWith(`${m}-`)).map(([, n]) => n);
      assert.equal(new Set(bases).size, 4, `${order}: ${m} replicas on distinct bases`);
    }
  }
});

test('spread: a new version goes first to the base without the module, then next to the old version', () => {
  // One Deployment's rollout (two revisions): the old revision's module is handed over, so v2 may join it.
  const pods = [...replicas('demo', 3, '1.0.0', 'v1', { name: 'demo', revision: 'r1' }), ...replicas('demo', 3, '2.0.0', 'v2', { name: 'demo', revision: 'r2' })];
  const { placed } = simulate({ bases: 4, pods, lag: 100, seed: 11 });
  const v1 = ['v1-0', 'v1-1', 'v1-2'].map((n) => placed.get(n));
  const v2 = ['v2-0', 'v2-1', 'v2-2'].map((n) => placed.get(n));
  assert.equal(new Set(v1).size, 3);
  assert.equal(new Set(v2).size, 3);
  assert.ok(v2.every(Boolean));
  assert.ok(!v1.includes(v2[0]), 'the first v2 replica takes the one base with no demo at all');
});

test('spread: two workloads with one bizName never share a base, whatever the versions', () => {
  const pods = [...replicas('demo', 2, '1.0.0', 'a', { name: 'a', revision: 'r1' }), ...replicas('demo', 2, '2.0.0', 'b', { name: 'b', revision: 'r1' })];
  const { placed } = simulate({ bases: 4, pods, lag: 100, seed: 5 });
  const a = ['a-0', 'a-1'].map((n) => placed.get(n));
  const b = ['b-0', 'b-1'].map((n) => placed.get(n));
  assert.ok([...a, ...b].every(Boolean));
  assert.equal(new Set([...a, ...b]).size, 4);
  const crowded = simulate({ bases: 3, pods, lag: 100, seed: 5 }).placed;
  assert.equal(['a-0', 'a-1', 'b-0', 'b-1'].filter((n) => crowded.get(n)).length, 3, 'the fourth has nowhere to go');
});

test('the label verdict kept per node follows the pod constraints and the node updates', () => {
  const s = createSnapshot(['a', 'b']);
  const names = ['a', 'b'];
  const filter = (pod: V1Pod) => ({ result: toFilterResult(planFilter({ pod, nodeNames: names, nodes: undefined }, s, config)) });
  // Same constraints, call after call (the cached verdict is used the second time).
  assert.deepEqual(filter(toPod()).result.NodeNames, ['a', 'b']);
  assert.deepEqual(filter(toPod()).result.NodeNames, ['a', 'b']);
  // Other constraints on the same unchanged nodes: judged anew, not taken from the cache.
  const other = filter(toPod({ baseVersion: '2.0.0' }));
  assert.deepEqual(other.result.NodeNames, []);
  assert.match(other.result.FailedAndUnresolvableNodes['a']!, /needs base\.koupleless\.io\/version=2\.0\.0, base has base\.koupleless\.io\/version=1\.0\.0/);
  assert.deepEqual(filter(toPod({ nodeSelector: { zone: 'z1' } })).result.NodeNames, []);
  // The node changes its labels: the verdict computed from the old labels is gone.
  s.applyNode('update', toNode('b', { baseVersion: '2.0.0' }));
  assert.deepEqual(filter(toPod()).result.NodeNames, ['a']);
  assert.deepEqual(filter(toPod({ baseVersion: '2.0.0' })).result.NodeNames, ['b']);
  // matchFields depend on the node's name, never on a verdict cached for other constraints.
  const byName = toPod({ affinity: false });
  byName.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }] } } };
  assert.deepEqual(filter(byName).result.NodeNames, ['a']);
  assert.deepEqual(filter(byName).result.NodeNames, ['a']);
});

test('hand-off through the snapshot: an older revision\'s or a deleting pod\'s module does not block the base; another workload\'s does', () => {
  const names = ['virtual-node-0'];
  const verdict = (bound: V1Pod, pod: V1Pod): string => {
    const s = createSnapshot(names);
    s.applyPod('all', 'update', bound);
    const r = toFilterResult(planFilter({ pod, nodeNames: names, nodes: undefined }, s, config));
    return r.NodeNames!.length === 1 ? 'fits' : (r.FailedNodes['virtual-node-0'] ?? '');
  };
  const on = (p: V1Pod, extra: Partial<V1Pod['metadata']> = {}): V1Pod => ({ ...p, metadata: { ...p.metadata, ...extra }, spec: { ...p.spec!, nodeName: 'virtual-node-0' } });
  const old = (v: string) => on(toPod({ uid: `old-${v}`, modules: [{ bizName: 'demo', bizVersion: v }], deployment: { name: 'demo', revision: 'r1' } }));
  const next = (v: string) => toPod({ uid: `new-${v}`, modules: [{ bizName: 'demo', bizVersion: v }], deployment: { name: 'demo', revision: 'r2' } });
  assert.equal(verdict(old('1.0.0'), next('1.0.0')), 'fits', 'rollout restart');
  assert.equal(verdict(old('1.0.0'), next('2.0.0')), 'fits', 'rolling update');
  const sameRevision = toPod({ uid: 'twin', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }], deployment: { name: 'demo', revision: 'r1' } });
  assert.equal(verdict(old('1.0.0'), sameRevision), 'base already runs module demo:1.0.0', 'a replica of the same revision');
  const other = toPod({ uid: 'other', modules: [{ bizName: 'demo', bizVersion: '2.0.0' }], deployment: { name: 'billing', revision: 'r9' } });
  assert.match(verdict(old('1.0.0'), other), /^base runs demo:1\.0\.0 for another workload/);
  const bare = on(toPod({ uid: 'bare', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }] }), { deletionTimestamp: new Date() });
  assert.equal(verdict(bare, other), 'fits', 'a deleting pod hands its module over');
});
