// reconcileNode with injected clients that record the calls (no module mocks), a real registry and
// an injected clock: creation, the Lease's last-heard annotation, frozen liveness while the bridge
// cannot hear, and deletion only on a freshly listed node cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import type { CoordinationApi, CoreApi } from '../../core/kube-apis.ts';
import { Registry } from 'prom-client';
import { BASE_LAST_HEARD_ANNOTATION } from '../../core/names.ts';
import { createSilentLogger } from '../../core/logger.ts';
import type { WatchCache } from '../../core/watch-cache.ts';
import { BaseRegistry } from '../../bridge/base-registry.ts';
import type { BridgeContext } from '../../bridge/context.ts';
import { ALWAYS_HEARD, recordLinkDown, type Hearing } from '../../bridge/hearing.ts';
import { createBridgeMetrics } from '../../bridge/metrics.ts';
import { reconcileNode } from '../../bridge/node-reconciler.ts';
import type { PodIndex } from '../../bridge/pod-index.ts';
import { planNode } from '../../bridge/plan-node.ts';
import { BASE_ID, BASE_IP, SETTINGS, T0 } from './fixtures.ts';

interface World {
  readonly ctx: BridgeContext;
  readonly calls: string[];
  readonly bodies: unknown[];
  readonly events: string[];
  setNow(t: number): void;
}

/** `createKeepsStatus`: the API server returns (and stores) the created Node's status, as kube-apiserver does; `leaseExists`: a Lease create conflicts. */
function world(o: { nodes?: k8s.V1Node[]; fresh?: boolean; hearing?: Hearing; leader?: boolean; createKeepsStatus?: boolean; leaseExists?: boolean } = {}): World {
  let now = T0;
  const calls: string[] = [];
  const bodies: unknown[] = [];
  const events: string[] = [];
  const record = (name: string, answer: (body: unknown) => unknown = () => ({ metadata: { uid: 'uid-1' } })) => async (args: { body?: unknown; name?: string }) => {
    calls.push(`${name} ${args.name ?? ''}`.trim());
    bodies.push(args.body);
    return answer(args.body);
  };
  const created = (body: unknown) => (o.createKeepsStatus ?? true ? { ...(body as k8s.V1Node), metadata: { ...(body as k8s.V1Node).metadata, uid: 'uid-1' } } : { metadata: { uid: 'uid-1' } });
  const conflict = () => { if (o.leaseExists) throw Object.assign(new Error('conflict'), { code: 409 }); return {}; };
  const nodes = new Map((o.nodes ?? []).map((n) => [n.metadata!.name!, n]));
  const cache: WatchCache<k8s.V1Node> = {
    list: () => [...nodes.values()], get: (name) => nodes.get(name), isSynced: () => true, isFresh: () => o.fresh ?? true, synced: Promise.resolve(), stop: async () => {},
  };
  const pods: PodIndex = { podsOnNode: () => [], all: () => [], isSynced: () => true, isFresh: () => true, synced: Promise.resolve(), stop: async () => {} };
  const ctx: BridgeContext = {
    settings: SETTINGS, registry: new BaseRegistry(), nodes: cache, pods,
    core: { createNode: record('createNode', created), patchNodeStatus: record('patchNodeStatus'), patchNode: record('patchNode'), deleteNode: record('deleteNode') } as unknown as CoreApi,
    coordination: { patchNamespacedLease: record('patchLease'), createNamespacedLease: record('createLease', conflict), deleteNamespacedLease: record('deleteLease') } as unknown as CoordinationApi,
    workloadRevisions: { read: async () => new Map() },
    publish: async () => {},
    recordEvent: (_t, type, reason) => { events.push(`${type} ${reason}`); },
    logger: createSilentLogger(), metrics: createBridgeMetrics(new Registry()),
    now: () => now, isLeader: () => true, owns: () => o.leader ?? true, hearing: () => o.hearing ?? ALWAYS_HEARD,
  };
  return { ctx, calls, bodies, events, setNow: (t) => { now = t; } };
}

const META = { identity: BASE_ID, name: 'base', version: '1.0.0', clusterName: 'default' };
const heartbeat = { metadata: META, localIP: BASE_IP, hostName: 'h', state: 'activated', publishTimestamp: 1 };

function existingNode(w: World, at: number): k8s.V1Node {
  const plan = planNode(w.ctx.registry.get(BASE_ID)!, undefined, SETTINGS, new Date(at));
  assert.equal(plan.action, 'create');
  return plan.action === 'create' ? plan.node : {};
}

test('a new live base: Node created with its status, its Lease created at once with the last-heard time, Event BaseJoined', async () => {
  const w = world();
  w.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0 - 1_000);
  const out = await reconcileNode(w.ctx, BASE_ID);
  // Two writes per joining base: no status patch (a Node create keeps its status), no failing Lease renewal first.
  assert.deepEqual(w.calls, ['createNode', 'createLease']);
  assert.equal((w.bodies[0] as k8s.V1Node).status?.conditions?.[0]?.status, 'True');
  const lease = w.bodies[1] as { metadata: { annotations: Record<string, string>; ownerReferences: Array<{ uid: string }> } };
  assert.equal(lease.metadata.annotations[BASE_LAST_HEARD_ANNOTATION], new Date(T0 - 1_000).toISOString());
  assert.equal(lease.metadata.ownerReferences[0]?.uid, 'uid-1');
  assert.deepEqual(w.events, ['Normal BaseJoined']);
  assert.equal(out.kind, 'requeueAfter');
});

test('a new base: an API server that drops the status on create gets it written; an old Lease of that name is renewed', async () => {
  const w = world({ createKeepsStatus: false, leaseExists: true });
  w.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0 - 1_000);
  await reconcileNode(w.ctx, BASE_ID);
  assert.deepEqual(w.calls, ['createNode', 'patchNodeStatus virtual-node-10.1.0.45', 'createLease', 'patchLease virtual-node-10.1.0.45']);
});

test('not the owner of the base\'s shard: nothing is written', async () => {
  const w = world({ leader: false });
  w.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0);
  assert.deepEqual(await reconcileNode(w.ctx, BASE_ID), { kind: 'done' });
  assert.deepEqual(w.calls, []);
});

test('while the bridge cannot hear, a silent base\'s Ready node is not turned NotReady', async () => {
  const probe = world();
  probe.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0);
  const node = existingNode(probe, T0);
  const w = world({ nodes: [node], hearing: recordLinkDown(ALWAYS_HEARD, T0 + 1_000) });
  w.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0);
  w.setNow(T0 + 5 * SETTINGS.notReadyAfterMs);
  await reconcileNode(w.ctx, BASE_ID);
  const written = w.bodies.map((b) => (b as { status?: k8s.V1NodeStatus }).status?.conditions?.[0]?.status).filter(Boolean);
  assert.ok(written.every((s) => s === 'True'), `Ready written as ${written.join(',')}`);
  assert.deepEqual(w.events, []);
  // The same silence while hearing: NotReady.
  const heard = world({ nodes: [node] });
  heard.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0);
  heard.setNow(T0 + 5 * SETTINGS.notReadyAfterMs);
  await reconcileNode(heard.ctx, BASE_ID);
  assert.deepEqual(heard.events, ['Warning BaseUnreachable']);
});

test('a dead base\'s node is deleted only on a freshly listed node cache', async () => {
  const probe = world();
  probe.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0);
  const node = existingNode(probe, T0);
  const stale = world({ nodes: [node], fresh: false });
  stale.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0);
  stale.setNow(T0 + SETTINGS.deleteAfterMs + 1);
  assert.deepEqual(await reconcileNode(stale.ctx, BASE_ID), { kind: 'requeueAfter', ms: 1_000 });
  assert.deepEqual(stale.calls, []);
  assert.ok(stale.ctx.registry.get(BASE_ID), 'the record stays until the node is really deleted');

  const fresh = world({ nodes: [node], fresh: true });
  fresh.ctx.registry.recordHeartbeat(BASE_ID, heartbeat, T0);
  fresh.setNow(T0 + SETTINGS.deleteAfterMs + 1);
  assert.deepEqual(await reconcileNode(fresh.ctx, BASE_ID), { kind: 'done' });
  assert.deepEqual(fresh.calls, ['deleteNode virtual-node-10.1.0.45', 'deleteLease virtual-node-10.1.0.45']);
  assert.deepEqual(fresh.events, ['Warning BaseRemoved']);
  assert.equal(fresh.ctx.registry.get(BASE_ID), undefined);
});
