/**
 * Assembles the bridge: MQTT → registry (sources only record and enqueue keys), reflectors for virtual
 * nodes and module pods, two keyed queues (nodes, modules) whose reconcilers plan with pure functions,
 * periodic polls and Lease renewals, leader election. Built from injected dependencies; no listening.
 */
import os from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { BASE_IDENTITY_ANNOTATION, NODE_LEASE_NAMESPACE, VNODE_COMPONENT_LABEL, VNODE_COMPONENT_VALUE, VNODE_ENV_LABEL, toNodeName } from '../core/names.ts';
import { parseModulesOf, toBizModel } from '../core/module-spec.ts';
import { startWatchCache } from '../core/watch-cache.ts';
import { createAppsApi, createCoordinationApi, createCoreApi } from '../core/kube-apis.ts';
import type { KubeHttp } from '../core/kube-http.ts';
import { ControllerError, toErrorFields, type ErrorCode } from '../core/errors.ts';
import { planAdoption } from './adopt-nodes.ts';
import { BaseRegistry } from './base-registry.ts';
import type { BridgeSettings } from './config.ts';
import type { BridgeContext } from './context.ts';
import { createWorkloadRevisions } from './workload-revisions.ts';
import { createEventRecorder } from './events.ts';
import { handleMessage, type MessageOutcome } from './handle-message.ts';
import { HearingTracker, toLeadershipHealth } from './hearing.ts';
import { LivenessMemo } from './liveness-memo.ts';
import { startLeaderElection, type LeaderElection } from './leader-election.ts';
import { startShardOwnership, type ShardOwnership, type ShardStopReason } from './shard-ownership.ts';
import { SPREAD_SLOTS, toShard, toSpreadSlot } from './shards.ts';
import { createBridgeMetrics } from './metrics.ts';
import { createModuleReconciler } from './module-reconciler.ts';
import { connectMqtt, type MqttLink } from './mqtt-link.ts';
import { reconcileNode, renewNodeLease } from './node-reconciler.ts';
import { toLiveness } from './plan-node.ts';
import { startPodIndex } from './pod-index.ts';
import { toSlimNode } from './slim-objects.ts';
import { WorkQueue, type ReconcileOutcome } from './work-queue.ts';
import { startServiceSync } from './services/service-sync.ts';
import type { ServiceType } from '../core/service-annotations.ts';

export interface BridgeDeps {
  /** The API server (core/kube-http.ts), behind the client-side rate limit. Not destroyed by stop(). */
  readonly kube: KubeHttp;
  /**
   * For the leader, shard and member Leases only (default `kube`): not behind the client-side rate
   * limit, so a burst of node and pod writes cannot starve renewals past their deadline (client-go
   * components give leader election its own client for the same reason). Its traffic is bounded:
   * one list and 1 + held shards writes per retry period.
   */
  readonly leaseKube?: KubeHttp | undefined;
  readonly settings: BridgeSettings;
  readonly mqtt: { url: string; clientIdPrefix: string; username?: string | undefined; password?: string | undefined; caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined };
  /** `shards`: how many shard Leases the fleet is split into (default 16); per-base work follows them. */
  readonly leader: { enabled: boolean; name: string; namespace: string; durationMs: number; renewDeadlineMs?: number | undefined; retryPeriodMs?: number | undefined; shards?: number | undefined };
  readonly instanceId?: string | undefined;
  readonly concurrency: number;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly now?: () => number;
  /** Module Services (bridge/services); omit to turn them off. */
  readonly services?: { defaultType: ServiceType; resyncMs: number } | undefined;
}

export interface Bridge {
  readonly instanceId: string;
  /** undefined when ready, else why not. */
  readiness(): string | undefined;
  /** Holds the single leader Lease (cluster-wide work: module Services). */
  isLeader(): boolean;
  /** Serves this base: holds its shard (always true without leader election). */
  owns(identity: string): boolean;
  /** The shards this replica serves, ascending. */
  ownedShards(): readonly number[];
  readonly bases: BaseRegistry;
  /** Graceful stop; `releaseLease: false` leaves the leader lease to expire (like a crashed replica). */
  stop(opts?: { releaseLease?: boolean }): Promise<void>;
}

export function startBridge(deps: BridgeDeps): Bridge {
  const now = deps.now ?? Date.now;
  const s = deps.settings;
  const logger = deps.logger;
  const instanceId = deps.instanceId ?? `${os.hostname()}-${Math.random().toString(36).slice(2, 8)}`;
  const metrics = createBridgeMetrics(deps.registry);
  const registry = new BaseRegistry();
  const core = createCoreApi(deps.kube);
  const coordination = createCoordinationApi(deps.kube);
  const leaseApi = createCoordinationApi(deps.leaseKube ?? deps.kube);
  const apps = createAppsApi(deps.kube);
  const watch = deps.kube.watch.bind(deps.kube);
  const workloadRevisions = createWorkloadRevisions({
    readReplicaSet: (namespace, name) => apps.readNamespacedReplicaSet({ name, namespace }),
    readControllerRevision: (namespace, name) => apps.readNamespacedControllerRevision({ name, namespace }),
    now, logger,
  });
  let leading = !deps.leader.enabled;
  let election: LeaderElection | undefined;
  const shardCount = deps.leader.shards ?? 16;
  const allShards = Object.freeze(Array.from({ length: shardCount }, (_, k) => k));
  let ownership: ShardOwnership | undefined;
  const shardOf = (id: string) => toShard(id, shardCount);
  // Without leader election this replica serves every base, as a single bridge always did.
  const owns = (id: string) => !deps.leader.enabled || (ownership?.owns(shardOf(id)) ?? false);
  const ownedShards = () => (deps.leader.enabled ? (ownership?.ownedShards() ?? []) : allShards);
  // Reconciles in flight per shard: a shard handed back drains them before its Lease is released.
  const running = new Map<number, number>();
  const drainWaiters = new Map<number, Array<() => void>>();
  const tracked = (fn: (id: string) => Promise<ReconcileOutcome>) => async (id: string) => {
    const k = shardOf(id);
    running.set(k, (running.get(k) ?? 0) + 1);
    try {
      return await fn(id);
    } finally {
      const left = running.get(k)! - 1;
      if (left > 0) running.set(k, left);
      else {
        running.delete(k);
        for (const w of drainWaiters.get(k) ?? []) w();
        drainWaiters.delete(k);
      }
    }
  };
  const drainShard = (k: number) => (running.has(k) ? new Promise<void>((r) => drainWaiters.set(k, [...(drainWaiters.get(k) ?? []), r])) : Promise.resolve());
  // Deaf until the first subscription is granted; see hearing.ts. Spans older than deleteAfter can go.
  const hearing = new HearingTracker(now, s.reconnectGraceMs, s.deleteAfterMs);

  const track = (queue: string) => (_key: string, o: ReconcileOutcome, ms: number) => {
    metrics.reconciles.inc({ queue, outcome: o.kind });
    metrics.reconcileSeconds.observe({ queue }, ms / 1000);
    if (o.kind === 'error') logger.warn({ queue, key: _key, err: toErrorFields(o.error) }, 'reconcile failed; retrying with backoff');
  };
  const vnodeSelector = `${VNODE_COMPONENT_LABEL}=${VNODE_COMPONENT_VALUE},${VNODE_ENV_LABEL}=${s.env}`;
  const nodes = startWatchCache<k8s.V1Node>({
    watch, path: '/api/v1/nodes', list: () => core.listNode({ labelSelector: vnodeSelector }), labelSelector: vnodeSelector, logger, transform: toSlimNode,
    onChange: (node) => {
      const id = node.metadata?.annotations?.[BASE_IDENTITY_ANNOTATION];
      if (id) nodeQueue.add(id);
    },
  });
  // Module Services read the same pod cache (one watch and one copy of every module pod).
  const podSubscribers: Array<(pod: k8s.V1Pod) => void> = [];
  const pods = startPodIndex({ core, watch }, logger, (pod) => {
    for (const fn of podSubscribers) fn(pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const base = registry.byNodeName(nodeName);
    // The echo of our own status write brings nothing new to plan with (module-reconciler.ts).
    if (base && !modules.isOwnStatusEcho(base.identity, pod)) moduleQueue.add(base.identity);
  });
  const ctx: BridgeContext = {
    settings: s, registry, nodes, pods, core, coordination, workloadRevisions, logger, metrics, now,
    // Commands go only to bases this replica serves (a shard may be lost between plan and publish).
    // A refusal is a failed send, so the caller clears the op and re-plans instead of waiting for it.
    publish: async (id, kind, payload) => {
      if (!owns(id)) throw new ControllerError('BRIDGE_NOT_OWNER', `${kind} for base ${id} not sent: this replica does not serve its shard ${shardOf(id)} now`);
      await mqttLink.publishCommand(id, kind, payload);
    },
    recordEvent: createEventRecorder(core, 'module-controller-bridge', instanceId, logger, now, undefined, (verb) => metrics.apiWrites.inc({ resource: 'events', verb })),
    isLeader: () => leading && (election ? election.isLeader() : true),
    owns,
    hearing: () => hearing.get(),
  };
  const modules = createModuleReconciler(ctx);
  const nodeQueue = new WorkQueue(tracked((id) => reconcileNode(ctx, id)), { concurrency: deps.concurrency, onOutcome: track('nodes') });
  // The liveness a module pass plans with is recorded too: a base that went NotReady by silence
  // between heartbeats (no message marks that) re-plans at its next heartbeat, which finds it Ready
  // again; recorded only at heartbeats, the memo would still say Ready and the pods it parked as
  // WaitingForBase would wait for some other trigger.
  const moduleQueue = new WorkQueue(tracked((id) => {
    lastLiveness.changed(id, liveness(id)?.kind);
    return modules.reconcile(id);
  }), { concurrency: deps.concurrency, onOutcome: track('modules') });
  const enqueueAll = () => {
    for (const b of registry.list()) {
      nodeQueue.add(b.identity);
      moduleQueue.add(b.identity);
    }
  };

  const lastLiveness = new LivenessMemo();
  const liveness = (id: string) => {
    const b = registry.get(id);
    return b ? toLiveness(b, now(), s, hearing.get()) : undefined;
  };
  const onBaselineQuery = (id: string) => {
    if (!owns(id)) return;
    const base = registry.get(id);
    const nodeName = base?.nodeName ?? toNodeName(id);
    const wanted = pods.podsOnNode(nodeName).filter((p) => !p.metadata?.deletionTimestamp).flatMap((p) => parseModulesOf(p.spec?.containers).modules);
    ctx.publish(id, 'baseline', wanted.map(toBizModel)).catch((err: unknown) => logger.warn({ base: id, err: (err as Error).message }, 'baseline publish failed'));
  };
  // Hostile or confused senders are logged once per topic (so per base and kind; bounded), counted always.
  const warnedIdentities = new Set<string>();
  const IGNORED_CODES: Partial<Record<MessageOutcome, ErrorCode>> = {
    stale: 'MQTT_STALE', futureTimestamp: 'MQTT_CLOCK_SKEW', retained: 'MQTT_RETAINED', identityMismatch: 'MQTT_IDENTITY_MISMATCH',
  };

  const mqttLink: MqttLink = connectMqtt({
    url: deps.mqtt.url, env: s.env, clientId: `${deps.mqtt.clientIdPrefix}@@@${instanceId}`,
    username: deps.mqtt.username, password: deps.mqtt.password, caFile: deps.mqtt.caFile, certFile: deps.mqtt.certFile, keyFile: deps.mqtt.keyFile,
    logger, publishTimeoutMs: s.commandTimeoutMs,
    onMessage: (topic, payload, meta) => {
      const r = handleMessage(topic, payload, {
        registry, env: s.env, now, maxMessageAgeMs: s.maxMessageAgeMs, maxClockSkewMs: s.maxClockSkewMs,
        onBaseChanged: (id, what) => {
          if (what === 'heartbeat' || what === 'health') {
            nodeQueue.add(id);
            // A heartbeat matters to module planning only when the base's liveness changed (joined,
            // back, leaving); module lists and operation replies re-plan on their own.
            if (!lastLiveness.changed(id, liveness(id)?.kind)) return;
          }
          moduleQueue.add(id);
        },
        onBaselineQuery,
        requestModuleList: (id) => { if (owns(id)) modules.requestModuleList(id, true); },
      }, meta);
      metrics.messages.inc({ kind: r.kind, outcome: r.outcome });
      if (r.operation) {
        metrics.operationSeconds.observe({ command: r.operation.command }, r.operation.latencyMs / 1000);
        metrics.operations.inc({ command: r.operation.command, result: r.operation.ok ? 'succeeded' : 'failed' });
      }
      if (r.outcome !== 'accepted') {
        const code: ErrorCode = IGNORED_CODES[r.outcome] ?? 'MQTT_BAD_PAYLOAD';
        const hostile = r.outcome === 'identityMismatch' || r.outcome === 'badAddress' || r.outcome === 'futureTimestamp' || r.outcome === 'retained';
        if (hostile && !warnedIdentities.has(topic)) {
          if (warnedIdentities.size >= 10_000) warnedIdentities.clear();
          warnedIdentities.add(topic);
          logger.warn({ code, topic, outcome: r.outcome, reason: r.reason }, 'base message ignored (logged once per topic)');
        } else {
          logger.debug({ code, topic, outcome: r.outcome, reason: r.reason }, 'base message ignored');
        }
      }
    },
    // After a (re)connect: hearing resumes (after a grace), commands that got no answer are re-planned,
    // never replayed, and every base's module list is read again before anything is planned.
    onConnected: () => {
      hearing.up();
      metrics.mqttHearing.set(1);
      for (const b of registry.list()) {
        registry.forgetPendingOps(b.identity);
        registry.forgetModules(b.identity);
        if (owns(b.identity)) modules.requestModuleList(b.identity, true);
      }
      enqueueAll();
    },
    onDisconnected: () => {
      hearing.down();
      metrics.mqttHearing.set(0);
      logger.warn({ code: 'MQTT_UNAVAILABLE', bases: registry.size }, 'not hearing the MQTT broker: liveness frozen, no base is judged by this silence');
    },
  });
  metrics.mqttHearing.set(0);

  // Adopt virtual nodes that exist already (bridge restart or failover) from what they and their Leases say.
  void nodes.synced.then(async () => {
    const leases = await coordination.listNamespacedLease({ namespace: NODE_LEASE_NAMESPACE })
      .then((l) => new Map(l.items.map((x) => [x.metadata?.name ?? '', x])))
      .catch((err: unknown) => {
        logger.warn({ err: (err as Error).message }, 'could not list node Leases; adopting from the Nodes\' conditions only');
        return new Map();
      });
    const adopted = planAdoption(nodes.list(), leases, now(), s.notReadyAfterMs);
    for (const a of adopted) registry.adopt(a.identity, a);
    if (adopted.length) logger.info({ nodes: adopted.length, ready: adopted.filter((a) => a.adopted.ready).length }, 'adopted existing virtual nodes');
    enqueueAll();
  });

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void) => { const t = setInterval(fn, ms); t.unref(); timers.push(t); };
  // A sweep over all bases, spread over its period: one slot of the bases per tick (shards.ts SPREAD_SLOTS).
  const everySpread = (periodMs: number, fn: (inTick: (identity: string) => boolean) => void) => {
    let tick = 0;
    every(periodMs / SPREAD_SLOTS, () => {
      const slot = tick++ % SPREAD_SLOTS;
      fn((identity) => toSpreadSlot(identity) === slot);
    });
  };
  // Polls go to the live bases this replica serves, over a link that hears; after a reconnect onConnected asks again.
  const liveBases = (inTick: (identity: string) => boolean) => registry.list().filter((b) => inTick(b.identity) && owns(b.identity) && toLiveness(b, now(), s, hearing.get()).kind === 'ready');
  const polling = () => mqttLink.isConnected();
  everySpread(s.healthPollMs, (inTick) => {
    if (!polling()) return;
    for (const b of liveBases(inTick)) ctx.publish(b.identity, 'health', {}).catch((err: unknown) => logger.warn({ base: b.identity, err: (err as Error).message }, 'health publish failed'));
  });
  everySpread(s.moduleListPollMs, (inTick) => {
    if (!polling()) return;
    for (const b of liveBases(inTick)) modules.requestModuleList(b.identity, true);
  });
  everySpread(s.nodeLeaseRenewMs, (inTick) => {
    for (const b of registry.list()) {
      if (!inTick(b.identity) || !owns(b.identity)) continue;
      const node = nodes.get(b.nodeName);
      if (node) renewNodeLease(ctx, b.nodeName, node.metadata?.uid, b.lastHeartbeatAt).catch((err: unknown) => logger.warn({ node: b.nodeName, err: (err as Error).message }, 'node lease renewal failed'));
    }
  });
  every(5_000, () => {
    const counts: Record<string, number> = { ready: 0, notReady: 0, dead: 0 };
    for (const b of registry.list()) counts[toLiveness(b, now(), s, hearing.get()).kind]!++;
    for (const [state, n] of Object.entries(counts)) metrics.bases.set({ state }, n);
    updateShardGauges();
  });
  // Bounded state: drop what deleted bases left behind, and answered commands nobody needs any more.
  const opHistoryMs = 2 * Math.max(s.retryBackoffMaxMs, s.commandTimeoutMs);
  every(30_000, () => {
    const t = now();
    for (const b of registry.list()) registry.pruneOps(b.identity, t, opHistoryMs);
    lastLiveness.prune((id) => registry.get(id) !== undefined);
  });

  const stopServices = new AbortController();
  const services = deps.services
    ? startServiceSync({ kube: deps.kube, logger: logger.child({ part: 'services' }), registry: deps.registry, isLeader: () => ctx.isLeader(), signal: stopServices.signal, defaultType: deps.services.defaultType, resyncMs: deps.services.resyncMs, concurrency: deps.concurrency,
      pods: { all: () => pods.all(), isSynced: () => pods.isSynced(), isFresh: () => pods.isFresh(), synced: pods.synced, subscribe: (fn) => { podSubscribers.push(fn); } } })
    : undefined;

  function updateShardGauges(): void {
    metrics.shardsOwned.set(ownedShards().length);
    let n = 0;
    for (const b of registry.list()) if (owns(b.identity)) n++;
    metrics.basesOwned.set(n);
  }
  /**
   * A shard gained. Taken (free, expired or new): another replica may have served its bases, so never
   * act on this replica's old view: forget their modules and pending operations and re-read the module
   * lists before planning. Resumed (the Lease never left this replica; serving had only paused at the
   * renew deadline): nobody else sent anything, and this replica kept hearing every base (module lists
   * and replies are recorded whether or not it serves them), so its view is current: forgetting would
   * only resend installs a base is still running and park pods until the next module list.
   */
  const onShardAcquired = (k: number, how: 'taken' | 'resumed') => {
    const bases = registry.list().filter((b) => shardOf(b.identity) === k);
    for (const b of bases) {
      if (how === 'taken') {
        registry.forgetPendingOps(b.identity);
        registry.forgetModules(b.identity);
        if (mqttLink.isConnected()) modules.requestModuleList(b.identity, true);
      }
      nodeQueue.add(b.identity);
      moduleQueue.add(b.identity);
    }
    metrics.shardTransitions.inc({ transition: 'acquired' });
    logger.info({ shard: k, bases: bases.length, how }, 'shard acquired');
    updateShardGauges();
  };
  const onShardStopped = (k: number, reason: ShardStopReason) => {
    if (reason === 'lost' || reason === 'renewDeadline') {
      metrics.shardTransitions.inc({ transition: 'lost' });
      logger.warn({ shard: k, reason }, 'shard lost');
    } else {
      metrics.shardTransitions.inc({ transition: 'released' });
      logger.info({ shard: k, reason }, 'shard released');
    }
    updateShardGauges();
  };

  if (deps.leader.enabled) {
    // Per-base work follows the shard Leases; a replica that cannot hear the broker gives its shards up.
    ownership = startShardOwnership({
      coordination: leaseApi, prefix: deps.leader.name, namespace: deps.leader.namespace, identity: instanceId, shards: shardCount,
      leaseDurationMs: deps.leader.durationMs, renewDeadlineMs: deps.leader.renewDeadlineMs, retryPeriodMs: deps.leader.retryPeriodMs,
      isHealthy: () => toLeadershipHealth(mqttLink.isConnected(), hearing.deafForMs(), deps.leader.durationMs),
      drain: drainShard, logger, now: deps.now, wallClock: deps.now,
      onAcquired: onShardAcquired, onStopped: onShardStopped,
    });
    election = startLeaderElection({
      coordination: leaseApi, name: deps.leader.name, namespace: deps.leader.namespace, identity: instanceId, leaseDurationMs: deps.leader.durationMs, logger,
      // Timing on the monotonic clock unless a test injects one; the wall clock only stamps renewTime.
      now: deps.now, wallClock: deps.now,
      renewDeadlineMs: deps.leader.renewDeadlineMs, retryPeriodMs: deps.leader.retryPeriodMs,
      // stop(): in-flight reconciles finish under the lease before it is released.
      drain: () => Promise.all([nodeQueue.idle(), moduleQueue.idle()]).then(() => undefined),
      // A replica that cannot hear the broker gives up leadership (see toLeadershipHealth).
      isHealthy: () => toLeadershipHealth(mqttLink.isConnected(), hearing.deafForMs(), deps.leader.durationMs),
      // The leader Lease gates cluster-wide work only; bases follow their shards (onShardAcquired).
      onStartedLeading: () => {
        leading = true;
        metrics.leader.set(1);
      },
      onStoppedLeading: () => { leading = false; metrics.leader.set(0); },
    });
  } else {
    metrics.leader.set(1);
    metrics.shardsOwned.set(shardCount);
  }

  return {
    instanceId,
    bases: registry,
    isLeader: ctx.isLeader,
    owns,
    ownedShards,
    readiness: () => {
      if (!mqttLink.isConnected()) return 'MQTT broker not connected or a subscription refused (not hearing bases)';
      if (!nodes.isSynced() || !pods.isSynced()) return 'Kubernetes caches not synced';
      if (services && !services.ready()) return 'module Service caches not synced';
      return undefined;
    },
    // Every step is bounded, so SIGTERM ends the bridge within seconds even with the broker or the
    // API server unreachable.
    stop: async (opts) => {
      const bounded = (p: Promise<unknown> | undefined, ms: number, what: string) =>
        Promise.race([
          Promise.resolve(p).catch((err: unknown) => logger.warn({ err: (err as Error).message }, `${what} failed while stopping`)),
          new Promise<void>((r) => setTimeout(() => { logger.warn({ ms }, `${what} did not finish in time; going on`); r(); }, ms).unref()),
        ]);
      for (const t of timers) clearInterval(t);
      nodeQueue.stop();
      moduleQueue.stop();
      await bounded(Promise.all([election?.stop(opts?.releaseLease ?? true), ownership?.stop(opts?.releaseLease ?? true)]), 3_000, 'releasing the leader and shard leases');
      await bounded(mqttLink.close(), 2_500, 'closing MQTT');
      stopServices.abort();
      await bounded(services?.stop(), 1_500, 'stopping module Services');
      await bounded(Promise.all([nodes.stop(), pods.stop()]), 1_500, 'stopping the caches');
    },
  };
}
