import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand } from '../../core/command.ts';
import { extenderCommand, EXTENDER_FLAGS, parsePeerService } from '../../extender/command.ts';
import { DEFAULTS } from '../../core/names.ts';

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCommand(extenderCommand, { argv, env: {}, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

test('--help lists every flag with its default', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--port', '--kubeconfig', '--tls-cert-file', '--tls-key-file', '--max-modules-per-base', '--placement-ttl', '--max-request-mb', '--bind-address']) {
    assert.match(r.stdout, new RegExp(flag));
  }
  assert.match(r.stdout, new RegExp(`--max-modules-per-base <int> .*\\(default ${DEFAULTS.maxModulesPerBase}\\)`));
  assert.equal(EXTENDER_FLAGS.maxModulesPerBase.default, DEFAULTS.maxModulesPerBase);
});

test('bad flags are all reported at once', async () => {
  const r = await run(['--port', 'x', '--max-modules-per-base', '0', '--placement-ttl', 'soon']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--port: "x" is not a whole number/);
  assert.match(r.stderr, /--max-modules-per-base: 0 is below the minimum 1/);
  assert.match(r.stderr, /--placement-ttl: "soon" is not a duration/);
});

test('a certificate without its key is refused before anything starts', async () => {
  const r = await run(['--tls-cert-file', '/nonexistent.crt', '--log-level', 'silent']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--tls-cert-file and --tls-key-file go together/);
});

test('an unreadable kubeconfig is a configuration error', async () => {
  const r = await run(['--kubeconfig', '/nonexistent/kubeconfig', '--log-level', 'silent']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot load kubeconfig \/nonexistent\/kubeconfig: ENOENT.*; pass --kubeconfig <file>/);
});

test('TLS and tenancy flags are checked together before anything starts', async () => {
  const r = await run(['--tls-client-ca-file', '/ca.crt', '--base-tenants', 'base-a', '--log-level', 'silent']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--tls-client-ca-file needs --tls-cert-file and --tls-key-file/);
  assert.match(r.stderr, /--base-tenants: "base-a" is not <baseName>=<namespace>\|<namespace>/);
  const help = await run(['--help']);
  for (const flag of ['--tls-client-ca-file', '--max-assumed-placements', '--base-tenants']) assert.match(help.stdout, new RegExp(flag));
  assert.match(help.stdout, /--max-request-mb <int> .*\(default 4\)/);
});

test('--peer-service is <namespace>/<name>, checked with the other flags before anything starts', async () => {
  const r = await run(['--peer-service', 'module-controller-extender', '--peer-timeout', '0ms', '--log-level', 'silent']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--peer-timeout: 0ms is below the minimum 1ms/);
  const bad = await run(['--peer-service', 'Koupleless/x', '--log-level', 'silent']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--peer-service "Koupleless\/x" is not <namespace>\/<name>/);
  assert.deepEqual(parsePeerService('koupleless/module-controller-extender'), { namespace: 'koupleless', service: 'module-controller-extender' });
  for (const text of ['koupleless', '/x', 'a/b/c', 'a/1x', '']) assert.equal(parsePeerService(text), undefined, text);
  const help = await run(['--help']);
  for (const flag of ['--peer-service', '--pod-name', '--peer-timeout']) assert.match(help.stdout, new RegExp(flag));
  assert.match(help.stdout, /--peer-timeout <duration> .*\(default "50ms"\)/);
});
