import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue, type QueueClock, type ReconcileOutcome } from '../../bridge/work-queue.ts';
import { VirtualTime } from '../support/virtual-time.ts';

interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Waits for `check` with a bound, so a broken queue fails the test instead of hanging it. */
async function until(what: string, check: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

async function idleWithin(q: WorkQueue, ms = 2_000): Promise<void> {
  let done = false;
  const p = q.idle().then(() => (done = true));
  await until('idle()', () => done, ms);
  await p;
}

test('a key added many times while queued runs once', async () => {
  const runs: string[] = [];
  const blocker = gate();
  const q = new WorkQueue(async (key) => {
    runs.push(key);
    if (key === 'block') await blocker.promise;
    return { kind: 'done' };
  }, { concurrency: 1 });
  q.add('block');
  for (let i = 0; i < 5; i++) q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length, 3);
  blocker.open();
  await idleWithin(q);
  assert.deepEqual(runs, ['block', 'a', 'b']);
  q.stop();
});

test('a key is never run twice at once: an add while it runs gives exactly one more run', async () => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const gates = [gate(), gate()];
  const q = new WorkQueue(async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    const g = gates[runs++];
    await g?.promise;
    active--;
    return { kind: 'done' };
  }, { concurrency: 4 });
  q.add('k');
  await until('first run', () => runs === 1);
  q.add('k');
  q.add('k');
  q.add('k');
  await sleep(20);
  assert.equal(runs, 1, 'not started again while running');
  gates[0]!.open();
  await until('the dirty re-run', () => runs === 2);
  gates[1]!.open();
  await idleWithin(q);
  assert.equal(runs, 2);
  assert.equal(maxActive, 1);
  q.stop();
});

test('different keys run in parallel up to the concurrency', async () => {
  let active = 0;
  let maxActive = 0;
  const g = gate();
  const q = new WorkQueue(async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    await g.promise;
    active--;
    return { kind: 'done' };
  }, { concurrency: 2 });
  for (const k of ['a', 'b', 'c', 'd']) q.add(k);
  await until('two running', () => active === 2);
  await sleep(20);
  assert.equal(maxActive, 2);
  assert.equal(q.length, 4);
  g.open();
  await idleWithin(q);
  assert.equal(q.length, 0);
  q.stop();
});

test('addAfter runs the key later; an add before then runs it at once and only once', async () => {
  const runs: Array<[string, number]> = [];
  const start = performance.now();
  const q = new WorkQueue(async (key) => {
    runs.push([key, performance.now() - start]);
    return { kind: 'done' };
  }, { concurrency: 2 });
  q.addAfter('later', 60);
  q.addAfter('soon', 80);
  q.add('soon');
  await until('both ran', () => runs.length >= 2);
  await sleep(120);
  assert.deepEqual(runs.map(([k]) => k), ['soon', 'later']);
  assert.ok(runs[0]![1] < 50, `soon ran at ${runs[0]![1]}ms`);
  assert.ok(runs[1]![1] >= 55, `later ran at ${runs[1]![1]}ms`);
  q.stop();
});

test('addAfter for a key already queued does nothing', async () => {
  let runs = 0;
  const blocker = gate();
  const q = new WorkQueue(async (key) => {
    if (key === 'block') await blocker.promise;
    else runs++;
    return { kind: 'done' };
  }, { concurrency: 1 });
  q.add('block');
  q.add('a');
  q.addAfter('a', 10);
  blocker.open();
  await idleWithin(q);
  await sleep(40);
  assert.equal(runs, 1);
  q.stop();
});

// As documented ("an earlier schedule wins"): the first pending schedule is kept. client-go keeps the
// soonest instead; no caller here schedules a key twice (a run starts with no timer pending).
test('the soonest of several addAfter calls wins, one run in all', async () => {
  const times: number[] = [];
  const start = performance.now();
  const q = new WorkQueue(async () => {
    times.push(performance.now() - start);
    return { kind: 'done' };
  }, { concurrency: 1 });
  q.addAfter('k', 60);
  q.addAfter('k', 5);
  q.addAfter('k', 200);
  await until('the run', () => times.length === 1);
  await sleep(220);
  assert.equal(times.length, 1);
  assert.ok(times[0]! < 55, `ran at ${times[0]}ms, not at the soonest schedule`);
  q.stop();
});

test('requeueAfter runs the key again after the delay', async () => {
  const times: number[] = [];
  const q = new WorkQueue(async () => {
    times.push(performance.now());
    return times.length < 3 ? { kind: 'requeueAfter', ms: 30 } : { kind: 'done' };
  }, { concurrency: 1 });
  q.add('k');
  await until('three runs', () => times.length === 3);
  await sleep(60);
  assert.equal(times.length, 3);
  assert.ok(times[1]! - times[0]! >= 25, `${times[1]! - times[0]!}ms`);
  assert.ok(times[2]! - times[1]! >= 25, `${times[2]! - times[1]!}ms`);
  q.stop();
});

test('errors (thrown or returned) back off exponentially; success resets the count', async () => {
  const times: number[] = [];
  const outcomes: string[] = [];
  const script: Array<() => ReconcileOutcome> = [
    () => { throw new Error('boom'); },
    () => ({ kind: 'error', error: new Error('again') }),
    () => { throw new Error('third'); },
    () => ({ kind: 'done' }),
  ];
  const q = new WorkQueue(async () => {
    times.push(performance.now());
    return script[times.length - 1]!();
  }, { concurrency: 1, backoffBaseMs: 20, backoffMaxMs: 50, onOutcome: (key, o, ms) => {
    assert.equal(key, 'k');
    assert.ok(ms >= 0);
    outcomes.push(o.kind === 'error' ? `error ${(o.error as Error).message}` : o.kind);
  } });
  q.add('k');
  await until('four runs', () => times.length === 4);
  await sleep(100);
  assert.equal(times.length, 4, 'no run after success');
  assert.deepEqual(outcomes, ['error boom', 'error again', 'error third', 'done']);
  const gaps = [times[1]! - times[0]!, times[2]! - times[1]!, times[3]! - times[2]!];
  // 20, 40, then capped at 50 (timers may fire a millisecond early).
  assert.ok(gaps[0]! >= 18 && gaps[0]! < 40, `first gap ${gaps[0]}`);
  assert.ok(gaps[1]! >= 38, `second gap ${gaps[1]}`);
  assert.ok(gaps[2]! >= 48 && gaps[2]! < 90, `third gap ${gaps[2]}`);

  // The failure count was reset: the next error backs off from the base again.
  const again: number[] = [];
  const q2 = new WorkQueue(async () => {
    again.push(performance.now());
    return again.length === 2 || again.length === 3 ? { kind: 'done' } : { kind: 'error', error: 'x' };
  }, { concurrency: 1, backoffBaseMs: 20, backoffMaxMs: 1_000 });
  q2.add('k');
  await until('second run', () => again.length === 2);
  q2.add('k');
  await until('third run', () => again.length === 3);
  q2.add('k');
  await until('fifth run', () => again.length === 5);
  assert.ok(again[4]! - again[3]! < 40, `backoff restarted at the base: ${again[4]! - again[3]!}ms`);
  q.stop();
  q2.stop();
});

test('idle() resolves at once when empty, and after the last run otherwise', async () => {
  const g = gate();
  let finished = false;
  const q = new WorkQueue(async () => {
    await g.promise;
    finished = true;
    return { kind: 'done' };
  }, { concurrency: 1 });
  await idleWithin(q, 100);
  q.add('k');
  let idle = false;
  const p = q.idle().then(() => (idle = true));
  await sleep(20);
  assert.equal(idle, false);
  g.open();
  await p;
  assert.equal(finished, true);
  q.stop();
});

test('stop() drops queued keys and timers; later adds are ignored', async () => {
  const runs: string[] = [];
  const blocker = gate();
  const q = new WorkQueue(async (key) => {
    runs.push(key);
    if (key === 'block') await blocker.promise;
    return key === 'block' ? { kind: 'requeueAfter', ms: 5 } : { kind: 'done' };
  }, { concurrency: 1 });
  q.add('block');
  q.add('queued');
  q.addAfter('timer', 10);
  q.stop();
  q.add('after');
  q.addAfter('after-timer', 1);
  blocker.open();
  await idleWithin(q);
  await sleep(50);
  // The run in progress finishes; nothing else starts, not even its requeue.
  assert.deepEqual(runs, ['block']);
  assert.equal(q.length, 0);
});

/** The queue's clock on virtual time: timers fire only as the test runs time. */
function virtualClock(vt: VirtualTime): QueueClock {
  return {
    now: () => vt.now,
    setTimeout: (fn, ms) => {
      const handle = { cancelled: false };
      void vt.sleep(ms).then(() => { if (!handle.cancelled) fn(); });
      return handle;
    },
    clearTimeout: (h) => void ((h as { cancelled: boolean }).cancelled = true),
  };
}

test('a key in error backoff waits it out: adds during the backoff (a heartbeat every second) run nothing earlier', async () => {
  const vt = new VirtualTime();
  const runs: number[] = [];
  const q = new WorkQueue(async () => {
    runs.push(vt.now);
    return { kind: 'error', error: new Error('API server unavailable') };
  }, { concurrency: 1, backoffBaseMs: 500, backoffMaxMs: 4_000, clock: virtualClock(vt) });
  q.add('base-1');
  for (let t = 0; t < 20_000; t += 1_000) {
    await vt.runUntil(t);
    q.add('base-1'); // the heartbeat
    q.addAfter('base-1', 10); // a requeue schedule does not cut the backoff short either
  }
  await vt.runUntil(20_000);
  // 500, 1000, 2000, 4000 (capped), 4000, ... after each failure — not once a second.
  assert.deepEqual(runs, [0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500]);
  assert.equal(q.backingOffCount, 1);
  q.stop();
  assert.equal(q.backingOffCount, 0);
});

test('an add while a failing run is in progress runs the key once, at the end of its backoff', async () => {
  const vt = new VirtualTime();
  const runs: number[] = [];
  const q = new WorkQueue(async () => {
    runs.push(vt.now);
    const first = runs.length === 1;
    await vt.sleep(100);
    return first ? { kind: 'error', error: 'x' } : { kind: 'done' };
  }, { concurrency: 1, backoffBaseMs: 1_000, clock: virtualClock(vt) });
  q.add('k');
  await vt.runUntil(50);
  q.add('k'); // dirty while running
  await vt.runUntil(10_000);
  // The first run ends failed at 100; the dirty add waits for the backoff (100 + 1000).
  assert.deepEqual(runs, [0, 1_100]);
  q.stop();
});

test('success forgets the failures; a requeueAfter (no error) is still pre-empted by add', async () => {
  const vt = new VirtualTime();
  const runs: Array<[number, string]> = [];
  const script: ReconcileOutcome[] = [
    { kind: 'error', error: 'a' },
    { kind: 'error', error: 'b' },
    { kind: 'requeueAfter', ms: 5_000 },
    { kind: 'error', error: 'c' },
    { kind: 'done' },
  ];
  const q = new WorkQueue(async () => {
    const o = script[runs.length] ?? { kind: 'done' };
    runs.push([vt.now, o.kind]);
    return o;
  }, { concurrency: 1, backoffBaseMs: 100, clock: virtualClock(vt) });
  q.add('k');
  await vt.runUntil(1_000);
  assert.deepEqual(runs, [[0, 'error'], [100, 'error'], [300, 'requeueAfter']]);
  q.add('k'); // pre-empts the 5 s requeue
  await vt.runUntil(1_000);
  assert.deepEqual(runs.at(-1), [1_000, 'error']);
  await vt.runUntil(10_000);
  // The count was forgotten at the requeueAfter (a success): the next error backs off from the base.
  assert.deepEqual(runs.slice(3), [[1_000, 'error'], [1_100, 'done']]);
  assert.equal(runs.length, 5, 'no run after done');
  q.stop();
});
