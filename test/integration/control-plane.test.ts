// Smoke test: the local control plane is real. A Deployment becomes a ReplicaSet and a Pod through
// kube-controller-manager, and kube-scheduler binds the Pod to a Node we register.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { getTestCluster, eventually } from '../support/cluster.ts';

const cluster = await getTestCluster();
const nodeName = `smoke-node-${Math.random().toString(36).slice(2, 7)}`;
after(async () => {
  await cluster.core.deleteNode({ name: nodeName }).catch(() => undefined);
});

test('a Deployment is turned into a ReplicaSet and a Pod, and the Pod is bound to a Node', async () => {
  const ns = await cluster.createNamespace('smoke');
  await cluster.core.createNode({
    body: {
      metadata: { name: nodeName, labels: { 'smoke-test': 'true' } },
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'smoke test', lastHeartbeatTime: new Date(), lastTransitionTime: new Date() }],
      },
    },
  });
  // The status sub-resource is ignored on create; write it explicitly like a kubelet would (JSON patch).
  await cluster.core.patchNodeStatus({
    name: nodeName,
    body: [{ op: 'replace', path: '/status/conditions', value: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'smoke test', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }] }, { op: 'replace', path: '/status/allocatable', value: { cpu: '4', memory: '8Gi', pods: '110' } }, { op: 'replace', path: '/status/capacity', value: { cpu: '4', memory: '8Gi', pods: '110' } }],
  });
  await cluster.apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'smoke' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'smoke' } },
        template: {
          metadata: { labels: { app: 'smoke' } },
          spec: { nodeSelector: { 'smoke-test': 'true' }, containers: [{ name: 'c', image: 'example.invalid/smoke:1' }] },
        },
      },
    },
  });
  const rs = await eventually('a ReplicaSet from kube-controller-manager', async () => {
    const list = await cluster.apps.listNamespacedReplicaSet({ namespace: ns });
    return list.items[0];
  });
  assert.equal(rs.metadata?.ownerReferences?.[0]?.kind, 'Deployment');
  const pod = await eventually('the Pod bound by kube-scheduler', async () => {
    const list = await cluster.core.listNamespacedPod({ namespace: ns });
    const p = list.items[0];
    return p?.spec?.nodeName ? p : undefined;
  });
  assert.equal(pod.spec?.nodeName, nodeName);
  assert.equal(pod.metadata?.ownerReferences?.[0]?.name, rs.metadata?.name);
  const nodes = await cluster.kubectl(['get', 'nodes,pods', '-A']);
  assert.equal(nodes.code, 0, nodes.stderr);
  assert.match(nodes.stdout, new RegExp(nodeName));
});
