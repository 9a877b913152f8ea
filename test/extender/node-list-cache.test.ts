import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeListCache, toBytesText } from '../../extender/node-list-cache.ts';
import { subListOf } from '../../extender/sub-list.ts';

const names = Array.from({ length: 50 }, (_, i) => `virtual-node-${i}`);
const goBody = (list: readonly string[], pod: unknown = { metadata: { name: 'p', uid: 'u' } }) => JSON.stringify({ Pod: pod, Nodes: null, NodeNames: list });

/** Whatever the body, the cache parses it as JSON.parse does, cold and warm. */
function assertSameAsJson(cache: NodeListCache, text: string): void {
  let expected: unknown;
  let failure: unknown;
  try {
    expected = JSON.parse(text);
  } catch (err) {
    failure = err;
  }
  for (const round of ['cold', 'warm']) {
    if (failure) assert.throws(() => cache.parse(Buffer.from(text)), SyntaxError, `${round}: ${text}`);
    else assert.deepEqual(cache.parse(Buffer.from(text)), expected, `${round}: ${text}`);
  }
}

test('the scheduler\'s shape: the list is parsed once, then recognised and handed back as the same array', () => {
  const cache = new NodeListCache();
  const first = cache.parse(Buffer.from(goBody(names))) as { NodeNames: string[]; Pod: unknown };
  assert.deepEqual(first.NodeNames, names);
  const second = cache.parse(Buffer.from(goBody(names, { metadata: { name: 'other' } }))) as { NodeNames: string[]; Pod: { metadata: { name: string } } };
  assert.equal(second.NodeNames, first.NodeNames, 'the remembered list itself');
  assert.equal(second.Pod.metadata.name, 'other', 'the pod is always parsed anew');
  assert.deepEqual(cache.stats, { hits: 1, misses: 1 });
  // The feasible subset is a list of its own; the full list is still known.
  const subset = names.slice(0, 40);
  assert.deepEqual((cache.parse(Buffer.from(goBody(subset))) as { NodeNames: string[] }).NodeNames, subset);
  assert.equal((cache.parse(Buffer.from(goBody(names))) as { NodeNames: string[] }).NodeNames, first.NodeNames);
  assert.deepEqual(cache.stats, { hits: 2, misses: 2 });
});

test('one changed name is a different list', () => {
  const cache = new NodeListCache();
  cache.parse(Buffer.from(goBody(names)));
  const changed = names.map((n, i) => (i === 17 ? 'virtual-node-x' : n));
  assert.deepEqual((cache.parse(Buffer.from(goBody(changed))) as { NodeNames: string[] }).NodeNames, changed);
  assert.equal(cache.stats.hits, 0);
});

test('only the last `keep` lists are remembered', () => {
  const cache = new NodeListCache(2);
  const lists = [names.slice(0, 10), names.slice(0, 20), names.slice(0, 30)];
  for (const l of lists) cache.parse(Buffer.from(goBody(l)));
  cache.parse(Buffer.from(goBody(lists[0]!)));
  assert.deepEqual(cache.stats, { hits: 0, misses: 4 }, 'the oldest was forgotten');
  cache.parse(Buffer.from(goBody(lists[2]!)));
  assert.equal(cache.stats.hits, 1);
});

test('every other body reads exactly as JSON.parse reads it, including the tricky ones', () => {
  const tricky = [
    goBody([]),
    goBody(['a', 'b']) + '\n  ',
    '{"Pod":{},"NodeNames":["a"],"x":[1]}',
    '{"Pod":{"metadata":{"annotations":{"k":"\\",\\"NodeNames\\":[\\"z\\"]}"}}},"NodeNames":["a","b"]}',
    '{"a\\"NodeNames":["x"]}',
    '{"Pod":{},"NodeNames":["a"],"NodeNames":["b"]}',
    '{"Pod":{},"nodenames":["a"]}',
    '{"Pod":{},"NodeNames":["a",1,null]}',
    '{"Pod":{},"NodeNames":[["a"]]}',
    '{"Pod":{}, "NodeNames":["a"]}',
    '{"Pod":{},"NodeNames":["a"]',
    '{"Pod":{},"NodeNames":["a"]]}',
    '{"Pod":{,"NodeNames":["a"]}',
    '["NodeNames",{"NodeNames":["a"]}]',
    '{"NodeNames":["a"]}',
    '{"Pod":{"x":{"NodeNames":["a"]}}}',
    '{"Pod":{}}{"NodeNames":["a"]}',
    '{"Pod":{},"NodeNames":["\\u00fc","\\n"]}',
    'null',
    '',
  ];
  for (const text of tricky) assertSameAsJson(new NodeListCache(), text);
  // And with a warm cache holding the lists those bodies carry.
  const warm = new NodeListCache();
  for (const text of tricky) assertSameAsJson(warm, text);
});

test('a remembered list is not changed by what a request does with its copy of the body', () => {
  const cache = new NodeListCache();
  const body = Buffer.from(goBody(['a', 'b']));
  cache.parse(body);
  body.fill(0x20);
  assert.deepEqual((cache.parse(Buffer.from(goBody(['a', 'b']))) as { NodeNames: string[] }).NodeNames, ['a', 'b']);
  assert.equal(cache.stats.hits, 1);
});

test('a part remembered before it is sent: the prioritize body is recognised as that part, and parses as JSON.parse does', () => {
  const cache = new NodeListCache();
  const full = (cache.parse(Buffer.from(goBody(names))) as { NodeNames: string[] }).NodeNames;
  const runs = Int32Array.from([1, 3, 5, 6, 9, 10]);
  const feasible = [1, 2, 5, 9].map((i) => names[i]!);
  cache.rememberPart(toBytesText(Buffer.from(JSON.stringify(feasible))), full, runs);
  const body = goBody(feasible);
  const parsed = cache.parse(Buffer.from(body)) as { NodeNames: string[] };
  assert.deepEqual(parsed, JSON.parse(body));
  assert.equal(subListOf(parsed.NodeNames)?.parent, full);
  assert.deepEqual(cache.stats, { hits: 1, misses: 1 });
  // Remembered again (the same pod retried): the known array stays, with its caches.
  cache.rememberPart(toBytesText(Buffer.from(JSON.stringify(feasible))), full, runs.slice());
  assert.equal((cache.parse(Buffer.from(body)) as { NodeNames: string[] }).NodeNames, parsed.NodeNames);
  assert.equal((cache.parse(Buffer.from(goBody(names))) as { NodeNames: string[] }).NodeNames, full, 'the full list is still known');
});
