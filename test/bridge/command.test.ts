import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand } from '../../core/command.ts';
import { bridgeCommand } from '../../bridge/command.ts';

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCommand(bridgeCommand, { argv, env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

test('--help lists the leader-election timings and the API rate limit with their defaults', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--leader-renew-deadline', '--leader-retry-period']) assert.match(r.stdout, new RegExp(flag));
  assert.match(r.stdout, /--kube-api-qps <int> .*\(default 200\)/);
  assert.match(r.stdout, /--kube-api-burst <int> .*\(default 400\)/);
});

test('leader timings that allow two leaders are refused before anything starts', async () => {
  // The kubeconfig does not exist: the timings must be refused before it is even read.
  const base = ['--kubeconfig', '/nonexistent/kubeconfig', '--log-level', 'silent'];
  let r = await run([...base, '--leader-lease-duration', '4s']);
  assert.doesNotMatch(r.stderr, /leader/, 'defaults scale with the lease');
  r = await run([...base, '--leader-lease-duration', '4s', '--leader-renew-deadline', '5s']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--leader-renew-deadline \(5000 ms\) must be shorter than --leader-lease-duration \(4000 ms\)/);
  r = await run([...base, '--leader-renew-deadline', '3s', '--leader-retry-period', '3s']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--leader-retry-period \(3000 ms\) must be shorter than --leader-renew-deadline \(3000 ms\)/);
});

test('without --kubeconfig the bridge reads the in-cluster service account named by the environment it was given', async () => {
  let r = await run(['--log-level', 'silent']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set.*--kubeconfig/);
  // With the pod's environment it goes on to the service account's files (absent here).
  r = await run(['--log-level', 'silent'], { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /serviceaccount\/ca\.crt.*automountServiceAccountToken/);
});
