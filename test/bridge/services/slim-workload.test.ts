import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS, SERVICE_ANNOTATIONS } from '../../../core/names.ts';
import { toModuleWorkload, type WorkloadKind, type WorkloadObject } from '../../../bridge/services/module-workload.ts';
import { planServices, toRequestedKeys } from '../../../bridge/services/plan-services.ts';
import { LAST_APPLIED_ANNOTATION, toSlimWorkload } from '../../../bridge/slim-objects.ts';

const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': {} } } } } }];

function container(name: string, version: string) {
  return {
    name, image: `https://repo.example/${name}-${version}-ark-biz.jar`, imagePullPolicy: 'IfNotPresent',
    env: [{ name: 'JAVA_OPTS', value: '-Xmx1g' }, { name: 'BIZ_VERSION', value: version }],
    ports: [{ containerPort: 8080, name: 'http' }], resources: { requests: { cpu: '100m' } },
  };
}

/** A workload as the API lists it: managedFields, kubectl's copy of the object, status. */
function apiWorkload(kind: WorkloadKind, name: string, labels: Record<string, string>, annotations: Record<string, string>, containers: ReturnType<typeof container>[]) {
  const metadata = {
    name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '77', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { app: name }, annotations: { [LAST_APPLIED_ANNOTATION]: 'x'.repeat(3000) }, managedFields,
  };
  if (kind === 'Pod') {
    return { apiVersion: 'v1', kind, metadata: { ...metadata, labels: { ...labels }, annotations: { ...metadata.annotations, ...annotations } }, spec: { containers, tolerations: [{ key: 'a' }] }, status: { phase: 'Running' } };
  }
  return {
    apiVersion: 'apps/v1', kind, metadata,
    spec: { replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels, annotations }, spec: { containers, tolerations: [{ key: 'a' }] } } },
    status: { replicas: 3, readyReplicas: 3, conditions: [{ type: 'Available', status: 'True' }] },
  };
}

const moduleLabels = { [MODULE_COMPONENT_LABEL]: 'module' };
const serviceAnnotations = { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '8080' };
const cases: Array<[string, ReturnType<typeof apiWorkload>]> = [
  ['module Deployment asking for a Service', apiWorkload('Deployment', 'orders', moduleLabels, serviceAnnotations, [container('orders', '1.0.0'), container('pay', '2.1.0')])],
  ['module StatefulSet under the upstream alias label', apiWorkload('StatefulSet', 'cart', { [MODULE_COMPONENT_LABEL_ALIAS]: 'module' }, serviceAnnotations, [container('cart', '1.0.0')])],
  ['bare module pod', apiWorkload('Pod', 'solo', moduleLabels, serviceAnnotations, [container('solo', '3.0.0')])],
  ['plain Deployment (no module label)', apiWorkload('Deployment', 'web', { app: 'web' }, serviceAnnotations, [container('nginx', '1.0.0')])],
  ['plain DaemonSet', apiWorkload('DaemonSet', 'agent', { app: 'agent' }, {}, [container('agent', '1.0.0')])],
];

test('slim workloads: the module-Service plan is the same on full and slim objects', () => {
  const full = cases.map(([, o]) => toModuleWorkload(o.kind as WorkloadKind, o as unknown as WorkloadObject)!);
  const slim = cases.map(([, o]) => toModuleWorkload(o.kind as WorkloadKind, toSlimWorkload(o) as unknown as WorkloadObject)!);
  for (let i = 0; i < cases.length; i++) {
    assert.deepEqual(toRequestedKeys(slim[i]!), toRequestedKeys(full[i]!), cases[i]![0]);
    assert.equal(slim[i]!.uid, full[i]!.uid);
  }
  assert.ok(toRequestedKeys(full[0]!).length === 2, 'the fixture asks for two Services');
  const config = { defaultType: 'NodePort' as const };
  assert.deepEqual(JSON.parse(JSON.stringify(planServices(slim, [], config))), JSON.parse(JSON.stringify(planServices(full, [], config))));
});

test('slim workloads: what is dropped (managedFields, last-applied, status; containers of non-module workloads)', () => {
  type Slim = { metadata: { managedFields?: unknown; annotations: Record<string, string>; resourceVersion?: string }; status?: unknown; spec: { template: { spec: { containers: unknown[] } } } };
  const deployment = toSlimWorkload(cases[0]![1]) as unknown as Slim;
  assert.equal(deployment.metadata.managedFields, undefined);
  assert.equal(deployment.metadata.annotations[LAST_APPLIED_ANNOTATION], undefined);
  assert.equal(deployment.status, undefined);
  assert.equal(deployment.metadata.resourceVersion, '77', 'the cache compares resourceVersions');
  assert.deepEqual(deployment.spec.template.spec.containers[0], { name: 'orders', image: 'https://repo.example/orders-1.0.0-ark-biz.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] });
  const plain = toSlimWorkload(cases[3]![1]) as unknown as Slim;
  assert.deepEqual(plain.spec, { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } });
  assert.ok(JSON.stringify(plain).length * 5 < JSON.stringify(cases[3]![1]).length, 'a plain workload shrinks to a fraction');
});
