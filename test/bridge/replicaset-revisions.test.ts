// The ReplicaSet revision reader: annotation parsing, the short-lived shared cache (a revision can
// change on `rollout undo`), and unreadable ReplicaSets as unknown revisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSilentLogger } from '../../core/logger.ts';
import { MODULE_REVISION_ANNOTATION } from '../../core/names.ts';
import { createReplicaSetRevisions, DEPLOYMENT_REVISION_ANNOTATION, toRevisionNumber } from '../../bridge/replicaset-revisions.ts';

const rs = (annotations: Record<string, string>) => ({ metadata: { annotations } });

for (const [name, annotations, want] of [
  ['Deployment revision', { [DEPLOYMENT_REVISION_ANNOTATION]: '7' }, 7],
  ['ModuleDeployment revision', { [MODULE_REVISION_ANNOTATION]: '3' }, 3],
  ['the Deployment annotation wins over ours', { [DEPLOYMENT_REVISION_ANNOTATION]: '4', [MODULE_REVISION_ANNOTATION]: '9' }, 4],
  ['no annotation', {}, undefined],
  ['not a number', { [DEPLOYMENT_REVISION_ANNOTATION]: 'seven' }, undefined],
] as const) {
  test(`toRevisionNumber: ${name}`, () => assert.equal(toRevisionNumber(rs(annotations)), want));
}

function setup() {
  const w = { clock: 1_000_000, reads: [] as string[], revision: new Map<string, string>([['shop/orders-aaa', '1'], ['shop/orders-bbb', '2']]) };
  const revisions = createReplicaSetRevisions({
    readReplicaSet: async (namespace, name) => {
      w.reads.push(`${namespace}/${name}`);
      const r = w.revision.get(`${namespace}/${name}`);
      if (r === undefined) throw Object.assign(new Error('replicasets "x" not found'), { code: 404 });
      return rs({ [DEPLOYMENT_REVISION_ANNOTATION]: r });
    },
    now: () => w.clock,
    logger: createSilentLogger(),
    ttlMs: 1_000,
  });
  return { w, revisions };
}
const AAA = { namespace: 'shop', name: 'orders-aaa' };
const BBB = { namespace: 'shop', name: 'orders-bbb' };

test('reads each ReplicaSet once within the TTL (shared by concurrent passes), again after it (rollout undo raises a revision)', async () => {
  const { w, revisions } = setup();
  const [a, b] = await Promise.all([revisions.read([AAA, BBB]), revisions.read([AAA, BBB])]);
  assert.deepEqual([...a], [['shop/orders-aaa', 1], ['shop/orders-bbb', 2]]);
  assert.deepEqual([...b], [...a]);
  assert.deepEqual(w.reads, ['shop/orders-aaa', 'shop/orders-bbb']);
  w.revision.set('shop/orders-aaa', '3');
  w.clock += 999;
  assert.equal((await revisions.read([AAA])).get('shop/orders-aaa'), 1, 'cached within the TTL');
  w.clock += 1;
  assert.equal((await revisions.read([AAA])).get('shop/orders-aaa'), 3, 'read again after it');
  assert.equal(w.reads.length, 3);
});

test('an unreadable ReplicaSet is an unknown revision, not an error', async () => {
  const { revisions } = setup();
  const got = await revisions.read([{ namespace: 'shop', name: 'gone' }, BBB]);
  assert.deepEqual([...got], [['shop/gone', undefined], ['shop/orders-bbb', 2]]);
});
