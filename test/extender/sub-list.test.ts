import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subListOf, takeSubList, toRuns } from '../../extender/sub-list.ts';

test('a part of a list: its names by position, and where it came from', () => {
  const parent = ['a', 'b', 'c', 'd', 'e'];
  const positions = Int32Array.from([0, 2, 3]);
  const part = takeSubList(parent, positions);
  assert.deepEqual(part, ['a', 'c', 'd']);
  assert.equal(subListOf(part)?.parent, parent);
  assert.deepEqual([...subListOf(part)!.positions], [0, 2, 3]);
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
