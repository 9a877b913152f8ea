/**
 * The workloads that can ask for a module Service, reduced to what the Service plan needs. Only the
 * top of an ownership chain asks: a ReplicaSet a Deployment owns and a Pod any controller owns are
 * represented by their owner (the Deployment's template is the one users edit).
 */
import type { ContainerLike } from '../../core/module-spec.ts';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  readonly apiVersion: string;
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface ModuleWorkload extends WorkloadRef {
  /** Oldest wins a port conflict; ISO text or Date as the client hands it over. */
  readonly creationTimestamp: Date | string | undefined;
  readonly templateLabels: Readonly<Record<string, string>>;
  readonly templateAnnotations: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerLike[];
}

/** Structural subset of the client's workload objects, so this stays free of client classes. */
export interface WorkloadObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly creationTimestamp?: Date | string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly ownerReferences?: ReadonlyArray<{ readonly kind?: string; readonly apiVersion?: string; readonly controller?: boolean }>;
  };
  readonly spec?: {
    readonly containers?: readonly ContainerLike[];
    readonly template?: {
      readonly metadata?: { readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
      readonly spec?: { readonly containers?: readonly ContainerLike[] };
    };
  };
}

const API_VERSION: Record<WorkloadKind, string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Pod: 'v1',
};

function isOwnedByDeployment(obj: WorkloadObject): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((o) => o.kind === 'Deployment' && o.apiVersion?.startsWith('apps/'));
}

/**
 * The workload as a Service asker, or undefined when it cannot ask on its own: a ReplicaSet owned by
 * a Deployment, a Pod with any owner (its controller's template asks), or an object without a uid.
 */
export function toModuleWorkload(kind: WorkloadKind, obj: WorkloadObject): ModuleWorkload | undefined {
  const m = obj.metadata;
  if (!m?.name || !m.namespace || !m.uid) return undefined;
  if (kind === 'ReplicaSet' && isOwnedByDeployment(obj)) return undefined;
  if (kind === 'Pod' && (m.ownerReferences?.length ?? 0) > 0) return undefined;
  const fromPod = kind === 'Pod';
  const tmeta = fromPod ? m : obj.spec?.template?.metadata;
  return {
    apiVersion: API_VERSION[kind],
    kind,
    namespace: m.namespace,
    name: m.name,
    uid: m.uid,
    creationTimestamp: m.creationTimestamp,
    templateLabels: tmeta?.labels ?? {},
    templateAnnotations: tmeta?.annotations ?? {},
    containers: (fromPod ? obj.spec?.containers : obj.spec?.template?.spec?.containers) ?? [],
  };
}

export function toWorkloadRef(w: WorkloadRef): WorkloadRef {
  return { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name, uid: w.uid };
}

export function toWorkloadText(w: Pick<WorkloadRef, 'kind' | 'name'>): string {
  return `${w.kind}/${w.name}`;
}
