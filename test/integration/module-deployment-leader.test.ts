// The module-deployment controller's leader election on the real control plane: one replica holds
// its own Lease and acts; a standby takes over when the leader stops (it hands the Lease back).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { runInProcess } from '../../sandbox/run-in-process.ts';
import { findFreePort } from '../../sandbox/free-port.ts';
import { moduleDeploymentCommand } from '../../moduledeployment/command.ts';
import { installModuleDeploymentCrds } from '../../moduledeployment/install-crds.ts';

const cluster = await getTestCluster();

test('one replica leads through its own Lease; the standby takes over when the leader stops; /readyz and /metrics are served', async () => {
  await installModuleDeploymentCrds(cluster.kc);
  const lease = `md-leader-${Math.random().toString(36).slice(2, 8)}`;
  const start = async (id: string) => {
    const stop = new AbortController();
    const port = await findFreePort();
    const done = runInProcess(moduleDeploymentCommand, ['--log-level', 'warn', '--ops-port', String(port), '--kubeconfig', cluster.kubeconfig, '--instance-id', id, '--leader-lease-name', lease, '--leader-lease-namespace', 'default', '--leader-lease-duration', '3s'], { signal: stop.signal });
    return { port, stop: async () => { stop.abort(); await done; } };
  };
  const a = await start('md-a');
  const holder = async () => (await cluster.coordination.readNamespacedLease({ name: lease, namespace: 'default' }).catch(() => undefined))?.spec?.holderIdentity;
  await eventually('md-a holds the lease', async () => ((await holder()) === 'md-a' ? true : undefined), 20_000);
  const b = await start('md-b');
  await eventually('md-b ready', async () => ((await fetch(`http://127.0.0.1:${b.port}/readyz`)).ok ? true : undefined), 20_000);
  assert.equal(await holder(), 'md-a', 'the standby does not take a live lease');
  const metrics = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
  assert.match(metrics, /# TYPE module_controller_module_deployment_reconciles_total counter/);
  await a.stop();
  await eventually('md-b takes over', async () => ((await holder()) === 'md-b' ? true : undefined), 20_000);
  await b.stop();
});
