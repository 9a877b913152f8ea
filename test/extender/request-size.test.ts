// The extender's body limit, sized from the largest real request at 10,000 virtual nodes: the
// ExtenderArgs the scheduler sends in names mode (the shipped nodeCacheCapable: true) and with
// full Node objects (nodeCacheCapable: false), each node as the bridge writes it and as the
// scheduler's node informer holds it (managedFields included: kube-scheduler trims them from pods,
// not nodes). docs/extender.md "Request size" quotes these numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Node } from '@kubernetes/client-node';
import { DEFAULT_MAX_REQUEST_MB, EXTENDER_FLAGS } from '../../extender/command.ts';
import { toNodeLabels, toNodeStatus } from '../../bridge/plan-node.ts';
import { toPod } from './fixtures.ts';

const NODES = 10_000;
const MiB = 1024 * 1024;
const settings = { env: 'default', stack: 'java', maxModulesPerBase: 100, nodeCpu: '100', nodeMemory: '16Gi' } as never;

/** Base identities are UUIDs in production pipelines (the longest usual form). */
const identity = (i: number) => `2ce92dca-032e-4956-bc91-${String(i).padStart(12, '0')}`;

function toVirtualNode(i: number): V1Node {
  const id = identity(i);
  const base = { identity: id, nodeName: `virtual-node-${id}`, localIP: '192.0.2.10', hostName: `koupleless-sample-base-7d9f8c6b5-${String(i).padStart(5, '0')}`, metadata: { identity: id, name: 'koupleless-sample-base', version: '1.0.0', clusterName: 'koupleless-sample-base' } } as never;
  const labels = toNodeLabels(base, settings);
  const status = toNodeStatus(base, { kind: 'ready', message: 'base heartbeat received 2s ago' } as never, undefined, settings, new Date('2026-01-01T00:00:00Z'));
  // What the API server adds: uid, resourceVersion, creationTimestamp, the TTL controller's
  // annotation and one managedFields entry per writer (the bridge's create and its status writes).
  const fields = (keys: string[]) => Object.fromEntries(keys.map((k) => [`f:${k}`, {}]));
  const managedFields = [
    { manager: 'module-controller', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': fields(['base.koupleless.io/identity']), 'f:labels': fields(Object.keys(labels)) }, 'f:spec': { 'f:taints': {} } } },
    { manager: 'module-controller', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:addresses': { 'k:{"type":"Hostname"}': fields(['address', 'type']), 'k:{"type":"InternalIP"}': fields(['address', 'type']) }, 'f:allocatable': fields(['cpu', 'memory', 'pods']), 'f:capacity': fields(['cpu', 'memory', 'pods']), 'f:conditions': { 'k:{"type":"Ready"}': fields(['lastHeartbeatTime', 'lastTransitionTime', 'message', 'reason', 'status', 'type']) }, 'f:daemonEndpoints': { 'f:kubeletEndpoint': fields(['Port']) }, 'f:nodeInfo': fields(['architecture', 'bootID', 'containerRuntimeVersion', 'kernelVersion', 'kubeProxyVersion', 'kubeletVersion', 'machineID', 'operatingSystem', 'osImage', 'systemUUID']) } } },
    { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': fields(['node.alpha.kubernetes.io/ttl']) } } },
  ];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `virtual-node-${id}`, uid: `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`, resourceVersion: '123456789', creationTimestamp: new Date('2026-01-01T00:00:00Z'), labels, annotations: { 'base.koupleless.io/identity': id, 'node.alpha.kubernetes.io/ttl': '0' }, managedFields },
    spec: { taints: [{ key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' }] },
    status,
  } as unknown as V1Node;
}

test('the default limit holds a names-mode request at 10,000 nodes with room; full Node lists need the flag raised', (t) => {
  const pod = toPod();
  const nodes = Array.from({ length: NODES }, (_, i) => toVirtualNode(i));
  const names = Buffer.byteLength(JSON.stringify({ Pod: pod, Nodes: null, NodeNames: nodes.map((n) => n.metadata!.name) }));
  const full = Buffer.byteLength(JSON.stringify({ Pod: pod, Nodes: { metadata: {}, items: nodes }, NodeNames: null }));
  t.diagnostic(`10,000 nodes: names mode ${(names / MiB).toFixed(2)} MiB, full Nodes ${(full / MiB).toFixed(1)} MiB (${Math.round(full / NODES)} bytes per node)`);
  const limit = DEFAULT_MAX_REQUEST_MB * MiB;
  assert.equal(EXTENDER_FLAGS.maxRequestMb.default, DEFAULT_MAX_REQUEST_MB);
  // The largest pod the API server stores is 1.5 MiB: names at 10,000 nodes plus such a pod still fit.
  assert.ok(names + 1.5 * MiB < limit, `names mode ${names} bytes + a 1.5 MiB pod must fit ${limit}`);
  assert.ok(names < 1 * MiB, 'names mode stays well under 1 MiB at 10,000 nodes');
  // Full Node objects do not fit the default: the docs say to raise it by ~4 MiB per 1,000 nodes.
  assert.ok(full > limit);
  assert.ok(full / NODES < (4 * MiB) / 1000, `${full / NODES} bytes per node: the documented 4 MiB per 1,000 nodes must hold`);
});
