import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { matchLabelSelector, planBaseLinks, toMatchingBases } from '../../moduledeployment/plan-base-links.ts';

const node = (name: string, ip: string, labels: Record<string, string> = {}, ready = true): V1Node => ({
  metadata: { name, labels: { 'virtual-kubelet.koupleless.io/component': 'vnode', ...labels } },
  status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pod = (name: string, ns: string, ip: string | undefined, labels: Record<string, string>, extra: Partial<V1Pod['metadata']> = {}): V1Pod => ({ metadata: { name, namespace: ns, labels, ...extra }, status: ip ? { podIP: ip } : {} });
const dep = (name: string, ns: string, matchLabels: Record<string, string>): V1Deployment => ({ metadata: { name, namespace: ns }, spec: { selector: { matchLabels }, template: {} } });

test('matchLabelSelector: matchLabels and matchExpressions; an empty selector selects nothing', () => {
  assert.equal(matchLabelSelector({ matchLabels: { app: 'a' } }, { app: 'a', x: 'y' }), true);
  assert.equal(matchLabelSelector({ matchLabels: { app: 'a' } }, { app: 'b' }), false);
  assert.equal(matchLabelSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['base'] }] }, { tier: 'base' }), true);
  assert.equal(matchLabelSelector({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, { tier: 'base' }), false);
  assert.equal(matchLabelSelector({}, { app: 'a' }), false);
});

test('planBaseLinks: nodes whose InternalIP is a base pod\'s IP get the link label; stale links are removed', () => {
  const nodes = [
    node('virtual-node-a', '192.0.2.1'),
    node('virtual-node-b', '192.0.2.2', { 'module-controller.koupleless.io/base-deployment': 'old' }),
    node('virtual-node-c', '192.0.2.3', { 'module-controller.koupleless.io/base-deployment': 'stock' }),
    { metadata: { name: 'real-node', labels: {} }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.1' }] } },
  ];
  const pods = [
    pod('s1', 'ns', '192.0.2.1', { app: 'stock' }),
    pod('s2', 'ns', '192.0.2.3', { app: 'stock' }),
    pod('other-ns', 'ns2', '192.0.2.2', { app: 'stock' }),
    pod('gone', 'ns', '192.0.2.2', { app: 'stock' }, { deletionTimestamp: new Date() }),
    pod('pending', 'ns', undefined, { app: 'stock' }),
  ];
  const { desired, patches } = planBaseLinks([dep('stock', 'ns', { app: 'stock' })], pods, nodes);
  assert.deepEqual([...desired], [['virtual-node-a', 'stock'], ['virtual-node-c', 'stock']]);
  assert.deepEqual(patches.map((p) => [p.node, p.value]), [['virtual-node-a', 'stock'], ['virtual-node-b', null]]);
});

test('toMatchingBases: linked nodes OR base.koupleless.io/name; NotReady and cordoned bases are not Ready', () => {
  const cordoned = node('virtual-node-d', '192.0.2.4', { 'base.koupleless.io/name': 'stock' });
  cordoned.spec = { unschedulable: true };
  const nodes = [node('virtual-node-a', '192.0.2.1'), node('virtual-node-b', '192.0.2.2', { 'base.koupleless.io/name': 'stock' }), node('virtual-node-c', '192.0.2.3', { 'base.koupleless.io/name': 'stock' }, false), cordoned, node('virtual-node-e', '192.0.2.5', { 'base.koupleless.io/name': 'other' })];
  const got = toMatchingBases('stock', nodes, new Map([['virtual-node-a', 'stock']]));
  assert.deepEqual(got, [{ name: 'virtual-node-a', ready: true }, { name: 'virtual-node-b', ready: true }, { name: 'virtual-node-c', ready: false }, { name: 'virtual-node-d', ready: false }]);
});
