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

const replicasOf = (o: Json) => ((o['spec'] as Json)['replicas']);
const peerOf = (o: Json) => ((o['spec'] as Json)['peer']);

interface Case {
  readonly name: string;
  readonly spec: Json;
  /** The stored object's spec on UPDATE. */
  readonly old?: Json;
  readonly replicas: unknown;
  readonly peer: unknown;
  readonly warns?: RegExp;
}

const cases: readonly Case[] = [
  { name: 'v1 replicas: -1 → peer mode', spec: { replicas: -1 }, replicas: undefined, peer: true },
  { name: 'v1 replicas: -1 next to peer: false → peer mode', spec: { replicas: -1, peer: false }, replicas: undefined, peer: true },
  { name: 'replicas: -1 re-applied on a peer-mode object → unchanged peer mode', spec: { replicas: -1 }, old: { peer: true }, replicas: undefined, peer: true },
  { name: 'replicas: -1 re-applied after kubectl scale → back to peer mode', spec: { replicas: -1, peer: false }, old: { replicas: 2, peer: false }, replicas: undefined, peer: true },
  { name: 'replicas: N → untouched', spec: { replicas: 3 }, replicas: 3, peer: undefined },
  { name: 'replicas: 0 → untouched (0 is a count, not peer mode)', spec: { replicas: 0 }, replicas: 0, peer: undefined },
  { name: 'replicas: N with peer: false → untouched', spec: { replicas: 3, peer: false }, replicas: 3, peer: false },
  { name: 'replicas absent → the default 1', spec: {}, replicas: 1, peer: undefined },
  { name: 'replicas absent, peer: false → the default 1', spec: { peer: false }, replicas: 1, peer: false },
  { name: 'peer: true without replicas → untouched peer mode', spec: { peer: true }, replicas: undefined, peer: true },
  { name: 'peer: true with replicas: N → peer mode, replicas dropped with a warning', spec: { peer: true, replicas: 3 }, replicas: undefined, peer: true, warns: /spec\.replicas 3 is ignored with spec\.peer: true/ },
  { name: 'peer switched on over a fixed count → peer mode', spec: { peer: true, replicas: 2 }, old: { peer: false, replicas: 2 }, replicas: undefined, peer: true, warns: /ignored/ },
  { name: 'peer: true with replicas written onto a peer-mode object → stays peer mode', spec: { peer: true, replicas: 2 }, old: { peer: true }, replicas: undefined, peer: true, warns: /ignored/ },
  { name: 'kubectl scale left peer: true next to replicas: any other update keeps the scale', spec: { peer: true, replicas: 2 }, old: { peer: true, replicas: 2 }, replicas: 2, peer: true },
  { name: 'replicas: -2 → untouched (the schema rejects it with its message)', spec: { replicas: -2 }, replicas: -2, peer: undefined },
];

for (const group of GROUPS) {
  for (const c of cases) {
    const operation = c.old ? 'UPDATE' : 'CREATE';
    test(`${group} ${operation}: ${c.name}`, () => {
      const object = deepFreeze(md(group, spec(c.spec), c.old ? '42' : undefined));
      const oldObject = c.old ? deepFreeze(md(group, spec(c.old), '41')) : undefined;
      const result = handle(review(group, operation, object, oldObject));
      assert.ok(result.kind === 'patched' || result.kind === 'allowed', JSON.stringify(result));
      const out = applyResult(object, result);
      assert.equal(replicasOf(out), c.replicas);
      assert.equal(peerOf(out), c.peer);
      assert.equal('replicas' in (out['spec'] as Json), c.replicas !== undefined, 'peer mode stores replicas unset, not null');
      // Nothing but replicas and peer ever changes.
      const rest = (o: Json) => { const { replicas: _r, peer: _p, ...s } = o['spec'] as Json; return { ...o, spec: s }; };
      assert.deepEqual(rest(out), rest(object));
      const warnings = 'warnings' in result ? (result.warnings ?? []) : [];
      if (c.warns) assert.match(warnings.join('\n'), c.warns);
      else assert.deepEqual(warnings, []);
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
  assert.deepEqual(m.changes, ['replicas -1 (v1 peer mode) → peer: true, replicas unset']);
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
  assert.deepEqual(ops, ['add /spec/peer', 'remove /spec/replicas']);
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
