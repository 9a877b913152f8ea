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
