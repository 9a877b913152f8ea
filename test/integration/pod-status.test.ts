// The bridge's pod status write (bridge/pod-status.ts toStatusPatch) against the real API server:
// the UID precondition, conditions merged by type, container statuses replaced whole.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { getTestCluster } from '../support/cluster.ts';
import { isSamePodStatus, toPodStatus, toStatusPatch } from '../../bridge/pod-status.ts';
import type { ModuleObservation } from '../../core/module-status.ts';
import { isUidMismatch } from '../../bridge/module-reconciler.ts';

const cluster = await getTestCluster();
const smp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
let ns: string;

before(async () => {
  ns = await cluster.createNamespace('podstatus');
});

function modulePod(name: string): k8s.V1Pod {
  return {
    metadata: { name, namespace: ns, labels: { 'module-controller.koupleless.io/component': 'module' } },
    // Bound to a node that does not exist: nothing else (no kubelet) writes this pod's status.
    spec: {
      nodeName: 'virtual-node-pod-status-test',
      readinessGates: [{ conditionType: 'example.com/gate' }],
      containers: [{ name: 'orders', image: 'https://example.invalid/orders-1.0.0-ark-biz.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }],
    },
  };
}

const obs = (o: ModuleObservation) => new Map([['orders', o]]);

async function write(pod: k8s.V1Pod, o: ModuleObservation): Promise<k8s.V1Pod> {
  const status = toPodStatus({ pod, observations: obs(o), baseIP: '192.0.2.10', baseReady: true, now: new Date() });
  return cluster.core.patchNamespacedPodStatus({ name: pod.metadata!.name!, namespace: ns, body: toStatusPatch(pod, status) }, smp);
}

test('a status patch carries the UID: a pod recreated under the same name never gets the old pod\'s status', async () => {
  const first = await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('sts-0') });
  await write(first, { kind: 'installing' });
  await cluster.core.deleteNamespacedPod({ name: 'sts-0', namespace: ns, gracePeriodSeconds: 0 });
  const second = await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('sts-0') });
  assert.notEqual(second.metadata!.uid, first.metadata!.uid);
  // A late write planned for the first pod (its UID) must be refused.
  const err = await write(first, { kind: 'reported', state: 'ACTIVATED' }).then(() => undefined, (e: unknown) => e as { code?: number; body?: string });
  assert.ok(err, 'the patch for the old UID was accepted');
  // The API server compares the patched metadata.uid with the stored pod's: 422, "field is immutable".
  assert.equal(err.code, 422, String(err.body));
  assert.ok(isUidMismatch(err), String(err.body));
  const now = await cluster.core.readNamespacedPodStatus({ name: 'sts-0', namespace: ns });
  assert.equal(now.status?.containerStatuses, undefined, 'the new pod has none of the old pod\'s status');
});

test('conditions merge by type: a condition the bridge does not own survives; readiness gates hold Ready back until True', async () => {
  const pod = await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('gated') });
  let got = await write(pod, { kind: 'reported', state: 'ACTIVATED' });
  let ready = got.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'ReadinessGatesNotReady');
  assert.match(ready?.message ?? '', /readiness gate "example\.com\/gate" does not exist/);
  assert.equal(got.status?.containerStatuses?.[0]?.state?.running !== undefined, true);
  // Someone else sets the gate and a DisruptionTarget (as the eviction path does).
  got = await cluster.core.patchNamespacedPodStatus({
    name: 'gated', namespace: ns,
    body: { status: { conditions: [{ type: 'example.com/gate', status: 'True' }, { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }] } },
  }, smp);
  // The bridge's next write was planned from a cache that already has them: Ready now, both kept.
  got = await write(got, { kind: 'reported', state: 'ACTIVATED' });
  ready = got.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.reason, undefined, 'a reason the condition no longer has is removed');
  const types = (got.status?.conditions ?? []).map((c) => c.type).sort();
  assert.deepEqual(types, ['ContainersReady', 'DisruptionTarget', 'Initialized', 'PodScheduled', 'Ready', 'example.com/gate']);
  // A write planned from a stale cache (before the gate existed) still keeps the others' conditions.
  got = await write(pod, { kind: 'installFailed', message: 'FAILED: jar not found' });
  assert.deepEqual((got.status?.conditions ?? []).map((c) => c.type).sort(), types);
  // The container's state is replaced, not merged: no running left beside waiting.
  const state = got.status?.containerStatuses?.[0]?.state;
  assert.equal(state?.running, undefined);
  assert.equal(state?.waiting?.reason, 'ModuleInstallFailed');
});

test('what is written is what is read back: the next pass over an unchanged pod finds nothing to write', async () => {
  let pod = await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('steady') });
  const steps: ModuleObservation[] = [{ kind: 'installing' }, { kind: 'reported', state: 'ACTIVATED' }, { kind: 'reported', state: 'ACTIVATED' }];
  for (const [i, o] of steps.entries()) {
    const status = toPodStatus({ pod, observations: obs(o), baseIP: '192.0.2.10', baseReady: true, now: new Date() });
    if (i === 2) {
      assert.ok(isSamePodStatus(pod.status, status), 'the third pass sees no change');
      break;
    }
    await cluster.core.patchNamespacedPodStatus({ name: 'steady', namespace: ns, body: toStatusPatch(pod, status) }, smp);
    pod = await cluster.core.readNamespacedPod({ name: 'steady', namespace: ns });
    assert.deepEqual(pod.status?.containerStatuses?.map((c) => c.name), ['orders'], `write ${i + 1}: one container status per container, nothing else`);
    assert.ok(isSamePodStatus(pod.status, status), `write ${i + 1}: read back as written`);
  }
});
