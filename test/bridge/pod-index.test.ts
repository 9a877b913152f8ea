import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { PodsByNode, toCurrentPod, toPodIdentity } from '../../bridge/pod-index.ts';

function pod(name: string, uid: string | undefined, nodeName: string | undefined, rv = '1'): V1Pod {
  return { metadata: { name, namespace: 'ns', ...(uid ? { uid } : {}), resourceVersion: rv }, spec: { containers: [], ...(nodeName ? { nodeName } : {}) } };
}

const names = (pods: V1Pod[]) => pods.map((p) => p.metadata!.name).sort();

test('PodsByNode: lookups by node, moves, removals and unbound pods', () => {
  const v = new PodsByNode();
  v.set('u1', pod('a', 'u1', 'n1'));
  v.set('u2', pod('b', 'u2', 'n1'));
  v.set('u3', pod('c', 'u3', 'n2'));
  v.set('u4', pod('d', 'u4', undefined));
  assert.deepEqual(names(v.onNode('n1')), ['a', 'b']);
  assert.deepEqual(names(v.onNode('n2')), ['c']);
  assert.deepEqual(v.onNode('n3'), []);
  assert.equal(v.size, 4);
  assert.deepEqual(names(v.all()), ['a', 'b', 'c', 'd']);
  // The same pod reported twice (both label caches) is one entry, with the latest state.
  v.set('u1', pod('a', 'u1', 'n1', '2'));
  assert.deepEqual(v.onNode('n1').map((p) => p.metadata!.resourceVersion).sort(), ['1', '2']);
  assert.equal(v.size, 4);
  // Bound later (an unbound pod gets its nodeName): it moves.
  v.set('u4', pod('d', 'u4', 'n2'));
  assert.deepEqual(names(v.onNode('n2')), ['c', 'd']);
  assert.deepEqual(v.onNode(''), []);
  v.set('u2', undefined);
  v.set('u2', undefined);
  assert.deepEqual(names(v.onNode('n1')), ['a']);
  v.set('u1', undefined);
  assert.deepEqual(v.onNode('n1'), []);
  assert.equal(v.size, 2);
});

test('toPodIdentity: the uid, else namespace/name', () => {
  assert.equal(toPodIdentity(pod('a', 'u1', 'n1')), 'u1');
  assert.equal(toPodIdentity(pod('a', undefined, 'n1')), 'ns/a');
});

test('toCurrentPod: a delete from one cache keeps the pod another cache still holds under the same uid', () => {
  const other = (p: V1Pod | undefined) => ({ get: (name: string, namespace?: string) => (p && p.metadata!.name === name && p.metadata!.namespace === namespace ? p : undefined) });
  const a = pod('a', 'u1', 'n1', '5');
  const cases: Array<{ what: string; verb: 'add' | 'update' | 'delete'; others: V1Pod | undefined; want: V1Pod | undefined }> = [
    { what: 'an update is the reported object', verb: 'update', others: undefined, want: a },
    { what: 'an add is the reported object', verb: 'add', others: pod('a', 'u1', 'n1', '4'), want: a },
    { what: 'deleted everywhere', verb: 'delete', others: undefined, want: undefined },
    { what: 'lost one label, kept the other', verb: 'delete', others: pod('a', 'u1', 'n1', '6'), want: pod('a', 'u1', 'n1', '6') },
    { what: 'the other cache has a successor under the name (another uid)', verb: 'delete', others: pod('a', 'u9', 'n1'), want: undefined },
  ];
  for (const c of cases) assert.deepEqual(toCurrentPod(a, c.verb, [other(c.others)]), c.want, c.what);
});
