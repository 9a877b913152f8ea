// Self-managed mqtts certificates: when to create the CA or a serving certificate (a table), files
// made and renewed on an injected clock, and a broker serving them to a client that trusts ca.crt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { ensureSelfManagedTls, planSelfManagedTls, toSelfManagedTlsFiles } from '../../broker/self-managed-tls.ts';
import { startBroker } from '../../broker/mqtt-broker.ts';
import { createSilentLogger } from '../../core/logger.ts';

const H = 3_600_000;
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (h: number) => new Date(t0.getTime() + h * H);
const span = (from: number, to: number) => ({ notBefore: at(from), notAfter: at(to) });

test('planSelfManagedTls', () => {
  const cases: Array<[string, Date, ReturnType<typeof span> | undefined, ReturnType<typeof span> | undefined, string]> = [
    ['nothing yet', at(0), undefined, undefined, 'create-ca'],
    ['expired CA', at(100), span(0, 100), span(0, 50), 'create-ca'],
    ['no certificate', at(1), span(0, 1000), undefined, 'issue-cert'],
    ['fresh certificate', at(10), span(0, 1000), span(0, 90), 'keep'],
    ['a third left', at(60), span(0, 1000), span(0, 90), 'issue-cert'],
    ['certificate outlives the CA', at(10), span(0, 50), span(0, 90), 'issue-cert'],
  ];
  for (const [name, now, ca, cert, want] of cases) assert.equal(planSelfManagedTls(now, ca, cert), want, name);
});

test('ensureSelfManagedTls creates the files once and renews the serving certificate from the same CA', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-self-tls-'));
  let now = new Date();
  const o = { dir, dnsNames: ['broker.example.invalid'], ips: ['127.0.0.1'], caValidityMs: 1000 * H, certValidityMs: 90 * H, now: () => now };
  const f = toSelfManagedTlsFiles(dir);
  assert.equal(ensureSelfManagedTls(o), 'create-ca');
  const ca1 = readFileSync(f.caFile, 'utf8');
  const cert1 = readFileSync(f.certFile, 'utf8');
  assert.ok(new X509Certificate(cert1).checkIssued(new X509Certificate(ca1)));
  assert.match(new X509Certificate(cert1).subjectAltName ?? '', /broker\.example\.invalid/);
  assert.equal(ensureSelfManagedTls(o), 'keep');
  now = new Date(now.getTime() + 70 * H);
  assert.equal(ensureSelfManagedTls(o), 'issue-cert');
  assert.equal(readFileSync(f.caFile, 'utf8'), ca1);
  assert.notEqual(readFileSync(f.certFile, 'utf8'), cert1);
});

test('a broker with --tls-self-managed-dir serves a certificate clients trust through ca.crt', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-self-tls-'));
  const files = toSelfManagedTlsFiles(dir);
  const broker = await startBroker({
    auth: { kind: 'open' },
    tls: { port: 0, certFile: files.certFile, keyFile: files.keyFile, selfManaged: { dir, dnsNames: ['localhost'], ips: ['127.0.0.1'], caValidityMs: 1000 * H, certValidityMs: 90 * H, now: () => new Date() } },
    logger: createSilentLogger(),
    registry: new Registry(),
  });
  try {
    const c = await mqtt.connectAsync(broker.tlsUrl!, { clientId: 'x', reconnectPeriod: 0, ca: readFileSync(files.caFile) });
    assert.equal(c.connected, true);
    await c.endAsync();
  } finally {
    await broker.close();
  }
});
