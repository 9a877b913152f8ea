import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerError } from '../../core/errors.ts';
import { createRateLimiter } from '../../core/rate-limiter.ts';

function clock() {
  const c = { t: 1_000, slept: [] as number[] };
  return { c, now: () => c.t, sleep: async (ms: number) => void c.slept.push(ms) };
}

test('a full bucket lets `burst` requests go at once, then one every 1/qps s, each caller waiting its turn', () => {
  const { c, now, sleep } = clock();
  const rl = createRateLimiter({ qps: 50, burst: 100, now, sleep });
  for (let i = 0; i < 100; i++) assert.equal(rl.reserve(), 0, `request ${i} of the burst`);
  // The next callers queue behind each other, 20 ms apart.
  assert.equal(Math.round(rl.reserve()), 20);
  assert.equal(Math.round(rl.reserve()), 40);
  assert.equal(Math.round(rl.reserve()), 60);
  c.t += 60; // time passes: the three reserved tokens have accrued, no more
  assert.equal(Math.round(rl.reserve()), 20);
});

test('sustained rate: a client sending as fast as it may gets burst + qps × elapsed requests', () => {
  const { c, now, sleep } = clock();
  const rl = createRateLimiter({ qps: 50, burst: 100, now, sleep });
  const start = c.t;
  // One greedy caller: it sends its next request as soon as its wait is over.
  const sentAt: number[] = [];
  for (let i = 0; i < 700; i++) {
    c.t += rl.reserve();
    sentAt.push(c.t - start);
  }
  assert.equal(sentAt[99], 0, 'the burst goes at once');
  assert.equal(Math.round(sentAt[100]!), 20);
  assert.equal(Math.round(sentAt[599]!), 10_000, '500 more in the next 10 s');
  assert.equal(Math.round(sentAt[699]!), 12_000);
});

test('an idle bucket refills to burst, never beyond', () => {
  const { c, now, sleep } = clock();
  const rl = createRateLimiter({ qps: 10, burst: 5, now, sleep });
  for (let i = 0; i < 5; i++) rl.reserve();
  c.t += 3_600_000;
  let free = 0;
  while (rl.reserve() === 0) free++;
  assert.equal(free, 5);
});

test('wait() sleeps exactly the reserved time; qps 0 turns limiting off', async () => {
  const { c, now, sleep } = clock();
  const rl = createRateLimiter({ qps: 2, burst: 1, now, sleep });
  await rl.wait();
  await rl.wait();
  await rl.wait();
  assert.deepEqual(c.slept.map(Math.round), [500, 1_000]);
  const off = createRateLimiter({ qps: 0, burst: 0 });
  for (let i = 0; i < 10_000; i++) assert.equal(off.reserve(), 0);
});

test('bad limits are CONFIG_INVALID with the fix', () => {
  for (const [o, re] of [
    [{ qps: -1, burst: 10 }, /--kube-api-qps must be 0 \(no limit\) or a positive number/],
    [{ qps: 5, burst: 0 }, /--kube-api-burst must be at least 1/],
  ] as const) {
    assert.throws(() => createRateLimiter(o), (e: unknown) => e instanceof ControllerError && e.code === 'CONFIG_INVALID' && re.test(e.message));
  }
});
