/**
 * Thin I/O edge: the revision numbers of pod templates, for ordering pods of one workload during a
 * rollout (module-claims.ts `RevisionOf`, `toRevisionRef`; docs/bridge.md "Rollouts"): a
 * ReplicaSet's revision annotation (Deployments, ModuleDeployments) or an apps/v1
 * ControllerRevision's `revision` field (StatefulSets, DaemonSets).
 *
 * Why point reads with a short-lived cache rather than watch caches: the module reconciler asks only
 * while a workload runs pods of two revisions on one base (a rollout), so in steady state nothing is
 * read at all, while watches would hold every ReplicaSet and ControllerRevision of the cluster
 * (they carry no label of ours to select on) for a question asked rarely. The cache is shared by
 * all bases, so a rollout over N bases costs about one read per revision object per TTL, not per
 * reconcile. It must stay short: `kubectl rollout undo` gives a reused old ReplicaSet a new, higher
 * revision annotation, and the StatefulSet and DaemonSet controllers likewise raise the `revision`
 * of the ControllerRevision they return to, so a revision is not immutable.
 */
import type * as k8s from '@kubernetes/client-node';
import { MODULE_REVISION_ANNOTATION } from '../core/names.ts';
import type { Logger } from '../core/logger.ts';
import { toRevisionKey, type RevisionRef } from './module-claims.ts';

/** Set by the Deployment controller on each ReplicaSet it owns; raised again on `rollout undo`. */
export const DEPLOYMENT_REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_CACHE_TTL_MS = 1_000;

export interface WorkloadRevisions {
  /** `toRevisionKey(ref)` → revision number, undefined when unknown (not found, unreadable, no revision). */
  read(refs: readonly RevisionRef[]): Promise<ReadonlyMap<string, number | undefined>>;
}

/** Pure: a ReplicaSet's revision number (the Deployment's annotation, else a ModuleDeployment's). */
export function toRevisionNumber(rs: Pick<k8s.V1ReplicaSet, 'metadata'> | undefined): number | undefined {
  const a = rs?.metadata?.annotations ?? {};
  for (const key of [DEPLOYMENT_REVISION_ANNOTATION, MODULE_REVISION_ANNOTATION]) {
    const raw = a[key];
    if (raw === undefined || !/^\d+$/.test(raw.trim())) continue;
    return Number(raw.trim());
  }
  return undefined;
}

/**
 * Pure: a ControllerRevision's revision number. The field is an int64 in JSON; a value beyond
 * 2^53 (never set by the controllers, which count up from 1) is unknown rather than rounded.
 */
export function toControllerRevisionNumber(cr: Pick<k8s.V1ControllerRevision, 'revision'> | undefined): number | undefined {
  const r: unknown = cr?.revision;
  return typeof r === 'number' && Number.isSafeInteger(r) && r >= 0 ? r : undefined;
}

export interface WorkloadRevisionsDeps {
  readonly readReplicaSet: (namespace: string, name: string) => Promise<Pick<k8s.V1ReplicaSet, 'metadata'>>;
  readonly readControllerRevision: (namespace: string, name: string) => Promise<Pick<k8s.V1ControllerRevision, 'revision'>>;
  readonly now: () => number;
  readonly logger: Logger;
  readonly ttlMs?: number | undefined;
}

export function createWorkloadRevisions(deps: WorkloadRevisionsDeps): WorkloadRevisions {
  const ttl = deps.ttlMs ?? REVISION_CACHE_TTL_MS;
  /** In-flight reads are cached too, so concurrent passes for many bases share one request. */
  const cache = new Map<string, { at: number; revision: Promise<number | undefined> }>();

  const fetch = (ref: RevisionRef): Promise<number | undefined> =>
    ref.kind === 'ReplicaSet'
      ? deps.readReplicaSet(ref.namespace, ref.name).then(toRevisionNumber)
      : deps.readControllerRevision(ref.namespace, ref.name).then(toControllerRevisionNumber);

  const readOne = (ref: RevisionRef, key: string, now: number): Promise<number | undefined> => {
    const hit = cache.get(key);
    if (hit && now - hit.at < ttl) return hit.revision;
    const revision = fetch(ref).catch((err: unknown) => {
      // Unknown revision: toClaims falls back to creationTimestamp (cached for the TTL like a result).
      deps.logger.warn({ kind: ref.kind, revision: `${ref.namespace}/${ref.name}`, err: (err as Error).message }, `${ref.kind} revision not readable; ordering its pods by creationTimestamp`);
      return undefined;
    });
    cache.set(key, { at: now, revision });
    return revision;
  };

  return {
    async read(refs) {
      const now = deps.now();
      for (const [key, e] of cache) if (now - e.at >= ttl) cache.delete(key);
      const keys = refs.map(toRevisionKey);
      const values = await Promise.all(refs.map((r, i) => readOne(r, keys[i]!, now)));
      return new Map(keys.map((k, i) => [k, values[i]]));
    },
  };
}
