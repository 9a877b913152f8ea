import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PEER_REPLICAS_ANNOTATION, planPeerMode, readPeerMode, toDesiredReplicas, toPeerPatch } from '../../moduledeployment/peer-mode.ts';
import type { ModuleDeployment } from '../../moduledeployment/types.ts';

function md(fields: { peer?: boolean; replicas?: number }, record?: string, annotations: Record<string, string> = {}): ModuleDeployment {
  return {
    metadata: { name: 'm', annotations: record === undefined ? annotations : { ...annotations, [PEER_REPLICAS_ANNOTATION]: record } },
    spec: { baseDeploymentName: 'b', template: { spec: { module: { name: 'biz', version: '1', url: 'https://x.invalid/a.jar' } } }, ...fields },
  };
}

// name, object, mode, desired with 3 Ready bases, action kind
const cases: Array<[string, ModuleDeployment, string, number, string | undefined]> = [
  ['peer: true, record equals replicas, 3 bases', md({ peer: true, replicas: 3 }, '3'), 'peer', 3, undefined],
  ['peer: true, record equals replicas, bases changed', md({ peer: true, replicas: 2 }, '2'), 'peer', 3, 'setPeerReplicas'],
  ['peer: true without a record (native form or no webhook): adopted', md({ peer: true, replicas: 1 }), 'peer', 3, 'setPeerReplicas'],
  ['peer: true, replicas written by kubectl scale (record differs)', md({ peer: true, replicas: 2 }, '3'), 'scaled', 2, 'leavePeerMode'],
  ['peer: true, scaled to zero', md({ peer: true, replicas: 0 }, '3'), 'scaled', 0, 'leavePeerMode'],
  ['replicas 4', md({ replicas: 4 }), 'off', 4, undefined],
  ['peer: false, replicas 4 (a stale record is ignored)', md({ peer: false, replicas: 4 }, '3'), 'off', 4, undefined],
  ['nothing set: the default 1', md({}), 'off', 1, undefined],
  ['a negative count that slipped through: 0', md({ replicas: -1 }), 'off', 0, undefined],
];
for (const [name, object, mode, desired, action] of cases) {
  test(`peer mode: ${name}`, () => {
    assert.equal(readPeerMode(object), mode);
    assert.equal(toDesiredReplicas(object, 3), desired);
    assert.equal(planPeerMode(object, 3)?.kind, action);
  });
}

test('the peer patch follows the bases and records the count, testing what it read first', () => {
  const o = md({ peer: true, replicas: 2 }, '2');
  assert.deepEqual(toPeerPatch(o, planPeerMode(o, 3)!), [
    { op: 'test', path: '/spec/peer', value: true },
    { op: 'test', path: '/spec/replicas', value: 2 },
    { op: 'replace', path: '/spec/replicas', value: 3 },
    { op: 'test', path: '/metadata/annotations/module-controller.koupleless.io~1peer-replicas', value: '2' },
    { op: 'replace', path: '/metadata/annotations/module-controller.koupleless.io~1peer-replicas', value: '3' },
  ]);
  const bare: ModuleDeployment = { ...md({ peer: true, replicas: 1 }), metadata: { name: 'm' } };
  assert.deepEqual(toPeerPatch(bare, planPeerMode(bare, 3)!).slice(-1), [{ op: 'add', path: '/metadata/annotations', value: { [PEER_REPLICAS_ANNOTATION]: '3' } }]);
  const other = md({ peer: true, replicas: 1 }, undefined, { team: 'a' });
  assert.deepEqual(toPeerPatch(other, planPeerMode(other, 3)!).slice(-1), [{ op: 'add', path: '/metadata/annotations/module-controller.koupleless.io~1peer-replicas', value: '3' }]);
});

test('leaving peer mode tests the scaled count, sets peer false and drops the record', () => {
  const o = md({ peer: true, replicas: 2 }, '3');
  assert.deepEqual(toPeerPatch(o, planPeerMode(o, 3)!), [
    { op: 'test', path: '/spec/peer', value: true },
    { op: 'test', path: '/spec/replicas', value: 2 },
    { op: 'replace', path: '/spec/peer', value: false },
    { op: 'remove', path: '/metadata/annotations/module-controller.koupleless.io~1peer-replicas' },
  ]);
});
