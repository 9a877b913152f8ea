import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListWire, encodeFilterNames, encodeHostPriorities, toFeasibleListBytes, toFitRuns } from '../../extender/wire.ts';
import { takeSubList, toRuns } from '../../extender/sub-list.ts';
import { Verdicts } from '../../extender/filter-nodes.ts';

// Names a request may carry: plain, escaped, non-ASCII, and JavaScript-special keys.
const NAMES = ['virtual-node-1', 'a"b\\c', 'ünïcode-节点', 'line\nbreak', '__proto__', 'constructor', ''];

test('host priorities: read back as the HostPriority list, the first time and from the list\'s template after', () => {
  const names = [...NAMES];
  for (const [round, scores] of [[0, 10, 7, 3, 5, 9, 1], [1, 2, 3, 4, 5, 6, 10], [10, 0, 0, 9, 9, 1, 2]].entries()) {
    const answer = encodeHostPriorities(names, scores).toString('utf8');
    assert.deepEqual(JSON.parse(answer), names.map((Host, i) => ({ Host, Score: scores[i] })), `round ${round}`);
  }
  const ab = ['a', 'b'];
  assert.equal(encodeHostPriorities(ab, [10, 3]).toString(), '[{"Host":"a","Score":10},{"Host":"b","Score":3}]', 'first time: plain JSON');
  assert.equal(encodeHostPriorities(ab, [10, 3]).toString(), '[{"Host":"a","Score":10},{"Host":"b","Score": 3}]', 'again: the template, a two-byte slot per score');
});

test('host priorities: an empty list, and scores outside 0..10 still encode as JSON numbers', () => {
  assert.equal(encodeHostPriorities([], []).toString(), '[]');
  const scores = [11, -1, 2.5, 100];
  const hosts = ['a', 'b', 'c', 'd'];
  assert.deepEqual(JSON.parse(encodeHostPriorities(hosts, scores).toString()), hosts.map((Host, i) => ({ Host, Score: scores[i] })));
});

test('list bytes: each name as JSON text, one encoding per list', () => {
  const wire = ListWire.of(NAMES);
  assert.equal(ListWire.of(NAMES), wire, 'the same list, the same bytes');
  assert.deepEqual(NAMES.map((_n, i) => JSON.parse(wire.name(i).toString('utf8'))), NAMES);
});

const REJECTIONS = [
  undefined,
  { message: 'base is not Ready: heartbeat "lost"', resolvable: true },
  undefined,
  { message: 'base does not match the module: base.koupleless.io/name=ä', resolvable: false },
  { message: 'base is full', resolvable: true },
  { message: 'base is not Ready: heartbeat "lost"', resolvable: true },
  undefined,
];

/** The answer the way JSON.stringify writes it. */
function viaObjects(v: { names: readonly string[]; rejections: ReadonlyArray<{ message: string; resolvable: boolean } | undefined> }): string {
  const failed: Record<string, string> = {};
  const unresolvable: Record<string, string> = {};
  for (let i = 0; i < v.names.length; i++) {
    const r = v.rejections[i];
    // defineProperty: `__proto__` as a plain key, as JSON.parse would make it.
    if (r) Object.defineProperty(r.resolvable ? failed : unresolvable, v.names[i]!, { value: r.message, enumerable: true });
  }
  return JSON.stringify({ Nodes: null, NodeNames: v.names.filter((_n, i) => !v.rejections[i]), FailedNodes: failed, FailedAndUnresolvableNodes: unresolvable, Error: '' });
}

test('filter names: byte for byte what JSON.stringify writes, feasible runs and reasons split by class', () => {
  const verdicts = { names: [...NAMES], rejections: REJECTIONS };
  const expected = viaObjects(verdicts);
  assert.equal(encodeFilterNames(verdicts).toString('utf8'), expected, 'first time');
  assert.equal(encodeFilterNames(verdicts).toString('utf8'), expected, 'again, from the list\'s bytes');
  const parsed = JSON.parse(expected) as { NodeNames: string[]; FailedNodes: Record<string, string>; FailedAndUnresolvableNodes: Record<string, string> };
  assert.deepEqual(parsed.NodeNames, ['virtual-node-1', 'ünïcode-节点', '']);
  assert.deepEqual(Object.keys(parsed.FailedNodes), ['a"b\\c', '__proto__', 'constructor']);
  assert.deepEqual(Object.keys(parsed.FailedAndUnresolvableNodes), ['line\nbreak']);
});

test('filter names: nothing sent, nothing fits, everything fits, runs at both ends', () => {
  const cases: Array<{ names: string[]; rejections: Array<{ message: string; resolvable: boolean } | undefined> }> = [{ names: [], rejections: [] }];
  const names = ['a', 'b', 'c', 'd', 'e'];
  const no = { message: 'no', resolvable: true };
  for (const pattern of ['.....', 'xxxxx', 'x...x', '..x..', 'x.x.x', '.x.x.', '....x', 'x....']) {
    cases.push({ names, rejections: [...pattern].map((c) => (c === 'x' ? no : undefined)) });
  }
  for (const v of cases) {
    for (const round of ['first time', 'again']) assert.equal(encodeFilterNames(v).toString(), viaObjects(v), `${round}: ${JSON.stringify(v.rejections)}`);
  }
});

test('host priorities for a part of a known list: copied in runs from the parent, the same JSON', () => {
  const parent = Array.from({ length: 12 }, (_v, i) => (i === 4 ? 'ünïcode-节点' : i === 7 ? 'a"b' : `virtual-node-${i}`));
  const positions = Int32Array.from([0, 1, 2, 4, 5, 7, 10, 11]);
  const part = takeSubList(parent, positions);
  const scores = [10, 0, 9, 3, 5, 1, 2, 7];
  const expected = part.map((Host, i) => ({ Host, Score: scores[i] }));
  assert.deepEqual(JSON.parse(encodeHostPriorities(part, scores).toString('utf8')), expected, 'parent never encoded: the plain way');
  ListWire.of(parent);
  const fromParent = encodeHostPriorities(part, scores).toString('utf8');
  assert.match(fromParent, /"Score": 3/, 'from the template');
  assert.deepEqual(JSON.parse(fromParent), expected);
  for (const p of [[0], [11], [3, 4, 5, 6], Array.from({ length: 12 }, (_v, i) => i)]) {
    const sub = takeSubList(parent, Int32Array.from(p));
    const s = sub.map((_n, i) => i % 11);
    assert.deepEqual(JSON.parse(encodeHostPriorities(sub, s).toString('utf8')), sub.map((Host, i) => ({ Host, Score: s[i] })), p.join(','));
  }
});

test('the feasible list of a filter answer is the JSON text the scheduler sends to prioritize', () => {
  const names = ['virtual-node-1', 'x"y', 'virtual-node-3', 'virtual-node-4'];
  const no = { message: 'base is full', resolvable: true };
  const rejections = [undefined, no, undefined, undefined];
  for (const round of ['first', 'recurring']) {
    const answer = encodeFilterNames({ names, rejections });
    assert.equal(toFeasibleListBytes(answer)?.toString('utf8'), JSON.stringify(['virtual-node-1', 'virtual-node-3', 'virtual-node-4']), round);
  }
  assert.equal(toFeasibleListBytes(encodeFilterNames({ names, rejections: [no, no, no, no] }))?.toString(), '[]');
  assert.equal(toFeasibleListBytes(Buffer.from('{"Error":"x"}')), undefined);
});

test('the text of a part of a list is compared in place: exactly the JSON of those names, nothing else', () => {
  const parent = ['virtual-node-0', 'a"b', 'ünïcode-节点', 'virtual-node-3', 'virtual-node-4', 'virtual-node-5'];
  const wire = ListWire.of(parent);
  for (const p of [[0], [5], [0, 1, 2], [1, 3, 5], [0, 1, 2, 3, 4, 5], [2, 3]]) {
    const text = wire.partText(toRuns(Int32Array.from(p)));
    const json = Buffer.from(JSON.stringify(p.map((i) => parent[i])));
    assert.equal(text.size, json.length, p.join(','));
    assert.ok(text.equals(json), p.join(','));
    assert.equal(text.bytes, undefined, 'no copy kept');
    for (const other of [JSON.stringify(p.map((i) => parent[i]).reverse()), JSON.stringify([...p.map((i) => parent[i]), 'x']), ` ${json.toString().slice(1)}`, json.toString().replace(/,/g, ' ')]) {
      if (other === json.toString()) continue;
      assert.equal(text.equals(Buffer.from(other)), false, `${p.join(',')}: ${other}`);
    }
  }
});

test('filter names from the filter\'s Verdicts (their own runs): the same bytes as from a plain list of verdicts', () => {
  let seed = 11;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const reasons = [
    { code: 'full', message: 'base is full', resolvable: true },
    { code: 'not-ready', message: 'base is not "Ready"', resolvable: true },
    { code: 'labels-mismatch', message: 'labels', resolvable: false },
  ] as const;
  for (let t = 0; t < 100; t++) {
    const names = Array.from({ length: Math.floor(random() * 30) }, (_v, i) => (i % 7 === 3 ? `ü-${i}` : `virtual-node-${i}`));
    const plain = names.map(() => (random() < 0.6 ? undefined : reasons[Math.floor(random() * reasons.length)]));
    const verdicts = new Verdicts(names.length);
    plain.forEach((r, i) => verdicts.set(i, r));
    assert.deepEqual([...toFitRuns({ names, rejections: verdicts })], [...toFitRuns({ names, rejections: plain })]);
    for (const round of ['first time', 'again']) {
      assert.equal(encodeFilterNames({ names, rejections: verdicts }).toString('utf8'), viaObjects({ names, rejections: plain }), `${round}: ${plain.map((r) => r?.code ?? '.').join(',')}`);
    }
  }
});
