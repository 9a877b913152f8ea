/**
 * Applies `planModules` for one base (key = base identity): sends install/uninstall commands, writes
 * module pod status (only when it changed), lets deleted pods go once their modules are uninstalled,
 * and records Events for what users care about.
 *
 * Nothing is queued across passes: the plan is recomputed from the current caches each time, so a
 * command for a pod deleted meanwhile is never sent later (docs/bridge.md "Commands").
 */
import type * as k8s from '@kubernetes/client-node';
import { PATCH } from '../core/kube-http.ts';
import { parseModulesOf, toInstallModel, toBizModel } from '../core/module-spec.ts';
import type { ModuleObservation } from '../core/module-status.ts';
import type { BridgeContext } from './context.ts';
import { isConflict, isNotFound } from './context.ts';
import { toRevisionReads, type RevisionOf } from './module-claims.ts';
import { planModules, ROUTINE_INSTALL_WHY, toPodKey, type ModuleCommand } from './plan-modules.ts';
import { toLiveness, toNextLivenessChange } from './plan-node.ts';
import type { OpRecord } from './base-registry.ts';
import { isSamePodStatus, toFirstStatusHoldMs, toPodStatus, toStatusPatch, WrittenStatuses } from './pod-status.ts';
import type { ReconcileOutcome } from './work-queue.ts';

/** The status patch's UID precondition failed: the pod under this name is another pod now (see toStatusPatch). */
export function isUidMismatch(err: unknown): boolean {
  const e = err as { code?: number; body?: unknown };
  return e.code === 422 && typeof e.body === 'string' && e.body.includes('metadata.uid');
}

const MODULE_QUERY_MIN_GAP_MS = 2_000;
/** API writes one pass has in flight at most. */
export const WRITES_PER_PASS = 4;

/** Runs every task, at most `limit` at a time; rejects with the first failure once all have settled. */
async function runBounded(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < tasks.length) {
      try {
        await tasks[next++]!();
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure) throw failure.err;
}

export function createModuleReconciler(ctx: BridgeContext) {
  /** Base identity → when its module list was last asked for; pruned when bases go. */
  const lastQuery = new Map<string, number>();
  /**
   * Pod status (the object in the cache or written view) → the inputs for which it was found current.
   * Weak: a pod's next version brings a new status object, and the old one's entry goes with it.
   */
  const current = new WeakMap<k8s.V1PodStatus, StatusInputs>();
  /** Base identity → the statuses this bridge wrote that its pod cache may not show yet. */
  const statusMemo = new Map<string, WrittenStatuses>();
  const writtenOf = (identity: string, pods: readonly k8s.V1Pod[]): WrittenStatuses => {
    let w = statusMemo.get(identity);
    if (!w) statusMemo.set(identity, (w = new WrittenStatuses()));
    w.keepOnly(pods);
    return w;
  };

  const pruneQueries = () => {
    for (const id of lastQuery.keys()) if (!ctx.registry.get(id)) lastQuery.delete(id);
    for (const id of statusMemo.keys()) if (!ctx.registry.get(id)) statusMemo.delete(id);
  };

  const requestModuleList = (identity: string, force = false) => {
    const now = ctx.now();
    if (!force && now - (lastQuery.get(identity) ?? 0) < MODULE_QUERY_MIN_GAP_MS) return;
    lastQuery.set(identity, now);
    // Bases churn (identities are IPs): keep only known ones once the map outgrows the registry.
    if (lastQuery.size > 2 * ctx.registry.list().length + 16) pruneQueries();
    ctx.publish(identity, 'queryAllBiz', {}).catch((err: unknown) => ctx.logger.warn({ base: identity, err: (err as Error).message }, 'queryAllBiz publish failed'));
  };

  /** The pod a command is for is still bound here and not deleted (the cache may have moved on while we published). */
  const isStillWanted = (nodeName: string, cmd: ModuleCommand, uid: string | undefined): boolean => {
    if (cmd.kind !== 'install' || !cmd.podKey) return true;
    const pod = ctx.pods.podsOnNode(nodeName).find((p) => toPodKey(p) === cmd.podKey);
    return !!pod && !pod.metadata?.deletionTimestamp && (uid === undefined || pod.metadata?.uid === uid);
  };

  async function reconcile(identity: string): Promise<ReconcileOutcome> {
    if (!ctx.owns(identity)) return { kind: 'done' };
    if (!ctx.pods.isSynced() || !ctx.nodes.isSynced()) return { kind: 'requeueAfter', ms: 500 };
    const base = ctx.registry.get(identity);
    if (!base) {
      lastQuery.delete(identity);
      statusMemo.delete(identity);
      return { kind: 'done' };
    }
    const now = ctx.now();
    const liveness = toLiveness(base, now, ctx.settings, ctx.hearing());
    const pods = ctx.pods.podsOnNode(base.nodeName);
    // Only while a workload runs pods of two revisions on this base (a rollout): their ReplicaSets'
    // or ControllerRevisions' revision numbers decide which pod is newer (creationTimestamp ties
    // within a second and misorders rollout undo and StatefulSet partitions). Nothing is read otherwise.
    const reads = toRevisionReads(pods);
    let revisionOf: RevisionOf | undefined;
    if (reads.length > 0) {
      const revisions = await ctx.workloadRevisions.read(reads);
      revisionOf = (c) => (c.revisionKey ? revisions.get(c.revisionKey) : undefined);
    }
    const plan = planModules({ base, liveness, pods, podsFresh: ctx.pods.isFresh(), settings: ctx.settings, now, revisionOf });
    if (plan.queryModules) requestModuleList(identity);

    let publishError: unknown;
    let requeueMs = plan.requeueAfterMs;
    for (const cmd of plan.commands) {
      const kind = cmd.kind === 'install' ? 'installBiz' : 'uninstallBiz';
      const pod = cmd.podKey ? pods.find((p) => toPodKey(p) === cmd.podKey) : undefined;
      if (!isStillWanted(base.nodeName, cmd, pod?.metadata?.uid)) {
        requeueMs = Math.min(requeueMs ?? 200, 200);
        continue;
      }
      const key = `${cmd.module.bizName}:${cmd.module.bizVersion}`;
      ctx.registry.recordOpSent(identity, { kind: cmd.kind, bizName: cmd.module.bizName, bizVersion: cmd.module.bizVersion, bizUrl: cmd.module.bizUrl, sentAt: ctx.now(), ...(cmd.routine ? { routine: true } : {}) });
      try {
        await ctx.publish(identity, kind, cmd.kind === 'install' ? toInstallModel(cmd.module, cmd.installStrategy) : toBizModel(cmd.module));
      } catch (err) {
        // Not sent: it must not count as in flight. The queue retries the key with backoff and the
        // next pass plans again from what is true then (never a replay of this command).
        ctx.registry.clearOp(identity, key);
        ctx.logger.warn({ base: identity, command: kind, module: key, err: (err as Error).message }, 'module command not sent; will re-plan');
        publishError = err;
        break;
      }
      ctx.logger.info({ base: identity, command: kind, module: key, installStrategy: cmd.installStrategy, why: cmd.why }, 'module command sent');
      const text = `${kind} ${key} on base ${identity}: ${cmd.why}`;
      // A routine install is announced when the pod's status first shows it (recordTransitions):
      // one the base confirms within --installing-status-delay gets only its Installed Event.
      if (pod && cmd.routine) continue;
      if (pod) ctx.recordEvent({ kind: 'Pod', name: pod.metadata!.name!, namespace: pod.metadata!.namespace, uid: pod.metadata!.uid }, 'Normal', cmd.kind === 'install' ? 'Installing' : 'Uninstalling', text);
      else ctx.recordEvent({ kind: 'Node', name: base.nodeName }, 'Normal', 'UninstallingUnclaimed', text);
    }

    // Status writes and releases of one pass go out together (bounded): one pass is then about one
    // API round trip, not one per pod, so a base with many pods does not hold a worker for long
    // (with the default 32 workers, at most 128 writes are in flight at once).
    const written = writtenOf(identity, pods);
    // The commands just sent are in the registry's newer record.
    const ops = ctx.registry.get(identity)?.ops ?? base.ops;
    const statusNow = ctx.now();
    const released = new Set(plan.release);
    const writes: Array<() => Promise<void>> = [];
    for (const pod of pods) {
      const key = toPodKey(pod);
      const observations = plan.observations.get(key);
      // A pod released in this pass is removed below: a status written now would be overwritten by nothing.
      if (!observations || released.has(key)) continue;
      const known = written.view(pod);
      const baseReady = liveness.kind === 'ready';
      // A status found current before, for the same inputs, still is (a base's pass looks at all its
      // pods, most of them unchanged): skip building and comparing it again.
      const inputs: StatusInputs = { observations, baseIP: base.localIP, baseReady };
      if (known.status && isSameStatusInputs(current.get(known.status), inputs)) continue;
      const hold = known.status?.containerStatuses?.length ? undefined : toFirstStatusHoldMs(known, observations, toInstallSentAt(known, ops), statusNow, ctx.settings.installingStatusDelayMs);
      if (hold !== undefined) {
        requeueMs = Math.min(requeueMs ?? hold, hold);
        continue;
      }
      const status = toPodStatus({ pod: known, observations, baseIP: base.localIP, baseReady, now: new Date(now) });
      if (isSamePodStatus(known.status, status)) {
        if (known.status) current.set(known.status, inputs);
        continue;
      }
      writes.push(async () => {
        try {
          const res = await ctx.core.patchNamespacedPodStatusMetadata({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: toStatusPatch(pod, status) }, PATCH.strategic);
          ctx.metrics.apiWrites.inc({ resource: 'pods', verb: 'patchStatus' });
          written.record(pod, status, res);
          recordTransitions(ctx, known, status, observations, { identity, ops });
        } catch (err) {
          // Gone, or another pod under this name (its own pass writes its status): nothing to write.
          if (isNotFound(err) || isUidMismatch(err)) return;
          if (isConflict(err)) requeueMs = 200;
          else throw err;
        }
      });
    }
    for (const key of plan.release) {
      const pod = pods.find((p) => toPodKey(p) === key);
      if (!pod?.metadata?.name || !pod.metadata.namespace) continue;
      const { name, namespace, uid } = pod.metadata;
      writes.push(async () => {
        try {
          // The kubelet's last step: remove the pod for good (precondition: the same pod, not a successor).
          await ctx.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
          ctx.metrics.apiWrites.inc({ resource: 'pods', verb: 'delete' });
          ctx.recordEvent({ kind: 'Pod', name, namespace, uid }, 'Normal', 'Uninstalled', `modules of ${key} are no longer on base ${identity}; pod removed`);
          ctx.logger.debug({ pod: key, base: identity }, 'deleted module pod released');
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      });
    }
    await runBounded(writes, WRITES_PER_PASS);
    if (publishError !== undefined) return { kind: 'error', error: publishError };
    // Look again when the base's liveness may change (pods go not-Ready when their base does).
    const livenessChange = toNextLivenessChange(base, ctx.now(), ctx.settings, ctx.hearing());
    const next = [requeueMs, livenessChange !== undefined ? livenessChange + 50 : undefined].filter((x): x is number => x !== undefined);
    return next.length ? { kind: 'requeueAfter', ms: Math.min(...next) } : { kind: 'done' };
  }

  /**
   * A watch event that only echoes this bridge's own status write (the pod at the version the write
   * returned) needs no pass: the pass that wrote it planned from everything else already, and any
   * other change (a reply, another writer's version, a timer) queues the base itself.
   */
  const isOwnStatusEcho = (identity: string, pod: k8s.V1Pod): boolean => statusMemo.get(identity)?.isLastWrite(pod) ?? false;

  return { reconcile, requestModuleList, isOwnStatusEcho, /** For tests: how many bases have a remembered query time. */ trackedBases: () => lastQuery.size };
}

/** Everything besides the pod that `toPodStatus` reads. */
export interface StatusInputs {
  readonly observations: ReadonlyMap<string, ModuleObservation>;
  readonly baseIP: string | undefined;
  readonly baseReady: boolean;
}

/**
 * Whether two passes' inputs give the same pod status: the same base IP and readiness, and the same
 * observations field by field, container by container in order. Compared in place (no key string is
 * built): a base's every pass looks at all its pods, most of them unchanged.
 */
export function isSameStatusInputs(a: StatusInputs | undefined, b: StatusInputs): boolean {
  if (!a || a.baseIP !== b.baseIP || a.baseReady !== b.baseReady || a.observations.size !== b.observations.size) return false;
  const rest = b.observations.entries();
  for (const [name, x] of a.observations) {
    const [otherName, y] = rest.next().value as [string, ModuleObservation];
    if (name !== otherName || !isSameObservation(x, y)) return false;
  }
  return true;
}

function isSameObservation(x: ModuleObservation, y: ModuleObservation): boolean {
  if (x === y) return true;
  if (x.kind !== y.kind) return false;
  const u = x as Partial<Record<'state' | 'reason' | 'message' | 'since' | 'detail', unknown>>;
  const v = y as typeof u;
  return u.state === v.state && u.reason === v.reason && u.message === v.message && u.since === v.since && u.detail === v.detail;
}

/** Container name → when its module's install was sent, for installs the base has not answered yet. */
export function toInstallSentAt(pod: k8s.V1Pod, ops: ReadonlyMap<string, OpRecord>): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const m of parseModulesOf(pod.spec?.containers).modules) {
    const op = ops.get(`${m.bizName}:${m.bizVersion}`);
    if (op?.kind === 'install' && !op.result) out.set(m.bizName, op.sentAt);
  }
  return out;
}

function recordTransitions(ctx: BridgeContext, pod: k8s.V1Pod, next: k8s.V1PodStatus, observations: ReadonlyMap<string, ModuleObservation>, sent: { readonly identity: string; readonly ops: ReadonlyMap<string, OpRecord> }): void {
  const target = { kind: 'Pod' as const, name: pod.metadata!.name!, namespace: pod.metadata!.namespace, uid: pod.metadata!.uid };
  for (const cs of next.containerStatuses ?? []) {
    const prev = pod.status?.containerStatuses?.find((c) => c.name === cs.name);
    const version = pod.spec?.containers.find((c) => c.name === cs.name)?.env?.find((e) => e.name === 'BIZ_VERSION')?.value ?? '';
    if (cs.state?.waiting?.reason === 'ModuleInstalling' && prev?.state?.waiting?.reason !== 'ModuleInstalling') {
      // A routine install's Event, held back at send (see the command loop).
      const key = `${cs.name}:${version}`;
      const op = sent.ops.get(key);
      if (op?.kind === 'install' && op.routine && !op.result) ctx.recordEvent(target, 'Normal', 'Installing', `installBiz ${key} on base ${sent.identity}: ${ROUTINE_INSTALL_WHY}`);
    }
    if (cs.state?.running && !prev?.state?.running) {
      ctx.recordEvent(target, 'Normal', 'Installed', `module ${cs.name}:${version} is ACTIVATED on node ${pod.spec?.nodeName}`);
      ctx.metrics.operations.inc({ command: 'installBiz', result: 'activated' });
    }
    const reason = cs.state?.waiting?.reason;
    if ((reason === 'ModuleInstallFailed' || reason === 'ModuleBroken') && prev?.state?.waiting?.reason !== reason) {
      // The Event carries the base's full message; the pod's status shows its first line.
      const o = observations.get(cs.name);
      const detail = o?.kind === 'installFailed' && o.detail ? o.detail : (cs.state?.waiting?.message ?? '');
      ctx.recordEvent(target, 'Warning', reason === 'ModuleBroken' ? 'ModuleBroken' : 'InstallFailed', `module ${cs.name}:${version}: ${detail}`);
      ctx.metrics.operations.inc({ command: 'installBiz', result: 'moduleFailed' });
    }
  }
}
