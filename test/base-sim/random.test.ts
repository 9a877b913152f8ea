import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom } from '../../base-sim/random.ts';

test('createRandom: same seed, same sequence; values in [0, 1); roughly uniform', () => {
  const a = createRandom(7);
  const b = createRandom(7);
  const xs = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(Array.from({ length: 10_000 }, () => b()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const low = xs.filter((x) => x < 0.5).length;
  assert.ok(low > 4700 && low < 5300, `${low} of 10000 below 0.5`);
  assert.notEqual(createRandom(8)(), createRandom(7)());
});
