/**
 * The election loop on virtual time against LeaseStoreDouble (a unit-test double of the Lease store
 * with optimistic concurrency). Each replica has its own clock: virtual time plus a fixed skew.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom } from '../../base-sim/random.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { startLeaderElection, type LeaderElection } from '../../bridge/leader-election.ts';
import { VirtualTime } from '../support/virtual-time.ts';
import { LeaseStoreDouble, type LinkState } from './lease-store-double.ts';

const LEASE = 10_000;
const DEADLINE = 7_000;
const RETRY = 2_000;

interface Replica {
  readonly id: string;
  readonly election: LeaderElection;
  readonly events: string[];
  link: LinkState;
  healthy: boolean;
}

function startReplica(vt: VirtualTime, store: LeaseStoreDouble, id: string, o: { skewMs?: number; random?: () => number; drain?: () => Promise<void>; drainTimeoutMs?: number; healthy?: boolean } = {}): Replica {
  const r: Replica = {
    id,
    events: [],
    link: 'up',
    healthy: o.healthy ?? true,
    election: undefined as unknown as LeaderElection,
  };
  (r as { election: LeaderElection }).election = startLeaderElection({
    coordination: store.clientFor(id, () => r.link),
    name: 'bridge',
    namespace: 'default',
    identity: id,
    leaseDurationMs: LEASE,
    renewDeadlineMs: DEADLINE,
    retryPeriodMs: RETRY,
    isHealthy: () => r.healthy,
    drain: o.drain,
    drainTimeoutMs: o.drainTimeoutMs,
    logger: createSilentLogger(),
    now: () => vt.now + (o.skewMs ?? 0),
    sleep: vt.sleep,
    random: o.random ?? (() => 0),
    onStartedLeading: () => r.events.push(`started@${vt.now}`),
    onStoppedLeading: () => r.events.push(`stopped@${vt.now}`),
  });
  return r;
}

/** Runs virtual time until `p` settles (the store double answers only while time runs). */
async function whileRunning<T>(vt: VirtualTime, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => undefined);
  for (let i = 0; !done; i++) {
    if (i > 10_000) assert.fail('did not settle in virtual time');
    await vt.runFor(100);
  }
  return p;
}

/** Asserts at every virtual instant that at most one replica acts; returns who led when. */
function watchLeaders(replicas: Replica[]) {
  const timeline: Array<[number, string]> = [];
  const check = (now: number) => {
    const leaders = replicas.filter((r) => r.election.isLeader()).map((r) => r.id);
    assert.ok(leaders.length <= 1, `two leaders at ${now}: ${leaders.join(', ')}`);
    const who = leaders[0] ?? '-';
    if (timeline.at(-1)?.[1] !== who) timeline.push([now, who]);
  };
  return { check, timeline };
}

test('acquire: the first replica creates the lease and leads; it renews every retry period', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  await vt.runFor(0);
  assert.equal(a.election.isLeader(), true);
  assert.deepEqual(a.events, ['started@0']);
  assert.equal(store.current()?.spec?.holderIdentity, 'a');
  assert.equal(store.current()?.spec?.leaseDurationSeconds, 10);
  await vt.runFor(60_000, () => assert.equal(a.election.isLeader(), true));
  // One create at 0, then one renewal every 2 s.
  assert.equal(store.writes.length, 31);
  assert.ok(store.writes.every((w) => w.by === 'a' && w.spec?.holderIdentity === 'a'));
  assert.equal(store.current()?.spec?.leaseTransitions, 0);
  assert.deepEqual(a.events, ['started@0']);
  await whileRunning(vt, a.election.stop());
});

test('renew deadline: a leader that cannot renew stops acting exactly 7 s after its last successful renewal began', async () => {
  for (const cut of ['down', 'hang'] as const) {
    const vt = new VirtualTime();
    const store = new LeaseStoreDouble(vt);
    const a = startReplica(vt, store, 'a');
    await vt.runUntil(10_000);
    const lastRenew = store.writes.at(-1)!.at;
    assert.equal(lastRenew, 10_000);
    a.link = cut;
    await vt.runUntil(lastRenew + DEADLINE - 1);
    assert.equal(a.election.isLeader(), true, `${cut}: still within the deadline`);
    await vt.runUntil(lastRenew + DEADLINE);
    assert.equal(a.election.isLeader(), false, `${cut}: not leader from the instant the deadline passes`);
    await vt.runFor(RETRY + 1);
    assert.equal(a.events.length, 2, `${cut}: onStoppedLeading once`);
    assert.ok(Number(a.events[1]!.split('@')[1]) <= lastRenew + DEADLINE + RETRY, `${cut}: stop callback within one retry of the deadline: ${a.events[1]}`);
    // The link returns and nobody else took the lease: the same replica renews and leads again.
    // (A call that hung is abandoned after the renew deadline.)
    a.link = 'up';
    await vt.runFor(DEADLINE + 2 * RETRY);
    assert.equal(a.election.isLeader(), true, `${cut}: leads again after the link returns`);
    await whileRunning(vt, a.election.stop());
  }
});

test('takeover: a standby takes a dead leader\'s lease a full lease duration after it last saw it change, never earlier', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  await vt.runFor(0);
  const b = startReplica(vt, store, 'b');
  const w = watchLeaders([a, b]);
  await vt.runUntil(20_000, w.check);
  assert.equal(b.election.isLeader(), false);
  a.link = 'hang'; // a crashed or partitioned leader: it writes nothing more
  const lastRenewByA = store.writes.at(-1)!.at;
  await vt.runUntil(60_000, w.check);
  const took = store.writes.find((x) => x.by === 'b')!;
  assert.ok(took, 'b took over');
  // b read a's last record on its first attempt after that write: it may take over no earlier than
  // a lease duration later, and did so at its first retry after that.
  assert.ok(took.at >= lastRenewByA + LEASE, `b took at ${took.at}, a renewed last at ${lastRenewByA}`);
  assert.ok(took.at <= lastRenewByA + LEASE + 2 * RETRY, `b took at ${took.at}`);
  assert.equal(took.spec?.leaseTransitions, 1);
  assert.equal(b.election.isLeader(), true);
  assert.deepEqual(w.timeline.map(([, who]) => who), ['a', '-', 'b']);
  await whileRunning(vt, a.election.stop(false));
  await whileRunning(vt, b.election.stop());
});

test('±5 s skew between two replicas, random latencies and flapping links: never two replicas acting at once', async () => {
  let handovers = 0;
  let ledMs = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const rnd = createRandom(seed);
    const vt = new VirtualTime();
    const store = new LeaseStoreDouble(vt, { random: rnd, maxLatencyMs: 1_500 });
    const replicas = [
      startReplica(vt, store, 'fast', { skewMs: +5_000, random: rnd }),
      startReplica(vt, store, 'slow', { skewMs: -5_000, random: rnd }),
    ];
    const w = watchLeaders(replicas);
    // Every few seconds a replica's link changes at random: up most of the time, else down or a black hole.
    const states: LinkState[] = ['up', 'up', 'up', 'down', 'hang'];
    for (let t = 0; t < 180_000; t += 3_000) {
      for (const r of replicas) r.link = states[Math.floor(rnd() * states.length)]!;
      await vt.runUntil(t + 3_000, w.check);
    }
    for (const r of replicas) r.link = 'up';
    await vt.runFor(30_000, w.check);
    assert.ok(replicas.some((r) => r.election.isLeader()), `seed ${seed}: a leader once the links are up`);
    handovers += w.timeline.filter(([, who], i) => who !== '-' && i > 0 && w.timeline.slice(0, i).some(([, prev]) => prev !== '-' && prev !== who)).length;
    for (let i = 0; i < w.timeline.length; i++) {
      const [at, who] = w.timeline[i]!;
      if (who !== '-') ledMs += (w.timeline[i + 1]?.[0] ?? vt.now) - at;
    }
    for (const r of replicas) await whileRunning(vt, r.election.stop(false));
  }
  // The scenario must exercise what it claims: leadership moved between the replicas many times.
  assert.ok(handovers >= 30, `only ${handovers} handovers`);
  assert.ok(ledMs > 30 * 210_000 * 0.3, `someone led for ${ledMs} ms in all`);
});

test('stop: stops acting at once, drains while still holding the lease, then releases it; the standby takes over at its next retry', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const order: string[] = [];
  let finishDrain!: () => void;
  const a = startReplica(vt, store, 'a', {
    drain: () => new Promise<void>((r) => (finishDrain = () => { order.push(`drained@${vt.now}`); r(); })),
    drainTimeoutMs: 20_000,
  });
  await vt.runFor(0);
  const b = startReplica(vt, store, 'b');
  const w = watchLeaders([a, b]);
  await vt.runUntil(10_000, w.check);
  let stopped = false;
  const stopping = a.election.stop().then(() => (stopped = true));
  assert.equal(a.election.isLeader(), false, 'not acting from the moment stop() is called');
  let stoppedAgain = false;
  void a.election.stop().then(() => (stoppedAgain = true)); // a second stop (SIGTERM twice) waits for the same drain
  // Draining for 15 s — longer than the lease: a keeps renewing, so b must not take over meanwhile.
  await vt.runUntil(25_000, w.check);
  assert.equal(stopped, false);
  assert.equal(stoppedAgain, false);
  assert.equal(b.election.isLeader(), false);
  assert.equal(store.current()?.spec?.holderIdentity, 'a');
  assert.ok(store.writes.filter((x) => x.by === 'a' && x.at > 10_000 && x.at <= 25_000).length >= 6, 'renewed during the drain');
  finishDrain();
  await vt.runFor(0);
  assert.equal(stopped, true);
  assert.equal(stoppedAgain, true);
  await stopping;
  const release = store.writes.at(-1)!;
  order.push(`released@${release.at}`);
  assert.deepEqual(order, ['drained@25000', 'released@25000']);
  assert.equal(release.spec?.holderIdentity, '');
  assert.equal(release.spec?.leaseDurationSeconds, 1);
  await vt.runUntil(25_000 + RETRY * 2.2 + 1, w.check);
  assert.equal(b.election.isLeader(), true, 'b took the released lease within one jittered retry');
  assert.equal(store.writes.filter((x) => x.by === 'a' && x.at > 25_000).length, 0, 'a writes nothing after the release');
  await whileRunning(vt, b.election.stop());
});

test('stop: a drain that outlasts its timeout leaves the lease to expire instead of releasing it under running work', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a', { drain: () => new Promise<void>(() => {}), drainTimeoutMs: 3_000 });
  await vt.runFor(4_000);
  let stopped = false;
  void a.election.stop().then(() => (stopped = true));
  await vt.runFor(3_000);
  assert.equal(stopped, true);
  assert.equal(store.current()?.spec?.holderIdentity, 'a', 'not released');
  const writes = store.writes.length;
  await vt.runFor(20_000);
  assert.equal(store.writes.length, writes, 'and not renewed any more');
});

test('stop(false) leaves the lease to expire (a crash-like stop)', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a');
  await vt.runFor(4_000);
  await whileRunning(vt, a.election.stop(false));
  assert.equal(a.election.isLeader(), false);
  assert.equal(store.current()?.spec?.holderIdentity, 'a');
});

test('health gate: an unhealthy replica never acquires; a leader turning unhealthy stops at once and hands over', async () => {
  const vt = new VirtualTime();
  const store = new LeaseStoreDouble(vt);
  const a = startReplica(vt, store, 'a', { healthy: false });
  await vt.runFor(30_000);
  assert.equal(store.current(), undefined, 'an unhealthy replica does not even create the lease');
  assert.equal(a.election.isLeader(), false);
  a.healthy = true;
  await vt.runFor(RETRY * 2.2 + 1);
  assert.equal(a.election.isLeader(), true);
  const b = startReplica(vt, store, 'b');
  const w = watchLeaders([a, b]);
  await vt.runFor(10_000, w.check);
  const t0 = vt.now;
  a.healthy = false;
  assert.equal(a.election.isLeader(), false, 'stops acting the moment health turns false');
  await vt.runFor(RETRY * 3.2 + 1, w.check);
  assert.equal(store.writes.find((x) => x.at > t0 && x.by === 'a')?.spec?.holderIdentity, '', 'a released the lease');
  assert.equal(b.election.isLeader(), true, 'the healthy standby leads well before the lease duration');
  // Healthy again, a stays a standby: b holds the lease.
  a.healthy = true;
  await vt.runFor(30_000, w.check);
  assert.equal(b.election.isLeader(), true);
  assert.equal(a.election.isLeader(), false);
  await whileRunning(vt, a.election.stop());
  await whileRunning(vt, b.election.stop());
});

test('two candidates racing for a free lease: optimistic concurrency lets exactly one win', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rnd = createRandom(seed);
    const vt = new VirtualTime();
    const store = new LeaseStoreDouble(vt, { random: rnd, maxLatencyMs: 500 });
    const rs = [startReplica(vt, store, 'a', { random: rnd }), startReplica(vt, store, 'b', { random: rnd }), startReplica(vt, store, 'c', { random: rnd })];
    const w = watchLeaders(rs);
    await vt.runFor(20_000, w.check);
    assert.equal(rs.filter((r) => r.election.isLeader()).length, 1, `seed ${seed}`);
    assert.equal(new Set(store.writes.map((x) => x.by)).size, 1, `seed ${seed}: only the winner ever wrote`);
    for (const r of rs) await whileRunning(vt, r.election.stop(false));
  }
});
