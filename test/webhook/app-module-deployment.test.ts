// The ModuleDeployment route of the webhook app (webhook/app.ts), over HTTP in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { createWebhookApp } from '../../webhook/app.ts';
import { DEFAULT_POLICY } from '../../webhook/policy.ts';
import { review, type Json } from './fixtures.ts';

const md = (replicas: number): Json => ({
  apiVersion: 'koupleless.alipay.com/v1alpha1', kind: 'ModuleDeployment', metadata: { name: 'dynamic-provider', namespace: 'demo' },
  spec: { baseDeploymentName: 'dynamic-stock-deployment', replicas, template: { spec: { module: { name: 'dynamic-provider', version: '1.0.0', url: 'https://repo.example.com/p.jar' } } } },
});

test('POST /mutate-module-deployment with v1 replicas: -1 → 200, patched to peer mode, UID echoed, counted under its endpoint', async () => {
  const registry = createRegistry(false);
  const app = createWebhookApp({ policy: DEFAULT_POLICY, registry, logger: createSilentLogger() });
  const body = review(md(-1), { group: 'koupleless.alipay.com', kind: 'ModuleDeployment' });
  (body['request'] as Json)['kind'] = { group: 'koupleless.alipay.com', version: 'v1alpha1', kind: 'ModuleDeployment' };
  const res = await request(app).post('/mutate-module-deployment?timeout=5s').set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
  const response = (res.body as Json)['response'] as Json;
  assert.equal(response['uid'], (body['request'] as Json)['uid']);
  assert.equal(response['allowed'], true);
  assert.equal(response['patchType'], 'JSONPatch');
  const patch = JSON.parse(Buffer.from(response['patch'] as string, 'base64').toString()) as Array<{ op: string; path: string; value?: unknown }>;
  assert.deepEqual(patch.map((o) => `${o.op} ${o.path}`).sort(), ['add /metadata/annotations', 'add /spec/peer', 'replace /spec/replicas']);
  const metrics = await request(app).get('/metrics').expect(200);
  assert.match(metrics.text, /module_controller_webhook_requests_total\{endpoint="mutate-module-deployment",result="patched"\} 1/);
  // The pod endpoint does not rewrite ModuleDeployments (each route has one job).
  const onPods = await request(app).post('/mutate').set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
  assert.equal(((onPods.body as Json)['response'] as Json)['patch'], undefined);
  // GET is refused inside a well-formed envelope, like the other admission paths.
  const get = await request(app).get('/mutate-module-deployment').expect(200);
  assert.equal(((get.body as Json)['response'] as Json)['allowed'], false);
});
