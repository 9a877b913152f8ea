import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNode, filterNodes, FILTER_RULES, Verdicts, type FilterConfig, type RejectCode } from '../../extender/filter-nodes.ts';
import { EMPTY_LOAD, toLoad, type NodeLoad } from '../../extender/node-load.ts';
import { toPlace } from '../../extender/decisions.ts';
import { toNodeFacts } from '../../extender/node-facts.ts';
import { toNode, toPod, type NodeOptions, type PodOptions } from './fixtures.ts';

const config = { maxModulesPerBase: 3 };
const load = (...mods: Array<[string, string]>): NodeLoad => toLoad(mods.map(([bizName, bizVersion]) => ({ bizName, bizVersion })));
/** A load whose module is held by a pod of `workload` at `revision` (deleting or not). */
const held = (bizName: string, bizVersion: string, holder: { workload?: string; revision?: string; deleting?: boolean }): NodeLoad =>
  toLoad([{ bizName, bizVersion, holder: { workload: holder.workload, revision: holder.revision, deleting: holder.deleting ?? false } }]);
const DEMO = 'default/Deployment/demo';
const rollout = { deployment: { name: 'demo', revision: 'new1' } };

interface Row {
  readonly name: string;
  readonly node?: NodeOptions | 'unknown';
  readonly pod?: PodOptions;
  readonly load?: NodeLoad;
  readonly want: RejectCode | 'fits';
  readonly resolvable?: boolean;
  readonly message?: RegExp;
}

const rows: Row[] = [
  { name: 'a Ready matching empty base fits', want: 'fits' },
  { name: 'unknown node name', node: 'unknown', want: 'not-virtual-node', resolvable: false, message: /unknown to the module extender/ },
  { name: 'a real (non-virtual) node', node: { virtual: false }, want: 'not-virtual-node', resolvable: false, message: /no label virtual-kubelet\.koupleless\.io\/component=vnode/ },
  { name: 'another base version', node: { baseVersion: '2.0.0' }, want: 'labels-mismatch', resolvable: false, message: /^base does not match the module: needs base\.koupleless\.io\/version=1\.0\.0, base has base\.koupleless\.io\/version=2\.0\.0$/ },
  { name: 'another base name', node: { baseName: 'other' }, want: 'labels-mismatch', resolvable: false, message: /base\.koupleless\.io\/name=base/ },
  { name: 'another stack', node: { labels: { 'base.koupleless.io/stack': 'go' } }, want: 'labels-mismatch', resolvable: false, message: /stack=java, base has base\.koupleless\.io\/stack=go/ },
  { name: 'nodeSelector mismatch', pod: { nodeSelector: { zone: 'a' } }, want: 'labels-mismatch', resolvable: false, message: /needs zone=a, base has no zone label/ },
  { name: 'no affinity at all still fits', pod: { affinity: false }, want: 'fits' },
  { name: 'NotReady base', node: { ready: 'False' }, want: 'not-ready', resolvable: true, message: /^base is not Ready: Ready is False \(BaseHeartbeatLost\)$/ },
  { name: 'Unknown readiness', node: { ready: 'Unknown' }, want: 'not-ready', resolvable: true },
  { name: 'no Ready condition', node: { ready: 'missing' }, want: 'not-ready', resolvable: true },
  { name: 'cordoned base', node: { unschedulable: true }, want: 'cordoned', resolvable: true, message: /cordoned/ },
  { name: 'same bizName:bizVersion already there', load: load(['demo', '1.0.0']), want: 'already-running', resolvable: true, message: /^base already runs module demo:1\.0\.0$/ },
  { name: 'another version held by an unknown pod', load: load(['demo', '0.9.0']), want: 'other-version', resolvable: true, message: /^base runs demo:0\.9\.0 for another workload; a base activates one version of module demo at a time$/ },
  { name: 'another version held by another workload', pod: rollout, load: held('demo', '0.9.0', { workload: 'default/Deployment/billing', revision: 'x' }), want: 'other-version' },
  { name: 'another version held by an older revision of this workload: hand-off', pod: rollout, load: held('demo', '0.9.0', { workload: DEMO, revision: 'old1' }), want: 'fits' },
  { name: 'another version held by a deleting pod: hand-off', load: held('demo', '0.9.0', { deleting: true }), want: 'fits' },
  { name: 'rollout restart: the same version held by an older revision: hand-off', pod: rollout, load: held('demo', '1.0.0', { workload: DEMO, revision: 'old1' }), want: 'fits' },
  { name: 'the same version held by this revision (a replica)', pod: rollout, load: held('demo', '1.0.0', { workload: DEMO, revision: 'new1' }), want: 'already-running' },
  { name: 'the same version held by a deleting pod: hand-off', load: held('demo', '1.0.0', { deleting: true }), want: 'fits' },
  { name: 'the same version held by another workload', pod: rollout, load: held('demo', '1.0.0', { workload: 'default/Deployment/billing', revision: 'new1' }), want: 'already-running' },
  { name: 'an unrelated module of another workload is fine', load: load(['other', '0.9.0']), want: 'fits' },
  { name: 'one of two modules already there', pod: { modules: [{ bizName: 'a', bizVersion: '1' }, { bizName: 'b', bizVersion: '2' }] }, load: load(['b', '2']), want: 'already-running', message: /module b:2/ },
  { name: 'full base', load: load(['x', '1'], ['y', '1'], ['z', '1']), want: 'full', resolvable: true, message: /^base is full \(at most 3 modules per base\)$/ },
  { name: 'one slot left fits', load: load(['x', '1'], ['y', '1']), want: 'fits' },
  { name: 'two modules into one slot do not fit', pod: { modules: [{ bizName: 'a', bizVersion: '1' }, { bizName: 'b', bizVersion: '1' }] }, load: load(['x', '1'], ['y', '1']), want: 'full' },
  // Order: the unresolvable reason wins, so the scheduler never tries preemption there.
  { name: 'mismatching AND NotReady is unresolvable', node: { baseVersion: '2.0.0', ready: 'False' }, want: 'labels-mismatch', resolvable: false },
  { name: 'NotReady AND already running reports NotReady', node: { ready: 'False' }, load: load(['demo', '1.0.0']), want: 'not-ready' },
  { name: 'already running AND full reports already running', load: load(['demo', '1.0.0'], ['y', '1'], ['z', '1']), want: 'already-running' },
];

test('filter rules: every reason, its class and its order', () => {
  for (const row of rows) {
    const node = row.node === 'unknown' ? undefined : toNode('virtual-node-a', row.node);
    const candidate = { name: 'virtual-node-a', facts: node ? toNodeFacts(node) : undefined, load: row.load ?? EMPTY_LOAD };
    const got = checkNode({ candidate, pod: toPlace(toPod(row.pod)), config });
    assert.equal(got?.code ?? 'fits', row.want, row.name);
    if (row.resolvable !== undefined) assert.equal(got?.resolvable, row.resolvable, row.name);
    if (row.message) assert.match(got?.message ?? '', row.message, row.name);
  }
});

test('every rule code is covered by the table', () => {
  const covered = new Set(rows.map((r) => r.want));
  for (const code of ['not-virtual-node', 'labels-mismatch', 'not-ready', 'cordoned', 'already-running', 'other-version', 'full'] as const) assert.ok(covered.has(code), code);
  // 'reserved' has its own table below (it needs a config with tenancy).
  assert.equal(FILTER_RULES.length, 8);
});

test('filterNodes keeps input order', () => {
  const decisions = filterNodes(
    toPlace(toPod()),
    [
      { name: 'b', facts: toNodeFacts(toNode('b')), load: EMPTY_LOAD },
      { name: 'a', facts: toNodeFacts(toNode('a')), load: load(['demo', '1.0.0']) },
      { name: 'c', facts: undefined, load: EMPTY_LOAD },
    ],
    config,
  );
  assert.deepEqual(decisions.toArray().map((d) => d?.code ?? 'fits'), ['fits', 'already-running', 'not-virtual-node']);
  assert.equal(decisions.fitCount, 1);
  assert.deepEqual([0, 1, 2].map((i) => decisions.fits(i)), [true, false, false]);
});

test('checkNode answers what the first matching rule of FILTER_RULES answers', () => {
  for (const row of rows) {
    const node = row.node === 'unknown' ? undefined : toNode('virtual-node-a', row.node);
    const check = { candidate: { name: 'virtual-node-a', facts: node ? toNodeFacts(node) : undefined, load: row.load ?? EMPTY_LOAD }, pod: toPlace(toPod(row.pod)), config };
    let first: ReturnType<typeof checkNode>;
    for (const rule of FILTER_RULES) if ((first = rule(check))) break;
    assert.equal(checkNode(check)?.code, first?.code, row.name);
    assert.equal(checkNode(check)?.message, first?.message, row.name);
  }
});

test('a verdict remembered with a node\'s facts is used only for the same load, modules, constraints and config', () => {
  const facts = toNodeFacts(toNode('virtual-node-a'));
  const code = (pod: PodOptions, l: NodeLoad, c = config) => filterNodes(toPlace(toPod(pod)), [{ name: 'virtual-node-a', facts, load: l }], c).at(0)?.code ?? 'fits';
  const withDemo = load(['demo', '1.0.0']);
  assert.equal(code({}, withDemo), 'already-running');
  assert.ok(facts.verdict, 'remembered');
  assert.equal(code({}, withDemo), 'already-running', 'asked again: the same answer');
  assert.equal(code({}, load(['demo', '1.0.0'])), 'already-running', 'an equal new load is judged again, the same');
  assert.equal(code({}, EMPTY_LOAD), 'fits', 'the module left: a new load, a new verdict');
  assert.equal(code({ modules: [{ bizName: 'other', bizVersion: '1' }] }, withDemo), 'fits', 'other modules, other question');
  assert.equal(code({ baseVersion: '2.0.0' }, withDemo), 'labels-mismatch', 'other constraints, other question');
  const full = load(['x', '1'], ['y', '1'], ['z', '1']);
  assert.equal(code({}, full), 'full');
  assert.equal(code({}, full, { maxModulesPerBase: 10 }), 'fits', 'other config, other question');
  // matchFields depend on the node's name: never remembered.
  facts.verdict = undefined;
  const byName = toPod({ affinity: false });
  byName.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['virtual-node-a'] }] }] } } };
  assert.equal(filterNodes(toPlace(byName), [{ name: 'virtual-node-a', facts, load: EMPTY_LOAD }], config).at(0), undefined);
  assert.equal(facts.verdict, undefined);
});

test('reserved: a base reserved for namespaces (by --base-tenants or node annotation) is unresolvable for every other namespace', () => {
  const tenancy = new Map([['base', ['team-a', 'team-b']]]);
  const cases: Array<[string, NodeOptions, string, FilterConfig, string | undefined]> = [
    ['flag, allowed namespace', {}, 'team-a', { ...config, tenancy }, undefined],
    ['flag, other namespace', {}, 'team-c', { ...config, tenancy }, 'base reserved for namespaces team-a, team-b'],
    ['flag keyed by the upstream label', { baseName: 'x', labels: { 'vnode.koupleless.io/name': 'base' } }, 'team-c', { ...config, tenancy: new Map([['x', ['team-x']]]) }, 'base reserved for namespaces team-x'],
    ['another base is not reserved', { baseName: 'other' }, 'team-c', { ...config, tenancy }, undefined],
    ['annotation', { annotations: { 'base.koupleless.io/tenant-namespaces': 'team-z' } }, 'team-c', config, 'base reserved for namespaces team-z'],
    ['annotation, allowed', { annotations: { 'base.koupleless.io/tenant-namespaces': 'team-z, team-c' } }, 'team-c', config, undefined],
    ['both: the namespace must be allowed by both', { annotations: { 'base.koupleless.io/tenant-namespaces': 'team-b' } }, 'team-a', { ...config, tenancy }, 'base reserved for namespaces team-b'],
    ['no reservation anywhere', {}, 'team-c', config, undefined],
  ];
  for (const [name, node, namespace, c, want] of cases) {
    const facts = toNodeFacts(toNode('virtual-node-a', node));
    const pod = toPlace(toPod({ namespace, baseName: node.baseName ?? 'base' }));
    const got = filterNodes(pod, [{ name: 'virtual-node-a', facts, load: EMPTY_LOAD }], c).at(0);
    assert.equal(got?.message, want, name);
    if (want) assert.deepEqual([got?.code, got?.resolvable], ['reserved', false], name);
  }
  // The verdict is remembered per namespace: another namespace asks another question.
  const facts = toNodeFacts(toNode('virtual-node-a'));
  const c = { ...config, tenancy };
  assert.equal(filterNodes(toPlace(toPod({ namespace: 'team-a' })), [{ name: 'virtual-node-a', facts, load: EMPTY_LOAD }], c).at(0), undefined);
  assert.equal(filterNodes(toPlace(toPod({ namespace: 'team-c' })), [{ name: 'virtual-node-a', facts, load: EMPTY_LOAD }], c).at(0)?.code, 'reserved');
});

test('verdicts count their rejections by code', () => {
  const v = new Verdicts(5);
  const full = { code: 'full', message: 'base is full (at most 1 modules per base)', resolvable: true } as const;
  const labels1 = { code: 'labels-mismatch', message: 'a', resolvable: false } as const;
  const labels2 = { code: 'labels-mismatch', message: 'b', resolvable: false } as const;
  [full, undefined, labels1, labels2, full].forEach((r, i) => v.set(i, r));
  assert.deepEqual([...v.countByCode()], [['full', 2], ['labels-mismatch', 2]]);
  assert.equal(v.fitCount, 1);
});

test('verdicts give the candidates that fit as [start, end) runs', () => {
  const no = { code: 'full', message: 'full', resolvable: true } as const;
  const cases: Array<[string, number[]]> = [['', []], ['.', [0, 1]], ['x', []], ['..x..', [0, 2, 3, 5]], ['x...x', [1, 4]], ['xx.x.', [2, 3, 4, 5]], ['.....', [0, 5]]];
  for (const [pattern, runs] of cases) {
    const v = new Verdicts(pattern.length);
    [...pattern].forEach((c, i) => v.set(i, c === 'x' ? no : undefined));
    assert.deepEqual([...v.fitRuns()], runs, pattern);
    assert.equal(v.fitRuns(), v.fitRuns(), 'computed once');
  }
});
