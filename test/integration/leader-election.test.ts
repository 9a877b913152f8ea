// Leader election against the real coordination.k8s.io API: acquire, a standby that waits, a graceful
// stop that drains then releases, and the standby taking over at its next retry instead of after the
// lease duration. (Crash takeover and failover of a whole bridge: test/integration/bridge.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSilentLogger } from '../../core/logger.ts';
import { startLeaderElection } from '../../bridge/leader-election.ts';
import { getTestCluster, eventually } from '../support/cluster.ts';

const cluster = await getTestCluster();

test('real Lease: one leader, a standby that waits, drain then release, quick handover', async () => {
  const name = `mc-election-${Date.now()}`;
  const order: string[] = [];
  const start = (identity: string, drain?: () => Promise<void>) =>
    startLeaderElection({
      coordination: cluster.coordination, name, namespace: 'default', identity, leaseDurationMs: 10_000, renewDeadlineMs: 7_000, retryPeriodMs: 500,
      drain, logger: createSilentLogger(),
      onStartedLeading: () => order.push(`${identity} started`), onStoppedLeading: () => order.push(`${identity} stopped`),
    });
  const a = start('a', async () => {
    order.push('a draining');
    await new Promise((r) => setTimeout(r, 300));
    const lease = await cluster.coordination.readNamespacedLease({ name, namespace: 'default' });
    assert.equal(lease.spec?.holderIdentity, 'a', 'still held while draining');
    order.push('a drained');
  });
  await eventually('a leads', async () => (a.isLeader() ? true : undefined), 10_000);
  const b = start('b');
  await new Promise((r) => setTimeout(r, 2_000));
  assert.equal(b.isLeader(), false, 'the standby waits while the leader renews');
  const held = await cluster.coordination.readNamespacedLease({ name, namespace: 'default' });
  assert.equal(held.spec?.holderIdentity, 'a');
  assert.equal(held.spec?.leaseDurationSeconds, 10);
  const t0 = Date.now();
  await a.stop();
  assert.equal(a.isLeader(), false);
  await eventually('b takes over the released lease', async () => (b.isLeader() ? true : undefined), 8_000, 50);
  assert.ok(Date.now() - t0 < 5_000, `handover took ${Date.now() - t0} ms, less than the 10 s lease`);
  assert.deepEqual(order, ['a started', 'a stopped', 'a draining', 'a drained', 'b started']);
  const taken = await cluster.coordination.readNamespacedLease({ name, namespace: 'default' });
  assert.equal(taken.spec?.holderIdentity, 'b');
  assert.equal(taken.spec?.leaseTransitions, 1, 'one transition of holders');
  await b.stop();
  const released = await cluster.coordination.readNamespacedLease({ name, namespace: 'default' });
  assert.equal(released.spec?.holderIdentity ?? '', '');
  await cluster.coordination.deleteNamespacedLease({ name, namespace: 'default' });
});
