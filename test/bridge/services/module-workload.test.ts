import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toModuleWorkload, type WorkloadKind, type WorkloadObject } from '../../../bridge/services/module-workload.ts';

const template = {
  metadata: { labels: { 'module-controller.koupleless.io/component': 'module' }, annotations: { a: '1' } },
  spec: { containers: [{ name: 'provider' }] },
};
const meta = { name: 'w', namespace: 'ns', uid: 'u', creationTimestamp: '2024-01-01T00:00:00Z' };

const cases: Array<{ name: string; kind: WorkloadKind; obj: WorkloadObject; asks: boolean }> = [
  { name: 'Deployment asks through its template', kind: 'Deployment', obj: { metadata: meta, spec: { template } }, asks: true },
  { name: 'StatefulSet asks', kind: 'StatefulSet', obj: { metadata: meta, spec: { template } }, asks: true },
  { name: 'DaemonSet asks', kind: 'DaemonSet', obj: { metadata: meta, spec: { template } }, asks: true },
  { name: 'bare ReplicaSet asks', kind: 'ReplicaSet', obj: { metadata: meta, spec: { template } }, asks: true },
  { name: 'ReplicaSet of a Deployment does not (its Deployment does)', kind: 'ReplicaSet', obj: { metadata: { ...meta, ownerReferences: [{ kind: 'Deployment', apiVersion: 'apps/v1', controller: true }] }, spec: { template } }, asks: false },
  { name: 'ReplicaSet owned by something else asks', kind: 'ReplicaSet', obj: { metadata: { ...meta, ownerReferences: [{ kind: 'Rollout', apiVersion: 'argoproj.io/v1alpha1' }] }, spec: { template } }, asks: true },
  { name: 'bare Pod asks through its own metadata', kind: 'Pod', obj: { metadata: { ...meta, labels: template.metadata.labels }, spec: template.spec }, asks: true },
  { name: 'Pod with an owner does not', kind: 'Pod', obj: { metadata: { ...meta, ownerReferences: [{ kind: 'ReplicaSet', apiVersion: 'apps/v1' }] }, spec: template.spec }, asks: false },
  { name: 'object without uid is ignored', kind: 'Deployment', obj: { metadata: { name: 'w', namespace: 'ns' }, spec: { template } }, asks: false },
];

for (const c of cases) {
  test(`toModuleWorkload: ${c.name}`, () => {
    const w = toModuleWorkload(c.kind, c.obj);
    assert.equal(w !== undefined, c.asks);
    if (!w) return;
    assert.equal(w.kind, c.kind);
    assert.equal(w.apiVersion, c.kind === 'Pod' ? 'v1' : 'apps/v1');
    assert.deepEqual(w.containers.map((x) => x.name), ['provider']);
    assert.equal(w.templateLabels['module-controller.koupleless.io/component'], 'module');
  });
}
