/**
 * The bridge's Kubernetes calls over core/kube-http.ts: the same method names and parameter objects
 * as @kubernetes/client-node's CoreV1Api, CoordinationV1Api and AppsV1Api, for exactly the calls the
 * bridge makes, so its reconcilers and their unit-test doubles read the same. Answers are the API
 * server's JSON as parsed (times stay RFC 3339 text, as a watch delivers them), typed with client-node's
 * models through `import type` only: this file loads nothing of client-node.
 *
 * Differences from client-node, on purpose:
 * - a patch names its patch type as the second argument (client-node: `setHeaderOptions('Content-Type', ...)`);
 * - pod status patches are `patchNamespacedPodStatusMetadata` (the bridge's status writes): the answer is the pod's metadata only;
 * - only the parameters the bridge passes exist; a call needing another adds it here, with a test.
 * Errors are core/kube-http.ts's KubeApiError (`code` = HTTP status, `body` = answer text).
 */
import type * as k8s from '@kubernetes/client-node';
import { PARTIAL_METADATA_ACCEPT, type KubeHttp, type PatchType } from './kube-http.ts';

const enc = encodeURIComponent;

type Named = { readonly name: string };
type Namespaced = { readonly namespace: string };
type WithBody<B> = { readonly body: B };
type Selected = { readonly labelSelector?: string | undefined };
type Delete = { readonly body?: k8s.V1DeleteOptions | undefined; readonly gracePeriodSeconds?: number | undefined };

export interface CoreApi {
  listNode(p?: Selected): Promise<k8s.V1NodeList>;
  createNode(p: WithBody<k8s.V1Node>): Promise<k8s.V1Node>;
  patchNode(p: Named & WithBody<object>, type: PatchType): Promise<k8s.V1Node>;
  patchNodeStatus(p: Named & WithBody<object>, type: PatchType): Promise<k8s.V1Node>;
  deleteNode(p: Named & Delete): Promise<k8s.V1Status>;
  listPodForAllNamespaces(p?: Selected): Promise<k8s.V1PodList>;
  /** A pod status patch, answered with the pod's metadata only (PartialObjectMetadata; the full pod from a server that cannot). Not in client-node. */
  patchNamespacedPodStatusMetadata(p: Named & Namespaced & WithBody<object>, type: PatchType): Promise<{ readonly kind?: string; readonly metadata?: k8s.V1ObjectMeta; readonly status?: k8s.V1PodStatus }>;
  deleteNamespacedPod(p: Named & Namespaced & Delete): Promise<k8s.V1Pod>;
  createNamespacedEvent(p: Namespaced & WithBody<k8s.CoreV1Event>): Promise<k8s.CoreV1Event>;
  patchNamespacedEvent(p: Named & Namespaced & WithBody<object>, type: PatchType): Promise<k8s.CoreV1Event>;
  createNamespacedService(p: Namespaced & WithBody<k8s.V1Service> & { readonly fieldManager?: string | undefined }): Promise<k8s.V1Service>;
  replaceNamespacedService(p: Named & Namespaced & WithBody<k8s.V1Service> & { readonly fieldManager?: string | undefined }): Promise<k8s.V1Service>;
  deleteNamespacedService(p: Named & Namespaced & Delete): Promise<k8s.V1Service>;
  readNamespacedService(p: Named & Namespaced): Promise<k8s.V1Service>;
  listServiceForAllNamespaces(p?: Selected): Promise<k8s.V1ServiceList>;
}

export interface CoordinationApi {
  listNamespacedLease(p: Namespaced & Selected): Promise<k8s.V1LeaseList>;
  readNamespacedLease(p: Named & Namespaced): Promise<k8s.V1Lease>;
  createNamespacedLease(p: Namespaced & WithBody<k8s.V1Lease>): Promise<k8s.V1Lease>;
  replaceNamespacedLease(p: Named & Namespaced & WithBody<k8s.V1Lease>): Promise<k8s.V1Lease>;
  patchNamespacedLease(p: Named & Namespaced & WithBody<object>, type: PatchType): Promise<k8s.V1Lease>;
  deleteNamespacedLease(p: Named & Namespaced & Delete): Promise<k8s.V1Status>;
}

export interface AppsApi {
  readNamespacedReplicaSet(p: Named & Namespaced): Promise<k8s.V1ReplicaSet>;
  readNamespacedControllerRevision(p: Named & Namespaced): Promise<k8s.V1ControllerRevision>;
  listDeploymentForAllNamespaces(p?: Selected): Promise<k8s.V1DeploymentList>;
  listStatefulSetForAllNamespaces(p?: Selected): Promise<k8s.V1StatefulSetList>;
  listDaemonSetForAllNamespaces(p?: Selected): Promise<k8s.V1DaemonSetList>;
  listReplicaSetForAllNamespaces(p?: Selected): Promise<k8s.V1ReplicaSetList>;
}

/** The five verbs on one resource path, as the generated clients send them. */
function verbs(kube: KubeHttp) {
  return {
    get: <T>(path: string, query?: Record<string, string | number | undefined>) => kube.request<T>({ method: 'GET', path, ...(query ? { query } : {}) }),
    post: <T>(path: string, body: unknown, query?: Record<string, string | undefined>) => kube.request<T>({ method: 'POST', path, body, ...(query ? { query } : {}) }),
    put: <T>(path: string, body: unknown, query?: Record<string, string | undefined>) => kube.request<T>({ method: 'PUT', path, body, ...(query ? { query } : {}) }),
    patch: <T>(path: string, body: unknown, contentType: PatchType, accept?: string) => kube.request<T>({ method: 'PATCH', path, body, contentType, ...(accept ? { accept } : {}) }),
    del: <T>(path: string, p: Delete) => kube.request<T>({ method: 'DELETE', path, ...(p.gracePeriodSeconds !== undefined ? { query: { gracePeriodSeconds: p.gracePeriodSeconds } } : {}), ...(p.body !== undefined ? { body: p.body } : {}) }),
  };
}

const selected = (p: Selected | undefined) => (p?.labelSelector !== undefined ? { labelSelector: p.labelSelector } : undefined);
const managed = (fieldManager: string | undefined) => (fieldManager !== undefined ? { fieldManager } : undefined);

export function createCoreApi(kube: KubeHttp): CoreApi {
  const v = verbs(kube);
  const node = (name: string) => `/api/v1/nodes/${enc(name)}`;
  const inNs = (namespace: string, resource: string, name?: string) => `/api/v1/namespaces/${enc(namespace)}/${resource}${name === undefined ? '' : `/${enc(name)}`}`;
  return {
    listNode: (p) => v.get('/api/v1/nodes', selected(p)),
    createNode: (p) => v.post('/api/v1/nodes', p.body),
    patchNode: (p, type) => v.patch(node(p.name), p.body, type),
    patchNodeStatus: (p, type) => v.patch(`${node(p.name)}/status`, p.body, type),
    deleteNode: (p) => v.del(node(p.name), p),
    listPodForAllNamespaces: (p) => v.get('/api/v1/pods', selected(p)),
    patchNamespacedPodStatusMetadata: (p, type) => v.patch(`${inNs(p.namespace, 'pods', p.name)}/status`, p.body, type, PARTIAL_METADATA_ACCEPT),
    deleteNamespacedPod: (p) => v.del(inNs(p.namespace, 'pods', p.name), p),
    createNamespacedEvent: (p) => v.post(inNs(p.namespace, 'events'), p.body),
    patchNamespacedEvent: (p, type) => v.patch(inNs(p.namespace, 'events', p.name), p.body, type),
    createNamespacedService: (p) => v.post(inNs(p.namespace, 'services'), p.body, managed(p.fieldManager)),
    replaceNamespacedService: (p) => v.put(inNs(p.namespace, 'services', p.name), p.body, managed(p.fieldManager)),
    deleteNamespacedService: (p) => v.del(inNs(p.namespace, 'services', p.name), p),
    readNamespacedService: (p) => v.get(inNs(p.namespace, 'services', p.name)),
    listServiceForAllNamespaces: (p) => v.get('/api/v1/services', selected(p)),
  };
}

export function createCoordinationApi(kube: KubeHttp): CoordinationApi {
  const v = verbs(kube);
  const leases = (namespace: string, name?: string) => `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases${name === undefined ? '' : `/${enc(name)}`}`;
  return {
    listNamespacedLease: (p) => v.get(leases(p.namespace), selected(p)),
    readNamespacedLease: (p) => v.get(leases(p.namespace, p.name)),
    createNamespacedLease: (p) => v.post(leases(p.namespace), p.body),
    replaceNamespacedLease: (p) => v.put(leases(p.namespace, p.name), p.body),
    patchNamespacedLease: (p, type) => v.patch(leases(p.namespace, p.name), p.body, type),
    deleteNamespacedLease: (p) => v.del(leases(p.namespace, p.name), p),
  };
}

export function createAppsApi(kube: KubeHttp): AppsApi {
  const v = verbs(kube);
  return {
    readNamespacedReplicaSet: (p) => v.get(`/apis/apps/v1/namespaces/${enc(p.namespace)}/replicasets/${enc(p.name)}`),
    readNamespacedControllerRevision: (p) => v.get(`/apis/apps/v1/namespaces/${enc(p.namespace)}/controllerrevisions/${enc(p.name)}`),
    listDeploymentForAllNamespaces: (p) => v.get('/apis/apps/v1/deployments', selected(p)),
    listStatefulSetForAllNamespaces: (p) => v.get('/apis/apps/v1/statefulsets', selected(p)),
    listDaemonSetForAllNamespaces: (p) => v.get('/apis/apps/v1/daemonsets', selected(p)),
    listReplicaSetForAllNamespaces: (p) => v.get('/apis/apps/v1/replicasets', selected(p)),
  };
}
