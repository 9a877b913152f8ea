import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { observeLease, type LeaseObservation } from '../../bridge/plan-lease.ts';
import { planShards, SPREAD_SLOTS, toFairShare, toShard, toShardPreference, toSpreadSlot, type ShardPlanInput } from '../../bridge/shards.ts';

const S = 16;
const LEASE = 10_000;
const GRACE = 4_000;

/** An observation of a Lease held by `holder`, first seen at `seenAt` on our clock; renewTime as the writer stamped it. */
function seen(holder: string, seenAt: number, o: { renewTime?: Date; rv?: string; durationS?: number } = {}): LeaseObservation {
  const lease: k8s.V1Lease = {
    metadata: { name: 'x', resourceVersion: o.rv ?? `${holder}-${seenAt}` },
    spec: { holderIdentity: holder, leaseDurationSeconds: o.durationS ?? LEASE / 1000, renewTime: o.renewTime ?? new Date(0) as k8s.V1MicroTime },
  };
  return observeLease(undefined, lease, seenAt, LEASE);
}

function input(over: Partial<ShardPlanInput> & Pick<ShardPlanInput, 'identity'>): ShardPlanInput {
  return { shards: S, now: 0, healthy: true, members: [], shardLeases: new Map(), acting: new Set(), graceMs: GRACE, ...over };
}

const heldBy = (holder: string, shards: Iterable<number>, seenAt = 0) => new Map([...shards].map((k) => [k, seen(holder, seenAt)]));
const range = (n: number) => Array.from({ length: n }, (_, k) => k);

test('toShard: a stable FNV-1a hash of the identity, in range, the same on every call', () => {
  // FNV-1a 32 of "a" is 0xe40c292c; of "" the offset basis 0x811c9dc5.
  assert.equal(toShard('a', 1024), 0xe40c292c % 1024);
  assert.equal(toShard('', 1000), 0x811c9dc5 % 1000);
  assert.equal(toShard('192.0.2.7', 1), 0);
  // UTF-8 bytes, not UTF-16 code units: "é" is c3 a9.
  let h = 0x811c9dc5;
  for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  assert.equal(toShard('é', 1024), h % 1024);
  const counts = new Array<number>(S).fill(0);
  for (let i = 0; i < 300; i++) {
    const k = toShard(`10.1.${i >> 8}.${i & 255}`, S);
    assert.ok(k >= 0 && k < S && Number.isInteger(k));
    assert.equal(toShard(`10.1.${i >> 8}.${i & 255}`, S), k);
    counts[k]!++;
  }
  // 300 bases over 16 shards: about 19 each; none empty, none with more than twice its share.
  assert.ok(counts.every((c) => c > 0 && c < 40), `spread: ${counts.join(',')}`);
});

test('toFairShare: ceil(S / live members), at least one member', () => {
  const cases: Array<[number, number, number]> = [[16, 1, 16], [16, 2, 8], [16, 3, 6], [16, 0, 16], [5, 3, 2], [1, 3, 1], [1024, 7, 147]];
  for (const [shards, members, want] of cases) assert.equal(toFairShare(shards, members), want, `${shards}/${members}`);
});

test('toShardPreference: a permutation of the shards, different for different replicas', () => {
  const a = toShardPreference('bridge-a', S);
  const b = toShardPreference('bridge-b', S);
  assert.deepEqual([...a].sort((x, y) => x - y), range(S));
  assert.deepEqual(toShardPreference('bridge-a', S), a, 'deterministic');
  assert.notDeepEqual(a, b);
  assert.notEqual(a[0], b[0], 'their first choices differ (for these two ids)');
});

test('planShards: alone, a replica creates every shard; with leases held by nobody, takes them', () => {
  const alone = planShards(input({ identity: 'a' }));
  assert.equal(alone.liveMembers, 1);
  assert.equal(alone.fairShare, S);
  assert.deepEqual(alone.acquire.map((x) => x.shard).sort((x, y) => x - y), range(S));
  assert.ok(alone.acquire.every((x) => x.kind === 'create' && x.reason === 'missing'));
  const released = planShards(input({ identity: 'a', now: 100_000, shardLeases: heldBy('', range(S), 99_000) }));
  assert.ok(released.acquire.every((x) => x.kind === 'take' && x.reason === 'free'));
  assert.equal(released.acquire.length, S);
});

test('planShards: clock skew — a holder\'s renewTime far in the past or the future does not matter, only when we saw the record change', () => {
  for (const renewTime of [new Date(0), new Date(Date.UTC(2100, 0, 1)), new Date(Date.UTC(1990, 0, 1))]) {
    const shardLeases = new Map(range(S).map((k) => [k, seen('b', 1_000, { renewTime: renewTime as k8s.V1MicroTime })]));
    const members = [seen('b', 1_000, { renewTime: renewTime as k8s.V1MicroTime })];
    const fresh = planShards(input({ identity: 'a', now: 1_000 + LEASE - 1, shardLeases, members }));
    assert.deepEqual(fresh.acquire, [], `${renewTime.toISOString()}: held, seen ${LEASE - 1} ms ago`);
    assert.equal(fresh.reasons.get(0), 'heldByOther');
    // b stopped renewing: from a lease duration after we last saw its records change, they are expired,
    // and b's member Lease with them — a is alone and takes everything.
    const stale = planShards(input({ identity: 'a', now: 1_000 + LEASE, shardLeases, members }));
    assert.equal(stale.liveMembers, 1);
    assert.equal(stale.acquire.length, S, renewTime.toISOString());
    assert.ok(stale.acquire.every((x) => x.kind === 'take' && x.reason === 'expired'));
  }
});

test('planShards: a holder that keeps renewing keeps its shards however long ago it took them', () => {
  // Observed anew (new resourceVersion) at 50 s: the observation time is 50 s, not the first sight.
  const shardLeases = new Map(range(S).map((k) => [k, seen('b', 50_000)]));
  const plan = planShards(input({ identity: 'a', now: 55_000, shardLeases, members: [seen('b', 50_000)] }));
  assert.equal(plan.liveMembers, 2);
  assert.equal(plan.fairShare, 8);
  assert.deepEqual(plan.acquire, [], 'never steals a live shard; b hands back its extra ones itself');
});

test('planShards: 1 → 3 members — the old holder of everything keeps its most preferred fair share and releases the rest', () => {
  const plan = planShards(input({ identity: 'a', now: 1_000, shardLeases: heldBy('a', range(S)), acting: new Set(range(S)), members: [seen('b', 500), seen('c', 900)] }));
  assert.equal(plan.liveMembers, 3);
  assert.equal(plan.fairShare, 6);
  const pref = toShardPreference('a', S);
  assert.deepEqual(plan.renew, pref.slice(0, 6).sort((x, y) => x - y));
  assert.deepEqual(plan.release.map((r) => r.shard).sort((x, y) => x - y), pref.slice(6).sort((x, y) => x - y));
  assert.ok(plan.release.every((r) => r.reason === 'aboveFairShare'));
  assert.deepEqual(plan.acquire, []);
  assert.deepEqual(plan.lost, []);
  // Meanwhile b and c, at zero, take nothing while a still holds everything.
  const b = planShards(input({ identity: 'b', now: 1_000, shardLeases: heldBy('a', range(S)), members: [seen('a', 500), seen('c', 900)] }));
  assert.deepEqual(b.acquire, []);
});

test('planShards: 3 → 1 members — the survivor takes the dead replicas\' shards once they expired', () => {
  const shardLeases = new Map<number, LeaseObservation>();
  for (const k of range(S)) shardLeases.set(k, seen(k < 6 ? 'a' : k < 12 ? 'b' : 'c', k < 6 ? 20_000 : 0));
  const members = [seen('b', 0), seen('c', 0)];
  const before = planShards(input({ identity: 'a', now: LEASE - 1, shardLeases, members, acting: new Set(range(6)) }));
  assert.equal(before.liveMembers, 3);
  assert.deepEqual(before.acquire, []);
  assert.deepEqual(before.renew, range(6));
  const after = planShards(input({ identity: 'a', now: LEASE, shardLeases, members, acting: new Set(range(6)) }));
  assert.equal(after.liveMembers, 1);
  assert.equal(after.fairShare, S);
  assert.deepEqual(after.acquire.map((x) => x.shard).sort((x, y) => x - y), range(S).slice(6));
});

test('planShards: uneven S — 5 shards over 3 members: share 2, and the members\' allotments cover every shard exactly once', () => {
  for (const shards of [1, 2, 5, 7, 16, 17]) {
    const ids = ['a', 'b', 'c'];
    const members = ids.map((id) => seen(id, 0));
    const taken = new Map<number, string>();
    for (const id of ids) {
      const plan = planShards(input({ identity: id, shards, members: members.filter((m) => m.holder !== id), shardLeases: heldBy('', range(shards), 0) }));
      assert.equal(plan.fairShare, Math.ceil(shards / 3));
      // Same view, so the deterministic allotment gives each shard to one member only (no races).
      for (const a of plan.acquire) {
        assert.equal(taken.has(a.shard), false, `S=${shards}: shard ${a.shard} wanted by ${taken.get(a.shard)} and ${id}`);
        taken.set(a.shard, id);
      }
      assert.ok(plan.acquire.length <= plan.fairShare);
    }
    assert.equal(taken.size, shards, `S=${shards}: every shard allotted`);
  }
});

test('planShards: a free shard allotted to a member that does not take it goes to anyone below its share after the grace', () => {
  // Three members, b and c each hold their share already; shard 15 is free and allotted to c, who is full?
  // Build it directly: a holds 5, b holds 6 and c holds 4 + is at 5 after allotment... simpler: c idle.
  const shardLeases = new Map<number, LeaseObservation>([...heldBy('a', range(5)), ...heldBy('b', [5, 6, 7, 8, 9, 10])]);
  const free = [11, 12, 13, 14, 15];
  for (const k of free) shardLeases.set(k, seen('', 1_000));
  const members = [seen('b', 1_000), seen('c', 1_000)];
  const early = planShards(input({ identity: 'a', now: 1_000, shardLeases, members, acting: new Set(range(5)) }));
  const forA = early.acquire.map((x) => x.shard);
  assert.ok(forA.length <= 1, 'a has room for one only');
  for (const k of free) if (!forA.includes(k)) assert.ok(['allottedToOther', 'atFairShare'].includes(early.reasons.get(k)!), `${k}: ${early.reasons.get(k)}`);
  // c never acts on its allotment; after the grace a takes one of them (up to its share).
  const late = planShards(input({ identity: 'a', now: 1_000 + GRACE, shardLeases, members, acting: new Set(range(5)) }));
  assert.equal(late.acquire.length, 1);
  assert.ok(free.includes(late.acquire[0]!.shard));
});

test('planShards: unhealthy — acquire nothing, hand back every shard at once, do not count oneself', () => {
  const plan = planShards(input({ identity: 'a', healthy: false, shardLeases: heldBy('a', [1, 2, 3]), acting: new Set([1, 2, 3]), members: [seen('b', 0)] }));
  assert.deepEqual(plan.acquire, []);
  assert.deepEqual(plan.renew, []);
  assert.deepEqual(plan.release, [1, 2, 3].map((shard) => ({ shard, reason: 'unhealthy' })));
  assert.equal(plan.liveMembers, 1, 'only b');
  assert.equal(plan.fairShare, S);
});

test('planShards: lost — a shard acted on whose Lease names another holder, or is gone', () => {
  const shardLeases = new Map<number, LeaseObservation>([[0, seen('a', 0)], [1, seen('b', 0)]]);
  const plan = planShards(input({ identity: 'a', shardLeases, acting: new Set([0, 1, 2]), members: [seen('b', 0)] }));
  assert.deepEqual(plan.lost, [1, 2]);
  assert.equal(plan.reasons.get(1), 'lost');
  assert.ok(plan.renew.includes(0));
});

test('planShards: shards being drained stay renewed, count against the share and are not taken back', () => {
  const shardLeases = heldBy('a', range(S));
  const pref = toShardPreference('a', S);
  const draining = new Set(pref.slice(6));
  const plan = planShards(input({ identity: 'a', shardLeases, acting: new Set(pref.slice(0, 6)), releasing: draining, members: [seen('b', 0), seen('c', 0)] }));
  assert.deepEqual(plan.release, []);
  assert.deepEqual(plan.renew, range(S));
  assert.deepEqual(plan.acquire, []);
  for (const k of draining) assert.equal(plan.reasons.get(k), 'draining');
});

test('toSpreadSlot: every base in one stable slot, 1,000 bases spread over all slots, and a replica\'s shard fills every slot', () => {
  const ids = Array.from({ length: 1_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.7`);
  const counts = new Array<number>(SPREAD_SLOTS).fill(0);
  for (const id of ids) {
    const slot = toSpreadSlot(id);
    assert.ok(Number.isInteger(slot) && slot >= 0 && slot < SPREAD_SLOTS, `${id}: slot ${slot}`);
    assert.equal(toSpreadSlot(id), slot, 'the same slot on every call');
    counts[slot]!++;
  }
  // A uniform hash puts 100 in each; 60–140 is more than 4 standard deviations either way.
  for (const [slot, n] of counts.entries()) assert.ok(n >= 60 && n <= 140, `slot ${slot} has ${n} of 1,000 bases: ${counts.join(', ')}`);
  // The bases of one shard (out of 16, a factor shared with 10) still use every slot: the hashes are apart.
  const ofShard = new Set(ids.filter((id) => toShard(id, 16) === 3).map((id) => toSpreadSlot(id)));
  assert.equal(ofShard.size, SPREAD_SLOTS, `slots used by shard 3's bases: ${[...ofShard].sort().join(', ')}`);
  assert.equal(toSpreadSlot('10.0.0.1', 1), 0);
});
