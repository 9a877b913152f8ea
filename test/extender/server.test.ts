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
import { PeerPush, type PeerTls } from '../../extender/peer-push.ts';
import { createExtenderMetrics } from '../../extender/metrics.ts';
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

function callWithCert(port: number, ca: string, path: string, client?: { certPem: string; keyPem: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method: path === '/healthz' ? 'GET' : 'POST', path, ca, servername: 'localhost', headers: { 'content-type': 'application/json' }, agent: false, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(path === '/healthz' ? undefined : JSON.stringify({ Pod: toPod(), NodeNames: ['a'] }));
  });
}

test('client certificates: /filter and /prioritize only for a client signed by the client CA; probes stay open; the CA reloads', async () => {
  const now = new Date();
  const ca = createCa('server-ca', 3_600_000, now);
  const serving = issueCert(ca, { commonName: 'extender', dnsNames: ['localhost'], ips: ['127.0.0.1'], validForMs: 3_600_000, usage: 'server', now });
  const clientCa = createCa('scheduler-ca', 3_600_000, now);
  const scheduler = issueCert(clientCa, { commonName: 'module-scheduler', dnsNames: [], ips: [], validForMs: 3_600_000, usage: 'client', now });
  const otherCa = createCa('other-ca', 3_600_000, now);
  const stranger = issueCert(otherCa, { commonName: 'stranger', dnsNames: [], ips: [], validForMs: 3_600_000, usage: 'client', now });
  const registry = createRegistry(false);
  const server = await startExtenderServer({
    kc: unreachableCluster(),
    logger: createSilentLogger(),
    registry,
    port: 0,
    host: '127.0.0.1',
    maxModulesPerBase: 100,
    placementTtlMs: 30_000,
    maxBodyBytes: 1024 * 1024,
    tls: { cert: serving.certPem, key: serving.keyPem, ca: clientCa.certPem },
    requireClientCert: true,
  });
  try {
    assert.equal((await callWithCert(server.port, ca.certPem, '/healthz')).status, 200, 'a kubelet probe sends no certificate');
    for (const path of ['/filter', '/prioritize']) {
      const anonymous = await callWithCert(server.port, ca.certPem, path);
      assert.equal(anonymous.status, 401, path);
      assert.match(JSON.parse(anonymous.body).Error, /^EXTENDER_UNAUTHORIZED: a client certificate signed by --tls-client-ca-file is required/);
      assert.equal((await callWithCert(server.port, ca.certPem, path, stranger)).status, 401, `${path}: another CA's client`);
    }
    const ok = await callWithCert(server.port, ca.certPem, '/filter', scheduler);
    assert.equal(ok.status, 200);
    assert.match(JSON.parse(ok.body).Error, /module extender is starting/, 'past authentication: the informers are what is missing');
    // A new client CA (rotation): the old client is refused, the new one accepted.
    server.setTls({ cert: serving.certPem, key: serving.keyPem, ca: otherCa.certPem });
    assert.equal((await callWithCert(server.port, ca.certPem, '/filter', scheduler)).status, 401);
    assert.equal((await callWithCert(server.port, ca.certPem, '/filter', stranger)).status, 200);
    const metrics = await registry.metrics();
    assert.match(metrics, /module_controller_extender_request_duration_seconds_count\{verb="filter",outcome="unauthorized"\} 3/);
    for (const certificate of ['serving', 'client-ca']) {
      const at = Number(new RegExp(`^module_controller_extender_cert_expiry_timestamp_seconds\\{certificate="${certificate}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
      assert.ok(Math.abs(at - (now.getTime() + 3_600_000) / 1000) < 120, `${certificate}: ${at}`);
    }
  } finally {
    await server.close();
  }
});

test('peers over HTTPS with client certificates: a replica\'s serving certificate is its client certificate; strangers and a wrong server name get nowhere', async () => {
  const now = new Date();
  const ca = createCa('extender-ca', 3_600_000, now);
  // What the chart issues: one certificate per Service name, good for serving and as a client.
  const serving = issueCert(ca, { commonName: 'extender', dnsNames: ['extender.koupleless.svc'], ips: [], validForMs: 3_600_000, usage: 'both', now });
  const stranger = issueCert(createCa('other-ca', 3_600_000, now), { commonName: 'stranger', dnsNames: ['extender.koupleless.svc'], ips: [], validForMs: 3_600_000, usage: 'both', now });
  const server = await startExtenderServer({
    kc: unreachableCluster(),
    logger: createSilentLogger(),
    registry: createRegistry(false),
    port: 0,
    host: '127.0.0.1',
    maxModulesPerBase: 100,
    placementTtlMs: 30_000,
    maxBodyBytes: 1024 * 1024,
    tls: { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem },
    requireClientCert: true,
  });
  const placement = { podUid: 'u1', nodeName: 'virtual-node-1', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }], ttlMs: 30_000 };
  const pushWith = async (tls: PeerTls) => {
    const registry = createRegistry(false);
    const push = new PeerPush({ logger: createSilentLogger(), metrics: createExtenderMetrics(registry, () => 0), timeoutMs: 2_000, tls });
    push.setPeers([{ key: `127.0.0.1:${server.port}`, address: '127.0.0.1', port: server.port, podName: 'ext-b' }]);
    await push.push(placement);
    push.close();
    return /module_controller_extender_peer_pushes_total\{outcome="(\w+)"\} 1/.exec(await registry.metrics())?.[1];
  };
  try {
    assert.equal(await pushWith({ cert: stranger.certPem, key: stranger.keyPem, ca: ca.certPem, serverName: 'extender.koupleless.svc' }), 'error', 'another CA\'s client: 401');
    assert.equal(await pushWith({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, serverName: 'extender.other.svc' }), 'error', 'not the name the peers\' certificate carries');
    assert.equal(server.snapshot.assumedCount, 0);
    assert.equal(await pushWith({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, serverName: 'extender.koupleless.svc' }), 'ok');
    assert.equal(server.snapshot.assumedCount, 1, 'taken before the informers synced');
  } finally {
    await server.close();
  }
});
