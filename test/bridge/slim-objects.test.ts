import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Lease, V1Node, V1Pod } from '@kubernetes/client-node';
import { BASE_IDENTITY_ANNOTATION, BASE_LAST_HEARD_ANNOTATION, MODULE_COMPONENT_LABEL, toNodeName } from '../../core/names.ts';
import { planAdoption } from '../../bridge/adopt-nodes.ts';
import { planModules } from '../../bridge/plan-modules.ts';
import { planNode, toLiveness } from '../../bridge/plan-node.ts';
import { isSamePodStatus, toPodStatus, toStatusPatch } from '../../bridge/pod-status.ts';
import { toClaims } from '../../bridge/module-claims.ts';
import { LAST_APPLIED_ANNOTATION, toSlimNode, toSlimPod } from '../../bridge/slim-objects.ts';
import { BASE_ID, BASE_IP, SETTINGS, T0, toBase, toHealth, toJarUrl, toOp, toReported } from './fixtures.ts';

const NODE = toNodeName(BASE_ID);
const iso = (ms: number) => new Date(ms).toISOString();

/** A managedFields entry as the API server writes one per field manager (the bulk of a cached pod). */
function toManagedFields(manager: string, subresource?: string): unknown {
  return {
    manager, operation: 'Update', apiVersion: 'v1', time: iso(T0), fieldsType: 'FieldsV1', ...(subresource ? { subresource } : {}),
    fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, [`f:${MODULE_COMPONENT_LABEL}`]: {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"orders"}': { '.': {}, 'f:env': {}, 'f:image': {}, 'f:name': {}, 'f:resources': {} } }, 'f:tolerations': {} } },
  };
}

/** A module pod as `GET /api/v1/pods` returns it: every field the API server fills in. */
function toApiPod(o: { name: string; modules: Array<[string, string]>; deployment?: [string, string]; deleting?: number; readinessGate?: string; status?: 'new' | 'running' | 'failed'; restartPolicy?: string }): V1Pod {
  const containers = o.modules.map(([name, version]) => ({
    name, image: toJarUrl(name, version), imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
    env: [{ name: 'JAVA_OPTS', value: '-Xmx1g' }, { name: 'BIZ_VERSION', value: version }, { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
    volumeMounts: [{ name: 'kube-api-access-x2k9p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
  }));
  const running = o.status === 'running' || o.status === 'failed';
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: o.name, namespace: 'shop', uid: `uid-${o.name}`, resourceVersion: '48213', generation: 1,
      creationTimestamp: new Date(T0 - 60_000),
      labels: { [MODULE_COMPONENT_LABEL]: 'module', app: 'orders', ...(o.deployment ? { 'pod-template-hash': o.deployment[1] } : {}) },
      annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ big: 'x'.repeat(2000) }), 'prometheus.io/scrape': 'true' },
      ...(o.deployment ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${o.deployment[0]}-${o.deployment[1]}`, uid: `rs-${o.deployment[1]}`, controller: true, blockOwnerDeletion: true }] } : {}),
      ...(o.deleting !== undefined ? { deletionTimestamp: new Date(o.deleting), deletionGracePeriodSeconds: 30 } : {}),
      managedFields: [toManagedFields('kube-controller-manager'), toManagedFields('module-controller', 'status')],
    },
    spec: {
      nodeName: NODE, restartPolicy: o.restartPolicy ?? 'Always', containers, schedulerName: 'module-scheduler', serviceAccountName: 'default', serviceAccount: 'default',
      dnsPolicy: 'ClusterFirst', enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority', priority: 0, securityContext: {}, terminationGracePeriodSeconds: 30,
      tolerations: [{ key: 'schedule.koupleless.io/virtual-node', operator: 'Equal', value: 'True', effect: 'NoExecute' }, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      volumes: [{ name: 'kube-api-access-x2k9p', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } }],
      ...(o.readinessGate ? { readinessGates: [{ conditionType: o.readinessGate }] } : {}),
    },
    status: o.status === undefined || o.status === 'new'
      ? { phase: 'Pending', qosClass: 'Burstable', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(T0 - 59_000) }] }
      : {
        phase: o.status === 'failed' ? 'Failed' : 'Running', qosClass: 'Burstable', hostIP: BASE_IP, hostIPs: [{ ip: BASE_IP }], podIP: BASE_IP, podIPs: [{ ip: BASE_IP }], startTime: iso(T0 - 50_000),
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(T0 - 59_000) },
          { type: 'Initialized', status: 'True', lastTransitionTime: iso(T0 - 50_000) },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: iso(T0 - 40_000) },
          { type: 'Ready', status: 'True', lastTransitionTime: iso(T0 - 40_000) },
          ...(o.readinessGate ? [{ type: o.readinessGate, status: 'False', lastTransitionTime: iso(T0 - 30_000) }] : []),
        ],
        containerStatuses: o.modules.map(([name, version]) => ({ name, image: toJarUrl(name, version), imageID: toJarUrl(name, version), ready: running, started: running, restartCount: 0, state: { running: { startedAt: iso(T0 - 40_000) } } })),
      },
  };
  return pod as unknown as V1Pod;
}

const PODS: V1Pod[] = [
  toApiPod({ name: 'bare', modules: [['cart', '0.0.1-SNAPSHOT']], status: 'running' }),
  toApiPod({ name: 'new', modules: [['pay', '1.0.0'], ['ship', '2.1.0']] }),
  toApiPod({ name: 'orders-old', modules: [['orders', '1.0.0']], deployment: ['orders', 'aaa11'], status: 'running' }),
  toApiPod({ name: 'orders-new', modules: [['orders', '2.0.0']], deployment: ['orders', 'bbb22'] }),
  toApiPod({ name: 'going', modules: [['gone', '1.0.0']], deleting: T0 + 20_000, status: 'running' }),
  toApiPod({ name: 'gated', modules: [['gate', '1.0.0']], readinessGate: 'example.com/lb', status: 'running' }),
  toApiPod({ name: 'failed', modules: [['bad', '1.0.0']], status: 'failed', restartPolicy: 'Never' }),
];

const BASE = toBase({
  health: toHealth(),
  modules: [toReported('base', '1.0.0'), toReported('cart', '0.0.1-SNAPSHOT'), toReported('orders', '1.0.0'), toReported('gone', '1.0.0'), toReported('gate', '1.0.0'), toReported('stray', '9.9.9'), toReported('ship', '2.1.0', 'DEACTIVATED')],
  ops: [toOp({ kind: 'install', bizName: 'pay', bizVersion: '1.0.0', sentAt: T0 - 1_000 }), toOp({ kind: 'install', bizName: 'bad', bizVersion: '1.0.0', result: { ok: false, code: 'FAILED', message: 'boom', at: T0 - 5_000 } })],
});

test('a slim pod drops managedFields, last-applied, unread spec fields and env, and keeps what the bridge reads', () => {
  const full = PODS[2]!;
  const slim = toSlimPod(full);
  assert.equal((slim.metadata as Record<string, unknown>)['managedFields'], undefined);
  assert.deepEqual(slim.metadata?.annotations, { 'prometheus.io/scrape': 'true' });
  assert.deepEqual(Object.keys(slim.spec!).sort(), ['containers', 'nodeName', 'restartPolicy']);
  assert.deepEqual(slim.spec!.containers, [{ name: 'orders', image: toJarUrl('orders', '1.0.0'), env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }]);
  assert.deepEqual(slim.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'orders-aaa11', uid: 'rs-aaa11', controller: true }]);
  assert.deepEqual(slim.status, full.status);
  assert.ok(JSON.stringify(slim).length < JSON.stringify(full).length / 3, 'a third of the size or less');
  // Pure: the input is not changed.
  assert.ok((full.metadata as Record<string, unknown>)['managedFields']);
});

test('the planners decide the same on full and slim pods (planModules, toClaims, toPodStatus, isSamePodStatus, toStatusPatch)', () => {
  const slim = PODS.map(toSlimPod);
  for (const podsFresh of [true, false]) {
    for (const now of [T0, T0 + 25_000, T0 + 200_000]) {
      const input = { base: BASE, liveness: toLiveness(BASE, now, SETTINGS), podsFresh, settings: SETTINGS, now };
      assert.deepEqual(planModules({ ...input, pods: slim }), planModules({ ...input, pods: PODS }), `podsFresh ${podsFresh}, now ${now}`);
    }
  }
  assert.deepEqual(toClaims(slim), toClaims(PODS));
  const plan = planModules({ base: BASE, liveness: toLiveness(BASE, T0, SETTINGS), pods: PODS, podsFresh: true, settings: SETTINGS, now: T0 });
  PODS.forEach((full, i) => {
    for (const baseReady of [true, false]) {
      const observations = plan.observations.get(`shop/${full.metadata!.name!}`) ?? new Map();
      const of = (pod: V1Pod) => toPodStatus({ pod, observations, baseIP: BASE_IP, baseReady, now: new Date(T0) });
      const [a, b] = [of(full), of(slim[i]!)];
      assert.deepEqual(b, a, full.metadata!.name);
      assert.equal(isSamePodStatus(slim[i]!.status, a), isSamePodStatus(full.status, a), full.metadata!.name);
      assert.deepEqual(toStatusPatch(slim[i]!, b), toStatusPatch(full, a));
    }
  });
});

/** A virtual node as the API returns it. */
function toApiNode(o: { ready: 'True' | 'False'; heartbeat: number; labels?: Record<string, string>; taint?: boolean; memory?: string }): V1Node {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: NODE, uid: 'node-uid', resourceVersion: '991', creationTimestamp: new Date(T0 - 3_600_000),
      labels: o.labels ?? {},
      annotations: { [BASE_IDENTITY_ANNOTATION]: BASE_ID, 'node.alpha.kubernetes.io/ttl': '0' },
      managedFields: [toManagedFields('module-controller') as never, toManagedFields('module-controller', 'status') as never],
    },
    spec: o.taint === false ? {} : { taints: [{ key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' }] },
    status: {
      addresses: [{ type: 'InternalIP', address: BASE_IP }, { type: 'Hostname', address: 'base-7d9f8c6b5-x2kq9' }],
      capacity: { cpu: '100', memory: o.memory ?? '16Gi', pods: '100' }, allocatable: { cpu: '100', memory: o.memory ?? '16Gi', pods: '100' },
      conditions: [{ type: 'Ready', status: o.ready, reason: o.ready === 'True' ? 'BaseReady' : 'BaseUnreachable', message: 'm', lastHeartbeatTime: new Date(o.heartbeat), lastTransitionTime: new Date(T0 - 600_000) }],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: { architecture: 'amd64', bootID: '', containerRuntimeVersion: 'koupleless://base:1.0.0', kernelVersion: '', kubeProxyVersion: '', kubeletVersion: 'module-controller/0.1.0', machineID: BASE_ID, operatingSystem: 'linux', osImage: 'Koupleless base', systemUUID: BASE_ID },
      images: [{ names: ['x'.repeat(200)], sizeBytes: 1 }],
    },
  };
}

test('planNode and planAdoption decide the same on full and slim nodes', () => {
  const current = planNode(BASE, undefined, SETTINGS, new Date(T0));
  assert.equal(current.action, 'create');
  const labels = current.action === 'create' ? current.node.metadata!.labels! : {};
  const nodes = [
    toApiNode({ ready: 'True', heartbeat: T0 - 5_000, labels }),
    toApiNode({ ready: 'True', heartbeat: T0 - 90_000, labels }),
    toApiNode({ ready: 'False', heartbeat: T0 - 5_000, labels }),
    toApiNode({ ready: 'True', heartbeat: T0 - 5_000, labels: { ...labels, 'base.koupleless.io/version': '0.9' } }),
    toApiNode({ ready: 'True', heartbeat: T0 - 5_000, labels, taint: false, memory: '2Gi' }),
  ];
  const bases = [BASE, toBase({ lastHeartbeatAt: T0 - 40_000 }), toBase({ state: 'deactivated' }), toBase({ lastHeartbeatAt: T0 - 700_000 })];
  for (const full of nodes) {
    const slim = toSlimNode(full);
    assert.equal((slim.metadata as Record<string, unknown>)['managedFields'], undefined);
    assert.equal(slim.status?.nodeInfo, undefined);
    for (const base of bases) assert.deepEqual(planNode(base, slim, SETTINGS, new Date(T0)), planNode(base, full, SETTINGS, new Date(T0)));
  }
  const leases = new Map<string, V1Lease>([[NODE, { metadata: { name: NODE, annotations: { [BASE_LAST_HEARD_ANNOTATION]: iso(T0 - 12_000) } } }]]);
  for (const l of [leases, new Map<string, V1Lease>()]) assert.deepEqual(planAdoption(nodes.map(toSlimNode), l, T0, 30_000), planAdoption(nodes, l, T0, 30_000));
});
