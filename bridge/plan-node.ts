/**
 * Pure planning of a base's virtual node: liveness from heartbeats, the desired Node, and what to
 * change on the existing one. The kubelet-like contract: Ready reflects the base, the Lease is
 * renewed while the bridge serves the node, the node is deleted only after a long silence.
 */
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';
import {
  BASE_CLUSTER_LABEL, BASE_IDENTITY_ANNOTATION, BASE_NAME_LABEL, BASE_STACK_LABEL, BASE_VERSION_LABEL, HOSTNAME_LABEL,
  VNODE_COMPONENT_LABEL, VNODE_COMPONENT_VALUE, VNODE_ENV_LABEL, VNODE_TAINT,
  VNODE_CLUSTER_LABEL, VNODE_NAME_LABEL, VNODE_TUNNEL_LABEL, VNODE_TUNNEL_VALUE, VNODE_VERSION_LABEL,
} from '../core/names.ts';
import type { BaseRecord } from './base-registry.ts';
import { ALWAYS_HEARD, isDeaf, toHearingResumesAt, toHeardSilenceMs, type Hearing } from './hearing.ts';
import type { BridgeSettings } from './config.ts';

export type Liveness =
  | { readonly kind: 'ready'; readonly message: string }
  | { readonly kind: 'notReady'; readonly reason: string; readonly message: string }
  | { readonly kind: 'dead'; readonly message: string };

/** A valid label value: at most 63 characters, bad characters replaced, case kept (pods match base names as given). */
export function toLabelValue(v: string): string {
  const s = v.slice(0, 63);
  return /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(s) ? s : s.replace(/[^-A-Za-z0-9_.]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/**
 * A base's liveness on the bridge's clock. Silence is what the bridge could have heard (see
 * hearing.ts): while it is deaf, nobody turns NotReady or dead by silence. An adopted base (found as
 * a Node after a restart, not heard since) keeps what its Node said until the bridge hears again,
 * and a NotReady one stays NotReady until a heartbeat arrives.
 */
export function toLiveness(base: BaseRecord, now: number, s: BridgeSettings, hearing: Hearing = ALWAYS_HEARD): Liveness {
  const silentMs = toHeardSilenceMs(hearing, base.lastHeartbeatAt, now);
  const deaf = isDeaf(hearing, now);
  if (silentMs >= s.deleteAfterMs && !deaf) return { kind: 'dead', message: `no heartbeat for ${Math.round(silentMs / 1000)}s` };
  if (base.adopted && !base.adopted.ready) {
    return { kind: 'notReady', reason: base.adopted.reason || 'BaseUnreachable', message: base.adopted.message || `no heartbeat from base ${base.identity} since the bridge started` };
  }
  if (base.adopted && deaf) return { kind: 'ready', message: `base ${base.metadata.name}:${base.metadata.version} was Ready; waiting for its next heartbeat` };
  if (base.state !== 'activated') {
    return { kind: 'notReady', reason: 'BaseLeaving', message: `base ${base.identity} reported state "${base.state}"` };
  }
  if (silentMs >= s.notReadyAfterMs) {
    return { kind: 'notReady', reason: 'BaseUnreachable', message: `no heartbeat from base ${base.identity} for ${Math.round(silentMs / 1000)}s (limit ${Math.round(s.notReadyAfterMs / 1000)}s)` };
  }
  const master = base.health?.masterBizInfo;
  if (master && master.bizState.toUpperCase() !== 'ACTIVATED') {
    return { kind: 'notReady', reason: 'BaseUnhealthy', message: `master biz ${master.bizName} is ${master.bizState}` };
  }
  return { kind: 'ready', message: `base ${base.metadata.name}:${base.metadata.version} is alive` };
}

/** When liveness may change next without any new message (for a timed requeue); undefined while the link is down. */
export function toNextLivenessChange(base: BaseRecord, now: number, s: BridgeSettings, hearing: Hearing = ALWAYS_HEARD): number | undefined {
  const resumes = toHearingResumesAt(hearing, now);
  if (resumes === undefined) return undefined;
  const silent = toHeardSilenceMs(hearing, base.lastHeartbeatAt, now);
  const times = [s.notReadyAfterMs, s.deleteAfterMs].filter((t) => t > silent).map((t) => resumes + t - silent);
  // Frozen verdicts (adopted, or dead-by-silence waiting for hearing) change when hearing resumes.
  if (resumes > now && (base.adopted || silent >= s.deleteAfterMs)) times.push(resumes);
  const future = times.filter((t) => t > now);
  return future.length ? Math.min(...future) - now : undefined;
}

export function toNodeLabels(base: BaseRecord, s: BridgeSettings): Record<string, string> {
  return {
    [VNODE_COMPONENT_LABEL]: VNODE_COMPONENT_VALUE,
    [VNODE_ENV_LABEL]: toLabelValue(s.env),
    [BASE_STACK_LABEL]: toLabelValue(s.stack),
    [BASE_NAME_LABEL]: toLabelValue(base.metadata.name),
    [BASE_VERSION_LABEL]: toLabelValue(base.metadata.version),
    [BASE_CLUSTER_LABEL]: toLabelValue(base.metadata.clusterName),
    // The upstream family too, so Koupleless quick-start manifests select these nodes (issue 12).
    [VNODE_NAME_LABEL]: toLabelValue(base.metadata.name),
    [VNODE_VERSION_LABEL]: toLabelValue(base.metadata.version),
    [VNODE_CLUSTER_LABEL]: toLabelValue(base.metadata.clusterName),
    [VNODE_TUNNEL_LABEL]: VNODE_TUNNEL_VALUE,
    [HOSTNAME_LABEL]: toLabelValue(base.nodeName),
  };
}

function toMemory(base: BaseRecord, s: BridgeSettings): string {
  const jvm = base.health?.jvm ?? {};
  const key = Object.keys(jvm).find((k) => /max (heap )?memory/i.test(k));
  const mb = key ? jvm[key] : undefined;
  return mb !== undefined && mb > 0 ? `${Math.round(mb)}Mi` : s.nodeMemory;
}

export function toReadyCondition(l: Liveness, prev: V1NodeCondition | undefined, now: Date): V1NodeCondition {
  const status = l.kind === 'ready' ? 'True' : 'False';
  const reason = l.kind === 'ready' ? 'BaseReady' : l.kind === 'notReady' ? l.reason : 'BaseUnreachable';
  return {
    type: 'Ready',
    status,
    reason,
    message: l.message,
    lastHeartbeatTime: now,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? new Date(prev.lastTransitionTime) : now,
  };
}

export function toNodeStatus(base: BaseRecord, l: Liveness, prev: V1Node | undefined, s: BridgeSettings, now: Date): NonNullable<V1Node['status']> {
  const resources = { cpu: s.nodeCpu, memory: toMemory(base, s), pods: String(s.maxModulesPerBase) };
  const prevReady = prev?.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    addresses: [
      { type: 'InternalIP', address: base.localIP },
      { type: 'Hostname', address: base.hostName || base.identity },
    ],
    capacity: resources,
    allocatable: resources,
    conditions: [toReadyCondition(l, prevReady, now)],
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    nodeInfo: {
      architecture: 'amd64',
      bootID: '',
      containerRuntimeVersion: `koupleless://${base.metadata.name}:${base.metadata.version}`,
      kernelVersion: '',
      kubeProxyVersion: '',
      kubeletVersion: 'module-controller/0.1.0',
      machineID: base.identity,
      operatingSystem: 'linux',
      osImage: `Koupleless base ${base.metadata.name} ${base.metadata.version}`,
      systemUUID: base.identity,
    },
  };
}

export type NodePlan =
  | { readonly action: 'none' }
  | { readonly action: 'create'; readonly node: V1Node }
  | { readonly action: 'update'; readonly labels?: Record<string, string>; readonly addTaint?: boolean; readonly status?: V1Node['status']; readonly why: string }
  | { readonly action: 'delete'; readonly why: string };

const QUANTITY_RE = /^([0-9.]+)(m|k|Ki|Mi|Gi|Ti|Pi|M|G|T|P)?$/;
const QUANTITY_UNIT: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };

/** A Kubernetes quantity as a number (NaN when unparseable, so it never compares equal). */
export function parseQuantity(q: string | undefined): number {
  const m = QUANTITY_RE.exec(q ?? '');
  return m ? Number(m[1]) * (m[2] ? QUANTITY_UNIT[m[2]]! : 1) : Number.NaN;
}

function isSameResources(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].every((k) => parseQuantity(a?.[k]) === parseQuantity(b?.[k]));
}

function readySignature(c: V1NodeCondition | undefined): string {
  return c ? `${c.status}|${c.reason}|${c.message}` : '';
}

/**
 * Decides the next write for one base's node. `statusRefreshMs`: rewrite status at least this often
 * (a kubelet-style heartbeat in the Ready condition, besides the Lease).
 */
export function planNode(base: BaseRecord, existing: V1Node | undefined, s: BridgeSettings, now: Date, statusRefreshMs = 60_000, hearing: Hearing = ALWAYS_HEARD): NodePlan {
  const l = toLiveness(base, now.getTime(), s, hearing);
  if (l.kind === 'dead') return existing ? { action: 'delete', why: l.message } : { action: 'none' };
  const labels = toNodeLabels(base, s);
  const status = toNodeStatus(base, l, existing, s, now);
  if (!existing) {
    if (l.kind !== 'ready') return { action: 'none' };
    return {
      action: 'create',
      node: { apiVersion: 'v1', kind: 'Node', metadata: { name: base.nodeName, labels, annotations: { [BASE_IDENTITY_ANNOTATION]: base.identity } }, spec: { taints: [{ ...VNODE_TAINT }] }, status },
    };
  }
  const current = existing.metadata?.labels ?? {};
  const labelsChanged = Object.entries(labels).some(([k, v]) => current[k] !== v);
  const hasTaint = (existing.spec?.taints ?? []).some((t) => t.key === VNODE_TAINT.key && t.effect === VNODE_TAINT.effect && t.value === VNODE_TAINT.value);
  const prevReady = existing.status?.conditions?.find((c) => c.type === 'Ready');
  const newReady = status.conditions![0];
  const why: string[] = [];
  if (labelsChanged) why.push('labels');
  if (!hasTaint) why.push('taint');
  const addrChanged = JSON.stringify(existing.status?.addresses ?? []) !== JSON.stringify(status.addresses);
  // The API server rewrites quantities into canonical form ("2048Mi" → "2Gi"): compare values, not text.
  const capChanged = !isSameResources(existing.status?.capacity, status.capacity);
  const readyChanged = readySignature(prevReady) !== readySignature(newReady);
  const beat = prevReady?.lastHeartbeatTime ? new Date(prevReady.lastHeartbeatTime).getTime() : 0;
  const stale = now.getTime() - beat >= statusRefreshMs;
  if (addrChanged) why.push('addresses');
  if (capChanged) why.push('capacity');
  if (readyChanged) why.push(`Ready=${newReady?.status} (${newReady?.reason})`);
  if (stale && why.length === 0) why.push('status heartbeat');
  if (why.length === 0) return { action: 'none' };
  return {
    action: 'update',
    ...(labelsChanged ? { labels } : {}),
    ...(hasTaint ? {} : { addTaint: true }),
    ...(addrChanged || capChanged || readyChanged || stale ? { status } : {}),
    why: why.join(', '),
  };
}
