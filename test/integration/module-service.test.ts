// Module Services on the real control plane: the Service sync creates `<bizName>-service` for a module
// Deployment that asks for one, Kubernetes' own EndpointSlice controller lists the IP of a Ready
// module pod, owners follow the workloads, a removed annotation deletes the Service, the garbage
// collector removes it with its last owner, and a Service we did not make is never touched.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { MODULE_COMPONENT_LABEL, NODE_LEASE_NAMESPACE, SERVICE_ANNOTATIONS, VNODE_TAINT, toModuleLabel } from '../../core/names.ts';
import { startServiceSync } from '../../bridge/services/service-sync.ts';
import { startPodIndex } from '../../bridge/pod-index.ts';
import { createCoreApi } from '../../core/kube-apis.ts';
import { kubeHttpOf } from '../support/kube-http.ts';

const cluster = await getTestCluster();
const { core, apps, kc } = cluster;
const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
const suffix = Math.random().toString(36).slice(2, 7);
const nodeName = `svc-test-node-${suffix}`;
// EndpointSlice validation rejects loopback (127.0.0.0/8) and link-local addresses ("may not be in the
// loopback range"), so the fake base IP comes from TEST-NET-1 (RFC 5737), which nothing routes.
const baseIp = '192.0.2.5';
const biz = 'provider';
const svcName = `${biz}-service`;
// No scheduler has this name, so nothing races our own binding of the hand-made pod.
const noScheduler = `nobody-${suffix}`;

let leader = false;
const abort = new AbortController();
const registry = new Registry();
// Module pods come from the bridge's pod index, as in the bridge (one watch shared by both).
const podSubscribers: Array<(pod: k8s.V1Pod) => void> = [];
const kube = kubeHttpOf(cluster);
const podIndex = startPodIndex({ core: createCoreApi(kube), watch: kube.watch.bind(kube) }, createSilentLogger(), (pod) => { for (const fn of podSubscribers) fn(pod); });
const sync = startServiceSync({
  kube, logger: createSilentLogger(), registry, isLeader: () => leader, signal: abort.signal, resyncMs: 10_000,
  pods: { all: () => podIndex.all(), isSynced: () => podIndex.isSynced(), isFresh: () => podIndex.isFresh(), synced: podIndex.synced, subscribe: (fn) => { podSubscribers.push(fn); } },
});
let heartbeat: NodeJS.Timeout | undefined;
let ns = '';

after(async () => {
  clearInterval(heartbeat);
  abort.abort();
  await sync.stop();
  await podIndex.stop();
  if (ns) {
    await core.deleteNamespacedPod({ name: 'module-pod', namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
  await core.deleteNode({ name: nodeName }).catch(() => undefined);
  await coordination.deleteNamespacedLease({ name: nodeName, namespace: NODE_LEASE_NAMESPACE }).catch(() => undefined);
});

const ask = (port: string, extra: Record<string, string> = {}) => ({ [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: port, ...extra });

function moduleDeployment(name: string, bizName: string, annotations: Record<string, string>): k8s.V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, [MODULE_COMPONENT_LABEL]: 'module' }, annotations },
        spec: {
          // Matches no node: the replicas stay Pending, only the hand-made pod below serves.
          nodeSelector: { 'module-service-test/none': 'true' },
          containers: [{ name: bizName, image: `https://repo.example/${bizName}-1.0.0-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }],
        },
      },
    },
  };
}

async function readService(name: string): Promise<k8s.V1Service | undefined> {
  try {
    return await core.readNamespacedService({ name, namespace: ns });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

async function findEvent(object: string, reason: string): Promise<k8s.CoreV1Event | undefined> {
  const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${object},reason=${reason}` });
  return list.items[0];
}

function readyCondition(): k8s.V1NodeCondition {
  const now = new Date();
  return { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'module-service test', lastHeartbeatTime: now, lastTransitionTime: now };
}

// A hand-made node stays Ready only while its Lease and Ready heartbeat are renewed
// (kube-controller-manager runs with --node-monitor-grace-period=20s).
async function createNode(): Promise<void> {
  await core.createNode({ body: { metadata: { name: nodeName }, spec: { taints: [{ ...VNODE_TAINT }] } } });
  await core.patchNodeStatus({
    name: nodeName,
    body: [
      { op: 'replace', path: '/status/conditions', value: [readyCondition()] },
      { op: 'replace', path: '/status/addresses', value: [{ type: 'InternalIP', address: baseIp }, { type: 'Hostname', address: nodeName }] },
      { op: 'replace', path: '/status/capacity', value: { cpu: '4', memory: '8Gi', pods: '10' } },
      { op: 'replace', path: '/status/allocatable', value: { cpu: '4', memory: '8Gi', pods: '10' } },
    ],
  });
  await coordination.createNamespacedLease({
    namespace: NODE_LEASE_NAMESPACE,
    body: { metadata: { name: nodeName }, spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: new k8s.V1MicroTime() } },
  });
  heartbeat = setInterval(() => {
    void coordination.patchNamespacedLease({ name: nodeName, namespace: NODE_LEASE_NAMESPACE, body: [{ op: 'replace', path: '/spec/renewTime', value: new k8s.V1MicroTime() }] }).catch(() => undefined);
    void core.patchNodeStatus({ name: nodeName, body: [{ op: 'replace', path: '/status/conditions', value: [readyCondition()] }] }).catch(() => undefined);
  }, 5000);
}

async function createReadyModulePod(): Promise<void> {
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'module-pod', labels: { [MODULE_COMPONENT_LABEL]: 'module', [toModuleLabel(biz)]: 'true' } },
      spec: {
        schedulerName: noScheduler,
        tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
        containers: [{ name: biz, image: `https://repo.example/${biz}-1.0.0-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }],
      },
    },
  });
  await core.createNamespacedPodBinding({
    name: 'module-pod',
    namespace: ns,
    body: { metadata: { name: 'module-pod' }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
  });
  const pod = await core.readNamespacedPod({ name: 'module-pod', namespace: ns });
  const now = new Date();
  const cond = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  pod.status = {
    phase: 'Running',
    podIP: baseIp,
    podIPs: [{ ip: baseIp }],
    hostIP: baseIp,
    hostIPs: [{ ip: baseIp }],
    startTime: now,
    conditions: [cond('PodScheduled'), cond('Initialized'), cond('ContainersReady'), cond('Ready')],
    containerStatuses: [{ name: biz, image: pod.spec!.containers[0]!.image!, imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: now } } }],
  };
  await core.replaceNamespacedPodStatus({ name: 'module-pod', namespace: ns, body: pod });
}

test('module Service: created for the asking Deployment, listed with the Ready pod IP, follows owners, removed', async () => {
  ns = await cluster.createNamespace('module-svc');
  await eventually('the Service sync caches to sync', async () => (sync.ready() ? true : undefined), 30_000);

  // A standby writes nothing.
  const deployment = await apps.createNamespacedDeployment({ namespace: ns, body: moduleDeployment(biz, biz, ask('8080')) });
  await sleep(2500);
  assert.equal(await readService(svcName), undefined, 'a non-leader must not create Services');

  leader = true;
  const svc = await eventually('the module Service', () => readService(svcName), 30_000);
  assert.equal(svc.spec?.type, 'NodePort');
  assert.deepEqual(svc.spec?.selector, { [toModuleLabel(biz)]: 'true' });
  assert.equal(svc.spec?.ports?.length, 1);
  assert.equal(svc.spec?.ports?.[0]?.name, 'http');
  assert.equal(svc.spec?.ports?.[0]?.port, 8080);
  assert.equal(svc.spec?.ports?.[0]?.targetPort, 8080);
  assert.ok(svc.spec?.ports?.[0]?.nodePort, 'the API server allocated a NodePort');
  assert.deepEqual(svc.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [['Deployment', biz, deployment.metadata?.uid]]);
  await eventually('the ServiceCreated event on the Deployment', () => findEvent(biz, 'ServiceCreated'));

  // Kubernetes' EndpointSlice controller lists the base IP of the Ready module pod.
  await createNode();
  await createReadyModulePod();
  const slice = await eventually('an EndpointSlice listing the base IP', async () => {
    const list = await discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${svcName}` });
    return list.items.find((s) => (s.endpoints ?? []).some((e) => e.addresses.includes(baseIp) && e.conditions?.ready === true));
  }, 30_000);
  assert.equal(slice.ports?.[0]?.port, 8080);
  assert.equal((slice.endpoints ?? []).find((e) => e.addresses.includes(baseIp))?.nodeName, nodeName);

  // A younger Deployment asking for other ports: it co-owns the Service, the oldest's ports stay.
  const canary = await apps.createNamespacedDeployment({ namespace: ns, body: moduleDeployment('provider-canary', biz, ask('9090')) });
  const shared = await eventually('two owners', async () => {
    const s = await readService(svcName);
    return s?.metadata?.ownerReferences?.length === 2 ? s : undefined;
  });
  assert.deepEqual(shared.metadata?.ownerReferences?.map((o) => o.uid).sort(), [deployment.metadata?.uid, canary.metadata?.uid].sort());
  assert.equal(shared.spec?.ports?.[0]?.port, 8080);
  const conflict = await eventually('the PortConflict warning on the younger Deployment', () => findEvent('provider-canary', 'PortConflict'));
  assert.equal(conflict.type, 'Warning');
  await apps.deleteNamespacedDeployment({ name: 'provider-canary', namespace: ns });
  await eventually('one owner again', async () => {
    const s = await readService(svcName);
    return s?.metadata?.ownerReferences?.length === 1 && s.metadata.ownerReferences[0]?.uid === deployment.metadata?.uid ? s : undefined;
  });

  // Type change through the annotation: the API server accepts our update (NodePort dropped).
  await apps.patchNamespacedDeployment({ name: biz, namespace: ns, body: [{ op: 'replace', path: '/spec/template/metadata/annotations', value: ask('8080', { [SERVICE_ANNOTATIONS.type]: 'ClusterIP' }) }] });
  const clusterIp = await eventually('type ClusterIP', async () => {
    const s = await readService(svcName);
    return s?.spec?.type === 'ClusterIP' ? s : undefined;
  });
  assert.equal(clusterIp.spec?.ports?.[0]?.nodePort, undefined);
  assert.equal(clusterIp.metadata?.uid, svc.metadata?.uid, 'updated in place, not recreated');

  // The annotation removed: nobody asks anymore, the Service goes and the Deployment is told.
  await apps.patchNamespacedDeployment({ name: biz, namespace: ns, body: [{ op: 'replace', path: '/spec/template/metadata/annotations', value: {} }] });
  await eventually('the Service deleted', async () => ((await readService(svcName)) === undefined ? true : undefined));
  await eventually('the ServiceDeleted event on the Deployment', () => findEvent(biz, 'ServiceDeleted'));

  // Asked again, then the bridge stops: deleting the Deployment leaves the Service to Kubernetes'
  // garbage collector through the owner reference.
  await apps.patchNamespacedDeployment({ name: biz, namespace: ns, body: [{ op: 'replace', path: '/spec/template/metadata/annotations', value: ask('8080') }] });
  await eventually('the Service back', () => readService(svcName));
  leader = false;
  await apps.deleteNamespacedDeployment({ name: biz, namespace: ns, propagationPolicy: 'Background' });
  await eventually('the Service garbage-collected', async () => ((await readService(svcName)) === undefined ? true : undefined), 30_000);
  leader = true;

  const metrics = await registry.getSingleMetricAsString('module_controller_service_reconciles_total');
  for (const outcome of ['created', 'updated', 'deleted']) {
    assert.match(metrics, new RegExp(`outcome="${outcome}"} [1-9]`), `a ${outcome} reconcile was counted`);
  }
});

test('a Service the bridge did not make is never touched, and the workload is told', async () => {
  await core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'legacy-service', labels: { team: 'theirs' } }, spec: { type: 'ClusterIP', selector: { app: 'legacy' }, ports: [{ port: 1234 }] } },
  });
  await apps.createNamespacedDeployment({ namespace: ns, body: moduleDeployment('legacy', 'legacy', ask('8080')) });
  const warning = await eventually('the NotManaged warning', () => findEvent('legacy', 'NotManaged'));
  assert.match(warning.message ?? '', /not managed by module-controller/);
  const svc = await readService('legacy-service');
  assert.deepEqual(svc?.metadata?.labels, { team: 'theirs' });
  assert.equal(svc?.metadata?.ownerReferences, undefined);
  assert.equal(svc?.spec?.ports?.[0]?.port, 1234);
  assert.deepEqual(svc?.spec?.selector, { app: 'legacy' });
});

test('a bare module pod asking for a Service gets one, its pod seen through the shared pod index', async () => {
  leader = true;
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'bare-asker', labels: { app: 'bare', [MODULE_COMPONENT_LABEL]: 'module' }, annotations: ask('8081') },
      spec: {
        schedulerName: noScheduler,
        containers: [{ name: 'barebiz', image: 'https://repo.example/barebiz-1.0.0-ark-biz.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }],
      },
    },
  });
  const svc = await eventually('barebiz-service for the bare pod', () => readService('barebiz-service'));
  assert.deepEqual(svc.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ['Pod/bare-asker']);
  await core.deleteNamespacedPod({ name: 'bare-asker', namespace: ns, gracePeriodSeconds: 0 });
});
