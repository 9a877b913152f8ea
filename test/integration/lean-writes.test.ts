// core/lean-writes.ts against the real API server: the same writes as the generated client (path,
// content type from the options' middleware, authentication, rate limit), answers as plain JSON,
// errors with the codes and bodies the bridge's checks read.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { getTestCluster } from '../support/cluster.ts';
import { loadKubeConfig } from '../../core/kubeconfig.ts';
import { withLeanWrites } from '../../core/lean-writes.ts';
import { toPodStatus, toStatusPatch } from '../../bridge/pod-status.ts';
import { isUidMismatch } from '../../bridge/module-reconciler.ts';
import { isNotFound } from '../../bridge/context.ts';

const cluster = await getTestCluster();
const smp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
let ns: string;
let waits = 0;
const kc = loadKubeConfig(cluster.kubeconfig, { qps: 1000, burst: 1000 });
const limited = kc as unknown as { applySecurityAuthentication(c: unknown): Promise<void> };
const auth = limited.applySecurityAuthentication.bind(kc);
limited.applySecurityAuthentication = async (c) => { waits++; await auth(c); };
const lean = withLeanWrites(kc.makeApiClient(k8s.CoreV1Api), kc);

before(async () => {
  ns = await cluster.createNamespace('leanwrites');
});

test('lean pod status patch: strategic merge, the answer as plain JSON with the new resourceVersion, 404 and UID-mismatch errors as before', async () => {
  const created = await cluster.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'p1', labels: { 'module-controller.koupleless.io/component': 'module' } },
      spec: { nodeName: 'virtual-node-lean-test', containers: [{ name: 'orders', image: 'https://example.invalid/orders-1.0.0-ark-biz.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] },
    },
  });
  const status = toPodStatus({ pod: created, observations: new Map([['orders', { kind: 'installing' }]]), baseIP: '192.0.2.10', baseReady: true, now: new Date() });
  const before = waits;
  const res = await lean.patchNamespacedPodStatus({ name: 'p1', namespace: ns, body: toStatusPatch(created, status) }, smp);
  assert.equal(waits, before + 1, 'authentication (and with it the rate limit) ran once');
  assert.notEqual(res.metadata?.resourceVersion, created.metadata?.resourceVersion);
  assert.equal(typeof res.metadata?.creationTimestamp, 'string', 'plain JSON, not the typed mapping');
  assert.equal(res.status?.podIP, '192.0.2.10');
  const read = await cluster.core.readNamespacedPodStatus({ name: 'p1', namespace: ns });
  assert.equal(read.status?.containerStatuses?.[0]?.name, 'orders');

  await assert.rejects(lean.patchNamespacedPodStatus({ name: 'nope', namespace: ns, body: toStatusPatch(created, status) }, smp), (err) => isNotFound(err));
  const other = { ...created, metadata: { ...created.metadata, uid: '00000000-0000-0000-0000-000000000000' } };
  await assert.rejects(lean.patchNamespacedPodStatus({ name: 'p1', namespace: ns, body: toStatusPatch(other, status) }, smp), (err) => isUidMismatch(err));
});

test('lean Event create and merge patch', async () => {
  const t = new Date();
  await lean.createNamespacedEvent({
    namespace: ns,
    body: { metadata: { name: 'e1', namespace: ns }, involvedObject: { kind: 'Pod', name: 'p1', namespace: ns }, type: 'Normal', reason: 'Installing', message: 'm', firstTimestamp: t, lastTimestamp: t, count: 1, source: { component: 'test' } },
  });
  await lean.patchNamespacedEvent({ name: 'e1', namespace: ns, body: { count: 2 } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  const e = await cluster.core.readNamespacedEvent({ name: 'e1', namespace: ns });
  assert.equal(e.count, 2);
  assert.equal(e.reason, 'Installing');
  await assert.rejects(lean.patchNamespacedEvent({ name: 'gone', namespace: ns, body: { count: 2 } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)), (err) => isNotFound(err));
});
