/**
 * Shard ownership on virtual time against LeaseStoreDouble (a unit-test double of the Lease store with
 * optimistic concurrency, list by label and injected API errors). Each replica has its own clock:
 * virtual time plus a fixed skew.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom } from '../../base-sim/random.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { BRIDGE_FLEET_LABEL, toMemberLeaseName, toShardLeaseName } from '../../core/names.ts';
import { startShardOwnership, type ShardOwnership, type ShardStopReason } from '../../bridge/shard-ownership.ts';
import { VirtualTime } from '../support/virtual-time.ts';
import { LeaseStoreDouble, type LinkState } from './lease-store-double.ts';

const LEASE = 10_000;
const DEADLINE = 7_000;
const RETRY = 2_000;
const S = 16;
const FLEET = 'bridge';

interface Replica {
  readonly id: string;
  readonly own: ShardOwnership;
  readonly events: string[];
  readonly drained: number[];
  link: LinkState;
  healthy: boolean;
}

function startReplica(vt: VirtualTime, store: LeaseStoreDouble, id: string, o: { skewMs?: number; random?: () => number; shards?: number; drain?: (k: number) => Promise<void>; drainTimeoutMs?: number } = {}): Replica {
  const r = { id, events: [] as string[], drained: [] as number[], link: 'up' as LinkState, healthy: true } as Replica;
  (r as { own: ShardOwnership }).own = startShardOwnership({
    coordination: store.clientFor(id, () => r.link),
    prefix: FLEET, namespace: 'default', identity: id, shards: o.shards ?? S,
    leaseDurationMs: LEASE, renewDeadlineMs: DEADLINE, retryPeriodMs: RETRY,
    isHealthy: () => r.healthy,
    drain: async (k) => {
      r.drained.push(k);
      await o.drain?.(k);
    },
    drainTimeoutMs: o.drainTimeoutMs,
    logger: createSilentLogger(),
    now: () => vt.now + (o.skewMs ?? 0),
    sleep: vt.sleep,
    random: o.random ?? (() => 0),
    onAcquired: (k, how) => r.events.push(`+${k}${how === 'resumed' ? 'r' : ''}@${vt.now}`),
    onStopped: (k, why: ShardStopReason) => r.events.push(`-${k}:${why}@${vt.now}`),
  });
  return r;
}

async function whileRunning<T>(vt: VirtualTime, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => undefined);
  for (let i = 0; !done; i++) {
    if (i > 10_000) assert.fail('did not settle in virtual time');
    await vt.runFor(100);
  }
  return p;
}

/** At every virtual instant: no shard served by two replicas. Records when each shard last had no owner. */
function watchShards(replicas: () => Replica[], shards = S) {
  const unownedSince = new Map<number, number | undefined>();
  let longestGapMs = 0;
  const check = (now: number) => {
    for (let k = 0; k < shards; k++) {
      const owners = replicas().filter((r) => r.own.owns(k)).map((r) => r.id);
      assert.ok(owners.length <= 1, `shard ${k} served by ${owners.join(' and ')} at ${now}`);
      if (owners.length === 0 && unownedSince.get(k) === undefined) unownedSince.set(k, now);
      if (owners.length === 1) {
        const since = unownedSince.get(k);
        if (since !== undefined) longestGapMs = Math.max(longestGapMs, now - since);
        unownedSince.set(k, undefined);
      }
    }
  };
  const ownedByOne = () => Array.from({ length: shards }, (_, k) => replicas().filter((r) => r.own.owns(k)).length === 1).every(Boolean);
  return { check, ownedByOne, longestGap: () => longestGapMs, resetGap: () => (longestGapMs = 0) };
}

test('alone: announces itself, then takes every shard; one list and one write per held Lease per retry period', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  await vt.runFor(0);
  assert.deepEqual(store.names(), [toMemberLeaseName(FLEET, 'a')], 'first attempt: only the member Lease');
  assert.deepEqual(a.own.ownedShards(), []);
  await vt.runFor(RETRY);
  assert.deepEqual(a.own.ownedShards(), Array.from({ length: S }, (_, k) => k));
  assert.equal(store.current(toShardLeaseName(FLEET, 3))?.spec?.holderIdentity, 'a');
  assert.equal(store.current(toShardLeaseName(FLEET, 3))?.metadata?.labels?.[BRIDGE_FLEET_LABEL], FLEET);
  const callsBefore = store.calls.length;
  await vt.runFor(10 * RETRY);
  const calls = store.calls.slice(callsBefore);
  assert.equal(calls.filter((c) => c.verb === 'list').length, 10);
  assert.equal(calls.filter((c) => c.verb === 'replace').length, 10 * (S + 1));
  assert.equal(calls.filter((c) => c.verb === 'read').length, 0, 'never one GET per shard');
  assert.equal(a.events.filter((e) => e.startsWith('+')).length, S);
  await whileRunning(vt, a.own.stop());
  assert.deepEqual(store.names().filter((n) => n.includes('member')), [], 'graceful stop deletes the member Lease');
  assert.ok(Array.from({ length: S }, (_, k) => store.current(toShardLeaseName(FLEET, k))?.spec?.holderIdentity).every((h) => h === ''), 'and releases every shard');
});

test('three replicas started together: every shard served by exactly one, each within its fair share', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt, { random: createRandom(7), maxLatencyMs: 300 });
  const rs = ['a', 'b', 'c'].map((id) => startReplica(vt, store, id, { random: createRandom(id.charCodeAt(0)) }));
  const w = watchShards(() => rs);
  await vt.runFor(30_000, w.check);
  assert.ok(w.ownedByOne(), 'every shard served');
  for (const r of rs) assert.ok(r.own.ownedShards().length <= 6, `${r.id}: ${r.own.ownedShards().length}`);
  assert.equal(rs.reduce((n, r) => n + r.own.ownedShards().length, 0), S);
  for (const r of rs) assert.equal(r.own.liveMembers(), 3);
  for (const r of rs) await whileRunning(vt, r.own.stop());
});

test('kill -9 of one of three: its shards are served again within lease duration + 2 retry periods of its last renewal, never by two at once', async () => {
  for (let seed = 1; seed <= 5; seed++) {
    const vt = new VirtualTime();
    const store = new LeaseStoreDouble(vt, { random: createRandom(seed), maxLatencyMs: 200 });
    const rs = ['a', 'b', 'c'].map((id) => startReplica(vt, store, id, { random: createRandom(seed * 10 + id.charCodeAt(0)) }));
    let alive = rs;
    const w = watchShards(() => alive);
    await vt.runFor(30_000, w.check);
    assert.ok(w.ownedByOne());
    const victim = rs[seed % 3]!;
    const itsShards = victim.own.ownedShards();
    assert.ok(itsShards.length > 0);
    victim.link = 'hang'; // crashed: writes nothing more
    alive = rs.filter((r) => r !== victim);
    const lastWrite = Math.max(...store.writes.filter((x) => x.by === victim.id).map((x) => x.at));
    let servedAgainAt: number | undefined;
    await vt.runFor(30_000, (now) => {
      w.check(now);
      if (servedAgainAt === undefined && itsShards.every((k) => alive.some((r) => r.own.owns(k)))) servedAgainAt = now;
    });
    assert.ok(servedAgainAt !== undefined, `seed ${seed}: the victim's shards were taken over`);
    assert.ok(servedAgainAt - lastWrite <= LEASE + 2 * RETRY + 300, `seed ${seed}: taken over ${servedAgainAt - lastWrite} ms after the last renewal`);
    assert.ok(servedAgainAt - lastWrite >= LEASE, `seed ${seed}: not before a lease duration (${servedAgainAt - lastWrite} ms)`);
    assert.ok(w.ownedByOne());
    for (const r of alive) assert.ok(r.own.ownedShards().length <= 8);
    for (const r of alive) await whileRunning(vt, r.own.stop());
  }
});

test('scale 3 → 1 → 3: graceful stops hand shards over within a few retry periods; new replicas get a fair share back', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt, { random: createRandom(3), maxLatencyMs: 200 });
  let rs = ['a', 'b', 'c'].map((id) => startReplica(vt, store, id, { random: createRandom(id.charCodeAt(0)) }));
  const w = watchShards(() => rs);
  await vt.runFor(30_000, w.check);
  const stopping = rs.slice(1);
  rs = rs.slice(0, 1);
  await whileRunning(vt, Promise.all(stopping.map((r) => r.own.stop())));
  w.resetGap();
  await vt.runFor(3 * RETRY, w.check);
  assert.deepEqual(rs[0]!.own.ownedShards().length, S, 'the survivor took every released shard');
  assert.ok(w.longestGap() <= 3 * RETRY, `released shards unserved for ${w.longestGap()} ms`);
  rs = [...rs, ...['d', 'e'].map((id) => startReplica(vt, store, id, { random: createRandom(id.charCodeAt(0)) }))];
  await vt.runFor(30_000, w.check);
  assert.ok(w.ownedByOne());
  for (const r of rs) assert.ok(r.own.ownedShards().length >= 4 && r.own.ownedShards().length <= 6, `${r.id}: ${r.own.ownedShards().length}`);
  // a handed back what it held above its share, each only after that shard's work drained.
  const released = rs[0]!.events.filter((e) => e.includes(':aboveFairShare'));
  assert.ok(released.length >= 10);
  for (const e of released) assert.ok(rs[0]!.drained.includes(Number(e.slice(1, e.indexOf(':')))), e);
  for (const r of rs) await whileRunning(vt, r.own.stop());
});

test('release above the fair share waits for the drain, keeps renewing meanwhile, and no one serves the shard before', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const finish = new Map<number, () => void>();
  const a = startReplica(vt, store, 'a', { drain: (k) => new Promise<void>((r) => finish.set(k, r)), drainTimeoutMs: 60_000 });
  await vt.runFor(3 * RETRY);
  assert.equal(a.own.ownedShards().length, S);
  const b = startReplica(vt, store, 'b');
  const w = watchShards(() => [a, b]);
  await vt.runFor(3 * RETRY, w.check);
  assert.equal(a.own.ownedShards().length, 8, 'a stopped acting on the shards above its share at once');
  assert.equal(finish.size, 8);
  assert.equal(b.own.ownedShards().length, 0, 'b waits: the drained shards are still a\'s');
  for (const k of finish.keys()) assert.equal(store.current(toShardLeaseName(FLEET, k))?.spec?.holderIdentity, 'a');
  await vt.runFor(20_000, w.check);
  assert.equal(b.own.ownedShards().length, 0, 'still draining, still renewed by a (longer than a lease)');
  for (const f of finish.values()) f();
  await vt.runFor(3 * RETRY * 2.2, w.check);
  assert.equal(b.own.ownedShards().length, 8);
  assert.ok(w.ownedByOne());
  await whileRunning(vt, Promise.all([a.own.stop(), b.own.stop()]));
});

test('renew deadline: a replica cut from the API server stops serving exactly the renew deadline after its last renewal began', async () => {
  for (const cut of ['down', 'hang'] as const) {
    const vt = new VirtualTime();
    const store = new LeaseStoreDouble(vt);
    const a = startReplica(vt, store, 'a');
    await vt.runUntil(10_000);
    const lastRenew = store.writes.at(-1)!.at;
    assert.equal(lastRenew, 10_000);
    a.link = cut;
    await vt.runUntil(lastRenew + DEADLINE - 1);
    assert.equal(a.own.ownedShards().length, S, `${cut}: within the deadline`);
    await vt.runUntil(lastRenew + DEADLINE);
    assert.equal(a.own.ownedShards().length, 0, `${cut}: none from the instant the deadline passes`);
    await vt.runFor(RETRY + 1);
    assert.equal(a.events.filter((e) => e.includes(':renewDeadline')).length, S);
    a.link = 'up';
    await vt.runFor(DEADLINE + 3 * RETRY);
    assert.equal(a.own.ownedShards().length, S, `${cut}: serves again once the link is back (nobody took them)`);
    assert.equal(a.events.filter((e) => /^\+\d+r@/.test(e)).length, S, `${cut}: resumed, not taken`);
    await whileRunning(vt, a.own.stop());
  }
});

test('deaf replica: gives up every shard and its membership at once; the others take them well before the lease would expire', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  const b = startReplica(vt, store, 'b');
  const w = watchShards(() => [a, b]);
  await vt.runFor(30_000, w.check);
  assert.equal(a.own.ownedShards().length, 8);
  a.healthy = false;
  assert.deepEqual(a.own.ownedShards(), [], 'stops serving the moment health turns false');
  const t0 = vt.now;
  await vt.runFor(3 * RETRY * 2.2, w.check);
  assert.equal(b.own.ownedShards().length, S);
  assert.equal(store.current(toMemberLeaseName(FLEET, 'a'))?.spec?.holderIdentity, '', 'a cleared its member Lease');
  assert.ok(store.writes.some((x) => x.by === 'b' && x.at > t0 && x.at < t0 + LEASE));
  a.healthy = true;
  await vt.runFor(30_000, w.check);
  assert.equal(a.own.ownedShards().length, 8, 'healthy again: back to a fair share');
  await whileRunning(vt, Promise.all([a.own.stop(), b.own.stop()]));
});

test('API errors and conflicts: a failed list changes nothing; a 409 on a renewal is re-read and renewed; a shard another wrote is lost at once', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  await vt.runFor(3 * RETRY);
  store.failNext.push({ verb: 'list', code: 500 });
  await vt.runFor(RETRY);
  assert.equal(a.own.ownedShards().length, S, 'one failed list: still within the deadline');
  store.failNext.push({ verb: 'replace', code: 409 }, { verb: 'replace', code: 500 });
  await vt.runFor(RETRY);
  assert.equal(a.own.ownedShards().length, S);
  await vt.runFor(DEADLINE);
  assert.equal(a.own.ownedShards().length, S, 'the failed renewals were retried in time');
  assert.equal(a.events.filter((e) => e.startsWith('-')).length, 0);
  // An admin (or a confused replica) writes another holder into shard 5: a stops serving it at its next list.
  const k5 = store.current(toShardLeaseName(FLEET, 5))!;
  store.put({ ...k5, spec: { ...k5.spec, holderIdentity: 'intruder' } });
  await vt.runFor(RETRY);
  assert.equal(a.own.owns(5), false);
  assert.ok(a.events.some((e) => e.startsWith('-5:lost')));
  // And a deleted shard Lease is lost too, then created again.
  store.remove(toShardLeaseName(FLEET, 6));
  await vt.runFor(RETRY);
  assert.ok(a.events.some((e) => e.startsWith('-6:lost')));
  await vt.runFor(2 * RETRY);
  assert.equal(a.own.owns(6), true, 're-created');
  await whileRunning(vt, a.own.stop());
});

test('±5 s skew, random latencies and flapping links between three replicas: never two serving one shard', async () => {
  let takeovers = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const rnd = createRandom(seed);
    const vt = new VirtualTime();
    const store = new LeaseStoreDouble(vt, { random: rnd, maxLatencyMs: 1_500 });
    const rs = [startReplica(vt, store, 'fast', { skewMs: 5_000, random: rnd }), startReplica(vt, store, 'mid', { random: rnd }), startReplica(vt, store, 'slow', { skewMs: -5_000, random: rnd })];
    const w = watchShards(() => rs);
    const states: LinkState[] = ['up', 'up', 'up', 'up', 'down', 'hang'];
    for (let t = 0; t < 120_000; t += 3_000) {
      for (const r of rs) r.link = states[Math.floor(rnd() * states.length)]!;
      await vt.runUntil(t + 3_000, w.check);
    }
    for (const r of rs) r.link = 'up';
    // Latencies up to 1.5 s a call can push a renewal past its deadline now and then (the shard is
    // then unserved until the next attempt): ask for a moment with every shard served, late on.
    await vt.runFor(30_000, w.check);
    let allServed = false;
    await vt.runFor(10_000, (now) => { w.check(now); allServed ||= w.ownedByOne(); });
    assert.ok(allServed, `seed ${seed}: every shard served once the links are up`);
    takeovers += store.writes.filter((x, i) => x.name.includes('-shard-') && x.spec?.holderIdentity && store.writes.slice(0, i).some((p) => p.name === x.name && p.spec?.holderIdentity && p.spec.holderIdentity !== x.spec?.holderIdentity)).length;
    for (const r of rs) await whileRunning(vt, r.own.stop(false));
  }
  assert.ok(takeovers >= 20, `the scenario moved shards between replicas (${takeovers} takeovers)`);
});

test('stop(false) leaves every Lease to expire, as a crash would', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  await vt.runFor(3 * RETRY);
  await whileRunning(vt, a.own.stop(false));
  assert.deepEqual(a.own.ownedShards(), []);
  assert.equal(store.current(toShardLeaseName(FLEET, 0))?.spec?.holderIdentity, 'a');
  assert.equal(store.current(toMemberLeaseName(FLEET, 'a'))?.spec?.holderIdentity, 'a');
});

test('a crashed replica\'s member Lease is deleted once it has not changed for 3 lease durations past its expiry', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  const b = startReplica(vt, store, 'b');
  await vt.runFor(10_000);
  b.link = 'hang';
  await vt.runFor(LEASE + 3 * LEASE - 2 * RETRY);
  assert.ok(store.current(toMemberLeaseName(FLEET, 'b')), 'kept a while (it may come back)');
  await vt.runFor(4 * RETRY);
  assert.equal(store.current(toMemberLeaseName(FLEET, 'b')), undefined);
  assert.ok(store.current(toMemberLeaseName(FLEET, 'a')));
  assert.equal(a.own.ownedShards().length, S);
  await whileRunning(vt, a.own.stop());
});

test('slow API: a slow list costs no deadline; writes slower than the deadline pause serving, and the next attempt resumes it', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  await vt.runUntil(10_000);
  // The deadline counts from when each renewal was sent, not from the attempt's list.
  store.slowNext.push({ verb: 'list', ms: 4_500 });
  await vt.runFor(4 * RETRY, () => assert.equal(a.own.ownedShards().length, S, 'a 4.5 s list alone loses nothing'));
  assert.equal(a.events.filter((e) => e.startsWith('-')).length, 0);
  // Every write of one attempt takes 9 s (> the 7 s deadline): serving pauses at the deadline...
  const t0 = vt.now;
  for (let i = 0; i <= S; i++) store.slowNext.push({ verb: 'replace', ms: 9_000 });
  await vt.runFor(DEADLINE + RETRY);
  assert.ok(a.events.some((e) => e.includes(':renewDeadline')), 'paused at the deadline');
  // ...and the next attempt (API fast again) renews with a whole deadline and resumes every shard.
  await vt.runFor(2 * RETRY);
  assert.equal(a.own.ownedShards().length, S);
  const resumed = a.events.filter((e) => /^\+\d+r@/.test(e)).map((e) => Number(e.split('@')[1]));
  assert.equal(resumed.length, S, 'resumed, not taken: the Lease never left a');
  assert.ok(resumed.every((at) => at <= t0 + DEADLINE + 3 * RETRY), `resumed at ${resumed[0]}`);
  await whileRunning(vt, a.own.stop());
});

test('replicas that disagree on --shards serve nothing while both live (they would map bases differently); agreement restores service', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  await vt.runFor(3 * RETRY);
  assert.equal(a.own.ownedShards().length, S);
  const b = startReplica(vt, store, 'b', { shards: 8 });
  await vt.runFor(3 * RETRY, () => {
    for (let k = 0; k < 8; k++) assert.ok(!(a.own.owns(k) && b.own.owns(k)), `shard ${k} served by both`);
  });
  assert.deepEqual(a.own.ownedShards(), [], 'a yields once it sees b\'s member Lease');
  assert.deepEqual(b.own.ownedShards(), [], 'b never starts');
  assert.equal(store.current(toMemberLeaseName(FLEET, 'a'))?.spec?.holderIdentity, 'a', 'a stays a member');
  await whileRunning(vt, b.own.stop());
  await vt.runFor(3 * RETRY);
  assert.equal(a.own.ownedShards().length, S, 'the rollout is over: a serves again');
  await whileRunning(vt, a.own.stop());
});
