/**
 * Virtual nodes on the real control plane for the extender's integration test and benchmark: the
 * labels, taint, allocatable and Ready condition the bridge would write, plus the heartbeat (node
 * Lease renewal and Ready lastHeartbeatTime) that keeps kube-controller-manager from marking them
 * NotReady/unreachable after its node-monitor grace period. Not a test file: a fixture with I/O.
 */
import * as k8s from '@kubernetes/client-node';
import {
  BASE_CLUSTER_LABEL,
  BASE_NAME_LABEL,
  BASE_STACK_LABEL,
  BASE_VERSION_LABEL,
  HOSTNAME_LABEL,
  NODE_LEASE_NAMESPACE,
  VNODE_COMPONENT_LABEL,
  VNODE_COMPONENT_VALUE,
  VNODE_CLUSTER_LABEL,
  VNODE_NAME_LABEL,
  VNODE_TAINT,
  VNODE_TUNNEL_LABEL,
  VNODE_TUNNEL_VALUE,
  VNODE_VERSION_LABEL,
} from '../../core/names.ts';

export interface VirtualNodeSpec {
  readonly name: string;
  readonly baseName: string;
  readonly baseVersion: string;
  /** Default: the base name. */
  readonly clusterName?: string;
  readonly annotations?: Record<string, string>;
}

export interface VirtualNodes {
  readonly names: readonly string[];
  /** Stops the heartbeat and deletes the nodes and their Leases. */
  delete(): Promise<void>;
}

const ALLOCATABLE = { cpu: '8', memory: '16Gi', pods: '110' };

async function createOne(core: k8s.CoreV1Api, leases: k8s.CoordinationV1Api, spec: VirtualNodeSpec): Promise<void> {
  await core.createNode({
    body: {
      metadata: {
        name: spec.name,
        labels: {
          [HOSTNAME_LABEL]: spec.name,
          [VNODE_COMPONENT_LABEL]: VNODE_COMPONENT_VALUE,
          [BASE_STACK_LABEL]: 'java',
          [BASE_NAME_LABEL]: spec.baseName,
          [BASE_VERSION_LABEL]: spec.baseVersion,
          [BASE_CLUSTER_LABEL]: spec.clusterName ?? spec.baseName,
          // Both label families, as the bridge writes them (bridge/plan-node.ts toNodeLabels).
          [VNODE_NAME_LABEL]: spec.baseName,
          [VNODE_VERSION_LABEL]: spec.baseVersion,
          [VNODE_CLUSTER_LABEL]: spec.clusterName ?? spec.baseName,
          [VNODE_TUNNEL_LABEL]: VNODE_TUNNEL_VALUE,
        },
        ...(spec.annotations ? { annotations: spec.annotations } : {}),
      },
      spec: { taints: [{ ...VNODE_TAINT }] },
    },
  });
  // Status is a sub-resource: write it like a kubelet (or the bridge) would.
  const now = new Date().toISOString();
  await core.patchNodeStatus({
    name: spec.name,
    body: [
      { op: 'replace', path: '/status/conditions', value: [{ type: 'Ready', status: 'True', reason: 'BaseReady', message: 'test base is alive', lastHeartbeatTime: now, lastTransitionTime: now }] },
      { op: 'replace', path: '/status/allocatable', value: ALLOCATABLE },
      { op: 'replace', path: '/status/capacity', value: ALLOCATABLE },
    ],
  });
  await leases.createNamespacedLease({
    namespace: NODE_LEASE_NAMESPACE,
    body: { metadata: { name: spec.name }, spec: { holderIdentity: spec.name, leaseDurationSeconds: 40, renewTime: new k8s.V1MicroTime() } },
  });
}

async function beat(core: k8s.CoreV1Api, leases: k8s.CoordinationV1Api, name: string): Promise<void> {
  await leases.patchNamespacedLease({ name, namespace: NODE_LEASE_NAMESPACE, body: [{ op: 'replace', path: '/spec/renewTime', value: new k8s.V1MicroTime().toISOString() }] });
  await core.patchNodeStatus({ name, body: [{ op: 'replace', path: '/status/conditions/0/lastHeartbeatTime', value: new Date().toISOString() }] });
}

/** Creates the nodes (a few at a time) and keeps them alive every `everyMs` until `delete()`. */
export async function createVirtualNodes(kc: k8s.KubeConfig, specs: readonly VirtualNodeSpec[], everyMs = 5_000): Promise<VirtualNodes> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const leases = kc.makeApiClient(k8s.CoordinationV1Api);
  const names = specs.map((s) => s.name);
  for (let i = 0; i < specs.length; i += 10) await Promise.all(specs.slice(i, i + 10).map((s) => createOne(core, leases, s)));
  let beating = false;
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    void (async () => {
      for (let i = 0; i < names.length; i += 10) await Promise.all(names.slice(i, i + 10).map((n) => beat(core, leases, n).catch(() => undefined)));
    })().finally(() => (beating = false));
  }, everyMs);
  return {
    names,
    async delete() {
      clearInterval(timer);
      for (let i = 0; i < names.length; i += 10) {
        await Promise.all(
          names.slice(i, i + 10).flatMap((name) => [
            core.deleteNode({ name }).catch(() => undefined),
            leases.deleteNamespacedLease({ name, namespace: NODE_LEASE_NAMESPACE }).catch(() => undefined),
          ]),
        );
      }
    },
  };
}
