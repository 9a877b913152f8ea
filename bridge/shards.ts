/**
 * The pure half of sharding (docs/bridge.md "Sharding"): which shard a base belongs to, how many
 * shards a replica should hold, and what a replica does with the shard Leases it just listed. The
 * Leases themselves follow client-go's leader election (bridge/plan-lease.ts): every expiry is judged
 * on the observer's own clock from when it *saw* a record change, never from the writer's renewTime.
 */
import type { LeaseObservation } from './plan-lease.ts';

/** FNV-1a 32-bit over the UTF-8 bytes of `s`. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) mix(c);
    else {
      for (const b of Buffer.from(s.slice(i), 'utf8')) mix(b);
      break;
    }
  }
  return h >>> 0;
}

/** murmur3's finaliser: FNV alone mixes the last bytes poorly, which rendezvous weights need. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard (0 ≤ k < shards) a base belongs to: a stable hash of its identity, the same on every replica. */
export function toShard(identity: string, shards: number): number {
  return fnv1a(identity) % shards;
}

/** ceil(shards / live members): each replica holds at most this many. */
export function toFairShare(shards: number, liveMembers: number): number {
  return Math.ceil(shards / Math.max(1, liveMembers));
}

/** Rendezvous (highest-random-weight) weight of a (shard, member) pair. */
export function toShardWeight(shard: number, identity: string): number {
  return fmix32(fnv1a(`${shard}\u0000${identity}`));
}

/** Every shard, the ones `identity` wants most first; replicas rank them differently. */
export function toShardPreference(identity: string, shards: number): number[] {
  const w = Array.from({ length: shards }, (_, k) => toShardWeight(k, identity));
  return Array.from({ length: shards }, (_, k) => k).sort((a, b) => w[b]! - w[a]! || a - b);
}

export type ShardReason =
  | 'mine' | 'draining' | 'aboveFairShare' | 'unhealthy' | 'lost'
  | 'missing' | 'free' | 'expired' | 'heldByOther' | 'allottedToOther' | 'atFairShare';

export interface ShardPlanInput {
  readonly identity: string;
  readonly shards: number;
  /** Local clock, the one the observations were taken on. */
  readonly now: number;
  readonly healthy: boolean;
  /** The fleet's member Leases as observed (holder = the member's identity). */
  readonly members: Iterable<LeaseObservation>;
  /** Shard Leases as observed, by shard; no entry: no Lease object exists. */
  readonly shardLeases: ReadonlyMap<number, LeaseObservation>;
  /** Shards this replica acts on right now. */
  readonly acting: ReadonlySet<number>;
  /** Shards this replica is handing back (draining): kept renewed, never counted, never re-taken. */
  readonly releasing?: ReadonlySet<number> | undefined;
  /**
   * A free or expired shard allotted to another member is taken by anyone below its share once it
   * has stayed unowned this long (that member may not be acting): two retry periods, say.
   */
  readonly graceMs: number;
}

export interface ShardPlan {
  readonly liveMembers: number;
  readonly fairShare: number;
  readonly acquire: ReadonlyArray<{ readonly shard: number; readonly kind: 'create' | 'take'; readonly reason: 'missing' | 'free' | 'expired' }>;
  /** Shards to renew (held and kept, or being drained). */
  readonly renew: readonly number[];
  readonly release: ReadonlyArray<{ readonly shard: number; readonly reason: 'aboveFairShare' | 'unhealthy' }>;
  /** Shards this replica acted on whose Lease now names someone else (or is gone): stop at once. */
  readonly lost: readonly number[];
  /** Why, for every shard. */
  readonly reasons: ReadonlyMap<number, ShardReason>;
}

const isLive = (o: LeaseObservation, now: number) => o.holder !== '' && now < o.observedAt + o.durationMs;

/**
 * One retry period's decision. Kept shards are the held ones this replica prefers most, up to its
 * fair share; the rest go back (drained first). Unowned shards (no object, released, or not seen
 * renewed for a lease duration) are allotted deterministically — by rendezvous weight, to members
 * below their share — so replicas with the same view never race for the same shard; 409s settle
 * the races of differing views.
 */
export function planShards(input: ShardPlanInput): ShardPlan {
  const { identity: me, shards, now } = input;
  const releasing = input.releasing ?? new Set<number>();
  const reasons = new Map<number, ShardReason>();
  const lost = [...input.acting].filter((k) => input.shardLeases.get(k)?.holder !== me).sort((a, b) => a - b);
  const mine = Array.from({ length: shards }, (_, k) => k).filter((k) => input.shardLeases.get(k)?.holder === me);

  const memberIds = new Set<string>();
  for (const m of input.members) if (isLive(m, now)) memberIds.add(m.holder);
  if (input.healthy) memberIds.add(me);
  else memberIds.delete(me);
  const liveMembers = Math.max(1, memberIds.size);
  const fairShare = toFairShare(shards, liveMembers);

  if (!input.healthy) {
    const release = mine.map((shard) => ({ shard, reason: 'unhealthy' as const }));
    for (const { shard } of release) reasons.set(shard, 'unhealthy');
    return { liveMembers, fairShare, acquire: [], renew: [], release, lost, reasons };
  }

  const rank = new Map(toShardPreference(me, shards).map((k, i) => [k, i]));
  const byPreference = (a: number, b: number) => rank.get(a)! - rank.get(b)!;
  const held = mine.filter((k) => !releasing.has(k)).sort(byPreference);
  const kept = held.slice(0, fairShare);
  const release = held.slice(fairShare).map((shard) => ({ shard, reason: 'aboveFairShare' as const }));
  for (const k of kept) reasons.set(k, 'mine');
  for (const { shard } of release) reasons.set(shard, 'aboveFairShare');
  const draining = mine.filter((k) => releasing.has(k));
  for (const k of draining) reasons.set(k, 'draining');

  // Who holds what (live records only), and what nobody does.
  const count = new Map<string, number>([...memberIds].map((id) => [id, 0]));
  const unowned: Array<{ shard: number; reason: 'missing' | 'free' | 'expired'; since: number }> = [];
  for (let k = 0; k < shards; k++) {
    const o = input.shardLeases.get(k);
    if (o?.holder === me) continue;
    if (!o) unowned.push({ shard: k, reason: 'missing', since: Number.NEGATIVE_INFINITY });
    else if (o.holder === '') unowned.push({ shard: k, reason: 'free', since: o.observedAt });
    else if (!isLive(o, now)) unowned.push({ shard: k, reason: 'expired', since: o.observedAt + o.durationMs });
    else {
      reasons.set(k, 'heldByOther');
      if (count.has(o.holder)) count.set(o.holder, count.get(o.holder)! + 1);
    }
  }
  count.set(me, kept.length + draining.length);

  // Greedy rendezvous allotment: the heaviest (shard, member) pairs first, each member up to its share.
  const pairs: Array<{ shard: number; member: string; w: number }> = [];
  for (const u of unowned) for (const member of memberIds) pairs.push({ shard: u.shard, member, w: toShardWeight(u.shard, member) });
  pairs.sort((a, b) => b.w - a.w || a.shard - b.shard || (a.member < b.member ? -1 : 1));
  const allotted = new Map<number, string>();
  for (const p of pairs) {
    if (allotted.has(p.shard) || count.get(p.member)! >= fairShare) continue;
    allotted.set(p.shard, p.member);
    count.set(p.member, count.get(p.member)! + 1);
  }

  const acquire: Array<ShardPlan['acquire'][number]> = [];
  let room = fairShare - kept.length - draining.length;
  const stale = (u: (typeof unowned)[number]) => now - u.since >= input.graceMs;
  const ordered = [...unowned].sort((a, b) => byPreference(a.shard, b.shard));
  for (const wantAllotted of [true, false]) {
    for (const u of ordered) {
      if (room <= 0 || acquire.some((a) => a.shard === u.shard)) continue;
      const mineToTake = allotted.get(u.shard) === me;
      if (wantAllotted ? !mineToTake : mineToTake || !stale(u)) continue;
      acquire.push({ shard: u.shard, kind: u.reason === 'missing' ? 'create' : 'take', reason: u.reason });
      reasons.set(u.shard, u.reason);
      room--;
    }
  }
  for (const u of unowned) if (!reasons.has(u.shard)) reasons.set(u.shard, room <= 0 ? 'atFairShare' : 'allottedToOther');
  for (const k of lost) reasons.set(k, 'lost');
  return { liveMembers, fairShare, acquire, renew: [...kept, ...draining].sort((a, b) => a - b), release, lost, reasons };
}

/**
 * Ticks a periodic sweep over every base (node-Lease renewals, health and module-list polls) is split
 * into: the sweep runs every period / SPREAD_SLOTS and serves the bases of one slot per tick, so each
 * base still gets one renewal or poll per period, but 1,000 bases no longer send 1,000 requests in
 * the same millisecond (a burst that queues every other API call behind it in the rate limiter).
 */
export const SPREAD_SLOTS = 10;

/** The tick (0 … slots − 1) of a sweep that serves `identity`; hashed apart from `toShard`, so a replica's shards fill every slot. */
export function toSpreadSlot(identity: string, slots = SPREAD_SLOTS): number {
  return fmix32(fnv1a(`spread\u0000${identity}`)) % slots;
}
