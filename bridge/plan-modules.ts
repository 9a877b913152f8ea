/**
 * Pure planning of one base's modules: which install/uninstall commands to send, what each module
 * pod's containers show, and which deleted pods can be let go. Level-based: it looks only at the pods
 * bound to the base's node and at what the base last reported, so running it again is harmless.
 * The rules (hand-off, version mismatch, freshness) are stated in docs/bridge.md.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseModulesOf, toModuleKey, type InstallStrategy, type ModuleSpec } from '../core/module-spec.ts';
import { toOneLine, type ModuleObservation } from '../core/module-status.ts';
import type { ReportedModule } from '../core/protocol.ts';
import type { BaseRecord, OpRecord } from './base-registry.ts';
import type { BridgeSettings } from './config.ts';
import { findRival, toClaims, toPodKey, type Claims, type RevisionOf } from './module-claims.ts';
import type { Liveness } from './plan-node.ts';

export { toPodKey } from './module-claims.ts';

export interface ModuleCommand {
  readonly kind: 'install' | 'uninstall';
  readonly module: ModuleSpec;
  /** arklet's install strategy (install only); undefined = the base's default, installOnly. */
  readonly installStrategy?: InstallStrategy | undefined;
  readonly why: string;
  /** The pod that asked for it (undefined for an unclaimed module). */
  readonly podKey?: string | undefined;
  /** A first install for a newly bound pod (no retry, hand-off or repair): nothing to announce before the base answers. */
  readonly routine?: true | undefined;
}

/** The reason of a routine install (see `ModuleCommand.routine`). */
export const ROUTINE_INSTALL_WHY = 'module pod bound to this base';

export interface ModulePlan {
  readonly commands: readonly ModuleCommand[];
  /** Per pod key (namespace/name), per container name. */
  readonly observations: ReadonlyMap<string, ReadonlyMap<string, ModuleObservation>>;
  /** Deleted pods whose modules are gone (or whose grace period ended): remove them. */
  readonly release: readonly string[];
  /** Ask the base for its module list before anything else. */
  readonly queryModules: boolean;
  /** When to look again even if nothing changes (retries, timeouts, grace periods). */
  readonly requeueAfterMs?: number | undefined;
}

/** What to check after a failed install (shown after the base's one-line cause). */
export const INSTALL_FAILED_HINT = 'check the jar URL (image) and BIZ_VERSION, and the base\'s arklet log; the full message is in the pod\'s InstallFailed event';

/** How soon to look again when a destructive step waits for a freshly listed pod cache. */
export const STALE_CACHE_RETRY_MS = 1_000;

/**
 * How soon to ask a base again for its module list while a plan waits for one (the base's reply
 * re-plans at once; this only covers a query or a reply that was lost). Never the module-list poll:
 * an install must not wait up to `--module-list-period` for it.
 */
export const MODULE_LIST_RETRY_MS = 2_000;

function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

/** Retry delay after `attempts` failed installs: base * 2^(attempts-1), capped. */
export function toRetryDelay(attempts: number, s: BridgeSettings): number {
  return Math.min(s.retryBackoffBaseMs * 2 ** Math.max(0, attempts - 1), s.retryBackoffMaxMs);
}

/** The base's own app (master biz) is listed among its modules by some bases: never touch it. */
function isMasterBiz(m: ReportedModule, base: BaseRecord): boolean {
  return m.bizName === base.metadata.name || m.bizName === base.health?.masterBizInfo?.bizName;
}

type OpState =
  | { kind: 'none' }
  | { kind: 'inFlight'; dueInMs: number }
  | { kind: 'failed'; message: string; retryInMs: number }
  | { kind: 'succeeded'; at: number };

function toOpState(op: OpRecord | undefined, kind: 'install' | 'uninstall', now: number, s: BridgeSettings): OpState {
  if (!op || op.kind !== kind) return { kind: 'none' };
  if (!op.result) {
    const due = op.sentAt + s.commandTimeoutMs - now;
    return due > 0 ? { kind: 'inFlight', dueInMs: due } : { kind: 'none' };
  }
  if (op.result.ok) return { kind: 'succeeded', at: op.result.at };
  return { kind: 'failed', message: `${op.result.code}: ${op.result.message}`, retryInMs: op.result.at + toRetryDelay(op.attempts, s) - now };
}

export interface PlanModulesInput {
  readonly base: BaseRecord | undefined;
  readonly liveness: Liveness | undefined;
  /** Module pods bound to this base's node (from a synced cache). */
  readonly pods: readonly V1Pod[];
  /**
   * The pod cache was listed since its last watch error (PodIndex.isFresh). Only then may the plan
   * remove a module from the base: uninstalls and `uninstallThenInstall` wait otherwise.
   */
  readonly podsFresh: boolean;
  readonly settings: BridgeSettings;
  readonly now: number;
  /** Orders pods of one workload by ReplicaSet revision (module-claims.ts); absent = by creationTimestamp. */
  readonly revisionOf?: RevisionOf | undefined;
}

/** The version mismatch message (docs/bridge.md "Version mismatch"). */
export function toVersionMismatchMessage(spec: ModuleSpec, reportedVersion: string): string {
  return `base reports ${spec.bizName} as version ${reportedVersion}, but BIZ_VERSION is ${spec.bizVersion}: set env BIZ_VERSION to the version in the jar's pom.xml (${reportedVersion})`;
}

export function planModules(input: PlanModulesInput): ModulePlan {
  const { base, liveness, pods, podsFresh, settings: s, now } = input;
  const observations = new Map<string, Map<string, ModuleObservation>>();
  const release: string[] = [];
  const commands: ModuleCommand[] = [];
  const wakeups: number[] = [];
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && !isTerminal(p));
  const deleting = pods.filter((p) => p.metadata?.deletionTimestamp);
  const baseReady = liveness?.kind === 'ready';
  const reported = base?.modules?.filter((m) => !isMasterBiz(m, base));
  const findReported = (m: { bizName: string; bizVersion: string }) => reported?.find((r) => r.bizName === m.bizName && r.bizVersion === m.bizVersion);
  const claims = toClaims(live, input.revisionOf);
  const { active } = claims;

  // The version a base lists a module under after our install of it, when that differs from BIZ_VERSION:
  // the install succeeded (or was REPEAT_BIZ), the commanded version is not listed, and another version
  // of the bizName is, claimed by no live pod and not installed by us from another URL.
  const findAlias = (m: ModuleSpec): ReportedModule | undefined => {
    if (!base || !reported || findReported(m)) return undefined;
    const op = base.ops.get(toModuleKey(m));
    if (op?.kind !== 'install' || !op.result?.ok) return undefined;
    // The latest listed one: the reply's bizInfos are appended last, and bases list in install order.
    return reported.findLast((r) => {
      if (r.bizName !== m.bizName || r.bizVersion === m.bizVersion || active.has(toModuleKey(r))) return false;
      const url = base.installedUrls.get(toModuleKey(r));
      return url === undefined || url === m.bizUrl;
    });
  };
  /** Alias key (the version the base reports) → the wanted module it stands for. */
  const aliases = new Map<string, ModuleSpec>();
  const mismatched = new Set<string>();

  // While a Ready base's module list is being read again (the MQTT link came back, a failover, the
  // base was silent), a pod that already shows its modules keeps that status: the list answers within
  // a round trip, and "waiting for the module list" would flip every Running pod of the fleet to
  // Pending and back — a write per pod each way, for news that is not news (a kubelet that restarts
  // does not reset its pods' statuses either). New pods still say what they wait for.
  const relisting = !!base && baseReady && reported === undefined;

  // What live pods show.
  for (const pod of live) {
    const key = toPodKey(pod);
    if (relisting && (pod.status?.containerStatuses?.length ?? 0) > 0) continue;
    const perContainer = new Map<string, ModuleObservation>();
    const handedOff = claims.superseded.get(key);
    for (const m of parseModulesOf(pod.spec?.containers).modules) {
      const by = handedOff?.get(m.bizName);
      const present = findReported(m);
      if (by && !present) {
        perContainer.set(m.bizName, { kind: 'handedOff', message: `replaced on this base by ${toModuleKey(by.spec)} of pod ${by.podKey} (a newer revision of the same workload)` });
        continue;
      }
      const alias = findAlias(m);
      if (alias && !by) {
        aliases.set(toModuleKey(alias), m);
        mismatched.add(toModuleKey(m));
        perContainer.set(m.bizName, { kind: 'installFailed', message: toVersionMismatchMessage(m, alias.bizVersion) });
        continue;
      }
      perContainer.set(m.bizName, observe(m, base, present, baseReady, claims, now, s, wakeups));
    }
    for (const c of pod.spec?.containers ?? []) {
      if (!perContainer.has(c.name)) perContainer.set(c.name, { kind: 'installFailed', message: 'the container is not a valid module (see the webhook\'s validation message)' });
    }
    observations.set(key, perContainer);
  }

  // Deleted pods: uninstall what no live pod still wants, then let the pod go.
  const deletedBy = new Map<string, string>();
  for (const pod of deleting) {
    const key = toPodKey(pod);
    const perContainer = new Map<string, ModuleObservation>();
    const { modules } = parseModulesOf(pod.spec?.containers);
    const graceOver = now >= new Date(pod.metadata!.deletionTimestamp!).getTime();
    const stillThere: ModuleSpec[] = [];
    for (const m of modules) {
      const mk = toModuleKey(m);
      if (active.has(mk)) continue;
      const alias = findAlias(m);
      if (reported === undefined || findReported(m) || alias) stillThere.push(m);
      if (!deletedBy.has(mk)) deletedBy.set(mk, key);
      if (alias && !deletedBy.has(toModuleKey(alias))) deletedBy.set(toModuleKey(alias), key);
    }
    for (const m of modules) perContainer.set(m.bizName, stillThere.includes(m) ? { kind: 'uninstalling' } : { kind: 'reported', state: 'DEACTIVATED', message: 'uninstalled' });
    observations.set(key, perContainer);
    if (stillThere.length === 0 || graceOver || !base || liveness?.kind === 'dead') {
      release.push(key);
    } else if (!graceOver) {
      wakeups.push(new Date(pod.metadata!.deletionTimestamp!).getTime() - now);
    }
  }

  let queryModules = !!base && baseReady && reported === undefined;
  if (queryModules) wakeups.push(MODULE_LIST_RETRY_MS);
  if (!base || !baseReady || reported === undefined) {
    return { commands, observations, release, queryModules, requeueAfterMs: toWake(wakeups) };
  }
  const waitForFreshCache = () => wakeups.push(STALE_CACHE_RETRY_MS);

  // Installs: a missing module, a DEACTIVATED one whose rival is gone, an in-place URL change.
  const pendingNames = new Set<string>();
  for (const [mk, list] of active) {
    const { spec, podKey } = list[0]!;
    const present = findReported(spec);
    const installedUrl = base.installedUrls.get(mk);
    const rival = findRival(claims, spec.bizName, spec.bizVersion);
    // Other versions of the bizName on the base that no live pod keeps: handed over by uninstallThenInstall.
    const isOther = (r: ReportedModule) => r.bizName === spec.bizName && r.bizVersion !== spec.bizVersion;
    const handOff = !rival && reported.some(isOther);
    if (mismatched.has(mk)) continue;
    if (!rival && (!present || present.state.toUpperCase() !== 'ACTIVATED')) pendingNames.add(spec.bizName);
    if (present && installedUrl !== undefined && installedUrl !== spec.bizUrl) {
      if (!podsFresh) {
        waitForFreshCache();
        continue;
      }
      const st = toOpState(base.ops.get(mk), 'uninstall', now, s);
      if (st.kind === 'inFlight') wakeups.push(st.dueInMs);
      else if (st.kind === 'failed' && st.retryInMs > 0) wakeups.push(st.retryInMs);
      else commands.push({ kind: 'uninstall', module: { ...spec, bizUrl: installedUrl }, why: `image changed to ${spec.bizUrl}; reinstalling`, podKey });
      continue;
    }
    const deactivated = present?.state.toUpperCase() === 'DEACTIVATED';
    if (present && !(deactivated && !rival)) continue;
    const st = toOpState(base.ops.get(mk), 'install', now, s);
    if (st.kind === 'inFlight') {
      wakeups.push(st.dueInMs);
      continue;
    }
    if (st.kind === 'failed' && st.retryInMs > 0) {
      wakeups.push(st.retryInMs);
      continue;
    }
    if (st.kind === 'succeeded') {
      // Confirmed but not (or no longer) listed as wanted: look again after a backoff, never in a loop.
      const wait = st.at + (deactivated ? s.retryBackoffMaxMs : s.retryBackoffBaseMs) - now;
      if (wait > 0) {
        wakeups.push(wait);
        continue;
      }
    }
    const strategy: InstallStrategy | undefined = deactivated || handOff ? 'uninstallThenInstall' : undefined;
    if (strategy && !podsFresh) {
      waitForFreshCache();
      continue;
    }
    const why = deactivated
      ? 'the module is DEACTIVATED and no other version is claimed on this base: reinstalling it (uninstallThenInstall) to activate it'
      : handOff
        ? `hand-off: ${reported.filter(isOther).map((o) => toModuleKey(o)).join(', ')} on this base is claimed by no live pod; installing with uninstallThenInstall`
        : st.kind === 'failed'
          ? `retrying after ${st.message}`
          : ROUTINE_INSTALL_WHY;
    // Not a resend after a timeout, a retry, a reinstall or a hand-off: those are announced at once.
    const routine = !strategy && base.ops.get(mk)?.kind !== 'install';
    commands.push({ kind: 'install', module: spec, ...(strategy ? { installStrategy: strategy } : {}), why, podKey, ...(routine ? { routine: true as const } : {}) });
  }

  // Uninstall what no live pod wants (deleted pods' modules and modules nobody claims).
  for (const m of reported) {
    const mk = toModuleKey(m);
    if (active.has(mk) || aliases.has(mk)) continue;
    // Another version of this bizName is about to be installed with uninstallThenInstall: it takes this one along.
    if (pendingNames.has(m.bizName)) continue;
    // Another version was confirmed installed after the last module list: that install may have taken
    // this one along (uninstallThenInstall); the list the bridge asks for after every reply tells
    // (its arrival re-plans at once), and is asked for again if it does not come.
    if (isNewerThanList(base, active, m)) {
      queryModules = true;
      wakeups.push(MODULE_LIST_RETRY_MS);
      continue;
    }
    if (!podsFresh) {
      waitForFreshCache();
      continue;
    }
    const st = toOpState(base.ops.get(mk), 'uninstall', now, s);
    if (st.kind === 'inFlight') {
      wakeups.push(st.dueInMs);
      continue;
    }
    if (st.kind === 'failed' && st.retryInMs > 0) {
      wakeups.push(st.retryInMs);
      continue;
    }
    const owner = deletedBy.get(mk);
    commands.push({
      kind: 'uninstall',
      module: { bizName: m.bizName, bizVersion: m.bizVersion, bizUrl: base.installedUrls.get(mk) ?? '' },
      why: owner ? `pod ${owner} was deleted` : 'no module pod claims this module',
      podKey: owner,
    });
  }
  return { commands, observations, release, queryModules, requeueAfterMs: toWake(wakeups) };
}

function isNewerThanList(base: BaseRecord, active: Claims['active'], m: ReportedModule): boolean {
  for (const [mk, list] of active) {
    const spec = list[0]!.spec;
    if (spec.bizName !== m.bizName || spec.bizVersion === m.bizVersion) continue;
    const op = base.ops.get(mk);
    if (op?.kind === 'install' && op.result?.ok && op.result.at >= (base.modulesAt ?? 0)) return true;
  }
  return false;
}

function toWake(wakeups: number[]): number | undefined {
  const pos = wakeups.filter((w) => Number.isFinite(w)).map((w) => Math.max(w, 50));
  return pos.length ? Math.min(...pos) : undefined;
}

function observe(m: ModuleSpec, base: BaseRecord | undefined, present: ReportedModule | undefined, baseReady: boolean, claims: Claims, now: number, s: BridgeSettings, wakeups: number[]): ModuleObservation {
  if (!base) return { kind: 'waitingForBase', message: 'no heartbeat from this base yet' };
  if (present) {
    const rival = present.state.toUpperCase() === 'DEACTIVATED' ? findRival(claims, m.bizName, m.bizVersion) : undefined;
    const message = rival
      ? `${toModuleKey(rival.spec)} of pod ${rival.podKey} (another workload) is active on this base; a base activates one version of a module at a time`
      : present.message;
    return { kind: 'reported', state: present.state, reason: present.reason, message, since: present.changeTime };
  }
  if (!baseReady) return { kind: 'waitingForBase', message: 'the base is not Ready' };
  if (base.modules === undefined) return { kind: 'waitingForBase', message: 'waiting for the base\'s module list' };
  const st = toOpState(base.ops.get(toModuleKey(m)), 'install', now, s);
  if (st.kind === 'failed') {
    if (st.retryInMs > 0) wakeups.push(st.retryInMs);
    const retryAt = now + Math.max(0, st.retryInMs);
    const next = st.retryInMs > 0 ? ` (next try at ${new Date(Math.ceil(retryAt / 1000) * 1000).toISOString()})` : '';
    return { kind: 'installFailed', message: `${toOneLine(st.message)}${next}; ${INSTALL_FAILED_HINT}`, detail: st.message };
  }
  return { kind: 'installing' };
}
