import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toBatchCount, toMovedAfterBatch } from '../../moduledeployment/batches.ts';

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
