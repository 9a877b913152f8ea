/**
 * Pure: which module each live pod on one base claims, after the rollout hand-off rule
 * (docs/bridge.md "Rollouts"). Within one workload the newest pod decides the version of a bizName
 * on a base: the pod whose owner ReplicaSet has the higher revision number (when the caller knows
 * both, see `RevisionOf`), else the later creationTimestamp, then the name; a pod of an older revision that wants another version
 * is *superseded*: its module is handed to the newer pod (installed with `uninstallThenInstall`,
 * never reinstalled for the old pod). Pods of different workloads never supersede each other.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseModulesOf, toModuleKey, type ModuleSpec } from '../core/module-spec.ts';
import { toPodWorkload, type PodWorkload } from '../core/pod-workload.ts';

export interface Claim {
  readonly podKey: string;
  readonly spec: ModuleSpec;
  readonly workload: PodWorkload | undefined;
  readonly createdAt: number;
  /** `namespace/name` of the pod's controller ReplicaSet (its revision orders the pods); undefined otherwise. */
  readonly replicaSet: string | undefined;
}

/**
 * The revision number of a claim's pod template (its ReplicaSet's `deployment.kubernetes.io/revision`
 * or `module-controller.koupleless.io/revision`), undefined when unknown. creationTimestamp has a
 * 1-second resolution: a surge pod and an old replica created in the same second tie on it, and
 * `kubectl rollout undo` gives a reused old ReplicaSet a new, higher revision.
 */
export type RevisionOf = (claim: Claim) => number | undefined;

/** A ReplicaSet whose revision the caller should look up (see toRevisionReads). */
export interface ReplicaSetRef {
  readonly namespace: string;
  readonly name: string;
}

export interface Claims {
  /** Module key → its active claims, newest pod first (it decides the jar URL; ties keep the pods' order). */
  readonly active: ReadonlyMap<string, readonly Claim[]>;
  /** Pod key → bizName → the newer claim that replaces it on this base. */
  readonly superseded: ReadonlyMap<string, ReadonlyMap<string, Claim>>;
}

export function toPodKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** > 0 when `a` is newer: revisions first when both are known and differ, then creationTimestamp. */
function compareAge(a: Claim, b: Claim, revisionOf: RevisionOf | undefined): number {
  const ra = revisionOf?.(a);
  const rb = revisionOf?.(b);
  if (ra !== undefined && rb !== undefined && ra !== rb) return ra - rb;
  return a.createdAt - b.createdAt;
}

function isNewer(a: Claim, b: Claim, revisionOf: RevisionOf | undefined): boolean {
  const c = compareAge(a, b, revisionOf);
  return c !== 0 ? c > 0 : a.podKey > b.podKey;
}

function toReplicaSet(pod: V1Pod): string | undefined {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  return owner?.kind === 'ReplicaSet' ? `${pod.metadata?.namespace ?? ''}/${owner.name}` : undefined;
}

/**
 * Claims of live pods (not deleting, not finished) bound to one base. `revisionOf` orders pods of
 * one workload by their ReplicaSets' revisions; without it (or when a revision is unknown) the
 * order is creationTimestamp, then name.
 */
export function toClaims(live: readonly V1Pod[], revisionOf?: RevisionOf): Claims {
  const all: Claim[] = [];
  for (const pod of live) {
    const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : 0;
    const workload = toPodWorkload(pod.metadata);
    const replicaSet = toReplicaSet(pod);
    for (const spec of parseModulesOf(pod.spec?.containers).modules) all.push({ podKey: toPodKey(pod), spec, workload, createdAt: Number.isFinite(created) ? created : 0, replicaSet });
  }
  // The newest claim per (workload, bizName) decides that workload's version on this base.
  const newest = new Map<string, Claim>();
  for (const c of all) {
    if (!c.workload) continue;
    const k = `${c.workload.workload}\n${c.spec.bizName}`;
    const prev = newest.get(k);
    if (!prev || isNewer(c, prev, revisionOf)) newest.set(k, c);
  }
  const active = new Map<string, Claim[]>();
  const superseded = new Map<string, Map<string, Claim>>();
  for (const c of all) {
    const winner = c.workload ? newest.get(`${c.workload.workload}\n${c.spec.bizName}`) : undefined;
    if (winner && winner.spec.bizVersion !== c.spec.bizVersion) {
      let m = superseded.get(c.podKey);
      if (!m) superseded.set(c.podKey, (m = new Map()));
      m.set(c.spec.bizName, winner);
      continue;
    }
    const mk = toModuleKey(c.spec);
    const list = active.get(mk);
    if (list) list.push(c);
    else active.set(mk, [c]);
  }
  for (const list of active.values()) list.sort((a, b) => compareAge(b, a, revisionOf));
  return { active, superseded };
}

/**
 * The ReplicaSets whose revisions `toClaims` needs: those of live pods of one workload that runs
 * pods of two or more ReplicaSets on this base (a rollout in progress). Empty in steady state, so
 * the caller reads nothing then.
 */
export function toRevisionReads(pods: readonly V1Pod[]): ReplicaSetRef[] {
  const byWorkload = new Map<string, Set<string>>();
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const workload = toPodWorkload(pod.metadata);
    const rs = toReplicaSet(pod);
    if (!workload || !rs) continue;
    let set = byWorkload.get(workload.workload);
    if (!set) byWorkload.set(workload.workload, (set = new Set()));
    set.add(rs);
  }
  const reads: ReplicaSetRef[] = [];
  for (const set of byWorkload.values()) {
    if (set.size < 2) continue;
    for (const key of set) {
      const i = key.indexOf('/');
      reads.push({ namespace: key.slice(0, i), name: key.slice(i + 1) });
    }
  }
  return reads;
}

/** An active claim of `bizName` at another version than `bizVersion` (a rival on this base). */
export function findRival(claims: Claims, bizName: string, bizVersion: string): Claim | undefined {
  for (const [, list] of claims.active) {
    const c = list[0]!;
    if (c.spec.bizName === bizName && c.spec.bizVersion !== bizVersion) return c;
  }
  return undefined;
}
