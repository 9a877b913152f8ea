// The keep-alive HTTP library under the generated API clients, against a local HTTPS server that
// speaks just enough of the Kubernetes API: one TLS connection for many requests, bearer token and
// client certificate auth applied per request, chunked bodies, API errors, and a kept socket the
// server closed while idle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { createCa, issueCert } from '../../core/pki.ts';
import { withSharedAgents, withRateLimit } from '../../core/kubeconfig.ts';

const now = new Date();
const ca = createCa('test-ca', 3_600_000, now);
const serverCert = issueCert(ca, { commonName: '127.0.0.1', ips: ['127.0.0.1'], validForMs: 3_600_000, usage: 'server', now });
const clientCert = issueCert(ca, { commonName: 'bridge', validForMs: 3_600_000, usage: 'client', now });

interface Seen { connections: number; auth: string[]; clientCns: string[]; bodies: string[] }

async function startServer(handler?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean) {
  const seen: Seen = { connections: 0, auth: [], clientCns: [], bodies: [] };
  const server = https.createServer({ key: serverCert.keyPem, cert: serverCert.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.auth.push(req.headers.authorization ?? '');
      seen.clientCns.push(String((req.socket as TLSSocket).getPeerCertificate()?.subject?.CN ?? ''));
      seen.bodies.push(body);
      if (handler?.(req, res)) return;
      if (req.url?.startsWith('/api/v1/namespaces/missing')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'namespaces "missing" not found' }));
        return;
      }
      if (req.url?.startsWith('/api/v1/namespaces')) {
        const name = req.method === 'POST' ? (JSON.parse(body) as { metadata: { name: string } }).metadata.name : req.url.split('/')[4]!.split('?')[0]!;
        res.writeHead(200, { 'content-type': 'application/json' });
        // Chunked on purpose: node-fetch 2 misread these on reused sockets.
        res.write(`{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"${name}"`);
        res.end(`,"labels":{"body":${JSON.stringify(body.length)}}}}`);
        return;
      }
      res.writeHead(500);
      res.end();
    });
  });
  server.on('secureConnection', () => seen.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { seen, server, port, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function kubeConfig(port: number, user: { token?: string; certData?: string; keyData?: string }): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caData: Buffer.from(ca.certPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return withSharedAgents(kc);
}

test('many API calls share one kept-alive TLS connection; bearer token on each; chunked bodies parse', async () => {
  const s = await startServer();
  try {
    const core = kubeConfig(s.port, { token: 'secret-token' }).makeApiClient(k8s.CoreV1Api);
    for (let i = 0; i < 5; i++) assert.equal((await core.readNamespace({ name: `ns${i}` })).metadata?.name, `ns${i}`);
    const ns = await core.createNamespace({ body: { metadata: { name: 'created' } } });
    assert.equal(ns.metadata?.name, 'created');
    assert.ok(Number(ns.metadata?.labels?.['body']) > 10, 'the request body reached the server');
    assert.equal(s.seen.connections, 1, 'six sequential requests, one TLS connection');
    assert.deepEqual(new Set(s.seen.auth), new Set(['Bearer secret-token']));
    // Parallel requests open more connections, then reuse them.
    await Promise.all(Array.from({ length: 4 }, (_, i) => core.readNamespace({ name: `p${i}` })));
    const after = s.seen.connections;
    await Promise.all(Array.from({ length: 4 }, (_, i) => core.readNamespace({ name: `q${i}` })));
    assert.equal(s.seen.connections, after, 'the second parallel round reuses the kept sockets');
  } finally {
    await s.close();
  }
});

test('a client certificate is presented; an API error is an ApiException with its code and body', async () => {
  const s = await startServer();
  try {
    const core = kubeConfig(s.port, { certData: Buffer.from(clientCert.certPem).toString('base64'), keyData: Buffer.from(clientCert.keyPem).toString('base64') }).makeApiClient(k8s.CoreV1Api);
    await core.readNamespace({ name: 'a' });
    await assert.rejects(core.readNamespace({ name: 'missing' }), (err: unknown) => {
      const e = err as { code?: number; body?: unknown };
      assert.equal(e.code, 404);
      assert.match(String(e.body), /not found/);
      return true;
    });
    await core.readNamespace({ name: 'b' });
    assert.deepEqual(s.seen.clientCns, ['bridge', 'bridge', 'bridge']);
    assert.equal(s.seen.connections, 1, 'the error response did not cost the connection');
  } finally {
    await s.close();
  }
});

test('a kept socket the server closed while idle: the next request goes on a new connection', async () => {
  const s = await startServer();
  try {
    const core = kubeConfig(s.port, { token: 't' }).makeApiClient(k8s.CoreV1Api);
    await core.readNamespace({ name: 'a' });
    s.server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await core.readNamespace({ name: 'b' })).metadata?.name, 'b');
    assert.equal(s.seen.connections, 2);
  } finally {
    await s.close();
  }
});

test('the rate limiter still runs before each request of a keep-alive client', async () => {
  const s = await startServer();
  try {
    let asked = 0;
    const kc = withRateLimit(kubeConfig(s.port, { token: 't' }), { reserve: () => 0, wait: () => { asked++; return Promise.resolve(); } });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.readNamespace({ name: 'a' });
    await core.readNamespace({ name: 'b' });
    assert.equal(asked, 2);
    assert.equal(s.seen.connections, 1);
  } finally {
    await s.close();
  }
});

test('withSharedAgents: one agent per distinct TLS options, compared by content (fresh buffers per request)', () => {
  const kc = kubeConfig(1, { token: 't' });
  const create = (kc as unknown as { createAgent: (c: unknown, o: Record<string, unknown>) => unknown }).createAgent;
  const cluster = kc.getCurrentCluster();
  const a = create(cluster, { ca: Buffer.from(ca.certPem), cert: Buffer.from(clientCert.certPem), key: Buffer.from(clientCert.keyPem) });
  const b = create(cluster, { ca: Buffer.from(ca.certPem), cert: Buffer.from(clientCert.certPem), key: Buffer.from(clientCert.keyPem) });
  const c = create(cluster, { ca: Buffer.from(ca.certPem), cert: Buffer.from(serverCert.certPem), key: Buffer.from(serverCert.keyPem) });
  const d = create(cluster, { ca: Buffer.from(ca.certPem), cert: Buffer.from(clientCert.certPem), key: Buffer.from(clientCert.keyPem), rejectUnauthorized: false });
  assert.equal(a, b, 'equal content, one agent');
  assert.notEqual(a, c, 'another client certificate, another agent');
  assert.notEqual(a, d, 'another verification setting, another agent');
});
