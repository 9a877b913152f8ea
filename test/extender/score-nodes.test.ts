import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashText, MAX_EXTENDER_PRIORITY, pickBest, rankNodes, scoreNodes } from '../../extender/score-nodes.ts';
import { toLoad, toModuleProbe, type ModuleRef, type NodeLoad } from '../../extender/node-load.ts';

const demo = [{ bizName: 'demo', bizVersion: '1.0.0' }];
const loads = (table: Record<string, Array<[string, string]>>) => (host: string): NodeLoad => {
  return toLoad((table[host] ?? []).map(([bizName, bizVersion]) => ({ bizName, bizVersion })));
};
const others = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [`other-${i}`, '1']);
function score(mods: readonly ModuleRef[], key: string, hosts: string[], loadOf: (h: string) => NodeLoad): Record<string, number> {
  const scores = scoreNodes(toModuleProbe(mods), key, hosts, hosts.map((h) => ({ load: loadOf(h) })));
  assert.equal(scores.length, hosts.length);
  return Object.fromEntries(hosts.map((h, i) => [h, scores[i]!]));
}
function winner(mods: readonly ModuleRef[], key: string, hosts: string[], loadOf: (h: string) => NodeLoad): string | undefined {
  return hosts[pickBest(scoreNodes(toModuleProbe(mods), key, hosts, hosts.map((h) => ({ load: loadOf(h) }))))];
}

test('scatter first: a base without a replica beats a less loaded base with one', () => {
  const s = score(demo, 'demo', ['busy', 'replica'], loads({ busy: others(50), replica: [['demo', '0.9.0']] }));
  assert.ok(s['busy']! > s['replica']!, JSON.stringify(s));
  assert.equal(s['busy'], MAX_EXTENDER_PRIORITY);
  assert.ok(s['replica']! <= 4);
});

test('then fewer modules beat more, within each band', () => {
  const s = score(demo, 'demo', ['n0', 'n1', 'n2', 'r0', 'r3'], loads({ n0: [], n1: others(1), n2: others(2), r0: [['demo', '2']], r3: [['demo', '2'], ...others(3)] }));
  assert.deepEqual(s, { n0: 10, n1: 8, n2: 7, r0: 4, r3: 3 });
});

test('only replicas: the least loaded one still wins, the band keeps its order', () => {
  const s = score(demo, 'demo', ['r1', 'r0'], loads({ r0: [['demo', '2']], r1: [['demo', '2'], ...others(1)] }));
  assert.deepEqual(s, { r0: 10, r1: 3 });
});

test('scores stay within 0..10 and bands floor at their bottom', () => {
  const hosts = Array.from({ length: 12 }, (_, i) => `h${i}`);
  const table = Object.fromEntries(hosts.map((h, i) => [h, i % 2 === 0 ? others(i) : ([['demo', 'x'], ...others(i)] as Array<[string, string]>)]));
  const s = score(demo, 'demo', hosts, loads(table));
  for (const [h, v] of Object.entries(s)) assert.ok(v >= 0 && v <= 10, `${h}=${v}`);
  assert.equal(s['h0'], 10);
  assert.equal(s['h2'], 8);
  assert.equal(s['h10'], 5); // 6th distinct count in the no-replica band
  assert.equal(s['h1'], 4);
  assert.equal(s['h11'], 0);
});

test('ties: exactly one node gets 10, chosen by a stable hash of module and node', () => {
  const hosts = ['a', 'b', 'c', 'd'];
  const s = score(demo, 'demo', hosts, loads({}));
  const tens = Object.entries(s).filter(([, v]) => v === 10).map(([h]) => h);
  assert.equal(tens.length, 1);
  assert.deepEqual(Object.values(s).filter((v) => v !== 10), [9, 9, 9]);
  // Stable across calls and input order.
  assert.equal(winner(demo, 'demo', [...hosts].reverse(), loads({})), tens[0]);
  const expected = [...hosts].sort((x, y) => hashText(`demo/${x}`) - hashText(`demo/${y}`))[0];
  assert.equal(tens[0], expected);
  // Different modules do not all start on the same base.
  const winners = new Set(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8'].map((m) => winner([{ bizName: m, bizVersion: '1' }], m, hosts, loads({}))));
  assert.ok(winners.size > 1, 'tie order depends on the module');
});

test('a single node and a subset of nodes both work', () => {
  assert.deepEqual(score(demo, 'demo', ['only'], loads({ only: [['demo', '1.0.0']] })), { only: 10 });
  assert.deepEqual([...scoreNodes(toModuleProbe(demo), 'demo', [], [])], []);
  assert.equal(pickBest([]), -1);
  assert.deepEqual(score(demo, 'demo', ['c', 'a'], loads({ a: others(1) })), { c: 10, a: 8 });
});

test('hashText is FNV-1a (32 bit)', () => {
  assert.equal(hashText(''), 0x811c9dc5);
  assert.equal(hashText('a'), 0xe40c292c);
});

test('stacking: the fullest base without a replica wins; bases with a replica still rank below', () => {
  const hosts = ['n0', 'n1', 'n2', 'r0', 'r3'];
  const table = loads({ n0: [], n1: others(1), n2: others(2), r0: [['demo', '2']], r3: [['demo', '2'], ...others(3)] });
  const s = Object.fromEntries(hosts.map((h, i) => [h, scoreNodes(toModuleProbe(demo), 'demo', hosts, hosts.map((x) => ({ load: table(x) })), 'stacking')[i]!]));
  assert.deepEqual(s, { n2: 10, n1: 8, n0: 7, r3: 4, r0: 3 });
  assert.equal(winner(demo, 'demo', ['n0', 'n2'], loads({ n2: others(2) })), 'n0', 'scatter (the default) is unchanged');
});

test('toSchedulingPolicy: only the label value stacking selects stacking', async () => {
  const { toSchedulingPolicy } = await import('../../extender/score-nodes.ts');
  assert.equal(toSchedulingPolicy({ 'module-controller.koupleless.io/scheduling-policy': 'stacking' }), 'stacking');
  assert.equal(toSchedulingPolicy({ 'module-controller.koupleless.io/scheduling-policy': 'scatter' }), 'scatter');
  assert.equal(toSchedulingPolicy({ 'module-controller.koupleless.io/scheduling-policy': 'other' }), 'scatter');
  assert.equal(toSchedulingPolicy(undefined), 'scatter');
});

/** The scores as the header of score-nodes.ts defines them, the slow way: sorted distinct counts per band, a hash per tied node. */
function scoreByDefinition(mods: readonly ModuleRef[], key: string, hosts: string[], loadsOf: NodeLoad[], policy: 'scatter' | 'stacking'): number[] {
  const band = loadsOf.map((l) => (l.modules.some((m) => mods.some((x) => x.bizName === m.bizName)) ? 1 : 0));
  const counts = loadsOf.map((l) => l.moduleCount);
  const order = (a: number, b: number) => (policy === 'scatter' ? a - b : b - a);
  const ranks = [0, 1].map((b) => [...new Set(counts.filter((_c, i) => band[i] === b))].sort(order));
  const scores = hosts.map((_h, i) => (band[i] ? 4 : 9) - Math.min(ranks[band[i]!]!.indexOf(counts[i]!), 4));
  const bestBand = band.includes(0) ? 0 : 1;
  const tied = hosts.map((_h, i) => i).filter((i) => band[i] === bestBand && counts[i] === ranks[bestBand]![0]);
  const seed = hashText(`${key}/`);
  tied.sort((a, b) => hashText(hosts[a]!, seed) - hashText(hosts[b]!, seed) || (hosts[a]! < hosts[b]! ? -1 : hosts[a]! > hosts[b]! ? 1 : 0));
  if (tied.length > 0) scores[tied[0]!] = MAX_EXTENDER_PRIORITY;
  return scores;
}

test('scores equal their definition for random clusters, both policies', () => {
  let seed = 5;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let t = 0; t < 300; t++) {
    const n = Math.floor(random() * 25);
    const hosts = Array.from({ length: n }, (_v, i) => `virtual-node-${Math.floor(random() * 1000)}-${i}`);
    const loadsOf = hosts.map(() => {
      const mods: ModuleRef[] = Array.from({ length: Math.floor(random() * 8) }, (_v, j) => ({ bizName: `other-${j}`, bizVersion: '1' }));
      if (random() < 0.4) mods.push({ bizName: 'demo', bizVersion: random() < 0.5 ? '1.0.0' : '0.9.0' });
      return toLoad(mods);
    });
    for (const policy of ['scatter', 'stacking'] as const) {
      const got = [...scoreNodes(toModuleProbe(demo), 'demo', hosts, loadsOf.map((load) => ({ load })), policy)];
      assert.deepEqual(got, scoreByDefinition(demo, 'demo', hosts, loadsOf, policy), `${policy} #${t}`);
      const ranked = rankNodes(toModuleProbe(demo), 'demo', hosts, loadsOf.map((load) => ({ load })), policy);
      assert.deepEqual([...ranked.scores], got);
      assert.equal(ranked.best, pickBest(got), 'the best node is the one pickBest finds');
    }
  }
});
