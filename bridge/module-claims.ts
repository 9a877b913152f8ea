/**
 * Pure: which module each live pod on one base claims, after the rollout hand-off rule
 * (docs/bridge.md "Rollouts"). Within one workload the newest pod decides the version of a bizName
 * on a base: the pod whose pod template has the higher revision number (when the caller knows
 * both, see `RevisionOf` and `toRevisionRef`), else the later creationTimestamp, then the name; a
 * pod of an older revision that wants another version is *superseded*: its module is handed to the
 * newer pod (installed with `uninstallThenInstall`, never reinstalled for the old pod). Pods of
 * different workloads never supersede each other.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseModulesOf, toModuleKey, type ModuleSpec } from '../core/module-spec.ts';
import { CONTROLLER_REVISION_HASH_LABEL, toPodWorkload, type PodWorkload } from '../core/pod-workload.ts';

export interface Claim {
  readonly podKey: string;
  readonly spec: ModuleSpec;
  readonly workload: PodWorkload | undefined;
  readonly createdAt: number;
  /** `toRevisionKey` of the object holding the pod's revision number (see toRevisionRef); undefined when none. */
  readonly revisionKey: string | undefined;
}

/**
 * The revision number of a claim's pod template (its ReplicaSet's `deployment.kubernetes.io/revision`
 * or `module-controller.koupleless.io/revision`; its ControllerRevision's `revision` for a
 * StatefulSet or DaemonSet), undefined when unknown. creationTimestamp cannot stand in for it: it has
 * a 1-second resolution (a surge pod and an old replica created in the same second tie on it),
 * `kubectl rollout undo` gives a reused old ReplicaSet or ControllerRevision a new, higher revision,
 * and a StatefulSet with `rollingUpdate.partition` recreates a pod below the partition at the old
 * revision (newer by creationTimestamp, older by revision).
 */
export type RevisionOf = (claim: Claim) => number | undefined;

/** The object whose revision number orders a pod among its workload's pods (see toRevisionReads). */
export interface RevisionRef {
  readonly kind: 'ReplicaSet' | 'ControllerRevision';
  readonly namespace: string;
  readonly name: string;
}

/** `namespace/Kind/name`: one map key per revision object (a ReplicaSet and a ControllerRevision may share a name). */
export function toRevisionKey(ref: RevisionRef): string {
  return `${ref.namespace}/${ref.kind}/${ref.name}`;
}

export interface Claims {
  /** Module key → its active claims, newest pod first (it decides the jar URL; ties keep the pods' order). */
  readonly active: ReadonlyMap<string, readonly Claim[]>;
  /** Pod key → bizName → the newer claim that replaces it on this base. */
  readonly superseded: ReadonlyMap<string, ReadonlyMap<string, Claim>>;
}

/**
 * Per pod object, what its claims are made of. Like `parseModulesOf`, for callers whose pods are
 * never mutated (the bridge's pod cache replaces a pod as a whole on every change): every pass over a
 * base looks at all its pods, most of them the same objects as in the pass before.
 */
interface PodFacts {
  readonly podKey: string;
  readonly createdAt: number;
  readonly workload: PodWorkload | undefined;
  readonly revisionKey: string | undefined;
}
const factsOf = new WeakMap<V1Pod, PodFacts>();

function toPodFacts(pod: V1Pod): PodFacts {
  let f = factsOf.get(pod);
  if (f) return f;
  const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : 0;
  const workload = toPodWorkload(pod.metadata);
  const ref = workload ? toRevisionRef(pod) : undefined;
  f = { podKey: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, createdAt: Number.isFinite(created) ? created : 0, workload, revisionKey: ref ? toRevisionKey(ref) : undefined };
  factsOf.set(pod, f);
  return f;
}

export function toPodKey(pod: V1Pod): string {
  return toPodFacts(pod).podKey;
}

/**
 * > 0 when `a` is newer: revisions first when both are known and differ (only within one workload:
 * two workloads' revision numbers do not compare), then creationTimestamp.
 */
function compareAge(a: Claim, b: Claim, revisionOf: RevisionOf | undefined): number {
  if (revisionOf && a.workload && a.workload.workload === b.workload?.workload) {
    const ra = revisionOf(a);
    const rb = revisionOf(b);
    if (ra !== undefined && rb !== undefined && ra !== rb) return ra - rb;
  }
  return a.createdAt - b.createdAt;
}

function isNewer(a: Claim, b: Claim, revisionOf: RevisionOf | undefined): boolean {
  const c = compareAge(a, b, revisionOf);
  return c !== 0 ? c > 0 : a.podKey > b.podKey;
}

/**
 * Where a pod's revision number is, from its controller owner reference:
 * - ReplicaSet (a Deployment's or a ModuleDeployment's): the ReplicaSet's revision annotation.
 * - StatefulSet: the ControllerRevision named by the pod's `controller-revision-hash` label (the
 *   StatefulSet controller sets it to the revision's full name, `<statefulset>-<hash>`).
 * - DaemonSet: the ControllerRevision `<daemonset>-<hash>`, where the label holds only the hash (the
 *   DaemonSet controller names its revisions so and labels pods with the bare hash).
 * Undefined for other owners, a bare pod, or a missing label.
 */
export function toRevisionRef(pod: V1Pod): RevisionRef | undefined {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  const namespace = pod.metadata?.namespace ?? '';
  if (owner?.kind === 'ReplicaSet') return { kind: 'ReplicaSet', namespace, name: owner.name };
  const hash = pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  if (!hash) return undefined;
  if (owner?.kind === 'StatefulSet') return { kind: 'ControllerRevision', namespace, name: hash };
  if (owner?.kind === 'DaemonSet') return { kind: 'ControllerRevision', namespace, name: `${owner.name}-${hash}` };
  return undefined;
}

/**
 * Claims of live pods (not deleting, not finished) bound to one base. `revisionOf` orders pods of
 * one workload by their revision numbers; without it (or when a revision is unknown) the order is
 * creationTimestamp, then name.
 */
export function toClaims(live: readonly V1Pod[], revisionOf?: RevisionOf): Claims {
  const all: Claim[] = [];
  for (const pod of live) {
    const { podKey, workload, createdAt, revisionKey } = toPodFacts(pod);
    for (const spec of parseModulesOf(pod.spec?.containers).modules) all.push({ podKey, spec, workload, createdAt, revisionKey });
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
 * The revision objects (ReplicaSets, ControllerRevisions) whose revisions `toClaims` needs: those of
 * live pods of one workload that runs pods of two or more revisions on this base (a rollout in
 * progress). Empty in steady state, so the caller reads nothing then.
 */
export function toRevisionReads(pods: readonly V1Pod[]): RevisionRef[] {
  const byWorkload = new Map<string, Map<string, RevisionRef>>();
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const { workload, revisionKey } = toPodFacts(pod);
    if (!workload || !revisionKey) continue;
    let refs = byWorkload.get(workload.workload);
    if (!refs) byWorkload.set(workload.workload, (refs = new Map()));
    if (!refs.has(revisionKey)) refs.set(revisionKey, toRevisionRef(pod)!);
  }
  const reads: RevisionRef[] = [];
  for (const refs of byWorkload.values()) if (refs.size >= 2) reads.push(...refs.values());
  return reads;
}

/** An active claim of `bizName` at another version than `bizVersion` (a rival on this base). */
export function findRival(claims: Claims, bizName: string, bizVersion: string): Claim | undefined {
  for (const list of claims.active.values()) {
    const c = list[0]!;
    if (c.spec.bizName === bizName && c.spec.bizVersion !== bizVersion) return c;
  }
  return undefined;
}
