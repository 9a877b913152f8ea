/**
 * Carries out one planned Service action against the API server and says what happened. Writes are
 * guarded the Kubernetes way: replace carries the cached resourceVersion and delete the cached uid
 * as a precondition, so a stale cache ends in a 409 and a requeue, never in clobbering.
 */
import type { V1Service } from '@kubernetes/client-node';
import type { CoreApi } from '../../core/kube-apis.ts';
import type { ServiceAction } from './plan-services.ts';
import type { WorkloadRef } from './module-workload.ts';
import type { WorkloadEventReason } from './workload-event.ts';

export type ApplyResult =
  | { readonly kind: 'created' | 'updated' | 'deleted' }
  /** Someone else's Service has the name (create said AlreadyExists); here it is, for a re-plan. */
  | { readonly kind: 'exists'; readonly live: V1Service | undefined }
  /** The cache was behind the API server; run the key again shortly. */
  | { readonly kind: 'conflict'; readonly message: string };

export interface NormalEvent {
  readonly workload: WorkloadRef;
  readonly reason: WorkloadEventReason;
  readonly message: string;
}

export function toHttpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function toPortsText(s: V1Service): string {
  const p = s.spec?.ports?.[0];
  return `${s.spec?.type}, port ${p?.port} -> ${String(p?.targetPort)}`;
}

export async function applyServiceAction(core: Pick<CoreApi, 'createNamespacedService' | 'replaceNamespacedService' | 'deleteNamespacedService' | 'readNamespacedService'>, action: ServiceAction, fieldManager: string): Promise<ApplyResult> {
  const namespace = action.key.namespace;
  try {
    switch (action.kind) {
      case 'create':
        await core.createNamespacedService({ namespace, body: action.service, fieldManager });
        return { kind: 'created' };
      case 'update':
        await core.replaceNamespacedService({ namespace, name: action.service.metadata!.name!, body: action.service, fieldManager });
        return { kind: 'updated' };
      case 'delete':
        await core.deleteNamespacedService({ namespace, name: action.name, body: action.uid ? { preconditions: { uid: action.uid } } : {} });
        return { kind: 'deleted' };
    }
  } catch (err) {
    const status = toHttpStatus(err);
    if (action.kind === 'create' && status === 409) {
      const live = await core.readNamespacedService({ namespace, name: action.service.metadata!.name! }).catch(() => undefined);
      return { kind: 'exists', live };
    }
    // Already gone is what a delete wants (the garbage collector may have been first).
    if (action.kind === 'delete' && status === 404) return { kind: 'deleted' };
    if (status === 409 || status === 404) return { kind: 'conflict', message: err instanceof Error ? err.message : String(err) };
    throw err;
  }
}

/** The Normal Events that tell the owning workloads what an applied action did. */
export function toActionEvents(action: ServiceAction): NormalEvent[] {
  switch (action.kind) {
    case 'create': {
      const message = `Created Service ${action.service.metadata?.name} (${toPortsText(action.service)}) for module ${action.key.bizName}`;
      return action.owners.map((workload) => ({ workload, reason: 'ServiceCreated', message }));
    }
    case 'update': {
      const message = `Updated Service ${action.service.metadata?.name} for module ${action.key.bizName}: ${action.reasons.join('; ')}`;
      return action.owners.map((workload) => ({ workload, reason: 'ServiceUpdated', message }));
    }
    case 'delete': {
      const message = `Deleted Service ${action.name}: ${action.reasons.join('; ')}`;
      return action.notify.map((workload) => ({ workload, reason: 'ServiceDeleted', message }));
    }
  }
}
