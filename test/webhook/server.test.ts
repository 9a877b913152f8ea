import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { createCa, issueCert, type KeyPair } from '../../core/pki.ts';
import { createMemoryCaStore } from '../../webhook/ca-store.ts';
import { createCertFileWatcher } from '../../webhook/cert-files.ts';
import { DEFAULT_POLICY } from '../../webhook/policy.ts';
import { startWebhookServer, type TlsSource } from '../../webhook/server.ts';
import { toLatestExpiry } from '../../core/cert-expiry.ts';
import { replicaSetPod, review, type Json } from './fixtures.ts';

const HOUR = 3_600_000;

function start(tls: TlsSource, now: () => Date) {
  return startWebhookServer({
    policy: DEFAULT_POLICY,
    host: '127.0.0.1',
    port: 0,
    keepAliveTimeoutMs: 5_000,
    tls,
    checkIntervalMs: 50,
    registration: { mode: 'none' },
    mutatingName: 'x',
    validatingName: 'x',
    excludedNamespaces: ['kube-system'],
    timeoutSeconds: 5,
    logger: createSilentLogger(),
    registry: createRegistry(false),
    now,
  });
}

/** One fresh TLS connection (no agent reuse): the peer certificate's serial and the response. */
function call(port: number, ca: string, method: string, urlPath: string, body?: string): Promise<{ serial: string; status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: urlPath, ca, agent: false, servername: 'localhost', headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ serial, status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('self-managed certs: serves HTTPS trusted by its caBundle, rotates the serving cert without a restart', async () => {
  // Real time (TLS clients check validity against the real clock): a 4 s certificate renewed 2 s ahead.
  const running = await start({ kind: 'managed', store: createMemoryCaStore(), certPolicy: { caValidityMs: 90 * 24 * HOUR, servingValidityMs: 4_000, renewBeforeMs: 2_000, commonName: 'webhook', dnsNames: ['localhost'], ips: ['127.0.0.1'] } }, () => new Date());
  try {
    const ca = running.caBundlePem()!;
    const first = await call(running.port, ca, 'GET', '/readyz');
    assert.equal(first.status, 200);
    const body = JSON.stringify(review(replicaSetPod()));
    const mutated = await call(running.port, ca, 'POST', '/mutate', body);
    assert.equal(((JSON.parse(mutated.text) as Json)['response'] as Json)['patchType'], 'JSONPatch');
    const second = await until('a new serving certificate', async () => {
      const r = await call(running.port, ca, 'GET', '/healthz');
      return r.serial !== first.serial ? r : undefined;
    });
    assert.equal(second.status, 200);
    const metrics = await call(running.port, ca, 'GET', '/metrics');
    const serving = Number(/^module_controller_webhook_cert_expiry_timestamp_seconds\{certificate="serving"\} (\S+)$/m.exec(metrics.text)?.[1]);
    const caExpiry = Number(/^module_controller_webhook_cert_expiry_timestamp_seconds\{certificate="ca"\} (\S+)$/m.exec(metrics.text)?.[1]);
    assert.ok(Math.abs(serving - Date.now() / 1000) < 10, `the 4 s serving certificate: ${serving}`);
    assert.ok(Math.abs(caExpiry - (Date.now() + 90 * 24 * HOUR) / 1000) < 60, `the 90-day CA: ${caExpiry}`);
    assert.match(metrics.text, /module_controller_build_info\{version="\d+\.\d+\.\d+[^"]*",node_version="v\d+[^"]*"\} 1/);
  } finally {
    await running.close();
  }
});

test('--tls-cert-file/--tls-key-file: served, and reloaded when the files change', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-webhook-files-'));
  const ca = createCa('test-ca', 24 * HOUR, new Date());
  const write = (pair: KeyPair) => {
    writeFileSync(path.join(dir, 'tls.crt'), pair.certPem);
    writeFileSync(path.join(dir, 'tls.key'), pair.keyPem);
  };
  const issue = () => issueCert(ca, { commonName: 'webhook', dnsNames: ['localhost'], validForMs: HOUR, usage: 'server', now: new Date() });
  write(issue());
  const running = await start({ kind: 'files', certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key') }, () => new Date());
  try {
    const first = await call(running.port, ca.certPem, 'GET', '/readyz');
    assert.equal(first.status, 200);
    // A half-written pair (new cert, old key) is ignored: still served from the old pair.
    const next = issue();
    writeFileSync(path.join(dir, 'tls.crt'), next.certPem);
    await sleep(200);
    assert.equal((await call(running.port, ca.certPem, 'GET', '/healthz')).serial, first.serial);
    writeFileSync(path.join(dir, 'tls.key'), next.keyPem);
    await until('the reloaded certificate', async () => {
      const r = await call(running.port, ca.certPem, 'GET', '/healthz');
      return r.serial !== first.serial ? r : undefined;
    });
  } finally {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cert file watcher: unreadable files at start are a CERT_FAILED error', async () => {
  const watcher = createCertFileWatcher({ certFile: '/nonexistent/tls.crt', keyFile: '/nonexistent/tls.key', logger: createSilentLogger(), onChange: () => undefined });
  await assert.rejects(watcher.check(), (err: Error & { code?: string }) => err.code === 'CERT_FAILED' && /could not be loaded/.test(err.message));
});

test('toLatestExpiry: the latest notAfter of a PEM bundle; garbage is skipped', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const short = createCa('short', HOUR, now);
  const long = createCa('long', 48 * HOUR, now);
  const bundle = `${short.certPem}\n-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n${long.certPem}`;
  const latest = toLatestExpiry(bundle)!;
  assert.ok(Math.abs(latest.getTime() - (now.getTime() + 48 * HOUR)) < 120_000, latest.toISOString());
  assert.equal(toLatestExpiry('nothing'), undefined);
});
