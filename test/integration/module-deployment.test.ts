// ModuleDeployment on the real control plane: the CRDs, the controller, webhook, extender,
// module-scheduler and bridge as the sandbox runs them, base-sim bases over a real broker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { useTestBroker } from '../support/broker.ts';
import { startModuleStack, type ModuleStack } from '../../sandbox/module-stack.ts';
import { startFleet, type Fleet } from '../../base-sim/fleet.ts';
import { BASE_DEPLOYMENT_LABEL, toNodeName } from '../../core/names.ts';

const cluster = await getTestCluster();
const custom = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
let broker: { url: string; close(): Promise<void> } | undefined;
let stack: ModuleStack;
let fleet: Fleet;
const extra: Fleet[] = [];
let ns: string;
/** installBiz/uninstallBiz per module as the bases received them, in order. */
const commands: Array<{ base: string; command: string; biz: string; version: string }> = [];
const K = (args: string[], input?: string) => cluster.kubectl(['-n', ns, ...args], input);
const BASE = 'dynamic-stock-deployment';

before(async () => {
  broker = await useTestBroker();
  stack = await startModuleStack({
    dir: mkdtempSync(path.join(os.tmpdir(), 'mc-md-')), binDir: cluster.state.binDir, kubeconfig: cluster.kubeconfig, mqttUrl: broker.url,
    logLevel: 'warn', logTo: process.stderr, suffix: '-md',
    bridgeArgs: ['--not-ready-after', '3s', '--delete-after', '60s', '--health-poll-period', '1s', '--module-list-period', '2s', '--node-lease-renew', '2s', '--command-timeout', '5s', '--retry-backoff-base', '500ms'],
    moduleDeploymentArgs: ['--resync', '5s'],
  });
  const onEvent = (e: { kind: string; identity: string; command?: string; bizName?: string; bizVersion?: string }) => {
    if (e.kind === 'command' && e.bizName) commands.push({ base: e.identity, command: e.command ?? '', biz: e.bizName, version: e.bizVersion ?? '' });
  };
  // Bases at arklet's defaults (no module switching): a second version installed next to an
  // ACTIVATED one stays DEACTIVATED, so releases rely on the bridge's uninstallThenInstall hand-off.
  fleet = await startFleet({ url: broker.url, count: 8, name: BASE, version: '1.0.0', ipPrefix: '192.0.2', firstIndex: 60, heartbeatPeriodMs: 1_000, installLatencyMs: 50, onEvent: onEvent as never });
  await waitNodesReady(fleet);
  ns = await cluster.createNamespace('md');
});

after(async () => {
  for (const f of [fleet, ...extra]) await f?.stop();
  await stack?.stop();
  await broker?.close();
  for (const b of [...(fleet?.bases ?? []), ...extra.flatMap((f) => f.bases)]) await cluster.core.deleteNode({ name: toNodeName(b.identity) }).catch(() => undefined);
});

async function waitNodesReady(f: Fleet): Promise<void> {
  for (const b of f.bases) {
    await eventually(`node of ${b.identity} Ready`, async () => {
      const n = await cluster.core.readNode({ name: toNodeName(b.identity) }).catch(() => undefined);
      return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
    });
  }
}

interface Md { spec: Record<string, unknown>; status?: { ready?: string; replicas?: number; readyReplicas?: number; updatedReplicas?: number; releaseStatus?: { progress?: string; currentBatch?: number; realBatchCount?: number }; conditions?: Array<{ type: string; status: string }> } }

async function readMd(name: string, group = 'koupleless.io'): Promise<Md> {
  return (await custom.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace: ns, plural: 'moduledeployments', name })) as Md;
}

function md(name: string, biz: string, version: string, replicas: number, strategy = '{}', extraSpec = ''): string {
  return `apiVersion: koupleless.io/v1alpha1
kind: ModuleDeployment
metadata: { name: ${name} }
spec:
  baseDeploymentName: ${BASE}
  replicas: ${replicas}
  template: { spec: { module: { name: ${biz}, version: "${version}", url: "https://example.invalid/${biz}-${version}-ark-biz.jar" } } }
  operationStrategy: ${strategy}
${extraSpec}`;
}

/** `version → ACTIVATED count` of a module over every base. */
function activeVersions(biz: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of [fleet, ...extra].flatMap((f) => f.bases)) for (const m of b.installed()) if (m.bizName === biz && m.state === 'ACTIVATED') out[m.bizVersion] = (out[m.bizVersion] ?? 0) + 1;
  return out;
}

async function waitProgress(name: string, progress: string, batch?: number, timeoutMs = 60_000): Promise<Md> {
  return eventually(`${name} ${progress}${batch ? ` at batch ${batch}` : ''}`, async () => {
    const m = await readMd(name);
    const r = m.status?.releaseStatus;
    return r?.progress === progress && (batch === undefined || r.currentBatch === batch) ? m : undefined;
  }, timeoutMs);
}

function sorted(o: Record<string, number>): string {
  return JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

async function waitActive(biz: string, want: Record<string, number>, timeoutMs = 60_000): Promise<void> {
  try {
    await eventually(`${biz} active ${JSON.stringify(want)}`, async () => (sorted(activeVersions(biz)) === sorted(want) ? true : undefined), timeoutMs);
  } catch (err) {
    const onBases = [fleet, ...extra].flatMap((f) => f.bases).flatMap((b) => b.installed().filter((m) => m.bizName === biz).map((m) => `${b.info.localIP}=${m.bizVersion}:${m.state}`));
    throw new Error(`${(err as Error).message}; on the bases: ${onBases.join(' ')}`, { cause: err });
  }
}

/** What a release must not leave behind at arklet's defaults: a non-ACTIVATED module, or a base holding two versions. */
function leftovers(biz: string): string[] {
  const out: string[] = [];
  for (const b of [fleet, ...extra].flatMap((f) => f.bases)) {
    const mine = b.installed().filter((m) => m.bizName === biz);
    for (const m of mine) if (m.state !== 'ACTIVATED') out.push(`${b.info.localIP}=${m.bizVersion}:${m.state}`);
    if (mine.length > 1) out.push(`${b.info.localIP} holds ${mine.map((m) => m.bizVersion).join('+')}`);
  }
  return out;
}

test('invalid specs are denied at kubectl apply with the webhook\'s messages', async () => {
  const bad = (module: string, more = '') => `apiVersion: koupleless.io/v1alpha1
kind: ModuleDeployment
metadata: { name: bad }
spec:
  baseDeploymentName: ${BASE}
  template: { spec: { module: ${module} } }
${more}`;
  const cases: Array<[string, RegExp]> = [
    [bad('{ name: Bad_Name, version: "1.0.0", url: "https://x.invalid/a.jar" }'), /name "Bad_Name" is not a valid bizName; use lower-case letters/],
    [bad('{ name: a, url: "https://x.invalid/a.jar" }'), /module\.version is missing; set it to the module version from pom\.xml/],
    [bad('{ name: a, version: "not a version", url: "https://x.invalid/a.jar" }'), /version "not a version" is not a valid version/],
    [bad('{ name: a, version: "1.0.0", url: "nginx:latest" }'), /url "nginx:latest" is not a jar URL; set it to the module jar URL/],
    [bad('{ name: a, version: "1.0.0", url: "https://x.invalid/a.jar" }', '  operationStrategy: { batchCount: 0 }'), /batchCount must be at least 1/],
    [bad('{ name: a, version: "1.0.0", url: "https://x.invalid/a.jar" }', '  operationStrategy: { upgradePolicy: rolling }'), /Unsupported value: "rolling": supported values: "install_then_uninstall"/],
    [bad('{ name: a, version: "1.0.0", url: "https://x.invalid/a.jar" }', '  schedulingStrategy: { schedulingPolicy: random }'), /supported values: "scatter", "stacking"/],
    [bad('{ name: a, version: "1.0.0", url: "https://x.invalid/a.jar" }', '  confirmBatchNum: -1'), /confirmBatchNum must be 0 or more/],
    // -1 is v1's peer mode, which the webhook rewrites (test/integration/module-deployment-peer.test.ts).
    [bad('{ name: a, version: "1.0.0", url: "https://x.invalid/a.jar" }', '  replicas: -2'), /replicas must be 0 or more, or -1 for one replica per matching Ready base/],
    [bad('{ name: a, version: "1.0.0", url: "https://x.invalid/a.jar" }').replace(`baseDeploymentName: ${BASE}`, 'baseDeploymentName: ""'), /baseDeploymentName is missing/],
  ];
  const sample = await K(['apply', '--dry-run=server', '-f', 'samples/module-deployment-v1-batched.yaml']);
  assert.equal(sample.code, 0, sample.stderr);
  for (const [manifest, want] of cases) {
    const r = await K(['apply', '-f', '-'], manifest);
    assert.notEqual(r.code, 0, manifest);
    assert.match(r.stderr, want);
  }
});

test('the seed page\'s manifest, applied verbatim, runs the module on a base with the Service in the seed\'s shape; delete removes both', async () => {
  // samples/module-deployment-v1.yaml is the seed page's manifest, verbatim.
  const seed = readFileSync(new URL('../../samples/module-deployment-v1.yaml', import.meta.url), 'utf8');
  assert.match(seed, /kind: ModuleDeployment/);
  const r = await K(['apply', '-f', '-'], seed);
  assert.equal(r.code, 0, r.stderr);
  const group = 'koupleless.alipay.com';
  await eventually('provider Running', async () => {
    const m = await readMd('moduledeployment-sample-provider', group);
    return m.status?.readyReplicas === 1 && m.status.releaseStatus?.progress === 'Completed' ? m : undefined;
  });
  await waitActive('provider', { '1.0.2': 1 });
  const pods = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'module.koupleless.io/provider=true' })).items;
  assert.equal(pods.length, 1);
  assert.ok(fleet.bases.some((b) => b.info.localIP === pods[0]!.status?.podIP));
  const svc = await eventually('provider-service', () => cluster.core.readNamespacedService({ name: 'provider-service', namespace: ns }).catch(() => undefined));
  assert.equal(svc.spec?.type, 'NodePort');
  assert.deepEqual(svc.spec?.ports?.map((p) => [p.name, p.port, p.targetPort, p.protocol]), [['http', 8080, 8080, 'TCP']]);
  assert.deepEqual(svc.spec?.selector, { 'module.koupleless.io/provider': 'true' });
  const got = await K(['get', 'moduledeployments.koupleless.alipay.com']);
  assert.match(got.stdout, /MODULE\s+VERSION\s+READY\s+UP-TO-DATE\s+PROGRESS\s+BATCH\s+AGE/);
  assert.match(got.stdout, /moduledeployment-sample-provider\s+provider\s+1\.0\.2\s+1\/1\s+1\s+Completed\s+1\/1/);
  // The Service follows a changed strategy.
  const patched = await K(['patch', `moduledeployments.${group}/moduledeployment-sample-provider`, '--type=merge', '-p', '{"spec":{"operationStrategy":{"serviceStrategy":{"port":9090,"targetPort":8081}}}}']);
  assert.equal(patched.code, 0, patched.stderr);
  await eventually('Service updated', async () => {
    const s = await cluster.core.readNamespacedService({ name: 'provider-service', namespace: ns });
    return s.spec?.ports?.[0]?.port === 9090 && s.spec.ports[0].targetPort === 8081 ? true : undefined;
  });
  const d = await K(['delete', `moduledeployments.${group}/moduledeployment-sample-provider`]);
  assert.equal(d.code, 0, d.stderr);
  await waitActive('provider', {});
  await eventually('Service gone', async () => (await cluster.core.readNamespacedService({ name: 'provider-service', namespace: ns }).then(() => undefined, () => true)));
});

test('a 6-replica release in 3 batches waits for a confirmation after batches 1 and 2; each moves exactly one batch', async () => {
  assert.equal((await K(['apply', '-f', '-'], md('rel', 'relbiz', '1.0.0', 6))).code, 0);
  await waitProgress('rel', 'Completed');
  await waitActive('relbiz', { '1.0.0': 6 });
  // install_then_uninstall: the modules active on the bases never drop below the 6 wanted.
  let lowest = Infinity;
  const sampler = setInterval(() => { lowest = Math.min(lowest, Object.values(activeVersions('relbiz')).reduce((a, b) => a + b, 0)); }, 50);
  const r = await K(['apply', '-f', '-'], md('rel', 'relbiz', '2.0.0', 6, '{ batchCount: 3, needConfirm: true }'));
  assert.equal(r.code, 0, r.stderr);
  let m = await waitProgress('rel', 'WaitingForConfirmation', 1);
  assert.equal(m.status?.releaseStatus?.realBatchCount, 3);
  await waitActive('relbiz', { '1.0.0': 4, '2.0.0': 2 });
  // Nothing moves without the confirmation.
  await new Promise((res) => setTimeout(res, 2500));
  assert.equal(sorted(activeVersions('relbiz')), sorted({ '1.0.0': 4, '2.0.0': 2 }));
  assert.equal((await readMd('rel')).status?.releaseStatus?.currentBatch, 1);

  await K(['patch', 'moduledeployments.koupleless.io/rel', '--type=merge', '-p', '{"spec":{"confirmBatchNum":1}}']);
  m = await waitProgress('rel', 'WaitingForConfirmation', 2);
  await waitActive('relbiz', { '1.0.0': 2, '2.0.0': 4 });
  await new Promise((res) => setTimeout(res, 2500));
  assert.equal(sorted(activeVersions('relbiz')), sorted({ '1.0.0': 2, '2.0.0': 4 }));

  await K(['patch', 'moduledeployments.koupleless.io/rel', '--type=merge', '-p', '{"spec":{"confirmBatchNum":2}}']);
  m = await waitProgress('rel', 'Completed');
  await waitActive('relbiz', { '2.0.0': 6 });
  clearInterval(sampler);
  assert.equal(lowest, 6, 'the active module count dropped below the desired replicas');
  assert.equal(m.status?.updatedReplicas, 6);
  assert.equal(m.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
  const events = await K(['get', 'events', '--field-selector', 'involvedObject.name=rel', '-o', 'jsonpath={.items[*].reason}']);
  for (const reason of ['ReleaseStarted', 'BatchStarted', 'BatchCompleted', 'WaitingForConfirmation', 'BatchConfirmed', 'ReleaseCompleted']) assert.match(events.stdout, new RegExp(reason));
});

test('a scale 2 → 6 with batchCount 2 and needConfirm pauses once at 4; the confirmation takes it to 6', async () => {
  const strategy = '{ batchCount: 2, needConfirm: true }';
  // Installed without batches first (a first install with needConfirm would wait for a confirmation).
  assert.equal((await K(['apply', '-f', '-'], md('scl', 'sclbiz', '1.0.0', 2))).code, 0);
  await waitProgress('scl', 'Completed');
  await waitActive('sclbiz', { '1.0.0': 2 });
  assert.equal((await K(['apply', '-f', '-'], md('scl', 'sclbiz', '1.0.0', 2, strategy))).code, 0);
  const s = await K(['scale', 'moduledeployments.koupleless.io/scl', '--replicas=6']);
  assert.equal(s.code, 0, s.stderr);
  const m = await waitProgress('scl', 'WaitingForConfirmation', 1);
  assert.equal(m.status?.releaseStatus?.realBatchCount, 2);
  await waitActive('sclbiz', { '1.0.0': 4 });
  await new Promise((res) => setTimeout(res, 2500));
  assert.equal(sorted(activeVersions('sclbiz')), sorted({ '1.0.0': 4 }), 'nothing moves without the confirmation');
  await K(['patch', 'moduledeployments.koupleless.io/scl', '--type=merge', '-p', '{"spec":{"confirmBatchNum":1}}']);
  await waitProgress('scl', 'Completed');
  await waitActive('sclbiz', { '1.0.0': 6 });
  const events = await K(['get', 'events', '--field-selector', 'involvedObject.name=scl', '-o', 'jsonpath={.items[*].reason}']);
  for (const reason of ['ScaleStarted', 'WaitingForConfirmation', 'BatchConfirmed', 'ScaleCompleted']) assert.match(events.stdout, new RegExp(reason));
  assert.equal((await K(['delete', 'moduledeployments.koupleless.io/scl'])).code, 0);
  await waitActive('sclbiz', {});
});

test('useBeta releases one replica first; the gray time continues by itself without a confirmation', async () => {
  const r = await K(['apply', '-f', '-'], md('rel', 'relbiz', '3.0.0', 6, '{ batchCount: 2, useBeta: true, grayTimeBetweenBatchSeconds: 3 }'));
  assert.equal(r.code, 0, r.stderr);
  const m = await waitProgress('rel', 'Paused', 1);
  assert.equal(m.status?.releaseStatus?.realBatchCount, 3);
  assert.equal(sorted(activeVersions('relbiz')), sorted({ '2.0.0': 5, '3.0.0': 1 }));
  await waitProgress('rel', 'Completed', undefined, 60_000);
  await waitActive('relbiz', { '3.0.0': 6 });
  // confirmBatchNum 2 was left from the previous release: reset so it confirms nothing later.
  await eventually('confirmBatchNum reset', async () => ((await readMd('rel')).spec['confirmBatchNum'] === 0 ? true : undefined));
});

test('uninstall_then_install removes old replicas before installing new ones: never more than 6 modules on the bases', async () => {
  const from = commands.length;
  const r = await K(['apply', '-f', '-'], md('rel', 'relbiz', '4.0.0', 6, '{ batchCount: 2, upgradePolicy: uninstall_then_install }'));
  assert.equal(r.code, 0, r.stderr);
  await waitProgress('rel', 'Completed');
  await waitActive('relbiz', { '4.0.0': 6 });
  let live = 6;
  let peak = 6;
  for (const c of commands.slice(from).filter((x) => x.biz === 'relbiz')) {
    live += c.command === 'installBiz' ? 1 : c.command === 'uninstallBiz' ? -1 : 0;
    peak = Math.max(peak, live);
  }
  assert.equal(peak, 6, 'an install came before the uninstall of its batch');
  assert.deepEqual(leftovers('relbiz'), [], 'every base holds one ACTIVATED version, nothing DEACTIVATED');
});

test('kubectl scale works through the scale subresource; going back to a version reuses its ReplicaSet; delete leaves nothing on any base', async () => {
  const s = await K(['scale', 'moduledeployments.koupleless.io/rel', '--replicas=3']);
  assert.equal(s.code, 0, s.stderr);
  await waitActive('relbiz', { '4.0.0': 3 });
  await eventually('status.replicas 3', async () => ((await readMd('rel')).status?.replicas === 3 ? true : undefined));
  const rsBefore = (await cluster.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'module-controller.koupleless.io/module-deployment=rel' })).items.map((x) => x.metadata!.name!).sort();
  assert.equal(rsBefore.length, 4);
  assert.equal((await K(['apply', '-f', '-'], md('rel', 'relbiz', '3.0.0', 3))).code, 0);
  await waitProgress('rel', 'Completed');
  await waitActive('relbiz', { '3.0.0': 3 });
  const rsAfter = (await cluster.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'module-controller.koupleless.io/module-deployment=rel' })).items.map((x) => x.metadata!.name!).sort();
  assert.deepEqual(rsAfter, rsBefore, 'the 3.0.0 ReplicaSet was reused');
  assert.equal((await K(['delete', 'moduledeployments.koupleless.io/rel'])).code, 0);
  await waitActive('relbiz', {});
  await eventually('ReplicaSets gone', async () => ((await cluster.apps.listNamespacedReplicaSet({ namespace: ns })).items.length === 0 ? true : undefined));
});

test('as many replicas as bases (no spare base): install_then_uninstall and uninstall_then_install both hand every base over, nothing DEACTIVATED left', async () => {
  const bases = fleet.bases.length;
  assert.equal((await K(['apply', '-f', '-'], md('full', 'fullbiz', '1.0.0', bases))).code, 0);
  await waitActive('fullbiz', { '1.0.0': bases });
  // install_then_uninstall (the default): the new revision's pods land on bases running the old
  // version of the same ModuleDeployment and take the module over (the bridge's hand-off).
  let r = await K(['apply', '-f', '-'], md('full', 'fullbiz', '2.0.0', bases, '{ batchCount: 2 }'));
  assert.equal(r.code, 0, r.stderr);
  await waitActive('fullbiz', { '2.0.0': bases }, 90_000);
  let m = await waitProgress('full', 'Completed');
  assert.equal(m.status?.updatedReplicas, bases);
  assert.deepEqual(leftovers('fullbiz'), []);
  r = await K(['apply', '-f', '-'], md('full', 'fullbiz', '3.0.0', bases, '{ batchCount: 2, upgradePolicy: uninstall_then_install }'));
  assert.equal(r.code, 0, r.stderr);
  await waitActive('fullbiz', { '3.0.0': bases }, 90_000);
  m = await waitProgress('full', 'Completed');
  assert.equal(m.status?.updatedReplicas, bases);
  assert.equal(m.status?.readyReplicas, bases);
  assert.deepEqual(leftovers('fullbiz'), []);
  assert.equal((await K(['delete', 'moduledeployments.koupleless.io/full'])).code, 0);
  await waitActive('fullbiz', {});
  assert.deepEqual(leftovers('fullbiz'), []);
});

test('stacking fills the bases that already run modules; scatter spreads', async () => {
  assert.equal((await K(['apply', '-f', '-'], md('filler', 'fillerbiz', '1.0.0', 2))).code, 0);
  await waitActive('fillerbiz', { '1.0.0': 2 });
  const fillerBases = new Set((await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'module.koupleless.io/fillerbiz=true' })).items.map((p) => p.spec!.nodeName!));
  assert.equal((await K(['apply', '-f', '-'], md('stack', 'stackbiz', '1.0.0', 2, '{}', '  schedulingStrategy: { schedulingPolicy: stacking }'))).code, 0);
  await waitActive('stackbiz', { '1.0.0': 2 });
  const stackBases = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'module.koupleless.io/stackbiz=true' })).items.map((p) => p.spec!.nodeName!);
  assert.deepEqual(new Set(stackBases), fillerBases, 'stacking chose the busy bases');
  assert.equal((await K(['apply', '-f', '-'], md('scat', 'scatbiz', '1.0.0', 2))).code, 0);
  await waitActive('scatbiz', { '1.0.0': 2 });
  const scatBases = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'module.koupleless.io/scatbiz=true' })).items.map((p) => p.spec!.nodeName!);
  assert.ok(scatBases.every((b) => !fillerBases.has(b)), `scatter chose empty bases: ${scatBases.join(',')}`);
  for (const n of ['filler', 'stack', 'scat']) await K(['delete', `moduledeployments.koupleless.io/${n}`, '--wait=false']);
  for (const b of ['fillerbiz', 'stackbiz', 'scatbiz']) await waitActive(b, {});
});

test('peer mode through a base Deployment: nodes are linked by pod IP, one replica per Ready base, following a base joining and one leaving', async () => {
  const others = await startFleet({ url: broker!.url, count: 3, name: 'other-base', version: '1.0.0', ipPrefix: '192.0.2', firstIndex: 80, heartbeatPeriodMs: 1_000, installLatencyMs: 50 });
  extra.push(others);
  await waitNodesReady(others);
  // The base Deployment's pods (no kubelet here: their IPs are written the way a kubelet would).
  const dep = `apiVersion: apps/v1
kind: Deployment
metadata: { name: peer-base }
spec:
  replicas: 2
  selector: { matchLabels: { app: peer-base } }
  template:
    metadata: { labels: { app: peer-base } }
    spec: { containers: [{ name: base, image: example.invalid/base:1 }] }
`;
  assert.equal((await K(['apply', '-f', '-'], dep)).code, 0);
  const setIps = async (count: number) => {
    const pods = await eventually(`${count} base pods`, async () => {
      const items = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=peer-base' })).items.filter((p) => !p.metadata?.deletionTimestamp);
      return items.length === count ? items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!)) : undefined;
    });
    const used = new Set(pods.map((p) => p.status?.podIP).filter(Boolean));
    const free = others.bases.map((b) => b.info.localIP).filter((ip) => !used.has(ip));
    for (const p of pods.filter((x) => !x.status?.podIP)) {
      const ip = free.shift()!;
      await cluster.core.patchNamespacedPodStatus({ name: p.metadata!.name!, namespace: ns, body: { status: { podIP: ip, podIPs: [{ ip }] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    }
  };
  await setIps(2);
  const peer = md('peer', 'peerbiz', '1.0.0', 0, '{}', '  peer: true').replace(`baseDeploymentName: ${BASE}`, 'baseDeploymentName: peer-base');
  assert.equal((await K(['apply', '-f', '-'], peer)).code, 0);
  await waitActive('peerbiz', { '1.0.0': 2 });
  const linked = await eventually('two linked nodes', async () => {
    const nodes = (await cluster.core.listNode({ labelSelector: `${BASE_DEPLOYMENT_LABEL}=peer-base` })).items;
    return nodes.length === 2 ? nodes : undefined;
  });
  const onLinked = new Set(linked.map((n) => n.metadata!.name!));
  const podNodes = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'module.koupleless.io/peerbiz=true' })).items.map((p) => p.spec?.nodeName ?? '');
  assert.ok(podNodes.every((n) => onLinked.has(n)), 'only the linked bases run the module');

  // A base joins (the Deployment grows and its new pod gets the third base's IP).
  await K(['scale', 'deployment/peer-base', '--replicas=3']);
  await setIps(3);
  await waitActive('peerbiz', { '1.0.0': 3 });
  // A base leaves: its heartbeats stop, its node goes NotReady, the replica count follows.
  const gone = others.bases[0]!;
  await gone.silence();
  await eventually('2 replicas wanted', async () => ((await readMd('peer')).status?.ready?.endsWith('/2') ? true : undefined), 30_000);
  await gone.resume();
  await K(['delete', 'moduledeployments.koupleless.io/peer', 'deployment/peer-base', '--wait=false']);
  await waitActive('peerbiz', {});
});

test('a batch whose modules fail to install stops with ReplicaFailure and a Warning naming the base and the reason', async () => {
  const broken = await startFleet({ url: broker!.url, count: 1, name: 'broken-base', version: '1.0.0', ipPrefix: '192.0.2', firstIndex: 90, heartbeatPeriodMs: 1_000, installLatencyMs: 50, failureRate: 1 });
  extra.push(broken);
  await waitNodesReady(broken);
  const manifest = md('fail', 'failbiz', '1.0.0', 1).replace(`baseDeploymentName: ${BASE}`, 'baseDeploymentName: broken-base');
  assert.equal((await K(['apply', '-f', '-'], manifest)).code, 0);
  const m = await eventually('ReplicaFailure', async () => {
    const got = await readMd('fail');
    return got.status?.conditions?.find((c) => c.type === 'ReplicaFailure')?.status === 'True' ? got : undefined;
  });
  assert.equal(m.status?.releaseStatus?.progress, 'Paused');
  const node = toNodeName(broken.bases[0]!.identity);
  const warn = await eventually('BatchFailed event', async () => {
    const out = await K(['get', 'events', '--field-selector', 'involvedObject.name=fail,reason=BatchFailed', '-o', 'jsonpath={.items[*].message}']);
    return out.stdout.trim() ? out.stdout : undefined;
  });
  assert.match(warn, new RegExp(`on ${node.replaceAll('.', '\\.')}: ModuleInstallFailed`));
  // The controller serves its metrics.
  const metrics = await (await fetch(`http://127.0.0.1:${stack.moduleDeploymentPort}/metrics`)).text();
  assert.match(metrics, /module_controller_module_deployment_reconciles_total\{outcome="ok"\} [1-9]/);
  assert.match(metrics, /module_controller_module_deployment_actions_total\{kind="createReplicaSet"\} [1-9]/);
  await K(['delete', 'moduledeployments.koupleless.io/fail', '--wait=false']);
});
