import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtenderArgs, pickField, toFilterError } from '../../extender/extender-args.ts';
import { toNode, toPod } from './fixtures.ts';

test('reads the Go field names the scheduler sends, in both modes', () => {
  const pod = toPod();
  const cache = parseExtenderArgs({ Pod: pod, Nodes: null, NodeNames: ['a', 'b'] });
  assert.equal(cache.kind, 'ok');
  if (cache.kind === 'ok') {
    assert.deepEqual(cache.args.nodeNames, ['a', 'b']);
    assert.equal(cache.args.nodes, undefined);
    assert.equal(cache.args.pod.metadata?.uid, pod.metadata?.uid);
  }
  const full = parseExtenderArgs({ Pod: pod, Nodes: { metadata: {}, items: [toNode('a')] }, NodeNames: null });
  assert.equal(full.kind, 'ok');
  if (full.kind === 'ok') {
    assert.equal(full.args.nodeNames, undefined);
    assert.equal(full.args.nodes?.[0]?.metadata?.name, 'a');
  }
});

test('accepts other casings like Go does (case-insensitive keys), exact match first', () => {
  const r = parseExtenderArgs({ pod: toPod(), nodenames: ['a'] });
  assert.equal(r.kind, 'ok');
  const r2 = parseExtenderArgs({ pod: toPod(), nodes: { Items: [toNode('x')] } });
  assert.equal(r2.kind === 'ok' && r2.args.nodes?.length, 1);
  assert.equal(pickField({ nodeNames: 1, NodeNames: 2 }, 'NodeNames'), 2);
  assert.equal(pickField({ NODENAMES: 3 }, 'NodeNames'), 3);
  assert.equal(pickField({}, 'NodeNames'), undefined);
});

test('an empty Go NodeList (items: null) is an empty candidate list', () => {
  const r = parseExtenderArgs({ Pod: toPod(), Nodes: { items: null }, NodeNames: null });
  assert.equal(r.kind === 'ok' && r.args.nodes?.length, 0);
});

test('malformed input gives a clear error', () => {
  const table: Array<[unknown, RegExp]> = [
    [null, /must be a JSON object/],
    ['text', /must be a JSON object/],
    [[1, 2], /must be a JSON object/],
    [{}, /Pod is missing/],
    [{ Pod: 'x', NodeNames: [] }, /Pod is missing or not an object/],
    [{ Pod: { spec: 3 }, NodeNames: [] }, /Pod\.spec is not an object/],
    [{ Pod: toPod() }, /neither NodeNames nor Nodes/],
    [{ Pod: toPod(), NodeNames: null, Nodes: null }, /neither NodeNames nor Nodes/],
    [{ Pod: toPod(), NodeNames: 'a' }, /NodeNames must be a list/],
    [{ Pod: toPod(), NodeNames: ['a', 7] }, /NodeNames\[1\] is not a node name/],
    [{ Pod: toPod(), NodeNames: [''] }, /NodeNames\[0\]/],
    [{ Pod: toPod(), Nodes: [toNode('a')] }, /Nodes must be a NodeList/],
    [{ Pod: toPod(), Nodes: { items: {} } }, /Nodes must be a NodeList/],
    [{ Pod: toPod(), Nodes: { items: [{ metadata: {} }] } }, /Nodes\.items\[0\] has no metadata\.name/],
    [{ Pod: toPod(), Nodes: { items: [7] } }, /Nodes\.items\[0\]/],
  ];
  for (const [body, want] of table) {
    const r = parseExtenderArgs(body);
    assert.equal(r.kind, 'invalid', JSON.stringify(body)?.slice(0, 80));
    if (r.kind === 'invalid') assert.match(r.error, want);
  }
});

test('toFilterError is a complete ExtenderFilterResult', () => {
  assert.deepEqual(toFilterError('boom'), { Nodes: null, NodeNames: null, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: 'boom' });
});
