import { test } from 'node:test';
import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import { parseAdmissionReview, type AdmissionRequest, type AdmissionResult } from '../../webhook/admission.ts';
import { createMutateHandler, createValidateHandler } from '../../webhook/handlers.ts';
import { mutateDaemonSet, mutatePod } from '../../webhook/mutate-pod.ts';
import { DEFAULT_POLICY } from '../../webhook/policy.ts';
import { moduleContainer, podTemplate, replicaSetPod, review, workload, type Json } from './fixtures.ts';

const mutate = createMutateHandler(DEFAULT_POLICY);
const validateHandler = createValidateHandler(DEFAULT_POLICY);

function toRequest(body: Json): AdmissionRequest {
  const parsed = parseAdmissionReview('application/json', JSON.stringify(body));
  assert.equal(parsed.kind, 'ok');
  return (parsed as { request: AdmissionRequest }).request;
}

function applyResult(object: unknown, result: AdmissionResult): Json {
  assert.equal(result.kind, 'patched');
  const ops = (result as { patch: readonly jsonpatch.Operation[] }).patch;
  return jsonpatch.applyPatch(structuredClone(object), [...ops], true, false).newDocument as Json;
}

test('mutate: ReplicaSet pod CREATE → a JSON patch that yields the mutated pod', () => {
  const pod = replicaSetPod();
  const result = mutate(toRequest(review(pod)));
  const out = applyResult(pod, result) as ReturnType<typeof replicaSetPod>;
  assert.equal(out.spec!.schedulerName, 'module-scheduler');
  assert.equal(out.metadata!.labels!['module.koupleless.io/biz1'], 'true');
  assert.equal(out.spec!.tolerations!.length, 3);
  assert.ok(out.spec!.affinity!.nodeAffinity);
  // The patch only touches what the mutation changed: labels, tolerations, affinity, schedulerName.
  const paths = (result as { patch: readonly jsonpatch.Operation[] }).patch.map((o) => o.path).sort();
  assert.deepEqual(paths, ['/metadata/labels/module.koupleless.io~1biz1', '/spec/affinity', '/spec/schedulerName', '/spec/tolerations/2']);
});

test('mutate: dry-run CREATE is patched the same way (no side effects to skip)', () => {
  const pod = replicaSetPod();
  const wet = mutate(toRequest(review(pod)));
  const dry = mutate(toRequest(review(pod, { dryRun: true })));
  assert.deepEqual(dry, wet);
});

const allowedCases: Array<{ name: string; body: Json; reason: RegExp }> = [
  { name: 'non-module pod', body: review(replicaSetPod({ labels: { 'module-controller.koupleless.io/component': 'x' } })), reason: /nothing to change/ },
  { name: 'pod UPDATE', body: review(replicaSetPod(), { operation: 'UPDATE', oldObject: replicaSetPod() }), reason: /Pod UPDATE is not mutated/ },
  { name: 'pod subresource', body: review(replicaSetPod(), { subResource: 'binding' }), reason: /subresource binding/ },
  { name: 'unknown kind (ConfigMap)', body: review({ kind: 'ConfigMap', metadata: { name: 'c' } }, { group: '' }), reason: /ConfigMap is not mutated/ },
  { name: 'a CRD named DaemonSet in another group', body: review(workload('DaemonSet', podTemplate()), { group: 'example.com' }), reason: /example.com\/DaemonSet is not mutated/ },
  { name: 'already mutated pod', body: review(applyResult(replicaSetPod(), mutate(toRequest(review(replicaSetPod()))))), reason: /nothing to change/ },
];
for (const c of allowedCases) {
  test(`mutate: ${c.name} → allowed untouched`, () => {
    const result = mutate(toRequest(c.body));
    assert.equal(result.kind, 'allowed');
    assert.match((result as { reason: string }).reason, c.reason);
  });
}

test('mutate: Pod CREATE without an object → errored 400', () => {
  const body = review(replicaSetPod());
  (body['request'] as Json)['object'] = null;
  assert.deepEqual(mutate(toRequest(body)), { kind: 'errored', code: 400, message: 'the Pod CREATE request has no object' });
});

test('mutate: module DaemonSet CREATE and UPDATE patch the template', () => {
  const ds = workload('DaemonSet', podTemplate());
  for (const operation of ['CREATE', 'UPDATE']) {
    const out = applyResult(ds, mutate(toRequest(review(ds, { operation, oldObject: operation === 'UPDATE' ? ds : undefined }))));
    const spec = ((out['spec'] as Json)['template'] as Json)['spec'] as Json;
    assert.equal(spec['schedulerName'], 'module-scheduler');
    assert.equal((spec['tolerations'] as unknown[]).length, 1);
  }
});

test('validate: Deployment with a missing BIZ_VERSION is denied with the container and field', () => {
  const d = workload('Deployment', podTemplate({ containers: [{ ...moduleContainer('biz1'), env: [] }] }));
  const result = validateHandler(toRequest(review(d)));
  assert.equal(result.kind, 'denied');
  assert.equal((result as { message: string }).message, 'Deployment "demo/biz1": container "biz1": env BIZ_VERSION is missing; set it to the module version from pom.xml');
});

test('validate: CronJob and Job templates are checked', () => {
  for (const kind of ['CronJob', 'Job'] as const) {
    const w = workload(kind, podTemplate({ containers: [{ ...moduleContainer('biz1'), image: 'busybox' }] }));
    const result = validateHandler(toRequest(review(w)));
    assert.equal(result.kind, 'denied', kind);
    assert.match((result as { message: string }).message, new RegExp(`^${kind} "demo/biz1": container "biz1": image "busybox" is not a jar URL`));
  }
});

test('validate: valid workload → allowed with warnings; controller-created pod → no warnings repeated', () => {
  const d = workload('Deployment', podTemplate());
  const result = validateHandler(toRequest(review(d)));
  assert.equal(result.kind, 'allowed');
  assert.match((result as { warnings: readonly string[] }).warnings[0]!, /no base is named/);
  const pod = validateHandler(toRequest(review(replicaSetPod())));
  assert.deepEqual(pod, { kind: 'allowed', reason: 'valid module workload' });
  const bare = replicaSetPod();
  delete bare.metadata!.ownerReferences;
  assert.match((validateHandler(toRequest(review(bare))) as { warnings: readonly string[] }).warnings[0]!, /no base is named/);
});

test('validate: UPDATE ratchet — old problems do not block a scale or relabel, a new problem does', () => {
  const broken = workload('Deployment', podTemplate({ containers: [{ ...moduleContainer('biz1'), env: [] }] }));
  const scaled = structuredClone(broken);
  (scaled['spec'] as Json)['replicas'] = 3;
  const kept = validateHandler(toRequest(review(scaled, { operation: 'UPDATE', oldObject: broken })));
  assert.equal(kept.kind, 'allowed');
  assert.match((kept as { warnings: readonly string[] }).warnings[0]!, /^still invalid: container "biz1": env BIZ_VERSION is missing/);
  const worse = workload('Deployment', podTemplate({ containers: [{ ...moduleContainer('biz1'), env: [], image: 'nginx' }] }));
  const denied = validateHandler(toRequest(review(worse, { operation: 'UPDATE', oldObject: broken })));
  assert.equal(denied.kind, 'denied');
  assert.match((denied as { message: string }).message, /has 2 problems/);
});

const skipCases: Array<{ name: string; body: Json; reason: RegExp }> = [
  { name: 'DELETE', body: review(replicaSetPod(), { operation: 'DELETE' }), reason: /DELETE is not validated/ },
  { name: 'unknown kind', body: review({ kind: 'Service', metadata: { name: 's' } }, { group: '' }), reason: /Service is not validated/ },
  { name: 'status subresource', body: review(workload('Deployment', podTemplate({ containers: [{ name: 'x' }] })), { operation: 'UPDATE', subResource: 'status' }), reason: /subresource status/ },
  { name: 'non-module Deployment', body: review(workload('Deployment', podTemplate({ labels: { 'module-controller.koupleless.io/component': 'no' }, containers: [{ name: 'web', image: 'nginx' }] }))), reason: /not a module workload/ },
];
for (const c of skipCases) {
  test(`validate: ${c.name} → allowed`, () => {
    const result = validateHandler(toRequest(c.body));
    assert.equal(result.kind, 'allowed');
    assert.match((result as { reason: string }).reason, c.reason);
  });
}

// The patch is diffed over the fields a mutation may touch; applied to the whole original it must
// give exactly the mutated object, whatever was or was not there before.
const patchCases: Array<[string, Json]> = [
  ['defaulted ReplicaSet pod', replicaSetPod() as unknown as Json],
  ['no tolerations, no affinity, no schedulerName', replicaSetPod({ spec: { tolerations: undefined, schedulerName: undefined } }) as unknown as Json],
  ['user affinity with several terms', replicaSetPod({ labels: { 'base.koupleless.io/version': '1' }, spec: { affinity: { podAntiAffinity: {}, nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }] } } } } }) as unknown as Json],
  ['affinity object without nodeAffinity', replicaSetPod({ spec: { affinity: { podAffinity: {} } } }) as unknown as Json],
  ['bare pod without spec', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { 'module-controller.koupleless.io/component': 'module' } } }],
  ['module DaemonSet', workload('DaemonSet', podTemplate({ spec: { tolerations: [{ key: 'x', operator: 'Exists' }] } }))],
];
for (const [name, object] of patchCases) {
  test(`mutate: the patch applied to the whole original gives the mutated object (${name})`, () => {
    const result = mutate(toRequest(review(JSON.parse(JSON.stringify(object)) as Json)));
    const patched = applyResult(JSON.parse(JSON.stringify(object)), result);
    const ds = object['kind'] === 'DaemonSet';
    const expected = ds ? mutateDaemonSet(JSON.parse(JSON.stringify(object)), DEFAULT_POLICY).object : mutatePod(JSON.parse(JSON.stringify(object)), DEFAULT_POLICY).object;
    assert.deepEqual(patched, JSON.parse(JSON.stringify(expected)));
  });
}
