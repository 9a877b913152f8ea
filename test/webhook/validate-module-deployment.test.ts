// ModuleDeployment validation at apply time (webhook/validate-module-deployment.ts): the jar URL
// policy and tenancy of module pods, on real AdmissionReview shapes of both API groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { parseBaseTenants } from '../../core/base-tenancy.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { createWebhookApp } from '../../webhook/app.ts';
import { parseJarUrlPolicy } from '../../webhook/jar-url-policy.ts';
import { DEFAULT_POLICY, type AdmissionPolicy } from '../../webhook/policy.ts';
import { createModuleDeploymentValidateHandler, validateModuleDeployment } from '../../webhook/validate-module-deployment.ts';
import type { AdmissionRequest } from '../../webhook/admission.ts';
import { deepFreeze, review, type Json } from './fixtures.ts';

const GROUPS = ['koupleless.io', 'koupleless.alipay.com'] as const;

function md(group: string, url: string, base = 'dynamic-stock-deployment', extra: Json = {}): Json {
  return {
    apiVersion: `${group}/v1alpha1`, kind: 'ModuleDeployment', metadata: { name: 'dynamic-provider', namespace: 'team-a' },
    spec: { baseDeploymentName: base, replicas: 2, template: { spec: { module: { name: 'dynamic-provider', version: '1.0.0', url } } }, ...extra },
  };
}

function mdReview(group: string, object: Json, opts: { operation?: string; oldObject?: Json; subResource?: string } = {}): Json {
  const body = review(object, { group, kind: 'ModuleDeployment', namespace: 'team-a', ...opts });
  const r = body['request'] as Json;
  r['kind'] = r['requestKind'] = { group, version: 'v1alpha1', kind: 'ModuleDeployment' };
  r['resource'] = r['requestResource'] = { group, version: 'v1alpha1', resource: 'moduledeployments' };
  r['userInfo'] = { username: 'alice', groups: ['system:authenticated'] };
  return body;
}

function policyWith(opts: { schemes?: string[]; prefixes?: string[]; tenants?: string[] }): AdmissionPolicy {
  const jar = parseJarUrlPolicy(opts.schemes ?? ['https', 'http'], opts.prefixes ?? []);
  const ten = parseBaseTenants(opts.tenants ?? []);
  assert.equal(jar.kind, 'ok');
  assert.equal(ten.kind, 'ok');
  return { ...DEFAULT_POLICY, jarUrls: jar.kind === 'ok' ? jar.policy : DEFAULT_POLICY.jarUrls, tenancy: ten.kind === 'ok' ? ten.tenancy : DEFAULT_POLICY.tenancy };
}

const handle = (policy: AdmissionPolicy, body: Json) => createModuleDeploymentValidateHandler(policy)(body['request'] as AdmissionRequest);

for (const group of GROUPS) {
  test(`${group}: an https url is allowed by the default policy`, () => {
    assert.deepEqual(handle(DEFAULT_POLICY, mdReview(group, md(group, 'https://repo.example.com/p.jar'))), { kind: 'allowed', reason: 'valid ModuleDeployment' });
  });

  test(`${group}: a file:// url is refused at apply time with the pod rule's message, naming the field`, () => {
    const r = handle(DEFAULT_POLICY, mdReview(group, md(group, 'file:///opt/biz/p.jar')));
    assert.deepEqual(r, {
      kind: 'denied',
      message: 'ModuleDeployment "team-a/dynamic-provider": spec.template.spec.module.url: image "file:///opt/biz/p.jar" uses file://, which this cluster does not allow; allowed schemes: https, http (webhook flag --allowed-jar-url-schemes)',
      warnings: [],
    });
  });

  test(`${group}: a url off the allowed prefixes is refused; one under them is allowed`, () => {
    const policy = policyWith({ schemes: ['https'], prefixes: ['https://repo.example.com/modules/'] });
    const off = handle(policy, mdReview(group, md(group, 'https://repo.example.com.evil.test/modules/p.jar')));
    assert.equal(off.kind, 'denied');
    assert.match(off.kind === 'denied' ? off.message : '', /spec\.template\.spec\.module\.url: image "https:\/\/repo\.example\.com\.evil\.test\/modules\/p\.jar" is not under an allowed jar location; allowed prefixes: https:\/\/repo\.example\.com\/modules\/ \(webhook flag --allowed-jar-url-prefixes\)/);
    assert.equal(handle(policy, mdReview(group, md(group, 'https://repo.example.com/modules/p.jar'))).kind, 'allowed');
  });

  test(`${group}: a base reserved for other namespaces is refused; for this namespace it is allowed`, () => {
    const other = handle(policyWith({ tenants: ['pay-base=team-b'] }), mdReview(group, md(group, 'https://r.example.com/p.jar', 'pay-base')));
    assert.equal(other.kind, 'denied');
    assert.equal(other.kind === 'denied' ? other.message : '', 'ModuleDeployment "team-a/dynamic-provider": spec.baseDeploymentName: base "pay-base" is reserved for namespaces team-b: namespace "team-a" may not run modules there; ask the cluster admin to add it to --base-tenants, or name a base of your own');
    assert.equal(handle(policyWith({ tenants: ['pay-base=team-a|team-b'] }), mdReview(group, md(group, 'https://r.example.com/p.jar', 'pay-base'))).kind, 'allowed');
    assert.equal(handle(policyWith({ tenants: ['pay-base=team-b'] }), mdReview(group, md(group, 'https://r.example.com/p.jar', 'own-base'))).kind, 'allowed');
  });
}

test('both problems are reported at once', () => {
  const v = validateModuleDeployment(deepFreeze(md('koupleless.io', 'file:///p.jar', 'pay-base')), policyWith({ tenants: ['pay-base=team-b'] }), 'team-a');
  assert.equal(v.problems.length, 2);
  assert.match(v.problems[0]!, /^spec\.template\.spec\.module\.url: /);
  assert.match(v.problems[1]!, /^spec\.baseDeploymentName: /);
});

test('file:// is allowed where the operator enabled it', () => {
  assert.equal(handle(policyWith({ schemes: ['https', 'file'] }), mdReview('koupleless.io', md('koupleless.io', 'file:///opt/biz/p.jar'))).kind, 'allowed');
});

test('UPDATE ratchets: an object stored before the rule can still be changed elsewhere; a new bad url is refused', () => {
  const stored = md('koupleless.io', 'file:///opt/biz/p.jar');
  const scaled = md('koupleless.io', 'file:///opt/biz/p.jar', 'dynamic-stock-deployment', { replicas: 5 });
  const kept = handle(DEFAULT_POLICY, mdReview('koupleless.io', scaled, { operation: 'UPDATE', oldObject: stored }));
  assert.equal(kept.kind, 'allowed');
  assert.match((kept.kind === 'allowed' ? kept.warnings ?? [] : []).join(''), /^still invalid: spec\.template\.spec\.module\.url: /);
  const worse = handle(DEFAULT_POLICY, mdReview('koupleless.io', md('koupleless.io', 'file:///opt/biz/q.jar'), { operation: 'UPDATE', oldObject: stored }));
  assert.equal(worse.kind, 'denied');
  const fixedFromGood = handle(DEFAULT_POLICY, mdReview('koupleless.io', md('koupleless.io', 'file:///opt/biz/p.jar'), { operation: 'UPDATE', oldObject: md('koupleless.io', 'https://r.example.com/p.jar') }));
  assert.equal(fixedFromGood.kind, 'denied');
});

test('not ours: other kinds and groups, subresources, DELETE, a missing object', () => {
  const h = createModuleDeploymentValidateHandler(DEFAULT_POLICY);
  const base = (mdReview('koupleless.io', md('koupleless.io', 'file:///p.jar'))['request']) as AdmissionRequest;
  assert.equal(h({ ...base, kind: { group: 'example.com', version: 'v1alpha1', kind: 'ModuleDeployment' } }).kind, 'allowed');
  assert.equal(h({ ...base, kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }).kind, 'allowed');
  assert.equal(h({ ...base, subResource: 'status' }).kind, 'allowed');
  assert.equal(h({ ...base, operation: 'DELETE' }).kind, 'allowed');
  const { object: _dropped, ...noObject } = base;
  assert.deepEqual(h(noObject), { kind: 'errored', code: 400, message: 'the ModuleDeployment CREATE request has no object' });
});

test('POST /validate-module-deployment over HTTP: denied inside a well-formed AdmissionReview, UID echoed, counted under its endpoint', async () => {
  const registry = createRegistry(false);
  const app = createWebhookApp({ policy: DEFAULT_POLICY, registry, logger: createSilentLogger() });
  const body = mdReview('koupleless.alipay.com', md('koupleless.alipay.com', 'file:///opt/biz/p.jar'));
  const res = await request(app).post('/validate-module-deployment?timeout=5s').set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
  const response = (res.body as Json)['response'] as Json;
  assert.equal(response['uid'], (body['request'] as Json)['uid']);
  assert.equal(response['allowed'], false);
  assert.match(String((response['status'] as Json)['message']), /spec\.template\.spec\.module\.url: image "file:\/\/\/opt\/biz\/p\.jar" uses file:\/\//);
  const metrics = await request(app).get('/metrics').expect(200);
  assert.match(metrics.text, /module_controller_webhook_requests_total\{endpoint="validate-module-deployment",result="denied"\} 1/);
  // The workload endpoint does not judge ModuleDeployments (each route has one job).
  const onWorkloads = await request(app).post('/validate').set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
  assert.equal(((onWorkloads.body as Json)['response'] as Json)['allowed'], true);
});
