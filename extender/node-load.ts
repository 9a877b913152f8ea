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
export interface ModuleRef {
  readonly bizName: string;
  readonly bizVersion: string;
}

export interface NodeLoad {
  /** Modules on the base (one per module container of every pod counted). */
  readonly moduleCount: number;
  readonly modules: readonly ModuleRef[];
  /** `\nbizName@bizVersion\n` per module, for substring search. */
  readonly index: string;
}

/** The pod's modules, prepared once per request for the per-node searches. */
export interface ModuleProbe {
  readonly modules: readonly ModuleRef[];
  /** `\nbizName@bizVersion\n` per module. */
  readonly exact: readonly string[];
  /** `\nbizName@` per module. */
  readonly anyVersion: readonly string[];
}

export const EMPTY_LOAD: NodeLoad = Object.freeze({ moduleCount: 0, modules: Object.freeze([]), index: '\n' });

export function toLoad(modules: readonly ModuleRef[]): NodeLoad {
  if (modules.length === 0) return EMPTY_LOAD;
  return { moduleCount: modules.length, modules, index: `\n${modules.map((m) => `${m.bizName}@${m.bizVersion}\n`).join('')}` };
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
  return {
    modules,
    exact: modules.map((m) => `\n${m.bizName}@${m.bizVersion}\n`),
    anyVersion: modules.map((m) => `\n${m.bizName}@`),
  };
}

/** Which of the pod's modules the base already runs at that exact version. */
export function findSameModule(probe: ModuleProbe, load: NodeLoad): ModuleRef | undefined {
  if (load.moduleCount === 0) return undefined;
  for (let i = 0; i < probe.exact.length; i++) if (load.index.includes(probe.exact[i]!)) return probe.modules[i];
  return undefined;
}

/** True when the base runs any version of one of the pod's modules (a replica, for scatter). */
export function hasReplica(probe: ModuleProbe, load: NodeLoad): boolean {
  if (load.moduleCount === 0) return false;
  for (const needle of probe.anyVersion) if (load.index.includes(needle)) return true;
  return false;
}
