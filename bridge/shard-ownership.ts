/**
 * Shard ownership over Leases (docs/bridge.md "Sharding"): the I/O half of bridge/shards.ts. Once per
 * retry period a replica lists its fleet's Leases by label (one request, however many shards), folds
 * them into local observations (bridge/plan-lease.ts: expiry on our own clock, never the writer's),
 * asks `planShards` what to do, and writes: its member Lease, one renewal per held shard, the shards
 * it takes, the ones it hands back. Every write carries the resourceVersion read, so two replicas
 * cannot both win a shard. The leader-election rules apply per shard:
 * - a shard is acted on only while its last successful renewal *began* less than the renew deadline
 *   ago: any other replica saw that write later and waits a full lease duration after seeing it, so
 *   this replica stopped before anyone may take over;
 * - a shard above the fair share stops being acted on at once, its in-flight work drains while the
 *   Lease is still renewed, then it is released (holder cleared, like client-go's ReleaseOnCancel);
 * - an unhealthy replica (bridge/hearing.ts `toLeadershipHealth`) acts on nothing, hands its shards
 *   back and clears its member Lease so the others' fair share covers its shards;
 * - stop(): stop acting, drain, release every shard and delete the member Lease; stop(false) leaves
 *   them to expire, as a crash does.
 */
import type * as k8s from '@kubernetes/client-node';
import type { CoordinationApi } from '../core/kube-apis.ts';
import type { Logger } from '../core/logger.ts';
import { MicroTime } from '../core/micro-time.ts';
import { BRIDGE_FLEET_LABEL, BRIDGE_LEASE_KINDS, BRIDGE_LEASE_KIND_LABEL, BRIDGE_SHARDS_ANNOTATION, toMemberLeaseName, toShardLeaseName } from '../core/names.ts';
import { JITTER_FACTOR, errorCode, realSleep, toLeaseTimings } from './lease-timings.ts';
import { observeLease, toLeaseSpec, toReleasedSpec, type LeaseObservation } from './plan-lease.ts';
import { planShards } from './shards.ts';

export type ShardLeaseApi = Pick<CoordinationApi, 'listNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease' | 'deleteNamespacedLease'>;

/** Why a replica stopped acting on a shard. `lost` and `renewDeadline` were not its choice. */
export type ShardStopReason = 'aboveFairShare' | 'unhealthy' | 'stopping' | 'lost' | 'renewDeadline';

export interface ShardOwnershipOptions {
  readonly coordination: ShardLeaseApi;
  /** The leader Lease name: shard and member Lease names and the fleet label derive from it. */
  readonly prefix: string;
  readonly namespace: string;
  readonly identity: string;
  readonly shards: number;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs?: number | undefined;
  readonly retryPeriodMs?: number | undefined;
  readonly isHealthy?: (() => boolean) | undefined;
  /** Resolves when no work for the shard's bases is in flight any more (acting on it stopped already). */
  readonly drain?: ((shard: number) => Promise<void>) | undefined;
  /** Longest wait for a drain; past it the shard is left to expire instead of released. Default: the renew deadline. */
  readonly drainTimeoutMs?: number | undefined;
  readonly logger: Logger;
  /** Monotonic local clock for every timing decision (default performance.now()). */
  readonly now?: (() => number) | undefined;
  /** Wall clock for the renewTime written (informational; nobody compares it). */
  readonly wallClock?: (() => number) | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly random?: (() => number) | undefined;
  /**
   * Serving a shard starts. `taken`: the Lease was free, expired or missing, so someone else may have
   * served its bases meanwhile; `resumed`: the Lease still named this replica (acting had stopped at
   * the renew deadline, nobody took it), so what this replica sent for its bases is still its own.
   */
  readonly onAcquired?: ((shard: number, how: 'taken' | 'resumed') => void) | undefined;
  readonly onStopped?: ((shard: number, reason: ShardStopReason) => void) | undefined;
}

export interface ShardOwnership {
  /** True only while this replica holds the shard's Lease renewed within the renew deadline and is healthy. */
  owns(shard: number): boolean;
  ownedShards(): readonly number[];
  /** How many replicas the last list showed alive (this one included while healthy). */
  liveMembers(): number;
  stop(release?: boolean): Promise<void>;
}

export function startShardOwnership(o: ShardOwnershipOptions): ShardOwnership {
  const t = toLeaseTimings(o);
  const now = o.now ?? (() => performance.now());
  const wall = o.wallClock ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  const random = o.random ?? Math.random;
  const healthy = o.isHealthy ?? (() => true);
  const drainTimeoutMs = o.drainTimeoutMs ?? t.renewDeadlineMs;
  const durationS = Math.max(1, Math.ceil(t.leaseDurationMs / 1000));
  const selector = `${BRIDGE_FLEET_LABEL}=${o.prefix}`;
  const memberName = toMemberLeaseName(o.prefix, o.identity);
  const shardName = (k: number) => toShardLeaseName(o.prefix, k);
  const shardOf = new Map(Array.from({ length: o.shards }, (_, k) => [shardName(k), k]));
  const log = o.logger.child({ identity: o.identity, fleet: `${o.namespace}/${o.prefix}` });

  const leases = new Map<string, k8s.V1Lease>();
  const observed = new Map<string, LeaseObservation>();
  /** Shard → start of the attempt whose write last renewed it (acted on, or being drained). */
  const held = new Map<number, number>();
  const acting = new Set<number>();
  /** Shards handed back: 'draining' until their work is done, then 'drained' (released at the next attempt). */
  const releasing = new Map<number, 'draining' | 'drained'>();
  let memberSeen = false;
  let shardsDisagree = false;
  let lastLive = 1;
  let stopping: Promise<void> | undefined;
  let stopped = false;
  let inflight: Promise<void> = Promise.resolve();

  const withinDeadline = (k: number) => {
    const at = held.get(k);
    return at !== undefined && now() - at < t.renewDeadlineMs;
  };
  const stopActing = (k: number, reason: ShardStopReason) => {
    if (!acting.delete(k)) return;
    o.onStopped?.(k, reason);
  };
  const bounded = async <R>(p: Promise<R>, ms: number): Promise<R | 'timedOut'> => {
    p.catch(() => undefined);
    return Promise.race([p, sleep(ms).then(() => 'timedOut' as const)]);
  };

  /** create (no object known) or replace (with the resourceVersion read); updates the cache. */
  const write = async (name: string, kind: 'shard' | 'member', spec: k8s.V1LeaseSpec, budgetMs: number): Promise<void> => {
    const prev = leases.get(name);
    const labels = { [BRIDGE_FLEET_LABEL]: o.prefix, [BRIDGE_LEASE_KIND_LABEL]: BRIDGE_LEASE_KINDS[kind] };
    const annotations: Record<string, string> = kind === 'member' ? { [BRIDGE_SHARDS_ANNOTATION]: String(o.shards) } : {};
    const call = prev
      ? o.coordination.replaceNamespacedLease({ name, namespace: o.namespace, body: { ...prev, metadata: { ...prev.metadata, labels: { ...prev.metadata?.labels, ...labels }, annotations: { ...prev.metadata?.annotations, ...annotations } }, spec } })
      : o.coordination.createNamespacedLease({ namespace: o.namespace, body: { metadata: { name, namespace: o.namespace, labels, annotations }, spec } });
    const r = await bounded(call, Math.max(1, budgetMs));
    if (r === 'timedOut') throw new Error(`lease ${name} write took longer than ${Math.max(1, budgetMs)} ms`);
    leases.set(name, r);
    observed.set(name, observeLease(observed.get(name), r, now(), t.leaseDurationMs));
  };

  const list = async (budgetMs: number): Promise<void> => {
    const r = await bounded(o.coordination.listNamespacedLease({ namespace: o.namespace, labelSelector: selector }), budgetMs);
    if (r === 'timedOut') throw new Error(`lease list took longer than ${budgetMs} ms`);
    const at = now();
    const seen = new Set<string>();
    for (const l of r.items) {
      const name = l.metadata?.name ?? '';
      seen.add(name);
      leases.set(name, l);
      observed.set(name, observeLease(observed.get(name), l, at, t.leaseDurationMs));
    }
    for (const name of [...leases.keys()]) {
      if (seen.has(name)) continue;
      leases.delete(name);
      observed.delete(name);
    }
  };

  /** Runs the writes of one attempt side by side; returns how many failed (and logs the first). */
  const settle = async (writes: Array<[string, Promise<void>]>): Promise<void> => {
    const results = await Promise.allSettled(writes.map(([, p]) => p));
    const failed = results.flatMap((x, i) => (x.status === 'rejected' ? [{ what: writes[i]![0], err: x.reason as unknown }] : []));
    const other = failed.filter((f) => errorCode(f.err) !== 409);
    if (other.length > 0) log.warn({ failed: other.length, first: other[0]!.what, err: (other[0]!.err as Error).message }, 'shard lease writes failed');
    // A conflict means the record moved on: forget it, the next list shows who holds it now.
    for (const f of failed) if (errorCode(f.err) === 409) leases.delete(f.what);
  };

  const attempt = async () => {
    for (const k of [...acting]) if (!withinDeadline(k)) stopActing(k, 'renewDeadline');
    const isHealthy = healthy();
    await list(t.renewDeadlineMs);
    const listedAt = now();
    const shardLeases = new Map<number, LeaseObservation>();
    const members: LeaseObservation[] = [];
    const disagreeing: string[] = [];
    for (const [name, obs] of observed) {
      const kind = leases.get(name)?.metadata?.labels?.[BRIDGE_LEASE_KIND_LABEL];
      if (kind === BRIDGE_LEASE_KINDS.member && name !== memberName) {
        members.push(obs);
        const theirs = leases.get(name)?.metadata?.annotations?.[BRIDGE_SHARDS_ANNOTATION];
        if (theirs !== undefined && theirs !== String(o.shards) && obs.holder !== '' && listedAt < obs.observedAt + obs.durationMs) disagreeing.push(`${obs.holder} (${theirs})`);
      }
      const k = shardOf.get(name);
      if (kind === BRIDGE_LEASE_KINDS.shard && k !== undefined) shardLeases.set(k, obs);
    }
    // A live replica with another --shards maps bases to shards differently: serving anything then
    // could serve a base twice. Every replica yields (keeping its member Lease) until they agree again,
    // e.g. until a rollout that changed --shards has replaced the old replicas.
    if (disagreeing.length > 0 && !shardsDisagree) log.warn({ shards: o.shards, others: disagreeing }, 'a live bridge replica uses another --shards; serving no shard until every replica agrees');
    shardsDisagree = disagreeing.length > 0;
    const plan = planShards({
      identity: o.identity, shards: o.shards, now: listedAt, healthy: isHealthy && !shardsDisagree, members, shardLeases,
      acting: new Set(acting), releasing: new Set(releasing.keys()), graceMs: 2 * t.retryPeriodMs,
    });
    lastLive = plan.liveMembers;
    for (const k of plan.lost) stopActing(k, 'lost');
    for (const k of [...held.keys()]) {
      if (shardLeases.get(k)?.holder === o.identity) continue;
      held.delete(k);
      releasing.delete(k);
    }
    // The deadline counts from when the renewal was *sent*: nobody can observe the new record before
    // that, so acting until sentAt + renewDeadline ends before anyone's sentAt + leaseDuration. A slow
    // list therefore costs no deadline, and every write may take a whole deadline (a hung one is
    // abandoned then; acting stops at the old deadline regardless, see owns()).
    const writeShard = async (k: number, spec: k8s.V1LeaseSpec): Promise<number> => {
      const sentAt = now();
      await write(shardName(k), 'shard', spec, t.renewDeadlineMs);
      return sentAt;
    };
    const writes: Array<[string, Promise<void>]> = [];
    const stamp = new MicroTime(wall());
    const renew = (k: number, acquired: boolean) =>
      writeShard(k, toLeaseSpec(leases.get(shardName(k))?.spec, o.identity, stamp, durationS)).then((sentAt) => {
        held.set(k, sentAt);
        if (stopping || releasing.has(k) || !healthy()) return;
        if (!acting.has(k) && withinDeadline(k)) {
          acting.add(k);
          o.onAcquired?.(k, acquired ? 'taken' : 'resumed');
        }
      });
    const release = (k: number) =>
      writeShard(k, toReleasedSpec(leases.get(shardName(k))?.spec, stamp)).then(() => {
        held.delete(k);
        releasing.delete(k);
      });

    // Member Lease: present while healthy (so the others count this replica), cleared while not.
    const memberLease = leases.get(memberName);
    memberSeen ||= memberLease?.spec?.holderIdentity === o.identity;
    if (stopping) {
      // Only keep what is held, so in-flight work drains under the Leases; stop() releases them.
      if (memberLease) writes.push([memberName, write(memberName, 'member', toLeaseSpec(memberLease.spec, o.identity, stamp, durationS), t.renewDeadlineMs)]);
      for (const k of held.keys()) writes.push([shardName(k), renew(k, false)]);
      await settle(writes);
      return;
    }
    if (isHealthy) {
      writes.push([memberName, write(memberName, 'member', toLeaseSpec(memberLease?.spec, o.identity, stamp, durationS), t.renewDeadlineMs)]);
    } else if (memberLease?.spec?.holderIdentity === o.identity) {
      writes.push([memberName, write(memberName, 'member', toReleasedSpec(memberLease.spec, stamp), t.renewDeadlineMs)]);
    }
    for (const k of plan.renew) {
      if (releasing.get(k) === 'drained') writes.push([shardName(k), release(k)]);
      else writes.push([shardName(k), renew(k, false)]);
    }
    for (const { shard: k, reason } of plan.release) {
      stopActing(k, reason);
      if (reason === 'unhealthy') {
        writes.push([shardName(k), release(k)]);
        continue;
      }
      releasing.set(k, 'draining');
      writes.push([shardName(k), renew(k, false)]);
      void drainThenRelease(k);
    }
    // Member Leases of replicas gone for good (crashed pods never come back under their name):
    // deleted once unchanged for 3 lease durations, with the resourceVersion seen as precondition.
    for (const [name, obs] of observed) {
      const l = leases.get(name);
      if (name === memberName || l?.metadata?.labels?.[BRIDGE_LEASE_KIND_LABEL] !== BRIDGE_LEASE_KINDS.member) continue;
      if (listedAt - obs.observedAt < obs.durationMs + 3 * t.leaseDurationMs) continue;
      const rv = l.metadata?.resourceVersion;
      writes.push([name, o.coordination.deleteNamespacedLease({ name, namespace: o.namespace, body: rv ? { preconditions: { resourceVersion: rv } } : {} }).then(() => {
        leases.delete(name);
        observed.delete(name);
      })]);
    }
    // Announce before acquiring: others count this replica only once they have seen its member
    // Lease, so taking shards before that would only make them hand some straight back.
    if (memberSeen) for (const { shard: k } of plan.acquire) writes.push([shardName(k), renew(k, true)]);
    await settle(writes);
  };

  const drainThenRelease = async (k: number) => {
    const drained = o.drain ? await bounded(o.drain(k).then(() => 'drained' as const), drainTimeoutMs) : 'drained';
    if (releasing.get(k) !== 'draining') return;
    if (drained === 'timedOut') {
      log.warn({ shard: k, timeoutMs: drainTimeoutMs }, 'in-flight work of a shard did not finish; leaving its lease to expire');
      releasing.delete(k);
      held.delete(k);
      return;
    }
    releasing.set(k, 'drained');
  };

  const loop = async () => {
    while (!stopped) {
      inflight = attempt().catch((err: unknown) => {
        if (errorCode(err) !== 409) log.warn({ err: (err as Error).message }, 'shard lease attempt failed');
      });
      await inflight;
      for (const k of [...acting]) if (!withinDeadline(k)) stopActing(k, 'renewDeadline');
      if (stopped) break;
      await sleep(held.size > 0 ? t.retryPeriodMs : t.retryPeriodMs * (1 + random() * JITTER_FACTOR));
    }
  };
  void loop();

  const stopAll = async (release: boolean) => {
    for (const k of [...acting]) stopActing(k, 'stopping');
    if (o.drain && held.size > 0) {
      const all = Promise.all([...held.keys()].map((k) => o.drain!(k))).then(() => 'drained' as const);
      if ((await bounded(all, drainTimeoutMs)) === 'timedOut') {
        log.warn({ timeoutMs: drainTimeoutMs }, 'in-flight work did not finish; leaving the shard leases to expire');
        release = false;
      }
    }
    stopped = true;
    await inflight;
    if (!release) return;
    const stamp = new MicroTime(wall());
    const writes: Array<[string, Promise<void>]> = [...held.keys()].map((k) => [shardName(k), write(shardName(k), 'shard', toReleasedSpec(leases.get(shardName(k))?.spec, stamp), t.renewDeadlineMs)]);
    const member = leases.get(memberName);
    if (member) {
      const rv = member.metadata?.resourceVersion;
      writes.push([memberName, o.coordination.deleteNamespacedLease({ name: memberName, namespace: o.namespace, body: rv ? { preconditions: { resourceVersion: rv } } : {} }).then(() => undefined)]);
    }
    await settle(writes);
    held.clear();
    log.info({ shards: writes.length - (member ? 1 : 0) }, 'released the shard leases');
  };

  const owns = (k: number) => acting.has(k) && stopping === undefined && withinDeadline(k) && healthy();
  return {
    owns,
    ownedShards: () => [...acting].filter(owns).sort((a, b) => a - b),
    liveMembers: () => lastLive,
    stop: (release = true) => (stopping ??= stopAll(release)),
  };
}
