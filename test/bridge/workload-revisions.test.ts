// The revision reader: ReplicaSet annotation and ControllerRevision field parsing, the short-lived
// shared cache (a revision can change on `rollout undo`), and unreadable objects as unknown revisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSilentLogger } from '../../core/logger.ts';
import { MODULE_REVISION_ANNOTATION } from '../../core/names.ts';
import type { RevisionRef } from '../../bridge/module-claims.ts';
import { createWorkloadRevisions, DEPLOYMENT_REVISION_ANNOTATION, toControllerRevisionNumber, toRevisionNumber } from '../../bridge/workload-revisions.ts';

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

for (const [name, cr, want] of [
  ['a revision', { revision: 5 }, 5],
  ['missing', {}, undefined],
  ['not a number', { revision: '5' }, undefined],
  ['beyond 2^53 (not exact in a double)', { revision: 2 ** 53 + 2 }, undefined],
  ['negative', { revision: -1 }, undefined],
] as const) {
  test(`toControllerRevisionNumber: ${name}`, () => assert.equal(toControllerRevisionNumber(cr as { revision: number }), want));
}

function setup() {
  const w = {
    clock: 1_000_000,
    reads: [] as string[],
    rsRevision: new Map<string, string>([['shop/orders-aaa', '1'], ['shop/orders-bbb', '2']]),
    crRevision: new Map<string, number>([['shop/web-0-5d4b7c', 1], ['shop/web-0-6c8f5d', 2], ['shop/agent-7b9f', 4]]),
  };
  const notFound = (what: string) => Object.assign(new Error(`${what} "x" not found`), { code: 404 });
  const revisions = createWorkloadRevisions({
    readReplicaSet: async (namespace, name) => {
      w.reads.push(`rs ${namespace}/${name}`);
      const r = w.rsRevision.get(`${namespace}/${name}`);
      if (r === undefined) throw notFound('replicasets');
      return rs({ [DEPLOYMENT_REVISION_ANNOTATION]: r });
    },
    readControllerRevision: async (namespace, name) => {
      w.reads.push(`cr ${namespace}/${name}`);
      const r = w.crRevision.get(`${namespace}/${name}`);
      if (r === undefined) throw notFound('controllerrevisions');
      return { revision: r };
    },
    now: () => w.clock,
    logger: createSilentLogger(),
    ttlMs: 1_000,
  });
  return { w, revisions };
}
const AAA: RevisionRef = { kind: 'ReplicaSet', namespace: 'shop', name: 'orders-aaa' };
const BBB: RevisionRef = { kind: 'ReplicaSet', namespace: 'shop', name: 'orders-bbb' };

test('reads each ReplicaSet once within the TTL (shared by concurrent passes), again after it (rollout undo raises a revision)', async () => {
  const { w, revisions } = setup();
  const [a, b] = await Promise.all([revisions.read([AAA, BBB]), revisions.read([AAA, BBB])]);
  assert.deepEqual([...a], [['shop/ReplicaSet/orders-aaa', 1], ['shop/ReplicaSet/orders-bbb', 2]]);
  assert.deepEqual([...b], [...a]);
  assert.deepEqual(w.reads, ['rs shop/orders-aaa', 'rs shop/orders-bbb']);
  w.rsRevision.set('shop/orders-aaa', '3');
  w.clock += 999;
  assert.equal((await revisions.read([AAA])).get('shop/ReplicaSet/orders-aaa'), 1, 'cached within the TTL');
  w.clock += 1;
  assert.equal((await revisions.read([AAA])).get('shop/ReplicaSet/orders-aaa'), 3, 'read again after it');
  assert.equal(w.reads.length, 3);
});

test('ControllerRevisions are read by name and give their revision field; a ReplicaSet of the same name is another key', async () => {
  const { w, revisions } = setup();
  // A StatefulSet pod's label is the full name; a DaemonSet pod's ref is already `<daemonset>-<hash>` (module-claims.ts toRevisionRef).
  const got = await revisions.read([
    { kind: 'ControllerRevision', namespace: 'shop', name: 'web-0-5d4b7c' },
    { kind: 'ControllerRevision', namespace: 'shop', name: 'web-0-6c8f5d' },
    { kind: 'ControllerRevision', namespace: 'shop', name: 'agent-7b9f' },
    { kind: 'ReplicaSet', namespace: 'shop', name: 'agent-7b9f' },
  ]);
  assert.deepEqual([...got], [['shop/ControllerRevision/web-0-5d4b7c', 1], ['shop/ControllerRevision/web-0-6c8f5d', 2], ['shop/ControllerRevision/agent-7b9f', 4], ['shop/ReplicaSet/agent-7b9f', undefined]]);
  assert.deepEqual(w.reads, ['cr shop/web-0-5d4b7c', 'cr shop/web-0-6c8f5d', 'cr shop/agent-7b9f', 'rs shop/agent-7b9f']);
});

test('an unreadable ReplicaSet or ControllerRevision is an unknown revision, not an error', async () => {
  const { revisions } = setup();
  const got = await revisions.read([{ kind: 'ReplicaSet', namespace: 'shop', name: 'gone' }, { kind: 'ControllerRevision', namespace: 'shop', name: 'gone-1' }, BBB]);
  assert.deepEqual([...got], [['shop/ReplicaSet/gone', undefined], ['shop/ControllerRevision/gone-1', undefined], ['shop/ReplicaSet/orders-bbb', 2]]);
});
