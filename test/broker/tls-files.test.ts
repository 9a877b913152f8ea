// The mqtts files watcher: loads, reloads on change, and keeps serving the previous set when a new
// one does not load (half-written, mismatched); fails clearly when nothing ever loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTlsFileWatcher, type TlsMaterial } from '../../broker/tls-files.ts';
import { createCa, issueCert } from '../../core/pki.ts';
import { createSilentLogger } from '../../core/logger.ts';

const now = new Date();
const ca = createCa('t', 86_400_000, now);
const a = issueCert(ca, { commonName: 'a', validForMs: 86_400_000, usage: 'server', now });
const b = issueCert(ca, { commonName: 'b', validForMs: 86_400_000, usage: 'server', now });

test('loads, ignores an unchanged set, reloads a changed one, keeps the previous on a broken one', async () => {
  const files: Record<string, string> = { cert: a.certPem, key: a.keyPem, ca: ca.certPem };
  const seen: TlsMaterial[] = [];
  const w = createTlsFileWatcher({ certFile: 'cert', keyFile: 'key', clientCaFile: 'ca' }, createSilentLogger(), (m) => seen.push(m), async (p) => files[p]!);
  assert.equal(await w.check(), true);
  assert.equal(await w.check(), false);
  files['cert'] = b.certPem; // key not written yet: mismatched pair
  assert.equal(await w.check(), false);
  assert.equal(w.current()?.cert, a.certPem);
  files['key'] = b.keyPem;
  assert.equal(await w.check(), true);
  assert.deepEqual(seen.map((m) => m.cert), [a.certPem, b.certPem]);
  assert.equal(seen[1]?.ca, ca.certPem);
});

test('a set that never loaded fails with CERT_FAILED naming the files', async () => {
  const w = createTlsFileWatcher({ certFile: '/nope/tls.crt', keyFile: '/nope/tls.key' }, createSilentLogger(), () => undefined);
  await assert.rejects(w.check(), (err: Error & { code?: string }) => err.code === 'CERT_FAILED' && /\/nope\/tls\.crt/.test(err.message));
});
