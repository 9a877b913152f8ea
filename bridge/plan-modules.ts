/**
 * Pure planning of one base's modules: which install/uninstall commands to send, what each module
 * pod's containers show, and which deleted pods can be let go. Level-based: it looks only at the pods
 * bound to the base's node and at what the base last reported, so running it again is harmless.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseModules, toModuleKey, type ModuleSpec } from '../core/module-spec.ts';
import type { ModuleObservation } from '../core/module-status.ts';
import type { ReportedModule } from '../core/protocol.ts';
import type { BaseRecord, OpRecord } from './base-registry.ts';
import type { BridgeSettings } from './config.ts';
import type { Liveness } from './plan-node.ts';

export interface ModuleCommand {
  readonly kind: 'install' | 'uninstall';
  readonly module: ModuleSpec;
  readonly why: string;
  /** The pod that asked for it (undefined for an unclaimed module). */
  readonly podKey?: string | undefined;
}

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

export function toPodKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

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

type OpState = { kind: 'none' } | { kind: 'inFlight'; dueInMs: number } | { kind: 'failed'; message: string; retryInMs: number } | { kind: 'succeeded' };

function toOpState(op: OpRecord | undefined, kind: 'install' | 'uninstall', now: number, s: BridgeSettings): OpState {
  if (!op || op.kind !== kind) return { kind: 'none' };
  if (!op.result) {
    const due = op.sentAt + s.commandTimeoutMs - now;
    return due > 0 ? { kind: 'inFlight', dueInMs: due } : { kind: 'none' };
  }
  if (op.result.ok) return { kind: 'succeeded' };
  return { kind: 'failed', message: `${op.result.code}: ${op.result.message}`, retryInMs: op.result.at + toRetryDelay(op.attempts, s) - now };
}

export interface PlanModulesInput {
  readonly base: BaseRecord | undefined;
  readonly liveness: Liveness | undefined;
  /** Module pods bound to this base's node (from a synced cache). */
  readonly pods: readonly V1Pod[];
  readonly settings: BridgeSettings;
  readonly now: number;
}

export function planModules(input: PlanModulesInput): ModulePlan {
  const { base, liveness, pods, settings: s, now } = input;
  const observations = new Map<string, Map<string, ModuleObservation>>();
  const release: string[] = [];
  const commands: ModuleCommand[] = [];
  const wakeups: number[] = [];
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && !isTerminal(p));
  const deleting = pods.filter((p) => p.metadata?.deletionTimestamp);
  const baseReady = liveness?.kind === 'ready';
  const reported = base?.modules?.filter((m) => !isMasterBiz(m, base));
  const findReported = (m: { bizName: string; bizVersion: string }) => reported?.find((r) => r.bizName === m.bizName && r.bizVersion === m.bizVersion);

  // What live pods want.
  const wanted = new Map<string, { spec: ModuleSpec; podKey: string }>();
  for (const pod of live) {
    const key = toPodKey(pod);
    const perContainer = new Map<string, ModuleObservation>();
    const { modules } = parseModules(pod.spec?.containers);
    for (const m of modules) {
      const mk = toModuleKey(m);
      if (!wanted.has(mk)) wanted.set(mk, { spec: m, podKey: key });
      perContainer.set(m.bizName, observe(m, base, findReported(m), baseReady, now, s, wakeups));
    }
    for (const c of pod.spec?.containers ?? []) {
      if (!perContainer.has(c.name)) perContainer.set(c.name, { kind: 'installFailed', message: 'the container is not a valid module (see the webhook\'s validation message)' });
    }
    observations.set(key, perContainer);
  }

  // Deleted pods: uninstall what no live pod still wants, then let the pod go.
  for (const pod of deleting) {
    const key = toPodKey(pod);
    const perContainer = new Map<string, ModuleObservation>();
    const { modules } = parseModules(pod.spec?.containers);
    const graceOver = now >= new Date(pod.metadata!.deletionTimestamp!).getTime();
    const stillThere = modules.filter((m) => !wanted.has(toModuleKey(m)) && (reported === undefined || findReported(m)));
    for (const m of modules) perContainer.set(m.bizName, stillThere.includes(m) ? { kind: 'uninstalling' } : { kind: 'reported', state: 'DEACTIVATED', message: 'uninstalled' });
    observations.set(key, perContainer);
    if (stillThere.length === 0 || graceOver || !base || liveness?.kind === 'dead') {
      release.push(key);
    } else if (!graceOver) {
      wakeups.push(new Date(pod.metadata!.deletionTimestamp!).getTime() - now);
    }
  }

  const queryModules = !!base && baseReady && reported === undefined;
  if (!base || !baseReady || reported === undefined) {
    return { commands, observations, release, queryModules, requeueAfterMs: toWake(wakeups) };
  }

  // Installs (and in-place URL changes: uninstall first, the install follows on the next pass).
  for (const [mk, { spec, podKey }] of wanted) {
    const present = findReported(spec);
    const installedUrl = base.installedUrls.get(mk);
    if (present && (installedUrl === undefined || installedUrl === spec.bizUrl)) continue;
    if (present) {
      const st = toOpState(base.ops.get(mk), 'uninstall', now, s);
      if (st.kind === 'inFlight') wakeups.push(st.dueInMs);
      else if (st.kind === 'failed' && st.retryInMs > 0) wakeups.push(st.retryInMs);
      else commands.push({ kind: 'uninstall', module: { ...spec, bizUrl: installedUrl ?? spec.bizUrl }, why: `image changed to ${spec.bizUrl}; reinstalling`, podKey });
      continue;
    }
    const st = toOpState(base.ops.get(mk), 'install', now, s);
    if (st.kind === 'inFlight') wakeups.push(st.dueInMs);
    else if (st.kind === 'failed' && st.retryInMs > 0) wakeups.push(st.retryInMs);
    else commands.push({ kind: 'install', module: spec, why: st.kind === 'failed' ? `retrying after ${st.message}` : 'module pod bound to this base', podKey });
  }

  // Uninstall what no live pod wants (deleted pods' modules and modules nobody claims).
  for (const m of reported) {
    const mk = toModuleKey(m);
    if (wanted.has(mk)) continue;
    const st = toOpState(base.ops.get(mk), 'uninstall', now, s);
    if (st.kind === 'inFlight') {
      wakeups.push(st.dueInMs);
      continue;
    }
    if (st.kind === 'failed' && st.retryInMs > 0) {
      wakeups.push(st.retryInMs);
      continue;
    }
    const owner = deleting.find((p) => parseModules(p.spec?.containers).modules.some((x) => toModuleKey(x) === mk));
    commands.push({
      kind: 'uninstall',
      module: { bizName: m.bizName, bizVersion: m.bizVersion, bizUrl: base.installedUrls.get(mk) ?? '' },
      why: owner ? `pod ${toPodKey(owner)} was deleted` : 'no module pod claims this module',
      podKey: owner ? toPodKey(owner) : undefined,
    });
  }
  return { commands, observations, release, queryModules, requeueAfterMs: toWake(wakeups) };
}

function toWake(wakeups: number[]): number | undefined {
  const pos = wakeups.filter((w) => Number.isFinite(w)).map((w) => Math.max(w, 50));
  return pos.length ? Math.min(...pos) : undefined;
}

function observe(m: ModuleSpec, base: BaseRecord | undefined, present: ReportedModule | undefined, baseReady: boolean, now: number, s: BridgeSettings, wakeups: number[]): ModuleObservation {
  if (!base) return { kind: 'waitingForBase', message: 'no heartbeat from this base yet' };
  if (present) return { kind: 'reported', state: present.state, reason: present.reason, message: present.message, since: present.changeTime };
  if (!baseReady) return { kind: 'waitingForBase', message: 'the base is not Ready' };
  if (base.modules === undefined) return { kind: 'waitingForBase', message: 'waiting for the base\'s module list' };
  const st = toOpState(base.ops.get(toModuleKey(m)), 'install', now, s);
  if (st.kind === 'failed') {
    if (st.retryInMs > 0) wakeups.push(st.retryInMs);
    const retryAt = now + Math.max(0, st.retryInMs);
    return { kind: 'installFailed', message: `${st.message}${st.retryInMs > 0 ? ` (next try at ${new Date(Math.ceil(retryAt / 1000) * 1000).toISOString()})` : ''}` };
  }
  return { kind: 'installing' };
}
