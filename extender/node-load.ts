/**
 * What a base already carries, as the extender sees it: the modules of the module pods bound to its
 * virtual node plus the placements the extender assumed but has not seen bound yet.
 *
 * Each load also keeps its modules as one string, `\nbizName@bizVersion\n…\n`, so the per-node
 * questions of every request ("this exact module here?", "any version of it here?") are one
 * substring search in contiguous memory instead of a walk over small objects; with thousands of
 * nodes per request that walk dominated the filter. bizName and bizVersion can hold neither '@' nor
 * a newline (core/module-spec.ts), so the search cannot match across entries.
 */
import { intern } from '../core/intern.ts';

export interface ModuleRef {
  readonly bizName: string;
  readonly bizVersion: string;
  /** The pod that holds it (for the rollout hand-off rules in filter-nodes.ts); unknown = another workload. */
  readonly holder?: ModuleHolder | undefined;
}

/** Who holds a module on a base: the pod's workload and revision (core/pod-workload.ts), and whether it is being deleted. */
export interface ModuleHolder {
  readonly workload: string | undefined;
  readonly revision: string | undefined;
  readonly deleting: boolean;
}

export interface NodeLoad {
  /** Modules on the base (one per module container of every pod counted). */
  readonly moduleCount: number;
  readonly modules: readonly ModuleRef[];
  /** `\nbizName@bizVersion\n` per module, for substring search. */
  readonly index: string;
  /**
   * The answers for the last probe asked (see `probeLoad`): replicas of one module ask the same
   * question of every base call after call, and a load object never changes (a change is a new load).
   */
  memo?: ProbeAnswer;
}

interface ProbeAnswer {
  readonly key: string;
  readonly same: ModuleRef | undefined;
  readonly replica: boolean;
}

/** The pod's modules, prepared once per request for the per-node searches. */
export interface ModuleProbe {
  readonly modules: readonly ModuleRef[];
  /** `\nbizName@bizVersion\n` per module. */
  readonly exact: readonly string[];
  /** `\nbizName@` per module. */
  readonly anyVersion: readonly string[];
  /** Names the probe; one string object per distinct probe (interned), so comparing keys is comparing pointers. */
  readonly key: string;
}


export const EMPTY_LOAD: NodeLoad = Object.freeze({ moduleCount: 0, modules: Object.freeze([]), index: '\n' });

export function toLoad(modules: readonly ModuleRef[]): NodeLoad {
  if (modules.length === 0) return EMPTY_LOAD;
  return { moduleCount: modules.length, modules, index: `\n${modules.map((m) => `${m.bizName}@${m.bizVersion}\n`).join('')}`, memo: undefined };
}

/** Sums per-pod module lists into one load, leaving out the pod being scheduled (a retry must not count itself). */
export function toNodeLoad(pods: Iterable<readonly [podUid: string, modules: readonly ModuleRef[]]>, excludePodUid: string | undefined): NodeLoad {
  const modules: ModuleRef[] = [];
  for (const [uid, refs] of pods) {
    if (uid === excludePodUid) continue;
    modules.push(...refs);
  }
  return toLoad(modules);
}

export function toModuleProbe(modules: readonly ModuleRef[]): ModuleProbe {
  const exact = modules.map((m) => `\n${m.bizName}@${m.bizVersion}\n`);
  return { modules, exact, anyVersion: modules.map((m) => `\n${m.bizName}@`), key: intern(exact.join('')) };
}

/** Both questions about one base at once, remembered on the load for the next request with the same probe. */
function probeLoad(probe: ModuleProbe, load: NodeLoad): ProbeAnswer {
  const memo = load.memo;
  if (memo !== undefined && memo.key === probe.key) return memo;
  let same: ModuleRef | undefined;
  for (let i = 0; i < probe.exact.length && !same; i++) if (load.index.includes(probe.exact[i]!)) same = probe.modules[i];
  let replica = same !== undefined;
  for (let i = 0; i < probe.anyVersion.length && !replica; i++) replica = load.index.includes(probe.anyVersion[i]!);
  const answer = { key: probe.key, same, replica };
  if (!Object.isFrozen(load)) load.memo = answer;
  return answer;
}

/** Which of the pod's modules the base already runs at that exact version. */
export function findSameModule(probe: ModuleProbe, load: NodeLoad): ModuleRef | undefined {
  return load.moduleCount === 0 ? undefined : probeLoad(probe, load).same;
}

/** True when the base runs any version of one of the pod's modules (a replica, for scatter). */
export function hasReplica(probe: ModuleProbe, load: NodeLoad): boolean {
  return load.moduleCount === 0 ? false : probeLoad(probe, load).replica;
}
