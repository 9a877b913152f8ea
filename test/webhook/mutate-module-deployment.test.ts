import { test } from 'node:test';
import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import { parseAdmissionReview, type AdmissionRequest, type AdmissionResult } from '../../webhook/admission.ts';
import { createModuleDeploymentMutateHandler, mutateModuleDeployment } from '../../webhook/mutate-module-deployment.ts';
import { deepFreeze, type Json } from './fixtures.ts';

const handle = createModuleDeploymentMutateHandler();
const GROUPS = ['koupleless.io', 'koupleless.alipay.com'] as const;

/** A ModuleDeployment as kubectl apply sends it, after the API server's decoding and schema defaults. */
function md(group: string, spec: Json, rv?: string): Json {
  const manifest = { apiVersion: `${group}/v1alpha1`, kind: 'ModuleDeployment', metadata: { name: 'dynamic-provider', namespace: 'demo' }, spec };
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(manifest)}\n` },
      ...(rv ? { uid: '8e0d7a55-2b3c-4f0e-9a6d-4c1b2e3f4a5b', resourceVersion: rv, generation: 2, creationTimestamp: '2026-12-01T10:00:00Z' } : {}),
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: rv ? 'Update' : 'Apply', apiVersion: `${group}/v1alpha1`, time: '2026-12-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: {} }],
    },
  };
}

function spec(fields: Json): Json {
  return {
    baseDeploymentName: 'dynamic-stock-deployment',
    template: { spec: { module: { name: 'dynamic-provider', version: '1.0.0', url: 'https://repo.example.com/dynamic-provider-1.0.0-ark-biz.jar' } } },
    operationStrategy: { batchCount: 1, upgradePolicy: 'install_then_uninstall' },
    ...fields,
  };
}

function review(group: string, operation: 'CREATE' | 'UPDATE', object: Json, oldObject?: Json, subResource?: string): AdmissionRequest {
  const gvk = { group, version: 'v1alpha1', kind: 'ModuleDeployment' };
  const gvr = { group, version: 'v1alpha1', resource: 'moduledeployments' };
  const body = {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002', kind: gvk, resource: gvr, requestKind: gvk, requestResource: gvr,
      ...(subResource ? { subResource } : {}),
      name: 'dynamic-provider', namespace: 'demo', operation,
      userInfo: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] },
      object, oldObject: oldObject ?? null, dryRun: false,
      options: { kind: operation === 'UPDATE' ? 'UpdateOptions' : 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-client-side-apply' },
    },
  };
  const parsed = parseAdmissionReview('application/json', JSON.stringify(body));
  assert.equal(parsed.kind, 'ok');
  return (parsed as { request: AdmissionRequest }).request;
}

function applyResult(object: Json, result: AdmissionResult): Json {
  if (result.kind !== 'patched') return object;
  return jsonpatch.applyPatch(structuredClone(object), [...result.patch], true, false).newDocument as Json;
}

const ANNOTATION = 'module-controller.koupleless.io/peer-replicas';
const replicasOf = (o: Json) => ((o['spec'] as Json)['replicas']);
const peerOf = (o: Json) => ((o['spec'] as Json)['peer']);
const recordOf = (o: Json) => (((o['metadata'] as Json)['annotations'] as Json | undefined)?.[ANNOTATION]);

/** The stored object on UPDATE: its spec fields and its peer-count record. */
function stored(group: string, fields: Json, record?: string): Json {
  const o = md(group, spec(fields), '41');
  const meta = o['metadata'] as Json;
  return record === undefined ? o : { ...o, metadata: { ...meta, annotations: { ...(meta['annotations'] as Json), [ANNOTATION]: record } } };
}

interface Case {
  readonly name: string;
  readonly spec: Json;
  /** The stored object on UPDATE: spec fields and peer-count record. */
  readonly old?: { readonly fields: Json; readonly record?: string };
  /** The incoming object carries the stored record (kubectl's patches keep annotations they do not name). */
  readonly keepsRecord?: boolean;
  readonly replicas: unknown;
  readonly peer: unknown;
  readonly record: unknown;
}

const cases: readonly Case[] = [
  { name: 'v1 replicas: -1 → peer: true, replicas 0, record 0 (the controller counts the bases next)', spec: { replicas: -1 }, replicas: 0, peer: true, record: '0' },
  { name: 'v1 replicas: -1 next to peer: false → peer mode', spec: { replicas: -1, peer: false }, replicas: 0, peer: true, record: '0' },
  { name: 'replicas: -1 re-applied in peer mode → the stored peer count is kept (a no-op)', spec: { replicas: -1, peer: true }, old: { fields: { replicas: 3, peer: true }, record: '3' }, keepsRecord: true, replicas: 3, peer: true, record: '3' },
  { name: 'replicas: -1 applied after kubectl scale → peer mode from the running count', spec: { replicas: -1, peer: false }, old: { fields: { replicas: 2, peer: false } }, replicas: 2, peer: true, record: '2' },
  { name: 'replicas: -1 applied before the controller tidied up a scale → peer mode again', spec: { replicas: -1, peer: true }, old: { fields: { replicas: 2, peer: true }, record: '3' }, keepsRecord: true, replicas: 2, peer: true, record: '2' },
  { name: 'replicas: N → untouched', spec: { replicas: 3 }, replicas: 3, peer: undefined, record: undefined },
  { name: 'replicas: 0 → untouched (0 is a count, not peer mode)', spec: { replicas: 0 }, replicas: 0, peer: undefined, record: undefined },
  { name: 'peer: true (native form) → untouched; the controller adopts it', spec: { peer: true, replicas: 1 }, replicas: 1, peer: true, record: undefined },
  { name: 'an update in peer mode without -1 → untouched', spec: { peer: true, replicas: 3 }, old: { fields: { replicas: 3, peer: true }, record: '3' }, keepsRecord: true, replicas: 3, peer: true, record: '3' },
  { name: 'replicas: -2 → untouched (the schema rejects it with its message)', spec: { replicas: -2 }, replicas: -2, peer: undefined, record: undefined },
];

for (const group of GROUPS) {
  for (const c of cases) {
    const operation = c.old ? 'UPDATE' : 'CREATE';
    test(`${group} ${operation}: ${c.name}`, () => {
      const oldObject = c.old ? deepFreeze(stored(group, c.old.fields, c.old.record)) : undefined;
      const incoming = md(group, spec(c.spec), c.old ? '41' : undefined);
      const object = deepFreeze(c.keepsRecord && c.old?.record !== undefined ? { ...incoming, metadata: { ...(incoming['metadata'] as Json), annotations: { ...((incoming['metadata'] as Json)['annotations'] as Json), [ANNOTATION]: c.old.record } } } : incoming);
      const result = handle(review(group, operation, object, oldObject));
      assert.ok(result.kind === 'patched' || result.kind === 'allowed', JSON.stringify(result));
      const out = applyResult(object, result);
      assert.equal(replicasOf(out), c.replicas);
      assert.equal(peerOf(out), c.peer);
      assert.equal(recordOf(out), c.record);
      // Nothing but replicas, peer and the record ever changes; the other annotations stay.
      const rest = (o: Json) => {
        const { replicas: _r, peer: _p, ...s } = o['spec'] as Json;
        const { [ANNOTATION]: _a, ...annotations } = ((o['metadata'] as Json)['annotations'] ?? {}) as Json;
        return { ...o, metadata: { ...(o['metadata'] as Json), annotations }, spec: s };
      };
      assert.deepEqual(rest(out), rest(object));
      // What the webhook returns is storable: replicas is never negative after a rewrite.
      if (result.kind === 'patched') assert.ok((replicasOf(out) as number) >= 0);
      // Applying the result again changes nothing (the API server may call a webhook twice).
      const again = handle(review(group, 'UPDATE', out, out));
      assert.equal(again.kind, 'allowed', JSON.stringify(again));
    });
  }
}

test('the pure mutation never touches its input and reports one change per rewrite', () => {
  const object = deepFreeze(md('koupleless.io', spec({ replicas: -1 })));
  const m = mutateModuleDeployment(object);
  assert.notEqual(m.object, object);
  assert.deepEqual(m.changes, ['replicas -1 (v1 peer mode) → peer: true, replicas 0 until the controller counts the bases']);
  assert.equal(replicasOf(object), -1);
  const same = deepFreeze(md('koupleless.io', spec({ replicas: 2 })));
  assert.equal(mutateModuleDeployment(same).object, same);
  assert.deepEqual(mutateModuleDeployment(same).changes, []);
});

test('the JSON patch names only the fields it changes', () => {
  const object = md('koupleless.alipay.com', spec({ replicas: -1 }));
  const result = handle(review('koupleless.alipay.com', 'CREATE', object));
  assert.equal(result.kind, 'patched');
  const ops = (result as { patch: readonly jsonpatch.Operation[] }).patch.map((o) => `${o.op} ${o.path}`).sort();
  assert.deepEqual(ops, ['add /metadata/annotations/module-controller.koupleless.io~1peer-replicas', 'add /spec/peer', 'replace /spec/replicas']);
});

const notOurs: Array<[string, AdmissionRequest, RegExp]> = [
  ['the scale subresource (its object is a Scale)', review('koupleless.io', 'UPDATE', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'dynamic-provider' }, spec: { replicas: 2 } }, undefined, 'scale'), /subresource scale is not mutated/],
  ['another group', { ...review('koupleless.io', 'CREATE', md('koupleless.io', spec({ replicas: -1 }))), kind: { group: 'example.com', version: 'v1alpha1', kind: 'ModuleDeployment' } }, /example\.com\/ModuleDeployment is not mutated here/],
  ['another kind', { ...review('koupleless.io', 'CREATE', md('koupleless.io', spec({ replicas: -1 }))), kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }, /apps\/Deployment is not mutated here/],
  ['DELETE', { ...review('koupleless.io', 'CREATE', md('koupleless.io', spec({ replicas: -1 }))), operation: 'DELETE' }, /ModuleDeployment DELETE is not mutated/],
  ['a ModuleDeployment without spec (the schema rejects it)', review('koupleless.io', 'CREATE', { apiVersion: 'koupleless.io/v1alpha1', kind: 'ModuleDeployment', metadata: { name: 'x' } }), /nothing to change/],
];
for (const [name, req, reason] of notOurs) {
  test(`not rewritten: ${name}`, () => {
    const result = handle(req);
    assert.equal(result.kind, 'allowed');
    assert.match((result as { reason: string }).reason, reason);
  });
}

test('a ModuleDeployment CREATE without an object → errored 400', () => {
  const { object: _o, ...req } = review('koupleless.io', 'CREATE', md('koupleless.io', spec({})));
  assert.deepEqual(handle(req), { kind: 'errored', code: 400, message: 'the ModuleDeployment CREATE request has no object' });
});
