/**
 * The ModuleDeployment planner (docs/module-deployment.md): a pure function of the observed
 * ModuleDeployment, its ReplicaSets and their pods, the matching bases and the time, returning the
 * ReplicaSet changes and Events to apply (each with a reason), the status to write and when to look
 * again. Level-based: running it twice on the same observation gives the same plan, so a restart or
 * a lost update re-plans instead of replaying.
 *
 * A release (a new module revision) moves the replicas batch by batch; between batches it waits for
 * a confirmation (needConfirm), for the gray time, or for nothing. A scale (spec.replicas changed on
 * a completed release, same revision) moves the same way, with the same operationStrategy: the
 * status remembers where it started (releaseStatus.fromReplicas/toReplicas). Peer mode follows bases
 * joining and leaving at once, without batches. A new count during a release is the release's new
 * target; a new count during a scale starts a new scale from where that one is.
 */
import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { MODULE_DEPLOYMENT_LABEL, MODULE_REVISION_LABEL, SCHEDULING_POLICY_LABEL } from '../core/names.ts';
import { toBatchCount, toMovedAfterBatch, toScaledAfterBatch } from './batches.ts';
import { isPodReady, isTerminating, toPodFailure } from './pod-facts.ts';
import { planPeerMode, toDesiredReplicas, type PeerAction } from './peer-mode.ts';
import { readRevisionNumber, toBaseTerms, toReplicaSet, toRevisionHash, toSchedulingPolicy } from './revision.ts';
import type { MdCondition, MdGroup, ModuleDeployment, ModuleDeploymentStatus, Progress, ReleaseStatus, UpgradePolicy } from './types.ts';

export interface BaseView {
  readonly name: string;
  readonly ready: boolean;
}

export interface PlanInput {
  readonly md: ModuleDeployment;
  readonly group: MdGroup;
  /** ReplicaSets controlled by this ModuleDeployment. */
  readonly replicaSets: readonly V1ReplicaSet[];
  /** Pods of those ReplicaSets (terminating ones included: they are still on their bases). */
  readonly pods: readonly V1Pod[];
  /** Virtual nodes matching spec.baseDeploymentName (docs: "Which bases"). */
  readonly bases: readonly BaseView[];
  readonly now: number;
}

export type MdAction =
  | { readonly kind: 'createReplicaSet'; readonly replicaSet: V1ReplicaSet; readonly why: string }
  | { readonly kind: 'scaleReplicaSet'; readonly name: string; readonly replicas: number; readonly why: string }
  | { readonly kind: 'updateReplicaSet'; readonly name: string; readonly replicaSet: V1ReplicaSet; readonly why: string }
  | { readonly kind: 'deleteReplicaSet'; readonly name: string; readonly why: string }
  /** Set spec.confirmBatchNum from `from` back to 0 (only if it still is `from`). */
  | { readonly kind: 'resetConfirmBatchNum'; readonly from: number; readonly why: string }
  | PeerAction
  | { readonly kind: 'event'; readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly message: string };

export interface MdPlan {
  readonly actions: readonly MdAction[];
  readonly status: ModuleDeploymentStatus;
  /** Look again after this long even without a change (gray time); undefined = on the next change. */
  readonly requeueAfterMs: number | undefined;
}

interface Counts {
  readonly target: number;
  readonly goal: number;
  readonly prevGoal: number;
  readonly newReady: number;
  readonly newSpec: number;
  readonly oldSpec: number;
  /** Old-revision pods still on bases, terminating ones included. */
  readonly oldPods: number;
}

/** Replicas of the new and of all old revisions for the current batch, by upgrade policy. */
export function planBatchReplicas(policy: UpgradePolicy, c: Counts): { newReplicas: number; oldReplicas: number } {
  const cap = (n: number) => Math.max(0, Math.min(c.oldSpec, n));
  switch (policy) {
    case 'uninstall_then_install': {
      // Old out first: the new replicas of this batch are created only once the old ones of the
      // batch have left their bases, so a base never holds two versions.
      const oldReplicas = cap(c.target - c.goal);
      const newReplicas = c.oldPods <= c.target - c.goal ? c.goal : Math.max(c.prevGoal, Math.min(c.newSpec, c.goal));
      return { newReplicas, oldReplicas };
    }
    case 'scaleup_then_scaledown':
      // The whole batch is scaled up and Ready before any old replica of the batch is removed.
      return { newReplicas: c.goal, oldReplicas: cap(c.target - (c.newReady >= c.goal ? c.goal : c.prevGoal)) };
    case 'install_then_uninstall':
    default:
      // One old replica leaves per new replica Ready: the ready count never drops.
      return { newReplicas: c.goal, oldReplicas: cap(c.target - Math.min(c.goal, c.newReady)) };
  }
}

function toCondition(prev: readonly MdCondition[] | undefined, type: MdCondition['type'], ok: boolean, reason: string, message: string, nowIso: string): MdCondition {
  const status = ok ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  return { type, status, reason, message, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : nowIso };
}

function sumReplicas(rss: readonly V1ReplicaSet[]): number {
  return rss.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
}

function sameTemplateParts(rs: V1ReplicaSet, md: ModuleDeployment): boolean {
  const t = rs.spec?.template;
  const terms = t?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return t?.metadata?.labels?.[SCHEDULING_POLICY_LABEL] === toSchedulingPolicy(md) && JSON.stringify(terms) === JSON.stringify(toBaseTerms(md.spec.baseDeploymentName));
}

export function planModuleDeployment(i: PlanInput): MdPlan {
  const { md, now } = i;
  const nowIso = new Date(now).toISOString();
  const name = md.metadata?.name ?? '';
  const module = md.spec.template.spec.module;
  const os = md.spec.operationStrategy ?? {};
  const policy: UpgradePolicy = os.upgradePolicy ?? 'install_then_uninstall';
  const useBeta = os.useBeta === true;
  const actions: MdAction[] = [];
  const event = (type: 'Normal' | 'Warning', reason: string, message: string) => actions.push({ kind: 'event', type, reason, message });

  const hash = toRevisionHash(i.group, module);
  const readyBases = i.bases.filter((b) => b.ready).length;
  const target = toDesiredReplicas(md, readyBases);
  const current = i.replicaSets.find((rs) => rs.metadata?.labels?.[MODULE_REVISION_LABEL] === hash);
  const olds = i.replicaSets.filter((rs) => rs !== current);
  const podsOf = (rs: V1ReplicaSet) => i.pods.filter((p) => p.metadata?.labels?.[MODULE_REVISION_LABEL] === rs.metadata?.labels?.[MODULE_REVISION_LABEL]);
  const newPods = current ? podsOf(current).filter((p) => !isTerminating(p)) : [];
  const oldPodsAll = olds.flatMap(podsOf);
  const livePods = [...newPods, ...oldPodsAll.filter((p) => !isTerminating(p))];
  const newReady = newPods.filter(isPodReady).length;
  const newSpec = current?.spec?.replicas ?? 0;
  const oldSpec = sumReplicas(olds);
  const prevStatus = md.status;

  const baseStatus = {
    observedGeneration: md.metadata?.generation,
    replicas: livePods.length,
    readyReplicas: livePods.filter(isPodReady).length,
    availableReplicas: livePods.filter(isPodReady).length,
    updatedReplicas: newPods.length,
    ready: `${livePods.filter(isPodReady).length}/${target}`,
    selector: `${MODULE_DEPLOYMENT_LABEL}=${name}`,
  };

  if (md.metadata?.deletionTimestamp) {
    // The garbage collector removes the ReplicaSets (and so the modules) through ownerReferences.
    const rel = prevStatus?.releaseStatus;
    return {
      actions: [],
      status: { ...prevStatus, ...baseStatus, ...(rel ? { releaseStatus: { ...rel, progress: 'Terminating', lastTransitionTime: rel.progress === 'Terminating' ? rel.lastTransitionTime : nowIso } } : {}) },
      requeueAfterMs: undefined,
    };
  }

  const peer = planPeerMode(md, readyBases);
  if (peer) actions.push(peer);
  if (peer?.kind === 'leavePeerMode') {
    event('Normal', 'PeerModeLeft', `spec.replicas set to ${peer.replicas} (kubectl scale or a patch): ${peer.replicas} replica(s) instead of one per Ready base; peer set to false`);
  }

  // ---- the release (or scale) this observation belongs to
  const peerMode = md.spec.peer === true || peer !== undefined;
  let rel: ReleaseStatus;
  const prevRel = prevStatus?.releaseStatus;
  const confirm = md.spec.confirmBatchNum ?? 0;
  if (!prevRel || prevRel.revision !== hash) {
    const delta = Math.max(0, target - newReady);
    const batches = toBatchCount(delta, { batchCount: os.batchCount ?? 1, useBeta });
    rel = {
      progress: current ? 'Executing' : 'Init',
      currentBatch: 1,
      realBatchCount: batches,
      originalDeltaReplicas: delta,
      batchProgress: `1/${batches}`,
      lastTransitionTime: nowIso,
      revision: hash,
      toReplicas: target,
      ...(confirm > 0 ? { staleConfirmBatchNum: confirm } : {}),
    };
    event('Normal', 'ReleaseStarted', `release of ${module.name}:${module.version} started: ${delta} replica(s) in ${batches} batch(es), policy ${policy}`);
    event('Normal', 'BatchStarted', `batch 1/${batches} started`);
  } else {
    rel = { ...prevRel };
    if (rel.staleConfirmBatchNum !== undefined && rel.staleConfirmBatchNum !== confirm) {
      const { staleConfirmBatchNum: _drop, ...rest } = rel;
      rel = rest;
    }
    if (rel.progress === 'Init' && current) rel = { ...rel, progress: 'Executing' };
    const scaling = rel.fromReplicas !== undefined && rel.progress !== 'Completed';
    const recorded = rel.toReplicas ?? newSpec;
    if (!peerMode && current && target !== recorded && (rel.progress === 'Completed' || scaling)) {
      // A scale: from the count reached (a scale in progress: its current batch's count) to the new one.
      const from = scaling ? toScaledAfterBatch(rel.currentBatch, rel.realBatchCount, rel.fromReplicas!, recorded, useBeta) : recorded;
      const delta = Math.abs(target - from);
      const batches = toBatchCount(delta, { batchCount: os.batchCount ?? 1, useBeta });
      rel = {
        progress: 'Executing',
        currentBatch: 1,
        realBatchCount: batches,
        originalDeltaReplicas: delta,
        batchProgress: `1/${batches}`,
        lastTransitionTime: nowIso,
        revision: hash,
        fromReplicas: from,
        toReplicas: target,
        ...(confirm > 0 ? { staleConfirmBatchNum: confirm } : {}),
      };
      event('Normal', 'ScaleStarted', `scale of ${module.name}:${module.version} from ${from} to ${target} replica(s) started: ${delta} replica(s) ${target > from ? 'added' : 'removed'} in ${batches} batch(es)`);
      event('Normal', 'BatchStarted', `batch 1/${batches} started`);
    } else {
      // A release follows spec.replicas; peer mode and a completed release record it.
      rel = { ...rel, toReplicas: target };
    }
  }

  // A confirmation left over from an earlier release must not confirm this one's batches, and
  // "set confirmBatchNum to k" must work for every k: reset it to 0 (and ignore it until then).
  if (rel.staleConfirmBatchNum !== undefined && confirm === rel.staleConfirmBatchNum) {
    actions.push({ kind: 'resetConfirmBatchNum', from: confirm, why: `confirmBatchNum ${confirm} was set for an earlier release` });
  }

  const B = rel.realBatchCount;
  const D = rel.originalDeltaReplicas;
  const isScale = rel.fromReplicas !== undefined;
  const goalOf = (k: number) => {
    if (rel.progress === 'Completed') return target;
    if (rel.fromReplicas !== undefined) return toScaledAfterBatch(k, B, rel.fromReplicas, target, useBeta);
    return Math.min(target, Math.max(0, target - D) + toMovedAfterBatch(k, B, D, useBeta));
  };
  const countsFor = (k: number): Counts => ({ target, goal: goalOf(k), prevGoal: goalOf(k - 1), newReady, newSpec, oldSpec, oldPods: oldPodsAll.length });
  // A scale only resizes the current revision (a completed release has no old replicas left).
  const wantFor = (k: number) => (isScale ? { newReplicas: goalOf(k), oldReplicas: 0 } : planBatchReplicas(policy, countsFor(k)));
  const newPodsAll = current ? podsOf(current) : [];

  let requeueAfterMs: number | undefined;
  let want = wantFor(rel.currentBatch);
  const failures = current ? podsOf(current).filter((p) => !isTerminating(p)).map(toPodFailure).filter((f): f is string => f !== undefined) : [];
  // Pods the ReplicaSet could not even create (e.g. the webhook denied them) show only on the ReplicaSet.
  const rsFailure = current?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (rsFailure) failures.push(`ReplicaSet ${current!.metadata?.name}: ${rsFailure.reason ?? 'ReplicaFailure'}${rsFailure.message ? `: ${rsFailure.message}` : ''}`);
  for (let guard = 0; guard <= B && rel.progress !== 'Completed'; guard++) {
    const k = rel.currentBatch;
    const c = countsFor(k);
    // A scale batch is done when the current revision has exactly its count, all Ready, and the
    // pods removed by a scale-down have left their bases.
    const done = isScale
      ? current !== undefined && newSpec === c.goal && newReady >= c.goal && newPodsAll.length <= c.goal
      : current !== undefined && newReady >= c.goal && oldPodsAll.length <= target - c.goal && want.newReplicas === c.goal && newSpec >= c.goal;
    if (!done) break;
    const startNext = () => {
      rel = { ...rel, currentBatch: k + 1, progress: 'Executing', nextReconcileTime: undefined };
      event('Normal', 'BatchStarted', `batch ${k + 1}/${B} started`);
      want = wantFor(k + 1);
    };
    const waiting = rel.progress === 'WaitingForConfirmation' || (rel.progress === 'Paused' && rel.nextReconcileTime !== undefined);
    if (!waiting) event('Normal', 'BatchCompleted', isScale ? `batch ${k}/${B} completed: ${newReady} replica(s) (scaling from ${rel.fromReplicas} to ${target})` : `batch ${k}/${B} completed: ${newReady} of ${target} replica(s) run ${module.version}`);
    if (k >= B) {
      rel = { ...rel, progress: 'Completed', nextReconcileTime: undefined };
      if (isScale) event('Normal', 'ScaleCompleted', `scale of ${module.name}:${module.version} from ${rel.fromReplicas} to ${target} replica(s) completed`);
      else event('Normal', 'ReleaseCompleted', `release of ${module.name}:${module.version} completed: ${target} replica(s)`);
      break;
    }
    if (os.needConfirm) {
      if (confirm === k && rel.staleConfirmBatchNum !== k) {
        event('Normal', 'BatchConfirmed', `batch ${k}/${B} confirmed (spec.confirmBatchNum=${k})`);
        startNext();
        continue;
      }
      if (rel.progress !== 'WaitingForConfirmation') {
        rel = { ...rel, progress: 'WaitingForConfirmation' };
        event('Normal', 'WaitingForConfirmation', `batch ${k}/${B} done; set spec.confirmBatchNum to ${k} to start batch ${k + 1}`);
      }
      break;
    }
    const grayMs = Math.max(0, os.grayTimeBetweenBatchSeconds ?? 0) * 1000;
    if (grayMs > 0) {
      if (rel.progress !== 'Paused' || rel.nextReconcileTime === undefined) {
        rel = { ...rel, progress: 'Paused', nextReconcileTime: new Date(now + grayMs).toISOString() };
        event('Normal', 'BatchPaused', `batch ${k}/${B} done; batch ${k + 1} starts after the gray time of ${grayMs / 1000}s`);
        requeueAfterMs = grayMs;
        break;
      }
      const left = new Date(rel.nextReconcileTime).getTime() - now;
      if (left > 0) {
        requeueAfterMs = left;
        break;
      }
    }
    startNext();
  }

  // ---- failures stop the release (no further batch) and are reported
  const prevFailure = prevStatus?.conditions?.find((c) => c.type === 'ReplicaFailure');
  const failureText = failures.join('; ');
  if (failures.length > 0 && (prevFailure?.status !== 'True' || prevFailure.message !== failureText)) {
    event('Warning', rel.progress === 'Completed' ? 'ReplicaFailure' : 'BatchFailed', `batch ${rel.currentBatch}/${B}: ${failureText}`);
  }
  if (rel.progress === 'Executing' && failures.length > 0) rel = { ...rel, progress: 'Paused', nextReconcileTime: undefined };
  else if (rel.progress === 'Paused' && rel.nextReconcileTime === undefined && failures.length === 0) rel = { ...rel, progress: current ? 'Executing' : 'Init' };
  if (rel.progress === 'Completed') want = { newReplicas: target, oldReplicas: 0 };

  // ---- ReplicaSet actions
  const revisions = i.replicaSets.map(readRevisionNumber);
  const maxRevision = revisions.length ? Math.max(...revisions) : 0;
  if (!current) {
    actions.push({ kind: 'createReplicaSet', replicaSet: toReplicaSet(md, i.group, hash, maxRevision + 1, want.newReplicas), why: `revision ${maxRevision + 1} for ${module.name}:${module.version}` });
  } else {
    if (newSpec !== want.newReplicas) actions.push({ kind: 'scaleReplicaSet', name: current.metadata!.name!, replicas: want.newReplicas, why: isScale && rel.progress !== 'Completed' ? `scale batch ${rel.currentBatch}/${B}: ${want.newReplicas} replica(s) on the way from ${rel.fromReplicas} to ${target}` : `batch ${rel.currentBatch}/${B}: ${module.version} to ${want.newReplicas} of ${target}` });
    const otherMax = olds.length ? Math.max(...olds.map(readRevisionNumber)) : 0;
    if (readRevisionNumber(current) < otherMax || !sameTemplateParts(current, md)) {
      const revision = Math.max(readRevisionNumber(current), otherMax + (readRevisionNumber(current) < otherMax ? 1 : 0));
      actions.push({ kind: 'updateReplicaSet', name: current.metadata!.name!, replicaSet: toReplicaSet(md, i.group, hash, revision, want.newReplicas), why: readRevisionNumber(current) < otherMax ? `back to an earlier module revision: it becomes revision ${revision}` : 'scheduling policy or base changed' });
    }
  }
  // Old revisions shrink oldest first.
  let remove = oldSpec - want.oldReplicas;
  for (const rs of [...olds].sort((a, b) => readRevisionNumber(a) - readRevisionNumber(b))) {
    const have = rs.spec?.replicas ?? 0;
    if (remove <= 0) break;
    if (have === 0) continue;
    const cut = Math.min(have, remove);
    remove -= cut;
    actions.push({ kind: 'scaleReplicaSet', name: rs.metadata!.name!, replicas: have - cut, why: `batch ${rel.currentBatch}/${B}: old revision ${readRevisionNumber(rs)} to ${have - cut}` });
  }
  if (rel.progress === 'Completed' || isScale) {
    const limit = Math.max(0, md.spec.revisionHistoryLimit ?? 10);
    const idle = olds.filter((rs) => (rs.spec?.replicas ?? 0) === 0 && podsOf(rs).length === 0).sort((a, b) => readRevisionNumber(b) - readRevisionNumber(a));
    for (const rs of idle.slice(limit)) actions.push({ kind: 'deleteReplicaSet', name: rs.metadata!.name!, why: `revisionHistoryLimit ${limit}` });
  }

  // ---- status
  const k = rel.currentBatch;
  const prevProgress = prevRel?.revision === rel.revision ? prevRel : undefined;
  const changed = !prevProgress || prevProgress.progress !== rel.progress || prevProgress.currentBatch !== k || prevProgress.fromReplicas !== rel.fromReplicas;
  const releaseStatus: ReleaseStatus = { ...rel, batchProgress: `${k}/${B}`, lastTransitionTime: changed ? nowIso : prevProgress.lastTransitionTime };
  if (releaseStatus.nextReconcileTime === undefined) delete (releaseStatus as { nextReconcileTime?: string }).nextReconcileTime;
  const ready = baseStatus.readyReplicas;
  const progressText: Record<Progress, string> = {
    Init: 'creating the first ReplicaSet',
    Executing: isScale ? `scale batch ${k}/${B} in progress (${rel.fromReplicas} to ${target} replica(s))` : `batch ${k}/${B} in progress`,
    WaitingForConfirmation: `batch ${k}/${B} done; waiting for spec.confirmBatchNum=${k}`,
    Paused: failures.length > 0 ? `batch ${k}/${B} stopped: replicas failed` : `batch ${k}/${B} done; gray time until ${rel.nextReconcileTime ?? ''}`,
    Completed: isScale ? `scaled to ${target} replica(s)` : `${module.name}:${module.version} released`,
    Terminating: 'being deleted',
  };
  // A scale in progress is available with the replicas it keeps (a scale-up paused halfway is not an outage).
  const minAvailable = isScale && rel.progress !== 'Completed' ? Math.min(rel.fromReplicas!, target) : target;
  const conditions: MdCondition[] = [
    toCondition(prevStatus?.conditions, 'Available', ready >= minAvailable, ready >= minAvailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', `${ready} of ${target} replica(s) ready`, nowIso),
    toCondition(prevStatus?.conditions, 'Progressing', rel.progress !== 'Completed', rel.progress === 'Completed' ? 'ReleaseCompleted' : rel.progress, progressText[rel.progress], nowIso),
    toCondition(prevStatus?.conditions, 'ReplicaFailure', failures.length > 0, failures.length > 0 ? 'ReplicasFailed' : 'NoFailures', failures.length > 0 ? failureText : 'no replica failed', nowIso),
  ];
  return { actions, status: { ...baseStatus, releaseStatus, conditions }, requeueAfterMs };
}
