/**
 * Pure projections of the objects the bridge caches, applied by the reflectors before an object is
 * stored (client-go's SetTransform): only the fields the bridge reads survive. Whole Pods and
 * Nodes from the API carry managedFields (one nested fieldsV1 tree per writer, the largest part of
 * a module pod), container details the bridge never looks at and, on Nodes, nodeInfo and images.
 *
 * What is kept, and who reads it (keep this list in step with the readers):
 * - Pod metadata: name, namespace, uid, resourceVersion (the cache's change test), labels
 *   (core/pod-workload.ts), annotations but kubectl's last-applied copy of the whole object,
 *   ownerReferences (module-claims, pod-workload), creation/deletion timestamps and grace
 *   (module-claims, plan-modules).
 * - Pod spec: nodeName (pod-index), containers' name, image and the BIZ_VERSION env entries
 *   (core/module-spec.ts parseModules), readinessGates and restartPolicy (pod-status.ts).
 * - Pod status: whole — the bridge writes nearly all of it and pod-status.ts carries its times,
 *   IPs, qosClass and other writers' conditions over.
 * - Node metadata as for pods (labels: plan-node, adopt-nodes; annotations: the base identity);
 *   spec.taints (plan-node); status addresses, capacity, allocatable and conditions (plan-node,
 *   adopt-nodes). Not nodeInfo, daemonEndpoints, images, config.
 * - Workloads for module Services (services/service-sync.ts caches every Deployment, StatefulSet,
 *   DaemonSet and ReplicaSet of the cluster, and module pods): metadata as above, the pod
 *   template's labels; for a template carrying a module label also its annotations and its
 *   containers' name, image and BIZ_VERSION (services/module-workload.ts, plan-services.ts). A
 *   workload without a module label keeps no containers: it can ask for no Service.
 * Low-cardinality texts (namespaces, node names, label values, condition types and reasons) are
 * interned, so thousands of cached objects share one copy of each.
 */
import type { V1Container, V1Node, V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { createInterner } from '../core/intern.ts';
import { BIZ_VERSION_ENV, isModulePodLabels } from '../core/names.ts';

/** kubectl apply's copy of the whole object: never read by the bridge, often the largest annotation. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

const shared = createInterner(65_536);

function toSlimStrings(m: Readonly<Record<string, string>> | undefined, drop?: string): Record<string, string> | undefined {
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (k !== drop) out[k] = v.length <= 128 ? shared(v) : v;
  return out;
}

/** Assigns only defined values, so a slim object has no `undefined`-valued keys. */
function put<T extends object>(target: T, key: keyof T, value: unknown): void {
  if (value !== undefined) (target as Record<PropertyKey, unknown>)[key] = value;
}

function toSlimMeta(m: V1ObjectMeta | undefined): V1ObjectMeta | undefined {
  if (!m) return undefined;
  const out: V1ObjectMeta = {};
  put(out, 'name', m.name);
  put(out, 'namespace', m.namespace === undefined ? undefined : shared(m.namespace));
  put(out, 'uid', m.uid);
  put(out, 'resourceVersion', m.resourceVersion);
  put(out, 'labels', toSlimStrings(m.labels));
  put(out, 'annotations', toSlimStrings(m.annotations, LAST_APPLIED_ANNOTATION));
  put(out, 'ownerReferences', m.ownerReferences?.map((o) => ({ apiVersion: shared(o.apiVersion), kind: shared(o.kind), name: o.name, uid: o.uid, ...(o.controller !== undefined ? { controller: o.controller } : {}) })));
  put(out, 'creationTimestamp', m.creationTimestamp);
  put(out, 'deletionTimestamp', m.deletionTimestamp);
  put(out, 'deletionGracePeriodSeconds', m.deletionGracePeriodSeconds);
  return out;
}

function toSlimContainer(c: V1Container): V1Container {
  const out: V1Container = { name: c.name };
  put(out, 'image', c.image);
  const env = c.env?.filter((e) => e.name === BIZ_VERSION_ENV);
  if (env?.length) out.env = env;
  return out;
}

export function toSlimPod(pod: V1Pod): V1Pod {
  const out: V1Pod = {};
  put(out, 'apiVersion', pod.apiVersion);
  put(out, 'kind', pod.kind);
  put(out, 'metadata', toSlimMeta(pod.metadata));
  const s = pod.spec;
  if (s) {
    out.spec = { containers: s.containers?.map(toSlimContainer) ?? [] };
    put(out.spec, 'nodeName', s.nodeName === undefined ? undefined : shared(s.nodeName));
    put(out.spec, 'readinessGates', s.readinessGates);
    put(out.spec, 'restartPolicy', s.restartPolicy);
  }
  if (pod.status) {
    out.status = { ...pod.status };
    put(out.status, 'conditions', pod.status.conditions?.map((c) => ({ ...c, type: shared(c.type), status: shared(c.status), ...(c.reason !== undefined ? { reason: shared(c.reason) } : {}) })));
  }
  return out;
}

export function toSlimNode(node: V1Node): V1Node {
  const out: V1Node = {};
  put(out, 'apiVersion', node.apiVersion);
  put(out, 'kind', node.kind);
  put(out, 'metadata', toSlimMeta(node.metadata));
  if (node.spec) {
    out.spec = {};
    put(out.spec, 'taints', node.spec.taints);
    put(out.spec, 'unschedulable', node.spec.unschedulable);
  }
  const st = node.status;
  if (st) {
    out.status = {};
    put(out.status, 'addresses', st.addresses);
    put(out.status, 'capacity', st.capacity);
    put(out.status, 'allocatable', st.allocatable);
    put(out.status, 'conditions', st.conditions);
  }
  return out;
}

/** The fields of a workload (or bare pod) that services/module-workload.ts reads. */
interface WorkloadLike {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: { containers?: V1Container[]; template?: { metadata?: V1ObjectMeta; spec?: { containers?: V1Container[] } } };
}

/**
 * A workload as the module-Service caches keep it (see the list above): most workloads of a
 * cluster are not module workloads and shrink to their metadata and template labels.
 */
export function toSlimWorkload<T extends object>(obj: T): T {
  const w = obj as WorkloadLike;
  const out: WorkloadLike = {};
  put(out, 'apiVersion', w.apiVersion);
  put(out, 'kind', w.kind);
  put(out, 'metadata', toSlimMeta(w.metadata));
  const spec = w.spec;
  if (spec) {
    const template = spec.template;
    const isModule = isModulePodLabels(template ? template.metadata?.labels : w.metadata?.labels);
    const containers = (list: V1Container[] | undefined) => (isModule ? list?.map(toSlimContainer) ?? [] : []);
    if (template) {
      const meta: V1ObjectMeta = {};
      put(meta, 'labels', toSlimStrings(template.metadata?.labels));
      if (isModule) put(meta, 'annotations', toSlimStrings(template.metadata?.annotations, LAST_APPLIED_ANNOTATION));
      out.spec = { template: { metadata: meta, spec: { containers: containers(template.spec?.containers) } } };
    } else {
      out.spec = { containers: containers(spec.containers) };
    }
  }
  return out as T;
}
