/**
 * The module Service the bridge wants for one bizName, and what differs between that and the live
 * object. Only fields the bridge owns are compared, so API-server defaults (clusterIP, nodePort,
 * sessionAffinity, ipFamilies…) never look like drift.
 */
import type { V1OwnerReference, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { toModuleLabel, toServiceName } from '../../core/names.ts';
import {
  SERVICE_BIZ_NAME_LABEL,
  SERVICE_MANAGED_BY_LABEL,
  SERVICE_MANAGED_BY_VALUE,
  SERVICE_PORT_NAME,
} from '../../core/service-names.ts';
import type { ServiceType } from '../../core/service-annotations.ts';
import type { WorkloadRef } from './module-workload.ts';

export interface ServiceShape {
  readonly namespace: string;
  readonly bizName: string;
  readonly port: number;
  readonly targetPort: number;
  readonly type: ServiceType;
  readonly owners: readonly WorkloadRef[];
}

// Not a controller reference: several workloads may own one Service, and the garbage collector
// deletes it only when every owner is gone (Kubernetes "Owners and Dependents").
function toOwnerReference(o: WorkloadRef): V1OwnerReference {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid };
}

export function toDesiredService(s: ServiceShape): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: toServiceName(s.bizName),
      namespace: s.namespace,
      labels: { [SERVICE_MANAGED_BY_LABEL]: SERVICE_MANAGED_BY_VALUE, [SERVICE_BIZ_NAME_LABEL]: s.bizName },
      ownerReferences: s.owners.map(toOwnerReference),
    },
    spec: {
      type: s.type,
      selector: { [toModuleLabel(s.bizName)]: 'true' },
      ports: [{ name: SERVICE_PORT_NAME, protocol: 'TCP', port: s.port, targetPort: s.targetPort }],
    },
  };
}

function toPortText(p: V1ServicePort): string {
  return `${p.name ?? ''}:${p.protocol ?? 'TCP'}:${p.port}->${String(p.targetPort ?? p.port)}`;
}

function toSelectorText(sel: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(sel ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}

// Owners are compared by uid (a recreated workload of the same name is a new owner) and shown by name.
function toOwnerUids(refs: readonly V1OwnerReference[] | undefined): string {
  return (refs ?? []).map((r) => r.uid).sort().join(',');
}

function toOwnersText(refs: readonly V1OwnerReference[] | undefined): string {
  return (refs ?? []).map((r) => `${r.kind}/${r.name}`).sort().join(', ') || 'none';
}

/** What the bridge would change on `live` to reach `desired`; empty when nothing meaningful differs. */
export function diffService(live: V1Service, desired: V1Service): string[] {
  const changes: string[] = [];
  const livePorts = (live.spec?.ports ?? []).map(toPortText).join(',');
  const wantPorts = (desired.spec?.ports ?? []).map(toPortText).join(',');
  if (livePorts !== wantPorts) changes.push(`ports ${livePorts || '(none)'} -> ${wantPorts}`);
  if ((live.spec?.type ?? 'ClusterIP') !== desired.spec?.type) changes.push(`type ${live.spec?.type ?? 'ClusterIP'} -> ${desired.spec?.type}`);
  if (toSelectorText(live.spec?.selector) !== toSelectorText(desired.spec?.selector)) changes.push('selector');
  if (toOwnerUids(live.metadata?.ownerReferences) !== toOwnerUids(desired.metadata?.ownerReferences)) {
    changes.push(`owners ${toOwnersText(live.metadata?.ownerReferences)} -> ${toOwnersText(desired.metadata?.ownerReferences)}`);
  }
  const labels = desired.metadata?.labels ?? {};
  if (Object.entries(labels).some(([k, v]) => live.metadata?.labels?.[k] !== v)) changes.push('labels');
  return changes;
}

/**
 * The live object with the desired fields written over it, for a replace that keeps resourceVersion
 * (optimistic concurrency) and everything the API server allocated. The nodePort of the `http` port
 * is kept so an owner or targetPort change does not move a NodePort clients already use; it is
 * dropped when the type becomes ClusterIP, which has none.
 */
export function toUpdatedService(live: V1Service, desired: V1Service): V1Service {
  const type = desired.spec?.type;
  const liveHttp = (live.spec?.ports ?? []).find((p) => p.name === SERVICE_PORT_NAME);
  const ports = (desired.spec?.ports ?? []).map((p) =>
    type !== 'ClusterIP' && liveHttp?.nodePort !== undefined ? { ...p, nodePort: liveHttp.nodePort } : p,
  );
  return {
    ...live,
    metadata: {
      ...live.metadata,
      labels: { ...live.metadata?.labels, ...desired.metadata?.labels },
      ownerReferences: desired.metadata?.ownerReferences ?? [],
    },
    spec: { ...live.spec, type, selector: desired.spec?.selector ?? {}, ports },
  };
}
