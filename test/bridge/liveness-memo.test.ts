import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LivenessMemo } from '../../bridge/liveness-memo.ts';

test('LivenessMemo reports changes only, and prunes bases that are gone', () => {
  const m = new LivenessMemo();
  assert.equal(m.changed('a', 'ready'), true);
  assert.equal(m.changed('a', 'ready'), false);
  assert.equal(m.changed('a', 'notReady'), true);
  assert.equal(m.changed('b', 'ready'), true);
  assert.equal(m.changed('b', undefined), true, 'a base that disappeared is a change');
  assert.equal(m.changed('b', undefined), false);
  for (let i = 0; i < 1_000; i++) m.changed(`x${i}`, 'ready');
  m.prune((id) => id === 'a');
  assert.equal(m.size, 1);
  assert.equal(m.changed('a', 'notReady'), false);
});
