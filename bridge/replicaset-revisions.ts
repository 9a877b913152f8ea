/**
 * Thin I/O edge: the revision numbers of ReplicaSets, for ordering pods of one workload during a
 * rollout (module-claims.ts `RevisionOf`; docs/bridge.md "Rollouts").
 *
 * Why point reads with a short-lived cache rather than a ReplicaSet watch cache: the module
 * reconciler asks only while a workload runs pods of two ReplicaSets on one base (a rollout), so in
 * steady state nothing is read at all, while a watch would hold every ReplicaSet of the cluster
 * (Deployments' ReplicaSets carry no label of ours to select on) for a question asked rarely. The
 * cache is shared by all bases, so a rollout over N bases costs about one read per ReplicaSet per
 * TTL, not per reconcile. It must stay short: `kubectl rollout undo` gives a reused old ReplicaSet a
 * new, higher revision, so a revision is not immutable.
 */
import type * as k8s from '@kubernetes/client-node';
import { MODULE_REVISION_ANNOTATION } from '../core/names.ts';
import type { Logger } from '../core/logger.ts';
import type { ReplicaSetRef } from './module-claims.ts';

/** Set by the Deployment controller on each ReplicaSet it owns; raised again on `rollout undo`. */
export const DEPLOYMENT_REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_CACHE_TTL_MS = 1_000;

export interface ReplicaSetRevisions {
  /** `namespace/name` → revision number, undefined when unknown (not found, unreadable, no annotation). */
  read(refs: readonly ReplicaSetRef[]): Promise<ReadonlyMap<string, number | undefined>>;
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

export interface ReplicaSetRevisionsDeps {
  readonly readReplicaSet: (namespace: string, name: string) => Promise<Pick<k8s.V1ReplicaSet, 'metadata'>>;
  readonly now: () => number;
  readonly logger: Logger;
  readonly ttlMs?: number | undefined;
}

export function createReplicaSetRevisions(deps: ReplicaSetRevisionsDeps): ReplicaSetRevisions {
  const ttl = deps.ttlMs ?? REVISION_CACHE_TTL_MS;
  /** In-flight reads are cached too, so concurrent passes for many bases share one request. */
  const cache = new Map<string, { at: number; revision: Promise<number | undefined> }>();

  const readOne = (ref: ReplicaSetRef, key: string, now: number): Promise<number | undefined> => {
    const hit = cache.get(key);
    if (hit && now - hit.at < ttl) return hit.revision;
    const revision = deps.readReplicaSet(ref.namespace, ref.name).then(toRevisionNumber, (err: unknown) => {
      // Unknown revision: toClaims falls back to creationTimestamp (cached for the TTL like a result).
      deps.logger.warn({ replicaSet: key, err: (err as Error).message }, 'ReplicaSet revision not readable; ordering its pods by creationTimestamp');
      return undefined;
    });
    cache.set(key, { at: now, revision });
    return revision;
  };

  return {
    async read(refs) {
      const now = deps.now();
      for (const [key, e] of cache) if (now - e.at >= ttl) cache.delete(key);
      const keys = refs.map((r) => `${r.namespace}/${r.name}`);
      const values = await Promise.all(refs.map((r, i) => readOne(r, keys[i]!, now)));
      return new Map(keys.map((k, i) => [k, values[i]]));
    },
  };
}
