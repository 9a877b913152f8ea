// The assembled server without a cluster: HTTPS with a given certificate, hot-swapped; not ready
// (and saying why) while the informers cannot reach the API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { createCa, issueCert } from '../../core/pki.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { startExtenderServer } from '../../extender/server.ts';
import { toPod } from './fixtures.ts';

function unreachableCluster(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

function call(port: number, ca: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: string; subject: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path, ca, servername: 'localhost', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      const subject = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, subject }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('serves HTTPS, swaps its certificate, and reports not ready while the API server is unreachable', async () => {
  const now = new Date();
  const ca = createCa('test-ca', 3_600_000, now);
  const first = issueCert(ca, { commonName: 'extender-1', dnsNames: ['localhost'], ips: ['127.0.0.1'], validForMs: 3_600_000, usage: 'server', now });
  const second = issueCert(ca, { commonName: 'extender-2', dnsNames: ['localhost'], ips: ['127.0.0.1'], validForMs: 3_600_000, usage: 'server', now });
  const server = await startExtenderServer({
    kc: unreachableCluster(),
    logger: createSilentLogger(),
    registry: createRegistry(false),
    port: 0,
    host: '127.0.0.1',
    maxModulesPerBase: 100,
    placementTtlMs: 30_000,
    maxBodyBytes: 1024 * 1024,
    tls: { cert: first.certPem, key: first.keyPem },
  });
  try {
    const health = await call(server.port, ca.certPem, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.subject, 'extender-1');
    const ready = await call(server.port, ca.certPem, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.body, /informers not synced yet: virtual nodes/);
    const filter = await call(server.port, ca.certPem, 'POST', '/filter', { Pod: toPod(), NodeNames: ['a'] });
    assert.equal(filter.status, 200);
    assert.match(JSON.parse(filter.body).Error, /module extender is starting/);
    server.setTls({ cert: second.certPem, key: second.keyPem });
    assert.equal((await call(server.port, ca.certPem, 'GET', '/healthz')).subject, 'extender-2');
  } finally {
    await server.close();
  }
});
