import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLength, sameRuns, subListOf, takeRuns, takeSubList, toPartIndex, toRuns, toRunsWhere } from '../../extender/sub-list.ts';

test('a part of a list: its names by position, and where it came from', () => {
  const parent = ['a', 'b', 'c', 'd', 'e'];
  const positions = Int32Array.from([0, 2, 3]);
  const part = takeSubList(parent, positions);
  assert.deepEqual(part, ['a', 'c', 'd']);
  assert.equal(subListOf(part)?.parent, parent);
  assert.deepEqual([...subListOf(part)!.runs], [0, 1, 2, 4]);
  assert.equal(subListOf(['a', 'c', 'd']), undefined, 'an equal list of its own is not a part');
});

test('runs of consecutive positions', () => {
  const cases: Array<[number[], number[]]> = [
    [[], []],
    [[0], [0, 1]],
    [[0, 1, 2], [0, 3]],
    [[1, 2, 4, 7, 8, 9], [1, 3, 4, 5, 7, 10]],
    [[5, 9], [5, 6, 9, 10]],
  ];
  for (const [positions, runs] of cases) assert.deepEqual([...toRuns(Int32Array.from(positions))], runs, `${positions.join(',')}`);
});

test('a part taken by runs equals the part taken by the same positions', () => {
  const parent = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  for (const positions of [[], [0], [6], [0, 1, 2, 3, 4, 5, 6], [1, 2, 4, 6], [0, 3, 4, 5]]) {
    const runs = toRuns(Int32Array.from(positions));
    const part = takeRuns(parent, runs);
    assert.deepEqual(part, positions.map((i) => parent[i]), positions.join(','));
    assert.equal(runLength(runs), positions.length);
    assert.equal(subListOf(part)?.parent, parent);
    assert.equal(subListOf(part)?.runs, runs);
  }
});

test('runs compare by content', () => {
  assert.ok(sameRuns(Int32Array.from([0, 3, 5, 9]), Int32Array.from([0, 3, 5, 9])));
  assert.ok(sameRuns(new Int32Array(0), new Int32Array(0)));
  assert.ok(!sameRuns(Int32Array.from([0, 3, 5, 9]), Int32Array.from([0, 3, 5, 8])));
  assert.ok(!sameRuns(Int32Array.from([0, 3]), Int32Array.from([0, 3, 5, 9])));
  // A view into a larger buffer compares only its own slots.
  const big = Int32Array.from([7, 0, 3, 7]);
  assert.ok(sameRuns(big.subarray(1, 3), Int32Array.from([0, 3])));
});

test('runs where a predicate holds equal the runs of the positions where it holds', () => {
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let t = 0; t < 200; t++) {
    const length = Math.floor(random() * 40);
    const keep = Array.from({ length }, () => random() < 0.7);
    const positions = Int32Array.from(keep.flatMap((k, i) => (k ? [i] : [])));
    assert.deepEqual([...toRunsWhere(length, (i) => keep[i]!)], [...toRuns(positions)], keep.map((k) => (k ? 1 : 0)).join(''));
  }
});

test('a parent position maps to its place in the part, or -1 when the part leaves it out', () => {
  for (const positions of [[], [0], [3], [0, 1, 2], [1, 2, 4, 7, 8, 9], [0, 5, 6, 9]]) {
    const runs = toRuns(Int32Array.from(positions));
    for (let p = 0; p < 11; p++) assert.equal(toPartIndex(runs, p), positions.indexOf(p), `${positions.join(',')} @${p}`);
  }
});
