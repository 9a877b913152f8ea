// `module-controller broker` flags: refuses to start open unless told, reports every problem at once;
// `--hash-password` prints a hash the credentials file accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseFlags } from '../../core/flags.ts';
import { BROKER_FLAGS, toBrokerOptions, type BrokerFlagValues } from '../../broker/command.ts';
import { parseCredentials, parsePasswordHash, verifyPassword, type PasswordHash } from '../../broker/credentials.ts';

function flags(...argv: string[]): BrokerFlagValues {
  const r = parseFlags(BROKER_FLAGS, argv, {});
  assert.equal(r.kind, 'ok');
  return (r as { values: BrokerFlagValues }).values;
}

test('without credentials the broker refuses to start, saying how to fix it', () => {
  assert.throws(() => toBrokerOptions(flags()), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && /no credentials: give --credentials-file/.test(err.message) && /--allow-anonymous/.test(err.message));
});

test('--allow-anonymous starts it open; credentials make it authenticate', () => {
  assert.equal(toBrokerOptions(flags('--allow-anonymous')).auth.kind, 'open');
  assert.equal(toBrokerOptions(flags('--credentials-file', '/x')).auth.kind, 'credentials');
  const o = toBrokerOptions(flags('--bridge-username', 'b', '--bridge-password', 'p', '--tls-cert-file', 'c', '--tls-key-file', 'k', '--tls-client-ca-file', 'ca', '--plain-listener=false'));
  assert.equal(o.auth.kind, 'credentials');
  assert.equal(o.port, undefined);
  assert.deepEqual(o.tls, { port: 8883, certFile: 'c', keyFile: 'k', clientCaFile: 'ca' });
});

test('every problem is reported at once', () => {
  assert.throws(
    () => toBrokerOptions(flags('--allow-anonymous', '--base-username', 'x', '--tls-cert-file', 'c', '--tls-client-ca-file', 'ca', '--bridge-username', 'x', '--bridge-password', 'p', '--base-password', 'q')),
    (err: Error) => ['--bridge-username and --base-username must differ', '--allow-anonymous cannot be combined', '--tls-cert-file and --tls-key-file go together'].every((p) => err.message.includes(p)),
  );
  assert.throws(() => toBrokerOptions(flags('--base-username', 'x')), /--base-username and --base-password go together/);
  assert.throws(() => toBrokerOptions(flags('--allow-anonymous', '--plain-listener=false')), /leaves no listener/);
  assert.throws(() => toBrokerOptions(flags('--allow-anonymous', '--tls-self-managed-dir', '/d', '--tls-cert-file', 'c', '--tls-key-file', 'k')), /exclude each other/);
});

test('--tls-self-managed-dir serves the files the broker keeps in that folder', () => {
  const o = toBrokerOptions(flags('--allow-anonymous', '--tls-self-managed-dir', '/d', '--tls-dns-names', 'mqtt.example.invalid', '--plain-listener=false'));
  assert.equal(o.tls?.certFile, '/d/tls.crt');
  assert.equal(o.tls?.keyFile, '/d/tls.key');
  assert.deepEqual(o.tls?.selfManaged?.dnsNames, ['mqtt.example.invalid']);
  assert.equal(o.port, undefined);
});

test('--hash-password prints a hash of the password on stdin that the credentials file accepts', async () => {
  const r = spawnSync(process.execPath, ['cli/main.ts', 'broker', '--hash-password'], { input: 'pa ss\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const hash = r.stdout.trim();
  assert.ok(parseCredentials(`u base ${hash}`, 'x').ok);
  assert.equal(await verifyPassword(parsePasswordHash(hash) as PasswordHash, 'pa ss'), true);
  const empty = spawnSync(process.execPath, ['cli/main.ts', 'broker', '--hash-password'], { input: '', encoding: 'utf8' });
  assert.notEqual(empty.status, 0);
  assert.match(empty.stderr + empty.stdout, /no password on stdin/);
});
