import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { createWebhookApp } from '../../webhook/app.ts';
import { DEFAULT_POLICY, type AdmissionPolicy } from '../../webhook/policy.ts';
import { moduleContainer, podTemplate, replicaSetPod, review, workload, type Json } from './fixtures.ts';

function build(opts: { policy?: AdmissionPolicy; ready?: () => string | undefined; maxBodyBytes?: number } = {}) {
  const registry = createRegistry(false);
  const app = createWebhookApp({ policy: opts.policy ?? DEFAULT_POLICY, registry, logger: createSilentLogger(), ...opts });
  return { app, registry };
}

function expectEnvelope(body: Json, uid: string): Json {
  assert.equal(body['apiVersion'], 'admission.k8s.io/v1');
  assert.equal(body['kind'], 'AdmissionReview');
  const response = body['response'] as Json;
  assert.equal(response['uid'], uid);
  return response;
}

test('POST /mutate with a module pod → 200, patched, UID echoed, base64 JSONPatch', async () => {
  const { app } = build();
  const body = review(replicaSetPod());
  const uid = (body['request'] as Json)['uid'] as string;
  const res = await request(app).post('/mutate').set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
  assert.match(res.headers['content-type']!, /application\/json/);
  const response = expectEnvelope(res.body as Json, uid);
  assert.equal(response['allowed'], true);
  assert.equal(response['patchType'], 'JSONPatch');
  const patch = JSON.parse(Buffer.from(response['patch'] as string, 'base64').toString()) as Array<{ path: string }>;
  assert.ok(patch.some((op) => op.path === '/spec/schedulerName'));
});

test('the API server\'s ?timeout=10s query (and a trailing slash) is accepted', async () => {
  const { app } = build();
  const body = review(replicaSetPod());
  const res = await request(app).post('/mutate/?timeout=10s').set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
  assert.equal(expectEnvelope(res.body as Json, (body['request'] as Json)['uid'] as string)['patchType'], 'JSONPatch');
});

test('POST /validate denies a bad module Deployment with a 403 status and the message', async () => {
  const { app } = build();
  const body = review(workload('Deployment', podTemplate({ containers: [{ ...moduleContainer('biz1'), env: [] }] })));
  const res = await request(app).post('/validate').set('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body)).expect(200);
  const response = expectEnvelope(res.body as Json, (body['request'] as Json)['uid'] as string);
  assert.equal(response['allowed'], false);
  assert.deepEqual(response['status'], { code: 403, reason: 'Forbidden', message: 'Deployment "demo/biz1": container "biz1": env BIZ_VERSION is missing; set it to the module version from pom.xml' });
  assert.ok(Array.isArray(response['warnings']));
});

const UID = 'b5a3c2d1-0000-4000-8000-000000000001';
const malformed: Array<{ name: string; contentType?: string; body?: string; uid: string; code: number; message: RegExp; allowed?: boolean }> = [
  { name: 'empty body', contentType: 'application/json', body: '', uid: '', code: 400, message: /body is empty/ },
  { name: 'no body and no content type', uid: '', code: 400, message: /body is empty/ },
  { name: 'wrong content type (UID still echoed)', contentType: 'text/plain', body: JSON.stringify(review(replicaSetPod()) as Json).replace(/"uid":"[^"]+"/, `"uid":"${UID}"`), uid: UID, code: 415, message: /content type "text\/plain" is not supported/ },
  { name: 'wrong content type, garbage body', contentType: 'application/x-www-form-urlencoded', body: 'a=b', uid: '', code: 415, message: /not supported/ },
  { name: 'invalid JSON', contentType: 'application/json', body: '{"kind":"AdmissionReview",', uid: '', code: 400, message: /not JSON/ },
  { name: 'JSON but not an object', contentType: 'application/json', body: '[1,2,3]', uid: '', code: 400, message: /not an AdmissionReview/ },
  { name: 'AdmissionReview without request', contentType: 'application/json', body: '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', uid: '', code: 400, message: /has no request/ },
  { name: 'request without uid', contentType: 'application/json', body: '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}}', uid: '', code: 400, message: /no uid/ },
  { name: 'request without kind', contentType: 'application/json', body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${UID}","operation":"CREATE"}}`, uid: UID, code: 400, message: /no kind/ },
  { name: 'request without operation', contentType: 'application/json', body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${UID}","kind":{"group":"","version":"v1","kind":"Pod"}}}`, uid: UID, code: 400, message: /no operation/ },
  { name: 'v1beta1 review', contentType: 'application/json', body: `{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"${UID}"}}`, uid: UID, code: 400, message: /admissionReviewVersions \[v1\]/ },
];

for (const endpoint of ['/mutate', '/validate']) {
  for (const c of malformed) {
    test(`POST ${endpoint} ${c.name} → 200 with an errored AdmissionReview (${c.code})`, async () => {
      const { app } = build();
      let req = request(app).post(endpoint);
      if (c.contentType) req = req.set('content-type', c.contentType);
      const res = c.body !== undefined ? await req.send(c.body) : await req;
      assert.equal(res.status, 200);
      const response = expectEnvelope(JSON.parse(res.text) as Json, c.uid);
      assert.equal(response['allowed'], false);
      const status = response['status'] as Json;
      assert.equal(status['code'], c.code);
      assert.match(status['message'] as string, c.message);
    });
  }
  test(`POST ${endpoint} unknown kind → allowed (the safe choice for something we do not handle)`, async () => {
    const { app } = build();
    const body = review({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'demo' }, data: {} }, { group: '' });
    const res = await request(app).post(endpoint).set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
    const response = expectEnvelope(res.body as Json, (body['request'] as Json)['uid'] as string);
    assert.equal(response['allowed'], true);
    assert.equal(response['patch'], undefined);
  });
  test(`GET ${endpoint} → an errored envelope (405)`, async () => {
    const { app } = build();
    const res = await request(app).get(endpoint).expect(200);
    assert.equal(((res.body as Json)['response'] as Json)['allowed'], false);
    assert.equal((((res.body as Json)['response'] as Json)['status'] as Json)['code'], 405);
  });
}

test('a body over the limit → 413 inside the envelope; a several-MB real object fits the default limit', async () => {
  const small = build({ maxBodyBytes: 1024 });
  const body = JSON.stringify(review(replicaSetPod({ annotations: { big: 'x'.repeat(4096) } })));
  const res = await request(small.app).post('/mutate').set('content-type', 'application/json').send(body).expect(200);
  const status = ((res.body as Json)['response'] as Json)['status'] as Json;
  assert.equal(status['code'], 413);
  const { app } = build();
  const big = review(replicaSetPod({ annotations: { big: 'x'.repeat(3 * 1024 * 1024) } }));
  const ok = await request(app).post('/mutate').set('content-type', 'application/json').send(JSON.stringify(big)).expect(200);
  assert.equal(((ok.body as Json)['response'] as Json)['allowed'], true);
});

test('a handler that throws → errored 500 with the UID, the process keeps serving', async () => {
  const exploding = new Proxy({} as AdmissionPolicy, { get: () => { throw new Error('boom'); } });
  const { app } = build({ policy: exploding });
  const body = review(replicaSetPod());
  const res = await request(app).post('/mutate').set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
  const response = expectEnvelope(res.body as Json, (body['request'] as Json)['uid'] as string);
  assert.deepEqual(response['status'], { code: 500, message: 'internal error: boom' });
  await request(app).get('/healthz').expect(200, 'ok');
});

test('/healthz, /readyz (with the reason when not ready) and /metrics by endpoint and result', async () => {
  let reason: string | undefined = 'no serving certificate yet';
  const { app } = build({ ready: () => reason });
  await request(app).get('/healthz').expect(200, 'ok');
  await request(app).get('/readyz').expect(503, 'not ready: no serving certificate yet');
  reason = undefined;
  await request(app).get('/readyz').expect(200, 'ok');
  await request(app).post('/mutate').set('content-type', 'application/json').send(JSON.stringify(review(replicaSetPod())));
  await request(app).post('/validate').set('content-type', 'application/json').send('nope');
  const res = await request(app).get('/metrics').expect(200);
  assert.match(res.text, /module_controller_webhook_requests_total\{endpoint="mutate",result="patched"\} 1/);
  assert.match(res.text, /module_controller_webhook_requests_total\{endpoint="validate",result="errored"\} 1/);
  assert.match(res.text, /module_controller_webhook_request_duration_seconds_bucket\{le="0.005",endpoint="mutate",result="patched"\} 1/);
});
