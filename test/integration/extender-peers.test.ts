// Two extender replicas behind one Service share their assumed placements (extender/peer-push.ts):
// they find each other through the Service's EndpointSlices on the real control plane, and
// back-to-back replicas of one module whose calls land on alternating extenders still spread —
// called directly, and by the real kube-scheduler through a proxy that sends each pod's calls to
// the other extender than the previous pod's. A stopped peer costs no stall: the answer still
// comes, the failure is counted and the peer is marked down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { getTestCluster, eventually, type TestCluster } from '../support/cluster.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { BASE_NAME_LABEL, BASE_STACK_LABEL, BASE_VERSION_LABEL, BIZ_VERSION_ENV, DEFAULTS, MODULE_COMPONENT_LABEL, MODULE_COMPONENT_VALUE, VNODE_TAINT } from '../../core/names.ts';
import { startExtenderServer, type ExtenderServer } from '../../extender/server.ts';
import { toSchedulerConfig } from '../../extender/scheduler-config.ts';
import { SERVICE_NAME_LABEL } from '../../extender/peer-watch.ts';
import { createVirtualNodes, type VirtualNodes } from '../extender/virtual-nodes.ts';
import { toPod } from '../extender/fixtures.ts';

const suffix = Math.random().toString(36).slice(2, 7);
const baseName = `peer-base-${suffix}`;
const BASES = 5;
const bases = Array.from({ length: BASES }, (_, i) => `virtual-node-peer-${suffix}-${i}`);
const service = `extender-${suffix}`;
const schedulerName = `peer-scheduler-${suffix}`;

let cluster: TestCluster;
let ns = '';
let nodes: VirtualNodes | undefined;
const replicas: Array<{ server: ExtenderServer; registry: ReturnType<typeof createRegistry>; pod: string; address: string }> = [];
// EndpointSlices refuse loopback addresses: the slices carry documentation addresses (never
// contacted), and each extender's pushes dial the loopback port of the replica behind one.
const ADDRESSES = ['192.0.2.10', '192.0.2.11'];
const ports: number[] = [];
const dial = (e: { address: string }) => ({ host: '127.0.0.1', port: ports[ADDRESSES.indexOf(e.address)]! });
let proxy: http.Server | undefined;
let scheduler: { stop(): void; logFile: string } | undefined;

before(async () => {
  cluster = await getTestCluster();
  ns = await cluster.createNamespace('mc-ext-peers');
  nodes = await createVirtualNodes(cluster.kc, bases.map((name) => ({ name, baseName, baseVersion: '1.0.0' })));
  for (const [i, pod] of ['ext-a', 'ext-b'].entries()) {
    const registry = createRegistry(false);
    const server = await startExtenderServer({
      kc: cluster.kc,
      logger: createSilentLogger(),
      registry,
      port: 0,
      host: '127.0.0.1',
      maxModulesPerBase: DEFAULTS.maxModulesPerBase,
      placementTtlMs: 30_000,
      maxBodyBytes: 4 * 1024 * 1024,
      peers: { namespace: ns, service, podName: pod, timeoutMs: 200, dial },
    });
    replicas.push({ server, registry, pod, address: ADDRESSES[i]! });
    ports.push(server.port);
  }
  // The Service and its EndpointSlices as the EndpointSlice controller would write them for two
  // extender pods (one slice each: their ports differ here).
  await cluster.core.createNamespacedService({ namespace: ns, body: { metadata: { name: service }, spec: { ports: [{ name: 'http', port: 8080 }] } } });
  const discovery = cluster.kc.makeApiClient(k8s.DiscoveryV1Api);
  for (const r of replicas) {
    await discovery.createNamespacedEndpointSlice({
      namespace: ns,
      body: {
        metadata: { name: `${service}-${r.pod}`, labels: { [SERVICE_NAME_LABEL]: service } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: r.server.port, protocol: 'TCP' }],
        endpoints: [{ addresses: [r.address], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', name: r.pod, namespace: ns } }],
      },
    });
  }
  await eventually('both extenders synced and each knowing the other', async () =>
    replicas.every((r, i) => !r.server.snapshot.notReadyReason() && r.server.peers().length === 1 && r.server.peers()[0]!.key === `${replicas[1 - i]!.address}:${replicas[1 - i]!.server.port}`) ? true : undefined);
});

after(async () => {
  scheduler?.stop();
  proxy?.close();
  await cluster?.apps.deleteNamespacedDeployment({ name: 'spread', namespace: ns }).catch(() => undefined);
  await nodes?.delete();
  for (const r of replicas) await r.server.close();
});

async function post(port: number, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

test('back-to-back replicas on alternating extenders: each is ranked first on another base, and both extenders remember all of them', async () => {
  const winners: string[] = [];
  for (let i = 0; i < BASES; i++) {
    const pod = toPod({ uid: `direct-${suffix}-${i}`, name: `direct-${i}`, modules: [{ bizName: `direct-${suffix}`, bizVersion: '1.0.0' }], baseName });
    const port = replicas[i % 2]!.server.port;
    const filtered = await post(port, '/filter', { Pod: pod, Nodes: null, NodeNames: bases });
    const feasible = (filtered.json as { NodeNames: string[] }).NodeNames;
    const scored = await post(port, '/prioritize', { Pod: pod, Nodes: null, NodeNames: feasible });
    if (!Array.isArray(scored.json)) assert.fail(JSON.stringify(scored.json));
    winners.push((scored.json as Array<{ Host: string; Score: number }>).find((h) => h.Score === 10)!.Host);
  }
  assert.deepEqual([...winners].sort(), [...bases].sort(), `one replica per base: ${winners.join(', ')}`);
  for (const r of replicas) assert.equal(r.server.snapshot.assumedCount, BASES, `${r.pod} remembers every assumption`);
  const metrics = await replicas[0]!.registry.metrics();
  assert.match(metrics, /module_controller_extender_peer_pushes_total\{outcome="ok"\} [1-9]/);
});

test('the real kube-scheduler, each pod\'s calls on the other extender than the previous pod\'s: a Deployment spreads one per base', async () => {
  // Per pod, not per request: a filter and the prioritize after it go to one extender, the next
  // pod's to the other (per request, every prioritize would land on the same extender).
  let filters = 0;
  let current = 0;
  proxy = http.createServer((req, res) => {
    if (req.url?.startsWith('/filter')) current = filters++ % 2;
    const upstream = http.request({ host: '127.0.0.1', port: replicas[current]!.server.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  const config = toSchedulerConfig({ extenderUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, kubeconfig: 'KUBECONFIG_PATH', schedulerName, leaderElect: false });
  scheduler = await cluster.startScheduler(schedulerName, stringify(config));
  await cluster.apps.createNamespacedDeployment({ namespace: ns, body: toDeployment(BASES) });
  const pods = await eventually('every replica bound', async () => {
    const list = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=spread' })).items;
    return list.length === BASES && list.every((p) => p.spec?.nodeName) ? list : undefined;
  }, 60_000, 500);
  const placed = pods.map((p) => p.spec!.nodeName!).sort();
  assert.deepEqual(placed, [...bases].sort(), `one replica per base: ${placed.join(', ')}`);
  assert.ok(filters >= BASES, `the scheduler called through the proxy (${filters} filters)`);
});

test('a stopped peer: the answer still comes, the failure is counted and the peer is marked down', async () => {
  const [a, b] = replicas;
  await b!.server.close();
  replicas.pop();
  const pod = toPod({ uid: `down-${suffix}`, name: 'down', modules: [{ bizName: `down-${suffix}`, bizVersion: '1.0.0' }], baseName });
  for (let i = 0; i < 3; i++) {
    const scored = await post(a!.server.port, '/prioritize', { Pod: pod, Nodes: null, NodeNames: bases });
    assert.equal(scored.status, 200, JSON.stringify(scored.json));
  }
  assert.deepEqual(a!.server.peers().map((p) => p.up), [false]);
  const metrics = await a!.registry.metrics();
  assert.match(metrics, /module_controller_extender_peer_pushes_total\{outcome="(error|timeout)"\} [1-9]/);
  assert.match(metrics, /module_controller_extender_peers\{state="down"\} 1/);
});

function toDeployment(count: number): k8s.V1Deployment {
  return {
    metadata: { name: 'spread' },
    spec: {
      replicas: count,
      selector: { matchLabels: { app: 'spread' } },
      template: {
        metadata: { labels: { app: 'spread', [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE } },
        spec: {
          schedulerName,
          tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [
                  { key: BASE_STACK_LABEL, operator: 'In', values: ['java'] },
                  { key: BASE_NAME_LABEL, operator: 'In', values: [baseName] },
                  { key: BASE_VERSION_LABEL, operator: 'In', values: ['1.0.0'] },
                ] }],
              },
            },
          },
          containers: [{ name: 'spread', image: 'https://repo.example.com/spread-1.0.0-ark-biz.jar', env: [{ name: BIZ_VERSION_ENV, value: '1.0.0' }] }],
        },
      },
    },
  };
}
