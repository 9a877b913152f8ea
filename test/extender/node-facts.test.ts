import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toNodeFacts } from '../../extender/node-facts.ts';
import { toNode } from './fixtures.ts';

test('toNodeFacts reads the pod-independent facts once', () => {
  const ok = toNodeFacts(toNode('a'));
  assert.equal(ok.virtual, true);
  assert.equal(ok.readiness.ready, true);
  assert.equal(ok.cordoned, false);
  assert.equal(ok.labels['base.koupleless.io/version'], '1.0.0');
  const bad = toNodeFacts(toNode('b', { virtual: false, ready: 'Unknown', unschedulable: true }));
  assert.deepEqual([bad.virtual, bad.readiness.ready, bad.cordoned], [false, false, true]);
  const bare = toNodeFacts({ metadata: { name: 'c' } });
  assert.deepEqual(bare.labels, {});
  assert.equal(bare.virtual, false);
  assert.equal(bare.readiness.ready, false);
});
