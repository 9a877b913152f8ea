import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODULE_DEPLOYMENT_LABEL, MODULE_REVISION_LABEL } from '../../core/names.ts';
import { isOtherRevision, toPodWorkload, type PodMetaLike } from '../../core/pod-workload.ts';

const owner = (kind: string, name: string, controller = true) => [{ kind, name, controller }];

test('toPodWorkload: the owning workload and its revision, from ownerReferences and labels alone', () => {
  const cases: Array<[string, PodMetaLike | undefined, ReturnType<typeof toPodWorkload>]> = [
    ['Deployment pod', { namespace: 'shop', labels: { 'pod-template-hash': '7d9f8c6b5' }, ownerReferences: owner('ReplicaSet', 'orders-7d9f8c6b5') }, { workload: 'shop/Deployment/orders', revision: '7d9f8c6b5' }],
    ['ReplicaSet of its own (no matching hash)', { namespace: 'shop', labels: {}, ownerReferences: owner('ReplicaSet', 'orders-rs') }, { workload: 'shop/ReplicaSet/orders-rs', revision: undefined }],
    ['ModuleDeployment pod (no pod-template-hash)', { namespace: 'shop', labels: { [MODULE_DEPLOYMENT_LABEL]: 'orders', [MODULE_REVISION_LABEL]: 'a1b2c3d4e5' }, ownerReferences: owner('ReplicaSet', 'orders-a1b2c3d4e5') }, { workload: 'shop/ModuleDeployment/orders', revision: 'a1b2c3d4e5' }],
    ['ModuleDeployment label without a revision label: the ReplicaSet itself', { namespace: 'shop', labels: { [MODULE_DEPLOYMENT_LABEL]: 'orders' }, ownerReferences: owner('ReplicaSet', 'orders-a1b2c3d4e5') }, { workload: 'shop/ReplicaSet/orders-a1b2c3d4e5', revision: undefined }],
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

test('two revisions of one ModuleDeployment are one workload at other revisions (the rollout hand-off applies)', () => {
  const pod = (hash: string): PodMetaLike => ({ namespace: 'shop', labels: { [MODULE_DEPLOYMENT_LABEL]: 'orders', [MODULE_REVISION_LABEL]: hash }, ownerReferences: owner('ReplicaSet', `orders-${hash}`) });
  assert.equal(isOtherRevision(toPodWorkload(pod('aaaaaaaaaa')), toPodWorkload(pod('bbbbbbbbbb'))), true);
  assert.equal(isOtherRevision(toPodWorkload(pod('aaaaaaaaaa')), toPodWorkload(pod('aaaaaaaaaa'))), false);
  const otherMd = { ...pod('bbbbbbbbbb'), labels: { [MODULE_DEPLOYMENT_LABEL]: 'payments', [MODULE_REVISION_LABEL]: 'bbbbbbbbbb' } };
  assert.equal(isOtherRevision(toPodWorkload(pod('aaaaaaaaaa')), toPodWorkload(otherMd)), false);
});
