import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { diffService, toDesiredService, toUpdatedService } from '../../../bridge/services/desired-service.ts';

const owners = [{ apiVersion: 'apps/v1', kind: 'Deployment' as const, namespace: 'ns', name: 'd', uid: 'u1' }];
const desired = toDesiredService({ namespace: 'ns', bizName: 'biz', port: 8080, targetPort: 8080, type: 'NodePort', owners });
// What the API server hands back for the desired object: defaults and allocations added.
const live: V1Service = {
  ...desired,
  metadata: { ...desired.metadata, uid: 's1', resourceVersion: '7', labels: { ...desired.metadata?.labels, extra: 'kept' } },
  spec: { ...desired.spec, clusterIP: '10.0.0.1', sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', ports: [{ ...desired.spec!.ports![0]!, nodePort: 30080 }] },
};

const edit = (f: (s: V1Service) => void): V1Service => {
  const s = structuredClone(live);
  f(s);
  return s;
};

const cases: Array<{ name: string; live: V1Service; want: RegExp[] }> = [
  { name: 'defaults and allocations are not drift', live, want: [] },
  { name: 'port', live: edit((s) => { s.spec!.ports![0]!.port = 1; }), want: [/^ports/] },
  { name: 'targetPort', live: edit((s) => { s.spec!.ports![0]!.targetPort = 1; }), want: [/^ports/] },
  { name: 'extra port', live: edit((s) => { s.spec!.ports!.push({ name: 'x', port: 2 }); }), want: [/^ports/] },
  { name: 'type', live: edit((s) => { s.spec!.type = 'ClusterIP'; }), want: [/^type ClusterIP -> NodePort/] },
  { name: 'selector', live: edit((s) => { s.spec!.selector = { app: 'x' }; }), want: [/^selector/] },
  { name: 'owners', live: edit((s) => { s.metadata!.ownerReferences = []; }), want: [/^owners/] },
  { name: 'our label removed', live: edit((s) => { delete s.metadata!.labels!['module-controller.koupleless.io/biz-name']; }), want: [/^labels/] },
];

for (const c of cases) {
  test(`diffService: ${c.name}`, () => {
    const changes = diffService(c.live, desired);
    assert.equal(changes.length, c.want.length, changes.join('; '));
    c.want.forEach((re, i) => assert.match(changes[i] ?? '', re));
  });
}

test('toUpdatedService keeps foreign labels and allocations, writes ours', () => {
  const updated = toUpdatedService(edit((s) => { s.spec!.selector = { app: 'x' }; }), desired);
  assert.equal(updated.metadata?.labels?.['extra'], 'kept');
  assert.equal(updated.metadata?.resourceVersion, '7');
  assert.equal(updated.spec?.clusterIP, '10.0.0.1');
  assert.deepEqual(updated.spec?.selector, { 'module.koupleless.io/biz': 'true' });
  assert.equal(updated.spec?.ports?.[0]?.nodePort, 30080);
  assert.deepEqual(diffService(updated, desired), []);
});

test('diffService: a recreated owner of the same name is a new owner (compared by uid, shown by name)', () => {
  const recreated = edit((s) => { s.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'old-uid' }]; });
  assert.deepEqual(diffService(recreated, desired), ['owners Deployment/d -> Deployment/d']);
});
