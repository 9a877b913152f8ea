// The acceptance scenarios of design.md on the real control plane: webhook, extender, module-scheduler
// and bridge as the sandbox runs them, with base-sim bases over a real broker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { useTestBroker } from '../support/broker.ts';
import { startModuleStack, type ModuleStack } from '../../sandbox/module-stack.ts';
import { startFleet, type Fleet } from '../../base-sim/fleet.ts';
import { toNodeName } from '../../core/names.ts';

const cluster = await getTestCluster();
let broker: { url: string; close(): Promise<void> } | undefined;
let url: string;
let stack: ModuleStack;
let fleet: Fleet;
const extraFleets: Fleet[] = [];
let ns: string;
/** Every command the bases received, in order: base identity, command, module. */
const commands: Array<{ base: string; command: string; module: string }> = [];
const K = (args: string[], input?: string) => cluster.kubectl(['-n', ns, ...args], input);

before(async () => {
  broker = await useTestBroker();
  url = broker.url;
  stack = await startModuleStack({
    dir: mkdtempSync(path.join(os.tmpdir(), 'mc-e2e-')),
    binDir: cluster.state.binDir,
    kubeconfig: cluster.kubeconfig,
    mqttUrl: url,
    logLevel: 'warn',
    logTo: process.stderr,
    suffix: '-e2e',
    bridgeArgs: ['--not-ready-after', '3s', '--delete-after', '8s', '--health-poll-period', '1s', '--module-list-period', '2s', '--node-lease-renew', '2s', '--command-timeout', '5s', '--retry-backoff-base', '500ms'],
  });
  // Documentation-range IPs: the EndpointSlice API rejects loopback addresses; nothing is sent to them.
  fleet = await startFleet({ url, count: 3, name: 'base', version: '1.0.0', ipPrefix: '192.0.2', heartbeatPeriodMs: 1_000, installLatencyMs: 100, switching: true,
    onEvent: (e) => { if (e.kind === 'command' && e.bizName) commands.push({ base: e.identity, command: e.command, module: `${e.bizName}:${e.bizVersion}` }); } });
  for (const b of fleet.bases) {
    await eventually(`node of ${b.identity} Ready`, async () => {
      const n = await cluster.core.readNode({ name: toNodeName(b.identity) }).catch(() => undefined);
      return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
    });
  }
  ns = await cluster.createNamespace('e2e');
});

after(async () => {
  await fleet?.stop();
  for (const f of extraFleets) await f.stop();
  await stack?.stop();
  await broker?.close();
  for (const b of [...(fleet?.bases ?? []), ...extraFleets.flatMap((f) => f.bases)]) await cluster.core.deleteNode({ name: toNodeName(b.identity) }).catch(() => undefined);
});

function moduleDeployment(name: string, biz: string, version: string, replicas: number, extra: { baseVersion?: string; explicit?: boolean; service?: boolean } = {}): string {
  const explicit = extra.explicit
    ? `
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - { key: base.koupleless.io/stack, operator: In, values: [java] }
                  - { key: base.koupleless.io/version, operator: In, values: ["${extra.baseVersion ?? '1.0.0'}"] }
                  - { key: base.koupleless.io/name, operator: In, values: [base] }
      tolerations:
        - { key: schedule.koupleless.io/virtual-node, operator: Equal, value: "True", effect: NoExecute }`
    : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  template:
    metadata:
      labels:
        app: ${name}
        module-controller.koupleless.io/component: module
        ${extra.explicit ? '' : `base.koupleless.io/version: "${extra.baseVersion ?? '1.0.0'}"`}
      ${extra.service ? 'annotations: { module-controller.koupleless.io/service-enabled: "true", module-controller.koupleless.io/service-port: "8080" }' : ''}
    spec:
      containers:
        - name: ${biz}
          image: https://example.invalid/${biz}-${version}-ark-biz.jar
          env: [{ name: BIZ_VERSION, value: "${version}" }]${explicit}
`;
}

async function podsOf(app: string): Promise<k8s.V1Pod[]> {
  return (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
}

const isReady = (p: k8s.V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

async function waitRunning(app: string, count: number, timeoutMs = 60_000): Promise<k8s.V1Pod[]> {
  return eventually(`${count} ready pods of ${app}`, async () => {
    const pods = (await podsOf(app)).filter((p) => !p.metadata?.deletionTimestamp && isReady(p) && p.status?.phase === 'Running');
    return pods.length === count ? pods : undefined;
  }, timeoutMs);
}

function installedOn(biz: string): string[] {
  return fleet.bases.flatMap((b) => b.installed().filter((m) => m.bizName === biz).map((m) => `${b.identity}=${m.bizVersion}:${m.state}`)).sort();
}

test('1. the seed\'s Deployment with explicit affinity and tolerations runs on a matching base', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('seed', 'seedbiz', '0.0.1-SNAPSHOT', 1, { explicit: true }));
  assert.equal(r.code, 0, r.stderr);
  const [pod] = await waitRunning('seed', 1);
  assert.ok(fleet.bases.some((b) => b.info.localIP === pod!.status?.podIP));
  // The webhook merged instead of duplicating.
  assert.equal(pod!.spec?.tolerations?.filter((t) => t.key === 'schedule.koupleless.io/virtual-node').length, 1);
  assert.equal(pod!.spec?.schedulerName, 'module-scheduler');
});

test('2, 4, 5. a plain Deployment is injected, scheduled one per base, found by field selectors; a 4th replica stays Pending with our reason', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('plain', 'biz1', '0.0.1', 3));
  assert.equal(r.code, 0, r.stderr);
  const pods = await waitRunning('plain', 3);
  assert.deepEqual(new Set(pods.map((p) => p.spec?.nodeName)).size, 3, 'one replica per base');
  assert.deepEqual(installedOn('biz1'), fleet.bases.map((b) => `${b.identity}=0.0.1:ACTIVATED`).sort());
  const base = fleet.bases[0]!;
  const byIp = await K(['get', 'pod', '--field-selector', `status.podIP=${base.info.localIP}`, '-l', 'app=plain', '-o', 'name']);
  assert.equal(byIp.stdout.trim().split('\n').length, 1);
  const byNode = await K(['get', 'pod', '--field-selector', `spec.nodeName=${toNodeName(base.identity)}`, '-l', 'app=plain', '-o', 'name']);
  assert.equal(byIp.stdout, byNode.stdout);

  await K(['scale', 'deployment/plain', '--replicas=4']);
  const pending = await eventually('a Pending 4th replica with a FailedScheduling reason', async () => {
    const p = (await podsOf('plain')).find((x) => !x.spec?.nodeName);
    if (!p) return undefined;
    const d = await K(['describe', 'pod', p.metadata!.name!]);
    return /FailedScheduling/.test(d.stdout) ? d.stdout : undefined;
  });
  assert.match(pending, /already runs module biz1:0\.0\.1/);
  await K(['scale', 'deployment/plain', '--replicas=3']);
});

test('3. an invalid module fails at kubectl apply with a clear message', async () => {
  // (A bizName that is not a DNS label never reaches the webhook: the API server's own validation rejects it first.)
  const bad = moduleDeployment('bad', 'badbiz', '0.0.1', 1).replace('env: [{ name: BIZ_VERSION, value: "0.0.1" }]', 'env: []').replace('https://example.invalid/badbiz-0.0.1-ark-biz.jar', 'nginx:latest');
  const r = await K(['apply', '-f', '-'], bad);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /denied the request/);
  assert.match(r.stderr, /BIZ_VERSION is missing; set it to the module version from pom\.xml/);
  assert.match(r.stderr, /container "badbiz": image "nginx:latest" is not a jar URL/);
  const bare = await K(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: { name: badpod, labels: { module-controller.koupleless.io/component: module } }
spec:
  containers: [{ name: x, image: "https://example.invalid/x-1.0.0-ark-biz.jar", env: [{ name: BIZ_VERSION, value: "not a version" }] }]
`);
  assert.notEqual(bare.code, 0);
  assert.match(bare.stderr, /BIZ_VERSION "not a version" is not a valid version/);
});

test('6. a rolling update installs the new version before the old is uninstalled, and rollout undo restores it', async () => {
  await waitRunning('plain', 3);
  const r1 = await K(['apply', '-f', '-'], moduleDeployment('plain', 'biz1', '0.0.2', 3));
  assert.equal(r1.code, 0, r1.stderr);
  const st = await K(['rollout', 'status', 'deployment/plain', '--timeout=90s']);
  assert.equal(st.code, 0, st.stdout + st.stderr);
  await eventually('only 0.0.2 on every base', async () => {
    const got = installedOn('biz1');
    return JSON.stringify(got) === JSON.stringify(fleet.bases.map((b) => `${b.identity}=0.0.2:ACTIVATED`).sort()) ? true : undefined;
  });
  // On every base that went from 0.0.1 to 0.0.2, the new version was installed before the old one left.
  for (const b of fleet.bases) {
    const mine = commands.filter((c) => c.base === b.identity);
    const installNew = mine.findIndex((c) => c.command === 'installBiz' && c.module === 'biz1:0.0.2');
    const removeOld = mine.findIndex((c) => c.command === 'uninstallBiz' && c.module === 'biz1:0.0.1');
    assert.ok(installNew >= 0 && removeOld > installNew, `${b.identity}: ${JSON.stringify(mine.filter((c) => c.module.startsWith('biz1')))}`);
  }
  const undo = await K(['rollout', 'undo', 'deployment/plain']);
  assert.equal(undo.code, 0, undo.stderr);
  const st2 = await K(['rollout', 'status', 'deployment/plain', '--timeout=90s']);
  assert.equal(st2.code, 0, st2.stdout + st2.stderr);
  await eventually('0.0.1 back on every base', async () => {
    const got = installedOn('biz1');
    return JSON.stringify(got) === JSON.stringify(fleet.bases.map((b) => `${b.identity}=0.0.1:ACTIVATED`).sort()) ? true : undefined;
  });
});

test('10. a module Service lists the base IPs of Ready replicas in its EndpointSlice', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('svc', 'svcbiz', '1.0.0', 2, { service: true }));
  assert.equal(r.code, 0, r.stderr);
  const pods = await waitRunning('svc', 2);
  const svc = await eventually('svcbiz-service', () => cluster.core.readNamespacedService({ name: 'svcbiz-service', namespace: ns }).catch(() => undefined));
  assert.equal(svc.spec?.type, 'NodePort');
  const want = pods.map((p) => p.status!.podIP!).sort();
  await eventually('EndpointSlice with the base IPs', async () => {
    const out = await K(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=svcbiz-service', '-o', 'jsonpath={.items[*].endpoints[*].addresses[*]}']);
    const got = out.stdout.split(/\s+/).filter(Boolean).sort();
    return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
  });
});

test('7. deleting workloads uninstalls their modules from every base; bare Pod, StatefulSet and DaemonSet work too', async () => {
  const others = `apiVersion: v1
kind: Pod
metadata: { name: bare, labels: { module-controller.koupleless.io/component: module, app: bare } }
spec:
  containers: [{ name: barebiz, image: "https://example.invalid/barebiz-1.0.0-ark-biz.jar", env: [{ name: BIZ_VERSION, value: "1.0.0" }] }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: sts }
spec:
  replicas: 2
  serviceName: sts
  selector: { matchLabels: { app: sts } }
  template:
    metadata: { labels: { app: sts, module-controller.koupleless.io/component: module } }
    spec:
      containers: [{ name: stsbiz, image: "https://example.invalid/stsbiz-1.0.0-ark-biz.jar", env: [{ name: BIZ_VERSION, value: "1.0.0" }] }]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ds }
spec:
  selector: { matchLabels: { app: ds } }
  template:
    metadata: { labels: { app: ds, virtual-kubelet.koupleless.io/component: module } }
    spec:
      containers: [{ name: dsbiz, image: "https://example.invalid/dsbiz-1.0.0-ark-biz.jar", env: [{ name: BIZ_VERSION, value: "1.0.0" }] }]
`;
  const r = await K(['apply', '-f', '-'], others);
  assert.equal(r.code, 0, r.stderr);
  await waitRunning('bare', 1);
  await waitRunning('sts', 2);
  await waitRunning('ds', 3);
  assert.equal(installedOn('dsbiz').length, 3);
  for (const w of ['deployment/plain', 'deployment/seed', 'deployment/svc', 'pod/bare', 'statefulset/sts', 'daemonset/ds']) {
    const d = await K(['delete', w, '--wait=false']);
    assert.equal(d.code, 0, d.stderr);
  }
  await eventually('every module uninstalled from every base', async () => {
    const left = ['biz1', 'seedbiz', 'svcbiz', 'barebiz', 'stsbiz', 'dsbiz'].flatMap(installedOn);
    return left.length === 0 ? true : undefined;
  }, 60_000);
  await eventually('every pod gone', async () => ((await cluster.core.listNamespacedPod({ namespace: ns })).items.length === 0 ? true : undefined), 60_000);
});

test('9. a Deployment for a base version that does not exist yet stays Pending, then runs when such a base joins', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('future', 'futurebiz', '2.0.0', 1, { baseVersion: '2.0.0' }));
  assert.equal(r.code, 0, r.stderr);
  await new Promise((res) => setTimeout(res, 3000));
  const [pending] = await podsOf('future');
  assert.equal(pending?.spec?.nodeName, undefined, 'no base of version 2.0.0 yet');
  const newer = await startFleet({ url, count: 1, name: 'base', version: '2.0.0', ipPrefix: '192.0.2', firstIndex: 20, heartbeatPeriodMs: 1_000, installLatencyMs: 100 });
  extraFleets.push(newer);
  const [pod] = await waitRunning('future', 1, 90_000);
  assert.equal(pod!.status?.podIP, newer.bases[0]!.info.localIP);
  assert.deepEqual(newer.bases[0]!.installed().map((m) => `${m.bizName}:${m.bizVersion}`), ['futurebiz:2.0.0']);
});

test('8. a base that stops goes NotReady with a reason, its modules move to another base, and it is Ready again when back', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('move', 'movebiz', '1.0.0', 1));
  assert.equal(r.code, 0, r.stderr);
  const [pod] = await waitRunning('move', 1);
  const lost = fleet.bases.find((b) => toNodeName(b.identity) === pod!.spec?.nodeName)!;
  await lost.silence();
  const cond = await eventually('NotReady with a reason', async () => {
    const n = await cluster.core.readNode({ name: toNodeName(lost.identity) }).catch(() => undefined);
    const c = n?.status?.conditions?.find((x) => x.type === 'Ready');
    return c?.status === 'False' ? c : undefined;
  }, 20_000);
  assert.equal(cond.reason, 'BaseUnreachable');
  // The node is deleted after --delete-after; Kubernetes' pod GC removes its pods and the ReplicaSet
  // places a replacement on a live base.
  const moved = await eventually('the module running on another base', async () => {
    const pods = (await podsOf('move')).filter((p) => isReady(p) && p.spec?.nodeName !== toNodeName(lost.identity));
    return pods[0];
  }, 150_000, 1000);
  assert.notEqual(moved.status?.podIP, lost.info.localIP);
  await lost.resume();
  await eventually('the base is a Ready node again', async () => {
    const n = await cluster.core.readNode({ name: toNodeName(lost.identity) }).catch(() => undefined);
    return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
  }, 30_000);
});
