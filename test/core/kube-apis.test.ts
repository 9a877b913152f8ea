// core/kube-apis.ts over a fake KubeHttp that records every request: each facade method sends the
// request the generated client sent (method, path with encoded names, query, patch type, body) and
// hands back the answer as it came.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAppsApi, createCoordinationApi, createCoreApi } from '../../core/kube-apis.ts';
import { PARTIAL_METADATA_ACCEPT, PATCH, type KubeHttp, type KubeRequest } from '../../core/kube-http.ts';

function fakeKube(answer: unknown = { ok: true }) {
  const requests: KubeRequest[] = [];
  const kube: KubeHttp = {
    request: async <T>(r: KubeRequest) => {
      requests.push(r);
      return answer as T;
    },
    watch: async () => { throw new Error('not used'); },
    connectionsOpened: () => 0,
    protocol: () => 'h2' as const,
    destroy: () => undefined,
  };
  return { kube, requests };
}

type Sent = Pick<KubeRequest, 'method' | 'path'> & Partial<Pick<KubeRequest, 'query' | 'contentType' | 'body' | 'accept'>>;
const body = { metadata: { name: 'x' } };
const patch = { metadata: { labels: { a: 'b' } } };

const cases: Array<{ name: string; call: (k: KubeHttp) => Promise<unknown>; sent: Sent }> = [
  { name: 'listNode', call: (k) => createCoreApi(k).listNode({ labelSelector: 'a=b,c=d' }), sent: { method: 'GET', path: '/api/v1/nodes', query: { labelSelector: 'a=b,c=d' } } },
  { name: 'listNode without a selector', call: (k) => createCoreApi(k).listNode(), sent: { method: 'GET', path: '/api/v1/nodes' } },
  { name: 'createNode', call: (k) => createCoreApi(k).createNode({ body }), sent: { method: 'POST', path: '/api/v1/nodes', body } },
  { name: 'patchNode', call: (k) => createCoreApi(k).patchNode({ name: 'vnode.a/b', body: patch }, PATCH.merge), sent: { method: 'PATCH', path: '/api/v1/nodes/vnode.a%2Fb', body: patch, contentType: 'application/merge-patch+json' } },
  { name: 'patchNodeStatus', call: (k) => createCoreApi(k).patchNodeStatus({ name: 'n1', body: patch }, PATCH.merge), sent: { method: 'PATCH', path: '/api/v1/nodes/n1/status', body: patch, contentType: 'application/merge-patch+json' } },
  { name: 'deleteNode', call: (k) => createCoreApi(k).deleteNode({ name: 'n1' }), sent: { method: 'DELETE', path: '/api/v1/nodes/n1' } },
  { name: 'listPodForAllNamespaces', call: (k) => createCoreApi(k).listPodForAllNamespaces({ labelSelector: 'm=1' }), sent: { method: 'GET', path: '/api/v1/pods', query: { labelSelector: 'm=1' } } },
  {
    name: 'patchNamespacedPodStatusMetadata', call: (k) => createCoreApi(k).patchNamespacedPodStatusMetadata({ name: 'p 1', namespace: 'ns', body: patch }, PATCH.strategic),
    sent: { method: 'PATCH', path: '/api/v1/namespaces/ns/pods/p%201/status', body: patch, contentType: 'application/strategic-merge-patch+json', accept: PARTIAL_METADATA_ACCEPT },
  },
  {
    name: 'deleteNamespacedPod', call: (k) => createCoreApi(k).deleteNamespacedPod({ name: 'p1', namespace: 'ns', gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: 'u' } } }),
    sent: { method: 'DELETE', path: '/api/v1/namespaces/ns/pods/p1', query: { gracePeriodSeconds: 0 }, body: { gracePeriodSeconds: 0, preconditions: { uid: 'u' } } },
  },
  { name: 'createNamespacedEvent', call: (k) => createCoreApi(k).createNamespacedEvent({ namespace: 'ns', body: { ...body, involvedObject: {} } }), sent: { method: 'POST', path: '/api/v1/namespaces/ns/events', body: { ...body, involvedObject: {} } } },
  { name: 'patchNamespacedEvent', call: (k) => createCoreApi(k).patchNamespacedEvent({ name: 'e.1', namespace: 'ns', body: { count: 2 } }, PATCH.merge), sent: { method: 'PATCH', path: '/api/v1/namespaces/ns/events/e.1', body: { count: 2 }, contentType: 'application/merge-patch+json' } },
  { name: 'createNamespacedService', call: (k) => createCoreApi(k).createNamespacedService({ namespace: 'ns', body, fieldManager: 'fm' }), sent: { method: 'POST', path: '/api/v1/namespaces/ns/services', body, query: { fieldManager: 'fm' } } },
  { name: 'replaceNamespacedService', call: (k) => createCoreApi(k).replaceNamespacedService({ namespace: 'ns', name: 's', body, fieldManager: 'fm' }), sent: { method: 'PUT', path: '/api/v1/namespaces/ns/services/s', body, query: { fieldManager: 'fm' } } },
  { name: 'deleteNamespacedService', call: (k) => createCoreApi(k).deleteNamespacedService({ namespace: 'ns', name: 's', body: { preconditions: { uid: 'u' } } }), sent: { method: 'DELETE', path: '/api/v1/namespaces/ns/services/s', body: { preconditions: { uid: 'u' } } } },
  { name: 'readNamespacedService', call: (k) => createCoreApi(k).readNamespacedService({ namespace: 'ns', name: 's' }), sent: { method: 'GET', path: '/api/v1/namespaces/ns/services/s' } },
  { name: 'listServiceForAllNamespaces', call: (k) => createCoreApi(k).listServiceForAllNamespaces({ labelSelector: 'x' }), sent: { method: 'GET', path: '/api/v1/services', query: { labelSelector: 'x' } } },
  { name: 'listNamespacedLease', call: (k) => createCoordinationApi(k).listNamespacedLease({ namespace: 'kube-node-lease' }), sent: { method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases' } },
  { name: 'listNamespacedLease by label', call: (k) => createCoordinationApi(k).listNamespacedLease({ namespace: 'ns', labelSelector: 'f=b' }), sent: { method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases', query: { labelSelector: 'f=b' } } },
  { name: 'readNamespacedLease', call: (k) => createCoordinationApi(k).readNamespacedLease({ namespace: 'ns', name: 'l' }), sent: { method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l' } },
  { name: 'createNamespacedLease', call: (k) => createCoordinationApi(k).createNamespacedLease({ namespace: 'ns', body }), sent: { method: 'POST', path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases', body } },
  { name: 'replaceNamespacedLease', call: (k) => createCoordinationApi(k).replaceNamespacedLease({ namespace: 'ns', name: 'l', body }), sent: { method: 'PUT', path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', body } },
  { name: 'patchNamespacedLease', call: (k) => createCoordinationApi(k).patchNamespacedLease({ namespace: 'ns', name: 'l', body: patch }, PATCH.merge), sent: { method: 'PATCH', path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', body: patch, contentType: 'application/merge-patch+json' } },
  { name: 'deleteNamespacedLease', call: (k) => createCoordinationApi(k).deleteNamespacedLease({ namespace: 'ns', name: 'l', body: { preconditions: { resourceVersion: '7' } } }), sent: { method: 'DELETE', path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', body: { preconditions: { resourceVersion: '7' } } } },
  { name: 'readNamespacedReplicaSet', call: (k) => createAppsApi(k).readNamespacedReplicaSet({ namespace: 'ns', name: 'rs-1' }), sent: { method: 'GET', path: '/apis/apps/v1/namespaces/ns/replicasets/rs-1' } },
  { name: 'readNamespacedControllerRevision', call: (k) => createAppsApi(k).readNamespacedControllerRevision({ namespace: 'ns', name: 'web-7d4b9c' }), sent: { method: 'GET', path: '/apis/apps/v1/namespaces/ns/controllerrevisions/web-7d4b9c' } },
  { name: 'listDeploymentForAllNamespaces', call: (k) => createAppsApi(k).listDeploymentForAllNamespaces(), sent: { method: 'GET', path: '/apis/apps/v1/deployments' } },
  { name: 'listStatefulSetForAllNamespaces', call: (k) => createAppsApi(k).listStatefulSetForAllNamespaces(), sent: { method: 'GET', path: '/apis/apps/v1/statefulsets' } },
  { name: 'listDaemonSetForAllNamespaces', call: (k) => createAppsApi(k).listDaemonSetForAllNamespaces(), sent: { method: 'GET', path: '/apis/apps/v1/daemonsets' } },
  { name: 'listReplicaSetForAllNamespaces', call: (k) => createAppsApi(k).listReplicaSetForAllNamespaces({ labelSelector: 'x' }), sent: { method: 'GET', path: '/apis/apps/v1/replicasets', query: { labelSelector: 'x' } } },
];

for (const c of cases) {
  test(`${c.name}: sends the generated client's request and returns the answer as it came`, async () => {
    const answer = { metadata: { resourceVersion: '9', creationTimestamp: '2026-01-01T00:00:00Z' } };
    const { kube, requests } = fakeKube(answer);
    assert.equal(await c.call(kube), answer);
    assert.equal(requests.length, 1);
    const r = requests[0]!;
    assert.deepEqual({ method: r.method, path: r.path, query: r.query, contentType: r.contentType, body: r.body, accept: r.accept }, { query: undefined, contentType: undefined, body: undefined, accept: undefined, ...c.sent });
  });
}

test('an API error passes through unchanged (callers check its code and body)', async () => {
  const err = Object.assign(new Error('conflict'), { code: 409, body: '{"reason":"Conflict"}' });
  const kube: KubeHttp = { request: async () => { throw err; }, watch: async () => { throw err; }, connectionsOpened: () => 0,
    protocol: () => 'h2' as const, destroy: () => undefined };
  await assert.rejects(createCoordinationApi(kube).replaceNamespacedLease({ name: 'l', namespace: 'ns', body }), (e) => e === err);
});
