import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlacementMemory } from '../../extender/placement-memory.ts';

const demo = [{ bizName: 'demo', bizVersion: '1' }];

test('an assumption lives until forgotten or its TTL passes', () => {
  let now = 1_000;
  const m = new PlacementMemory(30_000, () => now);
  m.assume('p1', 'a', demo);
  m.assume('p2', 'a', demo);
  assert.deepEqual(m.on('a').map((p) => p.podUid), ['p1', 'p2']);
  assert.equal(m.get('p1')?.nodeName, 'a');
  m.forget('p1');
  assert.deepEqual(m.on('a').map((p) => p.podUid), ['p2']);
  now += 29_999;
  assert.equal(m.on('a').length, 1);
  now += 1;
  assert.equal(m.on('a').length, 0, 'expired at the TTL');
  assert.equal(m.get('p2'), undefined);
  assert.equal(m.size, 0);
});

test('a new assumption for the same pod replaces the old one', () => {
  const m = new PlacementMemory(1_000, () => 0);
  m.assume('p1', 'a', demo);
  m.assume('p1', 'b', demo);
  assert.equal(m.on('a').length, 0);
  assert.equal(m.on('b').length, 1);
  assert.equal(m.size, 1);
});

test('sweep drops every expired assumption', () => {
  let now = 0;
  const m = new PlacementMemory(10, () => now);
  m.assume('p1', 'a', demo);
  now = 5;
  m.assume('p2', 'b', demo);
  now = 10;
  assert.equal(m.sweep(), 1);
  assert.equal(m.get('p2')?.nodeName, 'b');
  m.forget('unknown');
  assert.equal(m.size, 1);
});

test('bounded: beyond maxEntries the expired go first, then the oldest live ones, counted', () => {
  let now = 0;
  const evicted: number[] = [];
  const m = new PlacementMemory(100, () => now, { maxEntries: 3, onEvict: (n) => evicted.push(n) });
  m.assume('p1', 'a', demo);
  now = 50;
  m.assume('p2', 'a', demo);
  m.assume('p3', 'b', demo);
  now = 100; // p1 expired
  m.assume('p4', 'b', demo);
  assert.deepEqual(evicted, [], 'an expired one made room');
  assert.equal(m.size, 3);
  m.assume('p5', 'c', demo);
  assert.deepEqual(evicted, [1]);
  assert.equal(m.get('p2'), undefined, 'the oldest live one went');
  assert.deepEqual(['p3', 'p4', 'p5'].map((p) => m.get(p)?.podUid), ['p3', 'p4', 'p5']);
  assert.deepEqual(m.on('a'), []);
  // Re-assuming a pod already held replaces it: no eviction.
  m.assume('p5', 'a', demo);
  assert.deepEqual(evicted, [1]);
  assert.equal(m.size, 3);
});

test('startSweeping: expired assumptions go on the sweeper\'s own clock, without any read', () => {
  let now = 0;
  let tick: (() => void) | undefined;
  let cleared: unknown;
  const handle = { unref: () => handle };
  const timers = {
    setInterval: (fn: () => void, ms: number) => {
      assert.equal(ms, 5_000);
      tick = fn;
      return handle;
    },
    clearInterval: (h: unknown) => (cleared = h),
  };
  const m = new PlacementMemory(10_000, () => now);
  const stop = m.startSweeping(5_000, timers);
  m.assume('p1', 'a', demo);
  now = 5_000;
  tick!();
  assert.equal(m.size, 1, 'still live');
  now = 10_000;
  tick!();
  assert.equal(m.size, 0, 'swept by the timer alone');
  stop();
  assert.equal(cleared, handle);
});
