import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterSnapshot } from '../../extender/snapshot.ts';
import { PlacementMemory } from '../../extender/placement-memory.ts';
import { takeSubList } from '../../extender/sub-list.ts';
import { toNode, toPod } from './fixtures.ts';

function create(now = () => 0) {
  return new ClusterSnapshot(new PlacementMemory(30_000, now), ['nodes', 'pods-a', 'pods-b']);
}

test('ready only when every informer source has listed', () => {
  const s = create();
  assert.match(s.notReadyReason() ?? '', /nodes, pods-a, pods-b/);
  s.markSynced('nodes', true);
  s.markSynced('pods-a', true);
  assert.match(s.notReadyReason() ?? '', /pods-b$/);
  s.markSynced('pods-b', true);
  assert.equal(s.notReadyReason(), undefined);
});

test('nodes are added, updated and deleted by name', () => {
  const s = create();
  s.applyNode('add', toNode('a'));
  s.applyNode('update', toNode('a', { ready: 'False' }));
  assert.equal(s.node('a')?.status?.conditions?.[0]?.status, 'False');
  s.applyNode('delete', toNode('a'));
  assert.equal(s.node('a'), undefined);
  assert.deepEqual(s.nodeNames(), []);
});

test('bound module pods count on their node; unbound, finished and non-module pods do not', () => {
  const s = create();
  s.applyPod('pods-a', 'add', toPod({ uid: 'u1', nodeName: 'a', modules: [{ bizName: 'x', bizVersion: '1' }, { bizName: 'y', bizVersion: '2' }] }));
  s.applyPod('pods-a', 'add', toPod({ uid: 'u2', nodeName: 'a' }));
  s.applyPod('pods-a', 'add', toPod({ uid: 'u3' }));
  s.applyPod('pods-a', 'add', toPod({ uid: 'u4', nodeName: 'a', phase: 'Succeeded' }));
  s.applyPod('pods-a', 'add', toPod({ uid: 'u5', nodeName: 'a', phase: 'Failed' }));
  s.applyPod('pods-a', 'add', toPod({ uid: 'u6', nodeName: 'a', labels: { 'module-controller.koupleless.io/component': 'other' } }));
  assert.equal(s.loadOf('a', undefined).moduleCount, 3);
  assert.deepEqual(s.loadOf('a', 'u1').modules, [{ bizName: 'demo', bizVersion: '1.0.0' }], 'the pod being scheduled does not count itself');
  s.applyPod('pods-a', 'update', toPod({ uid: 'u2', nodeName: 'a', phase: 'Succeeded' }));
  assert.equal(s.loadOf('a', undefined).moduleCount, 2);
  s.applyPod('pods-a', 'delete', toPod({ uid: 'u1', nodeName: 'a' }));
  assert.equal(s.loadOf('a', undefined).moduleCount, 0);
  assert.equal(s.loadOf('nowhere', undefined).moduleCount, 0);
});

test('a pod seen through both label selectors stays until both have deleted it', () => {
  const s = create();
  const pod = toPod({ uid: 'u1', nodeName: 'a', labels: { 'virtual-kubelet.koupleless.io/component': 'module' } });
  s.applyPod('pods-a', 'add', pod);
  s.applyPod('pods-b', 'add', pod);
  s.applyPod('pods-a', 'delete', pod);
  assert.equal(s.loadOf('a', undefined).moduleCount, 1);
  s.applyPod('pods-b', 'delete', pod);
  assert.equal(s.loadOf('a', undefined).moduleCount, 0);
});

test("an update that changes the node moves the pod's modules (counted once)", () => {
  const s = create();
  s.applyPod('pods-a', 'add', toPod({ uid: 'u1', nodeName: 'a' }));
  s.applyPod('pods-a', 'update', toPod({ uid: 'u1', nodeName: 'b' }));
  assert.equal(s.loadOf('a', undefined).moduleCount, 0);
  assert.equal(s.loadOf('b', undefined).moduleCount, 1);
});

test('assumed placements count until the informer shows the pod bound, deleted or done, or the TTL passes', () => {
  let now = 0;
  const s = create(() => now);
  const demo = [{ bizName: 'demo', bizVersion: '1.0.0' }];
  s.assume({ podUid: 'u1', nodeName: 'a', modules: demo });
  assert.equal(s.loadOf('a', undefined).moduleCount, 1);
  assert.equal(s.loadOf('a', 'u1').moduleCount, 0, 'a retry of the same pod ignores its own assumption');
  assert.equal(s.assumedCount, 1);
  // Seen pending (not bound yet): still assumed.
  s.applyPod('pods-a', 'add', toPod({ uid: 'u1' }));
  assert.equal(s.loadOf('a', undefined).moduleCount, 1);
  // Bound elsewhere: the truth replaces the guess.
  s.applyPod('pods-a', 'update', toPod({ uid: 'u1', nodeName: 'b' }));
  assert.equal(s.loadOf('a', undefined).moduleCount, 0);
  assert.equal(s.loadOf('b', undefined).moduleCount, 1);
  // Deleted before the bind.
  s.assume({ podUid: 'u2', nodeName: 'a', modules: demo });
  s.applyPod('pods-a', 'delete', toPod({ uid: 'u2' }));
  assert.equal(s.loadOf('a', undefined).moduleCount, 0);
  // Never heard of again: the TTL ends it.
  s.assume({ podUid: 'u3', nodeName: 'c', modules: demo });
  now = 30_000;
  assert.equal(s.loadOf('c', undefined).moduleCount, 0);
  assert.equal(s.assumedCount, 0);
});

test('objects without a name or UID are ignored', () => {
  const s = create();
  s.applyNode('add', { metadata: {} });
  s.applyPod('pods-a', 'add', { metadata: {}, spec: { nodeName: 'a', containers: [] } });
  assert.deepEqual(s.nodeNames(), []);
  assert.equal(s.loadOf('a', undefined).moduleCount, 0);
});

test('readAll reuses the last list of the same length only while it is still right', () => {
  const s = create();
  s.markSynced('nodes', true);
  for (const n of ['a', 'b', 'c']) s.applyNode('add', toNode(n));
  const names = ['a', 'b', 'c'];
  assert.deepEqual(s.readAll(names, undefined).map((v) => v.facts?.readiness.ready), [true, true, true]);
  // An update in place is seen through the reused entries.
  s.applyNode('update', toNode('b', { ready: 'False' }));
  s.applyPod('pods-a', 'add', toPod({ uid: 'u1', nodeName: 'c' }));
  const second = s.readAll([...names], undefined);
  assert.deepEqual(second.map((v) => v.facts?.readiness.ready), [true, false, true]);
  assert.equal(second[2]!.load.moduleCount, 1);
  // A deleted node, and a different name at one position.
  s.applyNode('delete', toNode('a'));
  assert.equal(s.readAll(['a', 'b', 'c'], undefined)[0]!.facts, undefined);
  const other = s.readAll(['a', 'x', 'c'], undefined);
  assert.equal(other[1]!.name, 'x');
  assert.equal(other[1]!.facts, undefined);
  // A node created again after its deletion is found again.
  s.applyNode('add', toNode('a'));
  assert.equal(s.readAll(['a', 'x', 'c'], undefined)[0]!.facts?.virtual, true);
  // The pod itself and assumptions take the slow path on the reused list too.
  s.assume({ podUid: 'u9', nodeName: 'b', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }] });
  assert.deepEqual(s.readAll(['a', 'b', 'c'], 'u1').map((v) => v.load.moduleCount), [0, 1, 0]);
});

test('a part of a resolved list reads like the same names in a list of their own, and keeps its parent resolved', () => {
  const s = create();
  s.markSynced('nodes', true);
  for (const n of ['a', 'b', 'c', 'd']) s.applyNode('add', toNode(n, { ready: n === 'c' ? 'False' : 'True' }));
  s.applyPod('pods-a', 'add', toPod({ uid: 'u1', nodeName: 'b' }));
  const full = ['a', 'b', 'x', 'c', 'd'];
  const summary = (views: ReturnType<typeof s.readAll>) => views.map((v) => [v.name, v.facts?.readiness.ready, v.load.moduleCount]);
  s.readAll(full, undefined);
  for (const positions of [[0, 1, 4], [1, 2, 3], [0, 1, 2, 3, 4]]) {
    const part = takeSubList(full, Int32Array.from(positions));
    s.assume({ podUid: `p${positions.length}`, nodeName: 'd', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }] });
    assert.deepEqual(summary(s.readAll(part, 'u1')), summary(s.readAll([...part], 'u1')), positions.join(','));
    // The next filter's full list, then the next part: both still resolved by identity/position.
    assert.deepEqual(summary(s.readAll(full, undefined)), summary(s.readAll([...full], undefined)));
  }
  assert.deepEqual(summary(s.readAll(full, undefined)), [['a', true, 0], ['b', true, 1], ['x', undefined, 0], ['c', false, 0], ['d', true, 2]]);
});

test('a part of a list with a name sent twice: the assumed node is found at each of its places in the part', () => {
  const s = create();
  s.markSynced('nodes', true);
  for (const n of ['a', 'b', 'c']) s.applyNode('add', toNode(n));
  const full = ['a', 'b', 'c', 'b', 'a'];
  const summary = (views: ReturnType<typeof s.readAll>) => views.map((v) => [v.name, v.load.moduleCount]);
  s.readAll(full, undefined);
  s.assume({ podUid: 'p1', nodeName: 'b', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }] });
  for (const positions of [[1, 3], [0, 1, 2, 3, 4], [2, 3, 4], [0, 4], [0, 2]]) {
    const part = takeSubList(full, Int32Array.from(positions));
    assert.deepEqual(summary(s.readAll(part, undefined)), summary(s.readAll([...part], undefined)), positions.join(','));
    s.readAll(full, undefined);
  }
});
