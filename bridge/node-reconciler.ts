/** Applies `planNode` for one base (key = base identity) and keeps node Leases renewed. */
import { PATCH } from '../core/kube-http.ts';
import { MicroTime } from '../core/micro-time.ts';
import { BASE_LAST_HEARD_ANNOTATION, NODE_LEASE_NAMESPACE, VNODE_TAINT } from '../core/names.ts';
import type { BridgeContext } from './context.ts';
import { isConflict, isNotFound } from './context.ts';
import { planNode, toLiveness, toNextLivenessChange } from './plan-node.ts';
import type { ReconcileOutcome } from './work-queue.ts';

const STATUS_REFRESH_MS = 60_000;

export async function reconcileNode(ctx: BridgeContext, identity: string): Promise<ReconcileOutcome> {
  if (!ctx.owns(identity)) return { kind: 'done' };
  const base = ctx.registry.get(identity);
  if (!base) return { kind: 'done' };
  const existing = ctx.nodes.get(base.nodeName);
  const now = new Date(ctx.now());
  const hearing = ctx.hearing();
  const plan = planNode(base, existing, ctx.settings, now, STATUS_REFRESH_MS, hearing);
  const target = { kind: 'Node' as const, name: base.nodeName, uid: existing?.metadata?.uid };
  switch (plan.action) {
    case 'create': {
      try {
        const created = await ctx.core.createNode({ body: plan.node });
        ctx.metrics.apiWrites.inc({ resource: 'nodes', verb: 'create' });
        // kube-apiserver keeps a Node's status on create (the kubelet registers its node that way;
        // only updates ignore it). An API server that dropped it gets the status written once more.
        if (!created.status?.conditions?.some((c) => c.type === 'Ready')) {
          await ctx.core.patchNodeStatus({ name: base.nodeName, body: { status: plan.node.status } }, PATCH.merge);
          ctx.metrics.apiWrites.inc({ resource: 'nodes', verb: 'patchStatus' });
        }
        // A new node has no Lease yet: create it at once instead of a renewal that fails first.
        await renewNodeLease(ctx, base.nodeName, created.metadata?.uid, base.lastHeartbeatAt, { isNew: true });
        ctx.recordEvent({ ...target, uid: created.metadata?.uid }, 'Normal', 'BaseJoined', `base ${identity} (${base.metadata.name}:${base.metadata.version}, ${base.localIP}) joined`);
        ctx.logger.info({ node: base.nodeName, ip: base.localIP }, 'virtual node created');
      } catch (err) {
        if (!isConflict(err)) throw err;
        return { kind: 'requeueAfter', ms: 500 };
      }
      break;
    }
    case 'update': {
      if (plan.labels || plan.addTaint) {
        const taints = [...(existing?.spec?.taints ?? []).filter((t) => t.key !== VNODE_TAINT.key), { ...VNODE_TAINT }];
        await ctx.core.patchNode({ name: base.nodeName, body: { metadata: plan.labels ? { labels: plan.labels } : {}, ...(plan.addTaint ? { spec: { taints } } : {}) } }, PATCH.merge);
        ctx.metrics.apiWrites.inc({ resource: 'nodes', verb: 'patch' });
      }
      if (plan.status) {
        const prevReady = existing?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
        const nextReady = plan.status.conditions?.[0];
        await ctx.core.patchNodeStatus({ name: base.nodeName, body: { status: plan.status } }, PATCH.merge);
        ctx.metrics.apiWrites.inc({ resource: 'nodes', verb: 'patchStatus' });
        if (prevReady !== nextReady?.status) {
          const back = nextReady?.status === 'True';
          ctx.recordEvent(target, back ? 'Normal' : 'Warning', back ? 'BaseReady' : (nextReady?.reason ?? 'BaseNotReady'), nextReady?.message ?? '');
          ctx.logger.info({ node: base.nodeName, ready: nextReady?.status, reason: nextReady?.reason }, 'virtual node readiness changed');
        }
      }
      break;
    }
    case 'delete': {
      // Destructive: only on a node cache listed since its last watch error.
      if (!ctx.nodes.isFresh()) return { kind: 'requeueAfter', ms: 1_000 };
      try {
        await ctx.core.deleteNode({ name: base.nodeName });
        ctx.metrics.apiWrites.inc({ resource: 'nodes', verb: 'delete' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await ctx.coordination.deleteNamespacedLease({ name: base.nodeName, namespace: NODE_LEASE_NAMESPACE }).catch(() => undefined);
      ctx.recordEvent(target, 'Warning', 'BaseRemoved', `node deleted: ${plan.why}`);
      ctx.logger.info({ node: base.nodeName, why: plan.why }, 'virtual node deleted');
      ctx.registry.delete(identity);
      return { kind: 'done' };
    }
    case 'none':
      break;
  }
  const l = toLiveness(base, ctx.now(), ctx.settings, hearing);
  if (l.kind === 'dead' && !existing) {
    ctx.registry.delete(identity);
    return { kind: 'done' };
  }
  const next = toNextLivenessChange(base, ctx.now(), ctx.settings, hearing);
  return { kind: 'requeueAfter', ms: Math.min(next ?? STATUS_REFRESH_MS, STATUS_REFRESH_MS) + 50 };
}

/**
 * Renews (or creates) `kube-node-lease/<node>`, the heartbeat kube-controller-manager watches. The
 * same write records when the bridge last heard the base (annotation, bridge clock), which a
 * restarted bridge adopts from (adopt-nodes.ts) — no extra API write.
 */
export async function renewNodeLease(ctx: BridgeContext, nodeName: string, nodeUid: string | undefined, lastHeardAt: number, opts: { isNew?: boolean } = {}): Promise<void> {
  const now = new MicroTime(ctx.now());
  const durationS = Math.max(40, Math.ceil((ctx.settings.nodeLeaseRenewMs * 4) / 1000));
  const annotations = { [BASE_LAST_HEARD_ANNOTATION]: new Date(lastHeardAt).toISOString() };
  const patch = async () => {
    await ctx.coordination.patchNamespacedLease({ name: nodeName, namespace: NODE_LEASE_NAMESPACE, body: { metadata: { annotations }, spec: { renewTime: now, holderIdentity: nodeName, leaseDurationSeconds: durationS } } }, PATCH.merge);
    ctx.metrics.apiWrites.inc({ resource: 'leases', verb: 'patch' });
  };
  const create = async () => {
    const ownerReferences = nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] : undefined;
    await ctx.coordination.createNamespacedLease({
      namespace: NODE_LEASE_NAMESPACE,
      body: { metadata: { name: nodeName, namespace: NODE_LEASE_NAMESPACE, annotations, ...(ownerReferences ? { ownerReferences } : {}) }, spec: { holderIdentity: nodeName, leaseDurationSeconds: durationS, renewTime: now } },
    });
    ctx.metrics.apiWrites.inc({ resource: 'leases', verb: 'create' });
  };
  if (opts.isNew) {
    try {
      await create();
    } catch (err) {
      // A Lease left by an earlier node of this name (not yet garbage-collected): renew it.
      if (!isConflict(err)) throw err;
      await patch();
    }
    return;
  }
  try {
    await patch();
  } catch (err) {
    if (!isNotFound(err)) throw err;
    // Created meanwhile (the join of this node, or the periodic renewal racing it): renew that one.
    await create().catch(async (e: unknown) => {
      if (!isConflict(e)) throw e;
      await patch();
    });
  }
}
