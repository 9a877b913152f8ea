// core/kube-apis.ts against the real API server: the bridge's writes with the patch types it names,
// answers as plain JSON, errors with the codes and bodies the bridge's checks read, Lease times with
// microseconds, delete preconditions.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { getTestCluster } from '../support/cluster.ts';
import { kubeHttpOf } from '../support/kube-http.ts';
import { createCoordinationApi, createCoreApi } from '../../core/kube-apis.ts';
import { PATCH } from '../../core/kube-http.ts';
import { MicroTime } from '../../core/micro-time.ts';
import { toPodStatus, toStatusPatch } from '../../bridge/pod-status.ts';
import { isUidMismatch } from '../../bridge/module-reconciler.ts';
import { isConflict, isNotFound } from '../../bridge/context.ts';

const cluster = await getTestCluster();
const core = createCoreApi(kubeHttpOf(cluster));
const coordination = createCoordinationApi(kubeHttpOf(cluster));
let ns: string;

before(async () => {
  ns = await cluster.createNamespace('kubeapis');
});

test('pod status patch: strategic merge, the answer as plain JSON metadata with the new resourceVersion, 404 and UID-mismatch errors', async () => {
  const created = await cluster.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'p1', labels: { 'module-controller.koupleless.io/component': 'module' } },
      spec: { nodeName: 'virtual-node-kube-apis-test', containers: [{ name: 'orders', image: 'https://example.invalid/orders-1.0.0-ark-biz.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] },
    },
  });
  const listed = await core.listPodForAllNamespaces({ labelSelector: 'module-controller.koupleless.io/component=module' });
  assert.ok(listed.items.some((p) => p.metadata?.uid === created.metadata?.uid), 'listed by label');
  const status = toPodStatus({ pod: created, observations: new Map([['orders', { kind: 'installing' }]]), baseIP: '192.0.2.10', baseReady: true, now: new Date() });
  const res = await core.patchNamespacedPodStatusMetadata({ name: 'p1', namespace: ns, body: toStatusPatch(created, status) }, PATCH.strategic);
  assert.notEqual(res.metadata?.resourceVersion, created.metadata?.resourceVersion);
  assert.equal(typeof res.metadata?.creationTimestamp, 'string', 'plain JSON, not the typed mapping');
  // The bridge's status writes ask for metadata only: the API server answers a PartialObjectMetadata.
  assert.equal(res.kind, 'PartialObjectMetadata');
  assert.equal(res.status, undefined, 'no status in the answer');
  const read = await cluster.core.readNamespacedPodStatus({ name: 'p1', namespace: ns });
  assert.equal(res.metadata?.resourceVersion, read.metadata?.resourceVersion, 'the answer names the version written');
  assert.equal(read.status?.podIP, '192.0.2.10');
  assert.equal(read.status?.containerStatuses?.[0]?.name, 'orders');
  const running = toPodStatus({ pod: read, observations: new Map([['orders', { kind: 'reported', state: 'ACTIVATED' }]]), baseIP: '192.0.2.10', baseReady: true, now: new Date() });
  const meta = await core.patchNamespacedPodStatusMetadata({ name: 'p1', namespace: ns, body: toStatusPatch(read, running) }, PATCH.strategic);
  const after = await cluster.core.readNamespacedPodStatus({ name: 'p1', namespace: ns });
  assert.equal(meta.metadata?.resourceVersion, after.metadata?.resourceVersion);
  assert.equal(after.status?.phase, running.phase);

  await assert.rejects(core.patchNamespacedPodStatusMetadata({ name: 'nope', namespace: ns, body: toStatusPatch(created, status) }, PATCH.strategic), (err) => isNotFound(err));
  const other = { ...created, metadata: { ...created.metadata, uid: '00000000-0000-0000-0000-000000000000' } };
  await assert.rejects(core.patchNamespacedPodStatusMetadata({ name: 'p1', namespace: ns, body: toStatusPatch(other, status) }, PATCH.strategic), (err) => isUidMismatch(err));
  // The kubelet's last step, preconditioned on the uid: another uid conflicts, the right one deletes.
  await assert.rejects(core.deleteNamespacedPod({ name: 'p1', namespace: ns, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } }), (err) => isConflict(err));
  await core.deleteNamespacedPod({ name: 'p1', namespace: ns, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: created.metadata!.uid! } } });
});

test('Event create and merge patch', async () => {
  const t = new Date();
  await core.createNamespacedEvent({
    namespace: ns,
    body: { metadata: { name: 'e1', namespace: ns }, involvedObject: { kind: 'Pod', name: 'p1', namespace: ns }, type: 'Normal', reason: 'Installing', message: 'm', firstTimestamp: t, lastTimestamp: t, count: 1, source: { component: 'test' } },
  });
  await core.patchNamespacedEvent({ name: 'e1', namespace: ns, body: { count: 2 } }, PATCH.merge);
  const e = await cluster.core.readNamespacedEvent({ name: 'e1', namespace: ns });
  assert.equal(e.count, 2);
  assert.equal(e.reason, 'Installing');
  await assert.rejects(core.patchNamespacedEvent({ name: 'gone', namespace: ns, body: { count: 2 } }, PATCH.merge), (err) => isNotFound(err));
});

test('Lease: MicroTime accepted, create conflicts when it exists, replace needs the resourceVersion read, merge patch, delete with a precondition', async () => {
  const now = new MicroTime(Date.now());
  const created = await coordination.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'l1', namespace: ns, labels: { fleet: 'x' } }, spec: { holderIdentity: 'a', leaseDurationSeconds: 10, renewTime: now, acquireTime: now } } });
  assert.match(String(created.spec?.renewTime), /\.\d{6}Z$/, 'microseconds kept');
  await assert.rejects(coordination.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'l1', namespace: ns } } }), (err) => isConflict(err));
  const replaced = await coordination.replaceNamespacedLease({ name: 'l1', namespace: ns, body: { ...created, spec: { ...created.spec, holderIdentity: 'b' } } });
  await assert.rejects(coordination.replaceNamespacedLease({ name: 'l1', namespace: ns, body: { ...created, spec: { ...created.spec, holderIdentity: 'c' } } }), (err) => isConflict(err));
  await coordination.patchNamespacedLease({ name: 'l1', namespace: ns, body: { metadata: { annotations: { a: '1' } } } }, PATCH.merge);
  const read = await coordination.readNamespacedLease({ name: 'l1', namespace: ns });
  assert.equal(read.spec?.holderIdentity, 'b');
  assert.equal(read.metadata?.annotations?.['a'], '1');
  assert.equal((await coordination.listNamespacedLease({ namespace: ns, labelSelector: 'fleet=x' })).items.length, 1);
  await assert.rejects(coordination.deleteNamespacedLease({ name: 'l1', namespace: ns, body: { preconditions: { resourceVersion: replaced.metadata!.resourceVersion! } } }), (err) => isConflict(err));
  await coordination.deleteNamespacedLease({ name: 'l1', namespace: ns, body: { preconditions: { resourceVersion: read.metadata!.resourceVersion! } } });
  await assert.rejects(coordination.readNamespacedLease({ name: 'l1', namespace: ns }), (err) => isNotFound(err));
});
