// The extender with the real module-scheduler (kube-scheduler + extender/module-scheduler-config.yaml)
// on the real control plane: replicas scatter one per matching base, the one too many stays Pending
// with our reason in its FailedScheduling event, and a base of another version is never chosen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { getTestCluster, eventually, type TestCluster } from '../support/cluster.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import {
  BASE_NAME_LABEL,
  BASE_STACK_LABEL,
  BASE_VERSION_LABEL,
  BIZ_VERSION_ENV,
  DEFAULTS,
  MODULE_COMPONENT_LABEL,
  MODULE_COMPONENT_VALUE,
  VNODE_TAINT,
} from '../../core/names.ts';
import { startExtenderServer, type ExtenderServer } from '../../extender/server.ts';
import { renderSchedulerConfigTemplate, SCHEDULER_LEASE_NAME } from '../../extender/scheduler-config.ts';
import { createVirtualNodes, type VirtualNodes } from '../extender/virtual-nodes.ts';

const suffix = Math.random().toString(36).slice(2, 7);
const baseName = `ext-base-${suffix}`;
const matching = [1, 2, 3].map((i) => `virtual-node-ext-${suffix}-${i}`);
const mismatching = `virtual-node-ext-${suffix}-old`;

let cluster: TestCluster;
let ns: string;
let extender: ExtenderServer;
let scheduler: { stop(): void; logFile: string };
let nodes: VirtualNodes;
const registry = createRegistry(false);

before(async () => {
  cluster = await getTestCluster();
  ns = await cluster.createNamespace('extender');
  nodes = await createVirtualNodes(cluster.kc, [
    ...matching.map((name) => ({ name, baseName, baseVersion: '1.0.0' })),
    { name: mismatching, baseName, baseVersion: '0.9.0' },
  ]);
  extender = await startExtenderServer({
    kc: cluster.kc,
    logger: createSilentLogger(),
    registry,
    port: 0,
    host: '127.0.0.1',
    maxModulesPerBase: DEFAULTS.maxModulesPerBase,
    placementTtlMs: 30_000,
    maxBodyBytes: 64 * 1024 * 1024,
  });
  await eventually('the extender informers to sync', async () => (extender.snapshot.notReadyReason() ? undefined : true));
  const config = renderSchedulerConfigTemplate({ extenderUrl: `http://127.0.0.1:${extender.port}`, kubeconfig: 'KUBECONFIG_PATH' });
  scheduler = await cluster.startScheduler('module-scheduler', config);
});

after(async () => {
  scheduler?.stop();
  await cluster?.apps.deleteNamespacedDeployment({ name: 'demo', namespace: ns }).catch(() => undefined);
  await nodes?.delete();
  await extender?.close();
});

function toDeployment(replicas: number): k8s.V1Deployment {
  // What the webhook would inject, written by hand: the webhook is not part of this test.
  return {
    metadata: { name: 'demo' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'demo' } },
      template: {
        metadata: { labels: { app: 'demo', [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE } },
        spec: {
          schedulerName: DEFAULTS.schedulerName,
          tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: BASE_STACK_LABEL, operator: 'In', values: ['java'] },
                      { key: BASE_NAME_LABEL, operator: 'In', values: [baseName] },
                      { key: BASE_VERSION_LABEL, operator: 'In', values: ['1.0.0'] },
                    ],
                  },
                ],
              },
            },
          },
          containers: [{ name: 'demo', image: 'https://repo.example.com/demo-1.0.0-ark-biz.jar', env: [{ name: BIZ_VERSION_ENV, value: '1.0.0' }] }],
        },
      },
    },
  };
}

async function listPods(): Promise<k8s.V1Pod[]> {
  return (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=demo' })).items.filter((p) => !p.metadata?.deletionTimestamp);
}

test('module-scheduler holds its own leader-election Lease', async () => {
  const lease = await eventually(
    'the module-scheduler Lease',
    async () => {
      const l = await cluster.kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: SCHEDULER_LEASE_NAME, namespace: 'kube-system' });
      return l.spec?.holderIdentity ? l : undefined;
    },
    60_000,
    500,
  );
  assert.ok(lease.spec?.holderIdentity);
});

test('3 replicas land one per matching base, never on the other base version', async () => {
  await cluster.apps.createNamespacedDeployment({ namespace: ns, body: toDeployment(3) });
  const pods = await eventually(
    '3 bound replicas',
    async () => {
      const list = await listPods();
      return list.length === 3 && list.every((p) => p.spec?.nodeName) ? list : undefined;
    },
    60_000,
    500,
  );
  const placed = pods.map((p) => p.spec!.nodeName!).sort();
  assert.deepEqual(placed, [...matching].sort(), `one per matching base: ${placed.join(', ')}`);
  const onOld = await cluster.core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${mismatching}` });
  assert.equal(onOld.items.length, 0);
});

test('a 4th replica of the same version stays Pending and kubectl describe shows our reason', async (t) => {
  await cluster.apps.patchNamespacedDeploymentScale({ name: 'demo', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: 4 }] });
  const pending = await eventually('the 4th replica', async () => (await listPods()).find((p) => !p.spec?.nodeName), 30_000, 500);
  const described = await eventually(
    'a FailedScheduling event with the extender reason',
    async () => {
      const r = await cluster.kubectl(['describe', 'pod', '-n', ns, pending.metadata!.name!]);
      return /FailedScheduling/.test(r.stdout) && /base already runs module demo:1\.0\.0/.test(r.stdout) ? r.stdout : undefined;
    },
    45_000,
    1_000,
  );
  t.diagnostic(described.split('\n').find((l) => l.includes('FailedScheduling'))?.trim() ?? '');
  assert.match(described, /3 base already runs module demo:1\.0\.0/);
  assert.match(described, /1 node\(s\) didn't match Pod's node affinity\/selector/);
  // Still unbound a moment later, and nothing ever went to the other base version.
  const again = await cluster.core.readNamespacedPod({ name: pending.metadata!.name!, namespace: ns });
  assert.equal(again.spec?.nodeName, undefined);
  const onOld = await cluster.core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${mismatching}` });
  assert.equal(onOld.items.length, 0);
  const metrics = await registry.metrics();
  assert.match(metrics, /module_controller_extender_node_decisions_total\{reason="already-running"\} [1-9]/);
});
