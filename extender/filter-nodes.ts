/**
 * The extender's filter: which virtual nodes may run this module pod. Small rules, run in order,
 * each returning a rejection or nothing (the first rejection wins). A rejection is *unresolvable*
 * when no eviction can ever make the node fit (not a virtual node, wrong base labels), so the
 * scheduler skips preemption there (ExtenderFilterResult.FailedAndUnresolvableNodes); the rest are
 * resolvable (FailedNodes) because they change on their own: Ready, uncordon, a module leaving.
 */
import type { V1PodSpec } from '@kubernetes/client-node';
import { VNODE_COMPONENT_LABEL, VNODE_COMPONENT_VALUE } from '../core/names.ts';
import { toNodeConstraintsCheck, type NodeConstraintsCheck } from '../core/node-selector.ts';
import { toModuleKey } from '../core/module-spec.ts';
import { intern } from '../core/intern.ts';
import { isOtherRevision } from '../core/pod-workload.ts';
import { checkTenant, type BaseTenancy } from '../core/base-tenancy.ts';
import { BASE_NAME_LABEL, VNODE_NAME_LABEL } from '../core/names.ts';
import { findSameModule, hasReplica, toModuleProbe, type ModuleHolder, type ModuleProbe, type ModuleRef, type NodeLoad } from './node-load.ts';
import type { NodeFacts } from './node-facts.ts';

export type RejectCode = 'not-virtual-node' | 'labels-mismatch' | 'reserved' | 'not-ready' | 'cordoned' | 'already-running' | 'other-version' | 'full';

export interface Rejection {
  readonly code: RejectCode;
  /** Shown to users in the pod's FailedScheduling event; node-independent where possible so the scheduler can count alike reasons. */
  readonly message: string;
  readonly resolvable: boolean;
}

export interface FilterConfig {
  readonly maxModulesPerBase: number;
  /** Bases reserved for namespaces (--base-tenants); nodes may also be reserved by annotation (node-facts.ts). */
  readonly tenancy?: BaseTenancy;
}

/** A candidate: the name the scheduler sent, the node's facts (undefined when the extender does not know it) and its load. */
export interface Candidate {
  readonly name: string;
  readonly facts: NodeFacts | undefined;
  /** Modules on the base, not counting the pod being placed. */
  readonly load: NodeLoad;
}

export interface PodToPlace {
  /** The pod's modules, prepared for the per-node searches. */
  readonly probe: ModuleProbe;
  /** The pod's nodeSelector and required node affinity, compiled once per request. */
  readonly checkLabels: NodeConstraintsCheck;
  /**
   * The constraints as text, naming the label verdict cached per Node labels object (see
   * labelsMismatch); undefined when the verdict depends on the node's name (`matchFields`).
   */
  readonly labelsKey: string | undefined;
  /** The pod's own workload and revision (for the hand-off rules); undefined for a pod without modules. */
  readonly holder: ModuleHolder | undefined;
  /** The pod's namespace, for bases reserved for namespaces. */
  readonly namespace: string | undefined;
}

function toLabelsKey(spec: V1PodSpec | undefined): string | undefined {
  const terms: unknown = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (Array.isArray(terms) && terms.some((t: { matchFields?: unknown } | null) => t?.matchFields !== undefined)) return undefined;
  return intern(JSON.stringify([spec?.nodeSelector ?? null, terms ?? null]));
}

export function toPodToPlace(spec: V1PodSpec | undefined, modules: readonly ModuleRef[], namespace?: string): PodToPlace {
  return { probe: toModuleProbe(modules), checkLabels: toNodeConstraintsCheck(spec), labelsKey: toLabelsKey(spec), holder: modules[0]?.holder, namespace };
}

export interface NodeCheck {
  readonly candidate: Candidate;
  readonly pod: PodToPlace;
  readonly config: FilterConfig;
}

export type Rule = (c: NodeCheck) => Rejection | undefined;

// Rejections that do not depend on the node are shared, not allocated per node (thousands per request).
const UNKNOWN_NODE: Rejection = Object.freeze({ code: 'not-virtual-node', message: 'not a Koupleless virtual node (unknown to the module extender)', resolvable: false });
const NOT_VIRTUAL: Rejection = Object.freeze({
  code: 'not-virtual-node',
  message: `not a Koupleless virtual node (no label ${VNODE_COMPONENT_LABEL}=${VNODE_COMPONENT_VALUE})`,
  resolvable: false,
});
const CORDONED: Rejection = Object.freeze({ code: 'cordoned', message: 'base is cordoned (kubectl uncordon to allow modules again)', resolvable: true });

const notVirtualNode: Rule = ({ candidate }) => {
  if (!candidate.facts) return UNKNOWN_NODE;
  if (!candidate.facts.virtual) return NOT_VIRTUAL;
  return undefined;
};

const labelsMismatch: Rule = ({ candidate, pod }) => {
  const facts = candidate.facts;
  const key = pod.labelsKey;
  const cached = facts?.labelsVerdict;
  let why: string | undefined;
  if (cached && key !== undefined && cached.key === key) why = cached.why;
  else {
    why = pod.checkLabels(facts?.labels, candidate.name);
    if (facts && key !== undefined) facts.labelsVerdict = { key, why };
  }
  return why ? { code: 'labels-mismatch', message: `base does not match the module: ${why}`, resolvable: false } : undefined;
};

// One rejection object per message: the verdicts keep a handful of distinct reasons, not one per node.
const RESERVED = new Map<string, Rejection>();
function toReserved(message: string): Rejection {
  let r = RESERVED.get(message);
  if (!r) {
    if (RESERVED.size > 1000) RESERVED.clear();
    RESERVED.set(message, (r = Object.freeze({ code: 'reserved', message, resolvable: false })));
  }
  return r;
}

/** A base reserved for other namespaces (core/base-tenancy.ts): no eviction makes it fit. */
const reserved: Rule = ({ candidate, pod, config }) => {
  const facts = candidate.facts;
  if (!facts) return undefined;
  const byAnnotation = facts.tenants;
  const tenancy = config.tenancy;
  if (byAnnotation === undefined && (tenancy === undefined || tenancy.size === 0)) return undefined;
  const name = facts.labels[BASE_NAME_LABEL] ?? facts.labels[VNODE_NAME_LABEL];
  const byFlag = name === undefined ? undefined : tenancy?.get(name);
  const reservations = byFlag && byAnnotation ? [byFlag, byAnnotation] : byFlag ? [byFlag] : byAnnotation ? [byAnnotation] : [];
  const why = checkTenant(pod.namespace, reservations);
  return why ? toReserved(why) : undefined;
};

const notReady: Rule = ({ candidate }) => {
  const r = candidate.facts?.readiness;
  return !r || r.ready ? undefined : { code: 'not-ready', message: `base is not Ready: ${r.reason}`, resolvable: true };
};

const cordoned: Rule = ({ candidate }) => (candidate.facts?.cordoned ? CORDONED : undefined);

/**
 * The rollout hand-off (docs/bridge.md "Rollouts"): a module held on a base by a pod that is being
 * deleted, or by a pod of the same workload at another revision, is handed to the new pod there
 * (the bridge keeps it, or replaces it with uninstallThenInstall) instead of blocking the base.
 * A holder the extender knows nothing about counts as another workload.
 */
function yieldsTo(holder: ModuleHolder | undefined, pod: ModuleHolder | undefined): boolean {
  return holder?.deleting === true || isOtherRevision(holder, pod);
}

// Two pods of one bizName:bizVersion on one base would be one installed module: the second would
// never run on its own, so replicas of a version must land on different bases — unless the module's
// holders all hand it over (a rollout restart with as many bases as replicas).
const alreadyRunning: Rule = ({ pod, candidate }) => {
  const same = findSameModule(pod.probe, candidate.load);
  if (!same) return undefined;
  const held = candidate.load.modules.filter((m) => m.bizName === same.bizName && m.bizVersion === same.bizVersion);
  if (held.every((m) => yieldsTo(m.holder, pod.holder))) return undefined;
  return { code: 'already-running', message: `base already runs module ${toModuleKey(same)}`, resolvable: true };
};

// A base activates one version of a bizName at a time (arklet's default): another version held by
// a pod of another workload (or of this revision) would leave ours DEACTIVATED.
const otherVersion: Rule = ({ pod, candidate }) => {
  if (!hasReplica(pod.probe, candidate.load)) return undefined;
  for (const mine of pod.probe.modules) {
    const rival = candidate.load.modules.find((m) => m.bizName === mine.bizName && m.bizVersion !== mine.bizVersion && !yieldsTo(m.holder, pod.holder));
    if (rival) {
      return {
        code: 'other-version',
        message: `base runs ${toModuleKey(rival)} for another workload; a base activates one version of module ${rival.bizName} at a time`,
        resolvable: true,
      };
    }
  }
  return undefined;
};

const full: Rule = ({ pod, candidate, config }) => {
  const need = Math.max(1, pod.probe.modules.length);
  return candidate.load.moduleCount + need > config.maxModulesPerBase
    ? { code: 'full', message: `base is full (at most ${config.maxModulesPerBase} modules per base)`, resolvable: true }
    : undefined;
};

/** In order: the unresolvable rules first, so a node that can never fit is reported as such. */
export const FILTER_RULES: readonly Rule[] = Object.freeze([notVirtualNode, labelsMismatch, reserved, notReady, cordoned, alreadyRunning, otherVersion, full]);

/** The first rejection of FILTER_RULES, in that order; spelled out so each call site sees one function (V8 inlines them). */
export function checkNode(c: NodeCheck): Rejection | undefined {
  return notVirtualNode(c) ?? labelsMismatch(c) ?? reserved(c) ?? notReady(c) ?? cordoned(c) ?? alreadyRunning(c) ?? otherVersion(c) ?? full(c);
}

/**
 * One verdict per candidate, aligned with the input: undefined = fits. Kept as a typed array of
 * indices into the few distinct rejections, not as an array of thousands of slots per request: V8
 * moved such per-request arrays straight to the old generation (allocation-site pretenuring) and
 * then spent a core on marking them (bench/extender.ts, docs/extender.md).
 */
export class Verdicts {
  readonly length: number;
  /** 0 = fits, k = `#reasons[k - 1]`. */
  readonly #codes: Uint32Array;
  readonly #reasons: Rejection[] = [];
  readonly #index = new Map<Rejection, number>();
  /** How many candidates got each of `#reasons` (same index). */
  readonly #counts: number[] = [];
  #fits = 0;
  #fitRuns: Int32Array | undefined;

  constructor(length: number) {
    this.length = length;
    this.#codes = new Uint32Array(length);
  }

  /** Sets candidate i's verdict (once, in filterNodes). */
  set(i: number, r: Rejection | undefined): void {
    if (this.#fitRuns !== undefined) this.#fitRuns = undefined;
    if (!r) {
      this.#fits++;
      return;
    }
    let k = this.#index.get(r);
    if (k === undefined) {
      k = this.#reasons.push(r);
      this.#counts.push(0);
      this.#index.set(r, k);
    }
    this.#counts[k - 1]!++;
    this.#codes[i] = k;
  }

  at(i: number): Rejection | undefined {
    const k = this.#codes[i];
    return k ? this.#reasons[k - 1] : undefined;
  }

  fits(i: number): boolean {
    return this.#codes[i] === 0;
  }

  /** How many candidates got each rejection code (for the metrics: one pass over the distinct reasons, not over the nodes). */
  countByCode(): Map<RejectCode, number> {
    const out = new Map<RejectCode, number>();
    for (let k = 0; k < this.#reasons.length; k++) {
      const code = this.#reasons[k]!.code;
      out.set(code, (out.get(code) ?? 0) + this.#counts[k]!);
    }
    return out;
  }

  /**
   * The candidates that fit as `[start, end)` runs of indices (sub-list.ts), in one pass over the
   * codes: the filter answer, the feasible list it names and the prioritize answer for that list
   * then take one step per run instead of one per node (wire.ts, feasible-list.ts).
   */
  fitRuns(): Int32Array {
    if (this.#fitRuns) return this.#fitRuns;
    const codes = this.#codes;
    const n = this.length;
    let count = 0;
    for (let i = 0; i < n; i++) if (codes[i] === 0 && (i === 0 || codes[i - 1] !== 0)) count++;
    const out = new Int32Array(2 * count);
    let r = 0;
    for (let i = 0; i < n; ) {
      if (codes[i] !== 0) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < n && codes[j] === 0) j++;
      out[r++] = i;
      out[r++] = j;
      i = j;
    }
    return (this.#fitRuns = out);
  }

  /** How many candidates fit. */
  get fitCount(): number {
    return this.#fits;
  }

  toArray(): Array<Rejection | undefined> {
    return Array.from({ length: this.length }, (_v, i) => this.at(i));
  }
}

/**
 * Names everything a verdict depends on besides the node (its facts and load): the pod's
 * constraints and modules, and the config. Undefined when the verdict also depends on the node's
 * name (`matchFields`), which is never remembered.
 */
function toVerdictKey(pod: PodToPlace, config: FilterConfig): string | undefined {
  if (pod.labelsKey === undefined) return undefined;
  const h = pod.holder;
  return intern(`${pod.labelsKey}\n${pod.probe.key}\n${config.maxModulesPerBase}\n${h ? `${h.workload ?? ''}@${h.revision ?? ''}` : ''}\n${pod.namespace ?? ''}`);
}

/**
 * One verdict per candidate, aligned with the input. A node's verdict is remembered with its facts
 * for the load and the key it was made for (`NodeFacts.verdict`): replicas of a module ask the
 * same question of thousands of unchanged nodes call after call, and a bind changes one load.
 */
export function filterNodes(pod: PodToPlace, candidates: readonly Candidate[], config: FilterConfig): Verdicts {
  const out = new Verdicts(candidates.length);
  if (candidates.length === 0) return out;
  const key = toVerdictKey(pod, config);
  // One check object for every node (the rules keep no reference to it): no allocation per node.
  const check: { candidate: Candidate; pod: PodToPlace; config: FilterConfig } = { candidate: candidates[0]!, pod, config };
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i]!;
    const facts = candidate.facts;
    const known = facts?.verdict;
    if (known !== undefined && known.key === key && known.load === candidate.load) {
      out.set(i, known.rejection);
      continue;
    }
    check.candidate = candidate;
    const rejection = checkNode(check);
    if (facts && key !== undefined) facts.verdict = { key, load: candidate.load, rejection };
    out.set(i, rejection);
  }
  return out;
}
