import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toBatchCount, toMovedAfterBatch, toScaledAfterBatch } from '../../moduledeployment/batches.ts';

test('toBatchCount: at most batchCount, never more batches than replicas, a beta batch in front', () => {
  const cases: Array<[number, number, boolean, number]> = [
    [6, 3, false, 3], [6, 1, false, 1], [2, 3, false, 2], [0, 3, false, 1], [6, 0, false, 1],
    [6, 2, true, 3], [6, 3, true, 4], [2, 3, true, 2], [1, 3, true, 1],
  ];
  for (const [delta, batchCount, useBeta, want] of cases) assert.equal(toBatchCount(delta, { batchCount, useBeta }), want, JSON.stringify({ delta, batchCount, useBeta }));
});

test('toMovedAfterBatch: even batches rounded up, beta first, the last batch moves everything', () => {
  assert.deepEqual([0, 1, 2, 3].map((k) => toMovedAfterBatch(k, 3, 6, false)), [0, 2, 4, 6]);
  assert.deepEqual([1, 2, 3].map((k) => toMovedAfterBatch(k, 3, 7, false)), [3, 5, 7]);
  assert.deepEqual([1, 2, 3].map((k) => toMovedAfterBatch(k, 3, 6, true)), [1, 4, 6]);
  assert.deepEqual([1, 2].map((k) => toMovedAfterBatch(k, 2, 2, true)), [1, 2]);
  assert.equal(toMovedAfterBatch(1, 1, 5, false), 5);
});

test('toScaledAfterBatch: a scale adds (or removes) the release\'s batch sizes from where it started', () => {
  const cases: Array<[number, number, number, number, boolean, number]> = [
    // k, batches, from, to, useBeta → replicas after batch k
    [0, 2, 2, 6, false, 2], [1, 2, 2, 6, false, 4], [2, 2, 2, 6, false, 6],
    [1, 2, 6, 2, false, 4], [2, 2, 6, 2, false, 2],
    [1, 3, 2, 7, true, 3], [2, 3, 2, 7, true, 5], [3, 3, 2, 7, true, 7],
    [1, 2, 6, 3, false, 4], [1, 1, 4, 4, false, 4],
  ];
  for (const [k, batches, from, to, useBeta, want] of cases) assert.equal(toScaledAfterBatch(k, batches, from, to, useBeta), want, JSON.stringify({ k, batches, from, to, useBeta }));
});
