/**
 * The one vocabulary of module-controller: every label, annotation, taint, node name, env name and
 * default that webhook, extender, bridge and base-sim share. Nothing else spells these strings.
 */
import { createHash } from 'node:crypto';

/** Pod label that marks a module pod (design.md "Names"). */
export const MODULE_COMPONENT_LABEL = 'module-controller.koupleless.io/component';
/** The upstream Go controller's label, accepted as an alias so existing manifests keep working. */
export const MODULE_COMPONENT_LABEL_ALIAS = 'virtual-kubelet.koupleless.io/component';
export const MODULE_COMPONENT_VALUE = 'module';

/** Labels carried by every virtual node. */
export const VNODE_COMPONENT_LABEL = 'virtual-kubelet.koupleless.io/component';
export const VNODE_COMPONENT_VALUE = 'vnode';
export const VNODE_ENV_LABEL = 'virtual-kubelet.koupleless.io/env';
export const BASE_STACK_LABEL = 'base.koupleless.io/stack';
export const BASE_NAME_LABEL = 'base.koupleless.io/name';
export const BASE_VERSION_LABEL = 'base.koupleless.io/version';
export const BASE_CLUSTER_LABEL = 'base.koupleless.io/cluster-name';
/**
 * The upstream virtual-kubelet's node labels (Koupleless quick-start manifests select bases on
 * `vnode.koupleless.io/name` and `…/version`): virtual nodes carry both families.
 */
export const VNODE_NAME_LABEL = 'vnode.koupleless.io/name';
export const VNODE_VERSION_LABEL = 'vnode.koupleless.io/version';
export const VNODE_CLUSTER_LABEL = 'vnode.koupleless.io/cluster-name';
/** Which tunnel serves the base; upstream writes e.g. `mqtt_tunnel_provider`. */
export const VNODE_TUNNEL_LABEL = 'vnode.koupleless.io/tunnel';
export const VNODE_TUNNEL_VALUE = 'mqtt_tunnel_provider';
/** Each base label and its upstream twin: one meaning, two keys; readers accept either. */
export const BASE_LABEL_TWINS: Readonly<Record<string, string>> = Object.freeze({
  [BASE_NAME_LABEL]: VNODE_NAME_LABEL,
  [BASE_VERSION_LABEL]: VNODE_VERSION_LABEL,
  [BASE_CLUSTER_LABEL]: VNODE_CLUSTER_LABEL,
  [VNODE_NAME_LABEL]: BASE_NAME_LABEL,
  [VNODE_VERSION_LABEL]: BASE_VERSION_LABEL,
  [VNODE_CLUSTER_LABEL]: BASE_CLUSTER_LABEL,
});
/**
 * Node annotation reserving a base for namespaces (`"team-a,team-b"`), set by an admin; the
 * extender filters the node for every other namespace (core/base-tenancy.ts).
 */
export const BASE_TENANTS_ANNOTATION = 'base.koupleless.io/tenant-namespaces';
/** Node annotation holding the base's exact identity (node names are lower-cased and sanitised). */
export const BASE_IDENTITY_ANNOTATION = 'base.koupleless.io/identity';
/**
 * Node Lease annotation: when the bridge last heard the base (receive time on the bridge's clock,
 * RFC 3339), written at every Lease renewal so a restarted bridge adopts from it.
 */
export const BASE_LAST_HEARD_ANNOTATION = 'base.koupleless.io/last-heard';
/** Node label kubectl and the scheduler know; set to the node name like a kubelet does. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The taint on every virtual node; module pods get the matching toleration. */
export const VNODE_TAINT = Object.freeze({
  key: 'schedule.koupleless.io/virtual-node',
  value: 'True',
  effect: 'NoExecute',
} as const);
/**
 * The upstream controller also taints its nodes `schedule.koupleless.io/node-env=<env>:NoExecute`,
 * so upstream manifests tolerate it. Virtual nodes here do not carry that taint (the env is a
 * label and an MQTT topic segment); such a toleration is accepted and changes nothing.
 */
export const UPSTREAM_ENV_TAINT_KEY = 'schedule.koupleless.io/node-env';

/** Per-module pod label used by module Services: `module.koupleless.io/<bizName>: "true"`. */
export const MODULE_LABEL_PREFIX = 'module.koupleless.io/';
export function toModuleLabel(bizName: string): string {
  return `${MODULE_LABEL_PREFIX}${bizName}`;
}

/** Pod-template annotations that ask the bridge for a module Service (seed: Module Traffic Service). */
export const SERVICE_ANNOTATIONS = Object.freeze({
  enabled: 'module-controller.koupleless.io/service-enabled',
  port: 'module-controller.koupleless.io/service-port',
  targetPort: 'module-controller.koupleless.io/service-target-port',
  type: 'module-controller.koupleless.io/service-type',
} as const);
export function toServiceName(bizName: string): string {
  return `${bizName}-service`;
}

/** The env var that carries a module's version. */
export const BIZ_VERSION_ENV = 'BIZ_VERSION';

/** Namespace of node Leases (Kubernetes node heartbeats). */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/**
 * Sharding (docs/bridge.md "Sharding"): the bridge fleet's shard and member Leases live next to its
 * leader Lease and carry these labels, so one list by label reads them all.
 */
export const BRIDGE_FLEET_LABEL = 'module-controller.koupleless.io/bridge-fleet';
export const BRIDGE_LEASE_KIND_LABEL = 'module-controller.koupleless.io/bridge-lease';
export const BRIDGE_LEASE_KINDS = Object.freeze({ shard: 'shard', member: 'member' } as const);
/** Member Lease annotation: the writer's --shards. Replicas that disagree on it would map bases to shards differently. */
export const BRIDGE_SHARDS_ANNOTATION = 'module-controller.koupleless.io/bridge-shards';

/** `<prefix>-shard-<k>`: the Lease of shard k (0 ≤ k < --shards); prefix is the leader Lease name. */
export function toShardLeaseName(prefix: string, shard: number): string {
  return `${prefix}-shard-${shard}`;
}

/**
 * `<prefix>-member-<instance id>`: a replica's member Lease. The instance id is made a valid
 * DNS-1123 subdomain as node names are; a lossy rewrite gets a hash suffix so two ids never share one.
 */
export function toMemberLeaseName(prefix: string, instanceId: string): string {
  const head = `${prefix}-member-`;
  const safe = instanceId.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  if (safe === instanceId && safe !== '' && head.length + safe.length <= 253 && !HASH_SUFFIX_RE.test(safe)) return `${head}${safe}`;
  const suffix = `-${createHash('sha256').update(instanceId, 'utf8').digest('hex').slice(0, HASH_LENGTH)}`;
  const readable = `${head}${safe || 'unnamed'}`.slice(0, 253 - suffix.length).replace(/[^a-z0-9]+$/, '');
  return `${readable}${suffix}`;
}

/** Defaults shared by several services (each is also a flag). */
export const DEFAULTS = Object.freeze({
  stack: 'java',
  schedulerName: 'module-scheduler',
  /** What real bases send as `env` (koupleless-protocol.md "Connection"). */
  mqttEnv: 'default',
  clientIdPrefix: 'module-controller',
  maxModulesPerBase: 100,
});

const VNODE_PREFIX = 'virtual-node-';

/**
 * `virtual-node-<baseIdentity>`, a valid DNS-1123 subdomain (what the API server demands of a Node
 * name), and injective: distinct identities always get distinct names (docs/bridge.md "Node names").
 * An identity that already is a valid lower-case name (IPv4 addresses, lower-case UUIDs and host
 * names) is kept as it is. Otherwise the readable form is lower-cased, anything outside [a-z0-9.-]
 * becomes '-', every dot-separated label starts and ends with [a-z0-9] (empty labels are dropped),
 * and — because that lost information — `-<first 10 hex of sha256(identity)>` is appended, the
 * readable part cut so the whole stays within 253 characters. So `10.1.0.45.` and `10.1.0.45`, or
 * `UPPER.Case` and `upper.case`, get different nodes. An identity that itself ends like such a
 * suffix also gets one, so no kept identity can equal another's hashed name.
 */
export function toNodeName(baseIdentity: string): string {
  const safe = baseIdentity
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .split('.')
    .map((label) => label.replace(/^-+|-+$/g, ''))
    .filter((label) => label !== '')
    .join('.');
  const plain = `${VNODE_PREFIX}${safe}`;
  const lossless = safe === baseIdentity && safe !== '' && plain.length <= 253 && !HASH_SUFFIX_RE.test(safe);
  if (lossless) return plain;
  const suffix = `-${createHash('sha256').update(baseIdentity, 'utf8').digest('hex').slice(0, HASH_LENGTH)}`;
  const readable = `${VNODE_PREFIX}${safe || 'unnamed'}`.slice(0, 253 - suffix.length).replace(/[^a-z0-9]+$/, '');
  return `${readable}${suffix}`;
}

const HASH_LENGTH = 10;
const HASH_SUFFIX_RE = new RegExp(`-[0-9a-f]{${HASH_LENGTH}}$`);

export function isModulePodLabels(labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!labels) return false;
  return (
    labels[MODULE_COMPONENT_LABEL] === MODULE_COMPONENT_VALUE ||
    labels[MODULE_COMPONENT_LABEL_ALIAS] === MODULE_COMPONENT_VALUE
  );
}

export function isVirtualNodeLabels(labels: Readonly<Record<string, string>> | undefined): boolean {
  return labels?.[VNODE_COMPONENT_LABEL] === VNODE_COMPONENT_VALUE;
}

/** ModuleDeployment (docs/module-deployment.md): labels on the ReplicaSets and pods it owns. */
export const MODULE_DEPLOYMENT_LABEL = 'module-controller.koupleless.io/module-deployment';
/** Hash of a ModuleDeployment's module template: one ReplicaSet per value. */
export const MODULE_REVISION_LABEL = 'module-controller.koupleless.io/module-revision';
/** A ReplicaSet's revision number (like deployment.kubernetes.io/revision). */
export const MODULE_REVISION_ANNOTATION = 'module-controller.koupleless.io/revision';
/**
 * Node label linking a virtual node to the base Deployment whose pod runs that base (the pod's IP
 * is the node's InternalIP); set by the module-deployment controller, matched by
 * `spec.baseDeploymentName`.
 */
export const BASE_DEPLOYMENT_LABEL = 'module-controller.koupleless.io/base-deployment';
/**
 * Pod label choosing how the extender ranks bases: `scatter` (default) or `stacking` (bases that
 * already run the most modules first). Any module pod may carry it.
 */
export const SCHEDULING_POLICY_LABEL = 'module-controller.koupleless.io/scheduling-policy';
export const SCHEDULING_POLICIES = ['scatter', 'stacking'] as const;
export type SchedulingPolicy = (typeof SCHEDULING_POLICIES)[number];
