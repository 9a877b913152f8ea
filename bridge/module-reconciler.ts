/**
 * Applies `planModules` for one base (key = base identity): sends install/uninstall commands, writes
 * module pod status (only when it changed), lets deleted pods go once their modules are uninstalled,
 * and records Events for what users care about.
 */
import * as k8s from '@kubernetes/client-node';
import { toBizModel } from '../core/module-spec.ts';
import type { BridgeContext } from './context.ts';
import { isConflict, isNotFound } from './context.ts';
import { planModules, toPodKey } from './plan-modules.ts';
import { toLiveness, toNextLivenessChange } from './plan-node.ts';
import { isSamePodStatus, toPodStatus } from './pod-status.ts';
import type { ReconcileOutcome } from './work-queue.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const MODULE_QUERY_MIN_GAP_MS = 2_000;

export function createModuleReconciler(ctx: BridgeContext) {
  const lastQuery = new Map<string, number>();

  const requestModuleList = (identity: string, force = false) => {
    const now = ctx.now();
    if (!force && now - (lastQuery.get(identity) ?? 0) < MODULE_QUERY_MIN_GAP_MS) return;
    lastQuery.set(identity, now);
    ctx.publish(identity, 'queryAllBiz', {}).catch((err: unknown) => ctx.logger.warn({ base: identity, err: (err as Error).message }, 'queryAllBiz publish failed'));
  };

  async function reconcile(identity: string): Promise<ReconcileOutcome> {
    if (!ctx.isLeader()) return { kind: 'done' };
    if (!ctx.pods.isSynced() || !ctx.nodes.isSynced()) return { kind: 'requeueAfter', ms: 500 };
    const base = ctx.registry.get(identity);
    if (!base) return { kind: 'done' };
    const now = ctx.now();
    const liveness = toLiveness(base, now, ctx.settings, ctx.hearing());
    const pods = ctx.pods.podsOnNode(base.nodeName);
    const plan = planModules({ base, liveness, pods, settings: ctx.settings, now });
    if (plan.queryModules) requestModuleList(identity);

    for (const cmd of plan.commands) {
      const kind = cmd.kind === 'install' ? 'installBiz' : 'uninstallBiz';
      ctx.registry.recordOpSent(identity, { kind: cmd.kind, bizName: cmd.module.bizName, bizVersion: cmd.module.bizVersion, bizUrl: cmd.module.bizUrl, sentAt: now });
      await ctx.publish(identity, kind, toBizModel(cmd.module));
      ctx.logger.info({ base: identity, command: kind, module: `${cmd.module.bizName}:${cmd.module.bizVersion}`, why: cmd.why }, 'module command sent');
      const pod = cmd.podKey ? pods.find((p) => toPodKey(p) === cmd.podKey) : undefined;
      const text = `${kind} ${cmd.module.bizName}:${cmd.module.bizVersion} on base ${identity}: ${cmd.why}`;
      if (pod) ctx.recordEvent({ kind: 'Pod', name: pod.metadata!.name!, namespace: pod.metadata!.namespace, uid: pod.metadata!.uid }, 'Normal', cmd.kind === 'install' ? 'Installing' : 'Uninstalling', text);
      else ctx.recordEvent({ kind: 'Node', name: base.nodeName }, 'Normal', 'UninstallingUnclaimed', text);
    }

    let requeueMs = plan.requeueAfterMs;
    for (const pod of pods) {
      const key = toPodKey(pod);
      const observations = plan.observations.get(key);
      if (!observations) continue;
      const status = toPodStatus({ pod, observations, baseIP: base.localIP, baseReady: liveness.kind === 'ready', now: new Date(now) });
      if (isSamePodStatus(pod.status, status)) continue;
      try {
        await ctx.core.patchNamespacedPodStatus({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: { status } }, mergePatch);
        ctx.metrics.apiWrites.inc({ resource: 'pods', verb: 'patchStatus' });
        recordTransitions(ctx, pod, status);
      } catch (err) {
        if (isNotFound(err)) continue;
        if (isConflict(err)) requeueMs = 200;
        else throw err;
      }
    }

    for (const key of plan.release) {
      const pod = pods.find((p) => toPodKey(p) === key);
      if (!pod?.metadata?.name || !pod.metadata.namespace) continue;
      try {
        // The kubelet's last step: remove the pod for good (precondition: the same pod, not a successor).
        await ctx.core.deleteNamespacedPod({ name: pod.metadata.name, namespace: pod.metadata.namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } } });
        ctx.metrics.apiWrites.inc({ resource: 'pods', verb: 'delete' });
        ctx.recordEvent({ kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid }, 'Normal', 'Uninstalled', `modules of ${key} are no longer on base ${identity}; pod removed`);
        ctx.logger.info({ pod: key, base: identity }, 'deleted module pod released');
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    // Look again when the base's liveness may change (pods go not-Ready when their base does).
    const livenessChange = toNextLivenessChange(base, ctx.now(), ctx.settings, ctx.hearing());
    const next = [requeueMs, livenessChange !== undefined ? livenessChange + 50 : undefined].filter((x): x is number => x !== undefined);
    return next.length ? { kind: 'requeueAfter', ms: Math.min(...next) } : { kind: 'done' };
  }

  return { reconcile, requestModuleList };
}

function recordTransitions(ctx: BridgeContext, pod: k8s.V1Pod, next: k8s.V1PodStatus): void {
  const target = { kind: 'Pod' as const, name: pod.metadata!.name!, namespace: pod.metadata!.namespace, uid: pod.metadata!.uid };
  for (const cs of next.containerStatuses ?? []) {
    const prev = pod.status?.containerStatuses?.find((c) => c.name === cs.name);
    const version = pod.spec?.containers.find((c) => c.name === cs.name)?.env?.find((e) => e.name === 'BIZ_VERSION')?.value ?? '';
    if (cs.state?.running && !prev?.state?.running) {
      ctx.recordEvent(target, 'Normal', 'Installed', `module ${cs.name}:${version} is ACTIVATED on node ${pod.spec?.nodeName}`);
      ctx.metrics.operations.inc({ command: 'installBiz', result: 'activated' });
    }
    const reason = cs.state?.waiting?.reason;
    if ((reason === 'ModuleInstallFailed' || reason === 'ModuleBroken') && prev?.state?.waiting?.reason !== reason) {
      ctx.recordEvent(target, 'Warning', reason === 'ModuleBroken' ? 'ModuleBroken' : 'InstallFailed', `module ${cs.name}:${version}: ${cs.state?.waiting?.message ?? ''}`);
      ctx.metrics.operations.inc({ command: 'installBiz', result: 'moduleFailed' });
    }
  }
}
