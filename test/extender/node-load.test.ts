import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_LOAD, findSameModule, hasReplica, toLoad, toModuleProbe, toNodeLoad } from '../../extender/node-load.ts';

const m = (bizName: string, bizVersion: string) => ({ bizName, bizVersion });

test('exact and any-version searches never match a prefix or across entries', () => {
  const load = toLoad([m('demo-ext', '1.0.0'), m('other', '1.0'), m('x', '2')]);
  const table: Array<[ReturnType<typeof m>, boolean, boolean]> = [
    [m('demo', '1.0.0'), false, false], // bizName prefix of demo-ext
    [m('demo-ext', '1.0.0'), true, true],
    [m('demo-ext', '1.0'), false, true], // version prefix
    [m('other', '1.0.0'), false, true], // the base's version is a prefix of ours
    [m('ext', '1.0.0'), false, false], // suffix of demo-ext
    [m('x', '2'), true, true],
  ];
  for (const [mod, same, replica] of table) {
    const probe = toModuleProbe([mod]);
    assert.equal(findSameModule(probe, load) !== undefined, same, `same ${mod.bizName}:${mod.bizVersion}`);
    assert.equal(hasReplica(probe, load), replica, `replica ${mod.bizName}:${mod.bizVersion}`);
  }
  assert.equal(findSameModule(toModuleProbe([m('a', '1'), m('x', '2')]), load)?.bizName, 'x');
  assert.equal(hasReplica(toModuleProbe([m('demo', '1')]), EMPTY_LOAD), false);
});

test('toNodeLoad sums pods and leaves out the excluded one', () => {
  const pods: Array<[string, ReturnType<typeof m>[]]> = [['p1', [m('a', '1'), m('b', '1')]], ['p2', [m('c', '1')]]];
  assert.equal(toNodeLoad(pods, undefined).moduleCount, 3);
  const without = toNodeLoad(pods, 'p1');
  assert.deepEqual(without.modules, [m('c', '1')]);
  assert.equal(without.index, '\nc@1\n');
  assert.equal(toNodeLoad([], undefined), EMPTY_LOAD);
});

test('answers remembered on a load follow the probe: alternating probes never get each other\'s answer', () => {
  const load = toLoad([m('a', '1'), m('b', '2')]);
  const sameA = toModuleProbe([m('a', '1')]);
  const otherB = toModuleProbe([m('b', '3')]);
  const none = toModuleProbe([m('c', '1')]);
  for (let round = 0; round < 3; round++) {
    assert.equal(findSameModule(sameA, load)?.bizName, 'a');
    assert.equal(hasReplica(sameA, load), true);
    assert.equal(findSameModule(otherB, load), undefined);
    assert.equal(hasReplica(otherB, load), true);
    assert.equal(findSameModule(none, load), undefined);
    assert.equal(hasReplica(none, load), false);
  }
  // A probe built anew for the same modules asks the same question (same key).
  assert.equal(toModuleProbe([m('a', '1')]).key, sameA.key);
  assert.equal(load.memo?.key, none.key);
});
