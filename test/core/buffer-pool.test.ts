import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../core/buffer-pool.ts';

test('buffers are reused only after being given back, never a slice of the shared pool', () => {
  const pool = new BufferPool(2);
  const a = pool.take(100_000);
  const b = pool.take(100_000);
  assert.ok(a.length >= 100_000 && b.length >= 100_000);
  assert.notEqual(a.buffer, b.buffer, 'two buffers in use have their own memory');
  pool.give(a.subarray(0, 10));
  assert.equal(pool.idle, 1);
  pool.give(a);
  assert.equal(pool.idle, 1, 'the same memory is not kept twice');
  const c = pool.take(50_000);
  assert.equal(c.buffer, a.buffer, 'memory given back is used again');
  assert.equal(pool.idle, 0);
  pool.give(Buffer.from('not ours'));
  assert.equal(pool.idle, 0, 'memory the pool did not allocate is never taken in');
});

test('a request larger than every idle buffer gets a new one; at most `keep` idle, none above `largest`', () => {
  const pool = new BufferPool(1, 1 << 20);
  pool.give(pool.take(10));
  const big = pool.take(500_000);
  assert.ok(big.length >= 500_000);
  assert.equal(pool.idle, 1, 'the small idle buffer stays idle');
  pool.give(big);
  assert.equal(pool.idle, 1, 'no room beyond keep');
  const huge = pool.take(2 << 20);
  pool.take(10);
  pool.give(huge);
  assert.equal(pool.idle, 0, 'buffers above largest are left to the GC');
});
