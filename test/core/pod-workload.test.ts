import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOtherRevision, toPodWorkload, type PodMetaLike } from '../../core/pod-workload.ts';

const owner = (kind: string, name: string, controller = true) => [{ kind, name, controller }];

test('toPodWorkload: the owning workload and its revision, from ownerReferences and labels alone', () => {
  const cases: Array<[string, PodMetaLike | undefined, ReturnType<typeof toPodWorkload>]> = [
    ['Deployment pod', { namespace: 'shop', labels: { 'pod-template-hash': '7d9f8c6b5' }, ownerReferences: owner('ReplicaSet', 'orders-7d9f8c6b5') }, { workload: 'shop/Deployment/orders', revision: '7d9f8c6b5' }],
    ['ReplicaSet of its own (no matching hash)', { namespace: 'shop', labels: {}, ownerReferences: owner('ReplicaSet', 'orders-rs') }, { workload: 'shop/ReplicaSet/orders-rs', revision: undefined }],
    ['StatefulSet pod', { namespace: 'db', labels: { 'controller-revision-hash': 'sts-5c9' }, ownerReferences: owner('StatefulSet', 'sts') }, { workload: 'db/StatefulSet/sts', revision: 'sts-5c9' }],
    ['DaemonSet pod', { namespace: 'x', labels: { 'controller-revision-hash': 'ds-1' }, ownerReferences: owner('DaemonSet', 'ds') }, { workload: 'x/DaemonSet/ds', revision: 'ds-1' }],
    ['a Job pod has no workload for hand-offs', { namespace: 'x', ownerReferences: owner('Job', 'j') }, undefined],
    ['a non-controller owner is ignored', { namespace: 'x', labels: { 'pod-template-hash': 'h' }, ownerReferences: owner('ReplicaSet', 'a-h', false) }, undefined],
    ['bare pod', { namespace: 'x' }, undefined],
    ['no metadata', undefined, undefined],
  ];
  for (const [name, meta, want] of cases) assert.deepEqual(toPodWorkload(meta), want, name);
});

test('isOtherRevision: same workload, both revisions known and different', () => {
  const a = { workload: 'ns/Deployment/d', revision: 'r1' };
  assert.equal(isOtherRevision(a, { workload: 'ns/Deployment/d', revision: 'r2' }), true);
  assert.equal(isOtherRevision(a, { workload: 'ns/Deployment/d', revision: 'r1' }), false);
  assert.equal(isOtherRevision(a, { workload: 'ns/Deployment/e', revision: 'r2' }), false);
  assert.equal(isOtherRevision(a, { workload: 'ns/Deployment/d', revision: undefined }), false);
  assert.equal(isOtherRevision(a, undefined), false);
});
