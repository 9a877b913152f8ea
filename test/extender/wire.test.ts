import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFilterNames, encodeHostPriorities, toNodeWire, type FilterVerdicts } from '../../extender/wire.ts';

// Names a request may carry: plain, escaped, non-ASCII, and JavaScript-special keys.
const NAMES = ['virtual-node-1', 'a"b\\c', 'ünïcode-节点', 'line\nbreak', '__proto__', 'constructor', ''];

test('host priorities: byte for byte what JSON.stringify writes, with and without pre-encoded names', () => {
  const scores = [0, 10, 7, 3, 5, 9, 1];
  const expected = JSON.stringify(NAMES.map((Host, i) => ({ Host, Score: scores[i] })));
  assert.equal(encodeHostPriorities(NAMES, scores, NAMES.map(toNodeWire)).toString('utf8'), expected);
  assert.equal(encodeHostPriorities(NAMES, scores, []).toString('utf8'), expected);
  assert.equal(encodeHostPriorities(NAMES, scores, NAMES.map((n, i) => (i % 2 ? toNodeWire(n) : undefined))).toString('utf8'), expected);
});

test('host priorities: an empty list, and scores outside 0..10 still encode as JSON numbers', () => {
  assert.equal(encodeHostPriorities([], [], []).toString(), '[]');
  const scores = [11, -1, 2.5, 100];
  const hosts = ['a', 'b', 'c', 'd'];
  assert.equal(encodeHostPriorities(hosts, scores, hosts.map(toNodeWire)).toString(), JSON.stringify(hosts.map((Host, i) => ({ Host, Score: scores[i] }))));
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

/** The answer the way JSON.stringify writes it (what the encoder must equal). */
function viaObjects(v: FilterVerdicts): string {
  const failed: Record<string, string> = {};
  const unresolvable: Record<string, string> = {};
  for (let i = 0; i < v.names.length; i++) {
    const r = v.rejections[i];
    // defineProperty: `__proto__` as a plain key, as JSON.parse would make it.
    if (r) Object.defineProperty(r.resolvable ? failed : unresolvable, v.names[i]!, { value: r.message, enumerable: true });
  }
  return JSON.stringify({ Nodes: null, NodeNames: v.names.filter((_n, i) => !v.rejections[i]), FailedNodes: failed, FailedAndUnresolvableNodes: unresolvable, Error: '' });
}

test('filter names: byte for byte what JSON.stringify writes, reasons split by class', () => {
  const verdicts = { names: NAMES, wire: NAMES.map(toNodeWire), rejections: REJECTIONS };
  const expected = viaObjects(verdicts);
  assert.equal(encodeFilterNames(verdicts).toString('utf8'), expected);
  assert.equal(encodeFilterNames({ ...verdicts, wire: [] }).toString('utf8'), expected);
  const parsed = JSON.parse(expected) as { NodeNames: string[]; FailedNodes: Record<string, string>; FailedAndUnresolvableNodes: Record<string, string> };
  assert.deepEqual(parsed.NodeNames, ['virtual-node-1', 'ünïcode-节点', '']);
  assert.deepEqual(Object.keys(parsed.FailedNodes), ['a"b\\c', '__proto__', 'constructor']);
  assert.deepEqual(Object.keys(parsed.FailedAndUnresolvableNodes), ['line\nbreak']);
});

test('filter names: nothing sent, nothing fits, everything fits', () => {
  assert.equal(encodeFilterNames({ names: [], wire: [], rejections: [] }).toString(), viaObjects({ names: [], wire: [], rejections: [] }));
  const names = ['a', 'b'];
  for (const rejections of [[undefined, undefined], [{ message: 'x', resolvable: false }, { message: 'y', resolvable: true }]]) {
    const v = { names, wire: names.map(toNodeWire), rejections };
    assert.equal(encodeFilterNames(v).toString(), viaObjects(v));
  }
});
