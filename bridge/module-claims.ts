/**
 * Pure: which module each live pod on one base claims, after the rollout hand-off rule
 * (docs/bridge.md "Rollouts"). Within one workload the newest pod (creationTimestamp, then name)
 * decides the version of a bizName on a base; a pod of an older revision that wants another version
 * is *superseded*: its module is handed to the newer pod (installed with `uninstallThenInstall`,
 * never reinstalled for the old pod). Pods of different workloads never supersede each other.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseModules, toModuleKey, type ModuleSpec } from '../core/module-spec.ts';
import { toPodWorkload, type PodWorkload } from '../core/pod-workload.ts';

export interface Claim {
  readonly podKey: string;
  readonly spec: ModuleSpec;
  readonly workload: PodWorkload | undefined;
  readonly createdAt: number;
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

function isNewer(a: Claim, b: Claim): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt > b.createdAt : a.podKey > b.podKey;
}

/** Claims of live pods (not deleting, not finished) bound to one base. */
export function toClaims(live: readonly V1Pod[]): Claims {
  const all: Claim[] = [];
  for (const pod of live) {
    const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : 0;
    const workload = toPodWorkload(pod.metadata);
    for (const spec of parseModules(pod.spec?.containers).modules) all.push({ podKey: toPodKey(pod), spec, workload, createdAt: Number.isFinite(created) ? created : 0 });
  }
  // The newest claim per (workload, bizName) decides that workload's version on this base.
  const newest = new Map<string, Claim>();
  for (const c of all) {
    if (!c.workload) continue;
    const k = `${c.workload.workload}\n${c.spec.bizName}`;
    const prev = newest.get(k);
    if (!prev || isNewer(c, prev)) newest.set(k, c);
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
  for (const list of active.values()) list.sort((a, b) => b.createdAt - a.createdAt);
  return { active, superseded };
}

/** An active claim of `bizName` at another version than `bizVersion` (a rival on this base). */
export function findRival(claims: Claims, bizName: string, bizVersion: string): Claim | undefined {
  for (const [, list] of claims.active) {
    const c = list[0]!;
    if (c.spec.bizName === bizName && c.spec.bizVersion !== bizVersion) return c;
  }
  return undefined;
}
