/**
 * The replica path alone (on demand: `node --max-semi-space-size=4 bench/extender-replicas.ts
 * [--nodes 5000] [--rounds 5] [--bind-lag 0] [--root <checkout>]`): a Deployment scaling up, its replicas one
 * after another, each bound where it was ranked first before the next comes, so every prioritize
 * gets a feasible list it has not seen (the same loop as bench/extender.ts's "replicas" column).
 * Times each stage of the extender's own work in process (no HTTP): decode, decide and encode, for
 * filter and prioritize. `--bind-lag N`: a bind shows up only after the next N replicas were
 * placed (kube-scheduler binds asynchronously, so the next pods come while the last placements are
 * only assumed). `--root` runs another checkout's extender (say, a `git archive` of main)
 * with this same harness, so before and after can be timed back to back at the same moment.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import os from 'node:os';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '5' }, root: { type: 'string', default: path.join(import.meta.dirname, '..') }, replicas: { type: 'string', default: '300' }, 'bind-lag': { type: 'string', default: '0' } } });
const root = path.resolve(values.root);
const at = (p: string) => import(path.join(root, p));
const { parseExtenderArgs } = await at('extender/extender-args.ts');
const { planFilter, planPrioritize } = await at('extender/decisions.ts');
const { NodeListCache } = await at('extender/node-list-cache.ts');
const { rememberFeasibleList } = await at('extender/feasible-list.ts');
const { encodeFilterNames, encodeHostPriorities } = await at('extender/wire.ts');
const { ClusterSnapshot } = await at('extender/snapshot.ts');
const { PlacementMemory } = await at('extender/placement-memory.ts');
const { toNode, toPod } = await at('test/extender/fixtures.ts');

const nodeCount = Number(values.nodes);
const bindLag = Number(values['bind-lag']);
const STAGES = ['filter decode', 'filter decide', 'filter encode', 'prioritize decode', 'prioritize decide', 'prioritize encode'] as const;
const nameOf = (i: number) => `virtual-node-${i}`;
const fromWire = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

/** As bench/extender-fixture.ts builds it, but from the checkout under test. */
function snapshotOf(count: number) {
  const snapshot = new ClusterSnapshot(new PlacementMemory(30_000, Date.now), ['bench']);
  snapshot.markSynced('bench', true);
  for (let i = 0; i < count; i++) snapshot.applyNode('add', fromWire(toNode(nameOf(i), { ready: i % 50 === 7 ? 'False' : 'True' })));
  for (let i = 0; i < count; i++) {
    const modules = Array.from({ length: i % 6 }, (_, j) => ({ bizName: `mod-${(i + j) % 40}`, bizVersion: '1.0.0' }));
    if (i % 10 === 3) modules.push({ bizName: 'demo', bizVersion: '0.9.0' });
    if (modules.length > 0) snapshot.applyPod('bench', 'add', fromWire(toPod({ uid: `bound-${i}`, nodeName: nameOf(i), modules })));
  }
  return snapshot;
}

const names = Array.from({ length: nodeCount }, (_, i) => nameOf(i));
const pairs: number[] = [];
const stages: number[][] = STAGES.map(() => []);
const placements: string[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  const snapshot = snapshotOf(nodeCount);
  const lists = new NodeListCache();
  const config = { maxModulesPerBase: 100 };
  const pending: unknown[] = [];
  const replicaCount = Math.min(Number(values.replicas), Math.floor(nodeCount * 0.8));
  for (let r = 0; r < replicaCount; r++) {
    const replica = toPod({ uid: `web-${round}-${r}`, name: `web-${r}`, modules: [{ bizName: 'web', bizVersion: '1.0.0' }] });
    const filterBody = Buffer.from(JSON.stringify({ Pod: replica, Nodes: null, NodeNames: names }));
    const t = [performance.now()];
    const args = parseExtenderArgs(lists.parse(filterBody));
    if (args.kind !== 'ok') throw new Error(args.error);
    t.push(performance.now());
    const filtered = planFilter(args.args, snapshot, config);
    t.push(performance.now());
    rememberFeasibleList(lists, filtered, encodeFilterNames(filtered));
    t.push(performance.now());
    // The scheduler's side, not timed: the next request's bytes.
    const body = Buffer.from(JSON.stringify({ Pod: replica, Nodes: null, NodeNames: filtered.names.filter((_n: string, k: number) => filtered.rejections.fits(k)) }));
    t.push(performance.now());
    const pargs = parseExtenderArgs(lists.parse(body));
    if (pargs.kind !== 'ok') throw new Error(pargs.error);
    t.push(performance.now());
    const scored = planPrioritize(pargs.args, snapshot);
    if (scored.assumed) snapshot.assume(scored.assumed);
    t.push(performance.now());
    encodeHostPriorities(scored.hosts, scored.scores);
    t.push(performance.now());
    if (r >= replicaCount / 10) {
      const d = [t[1]! - t[0]!, t[2]! - t[1]!, t[3]! - t[2]!, t[5]! - t[4]!, t[6]! - t[5]!, t[7]! - t[6]!];
      d.forEach((x, i) => stages[i]!.push(x));
      pairs.push(d.reduce((a, b) => a + b, 0));
    }
    if (round === 0) placements.push(scored.assumed?.nodeName ?? '-');
    if (scored.assumed) pending.push({ ...replica, spec: { ...replica.spec!, nodeName: scored.assumed.nodeName } });
    while (pending.length > bindLag) snapshot.applyPod('bench', 'add', pending.shift());
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * (xs.length - 1)))]!;
// A digest of round 0's placements: before and after must place every replica on the same base.
let digest = 0;
for (const c of placements.join(',')) digest = (Math.imul(digest, 31) + c.charCodeAt(0)) >>> 0;
process.stdout.write(`${JSON.stringify({
  root,
  nodes: nodeCount,
  bindLag,
  samples: pairs.length,
  load: os.loadavg().map((l) => Number(l.toFixed(2))),
  pair: { p50: +pct(pairs, 0.5).toFixed(3), p99: +pct(pairs, 0.99).toFixed(3) },
  stages: Object.fromEntries(STAGES.map((s, i) => [s, { p50: +pct(stages[i]!, 0.5).toFixed(3), p99: +pct(stages[i]!, 0.99).toFixed(3) }])),
  placements: digest.toString(16),
})}\n`);
