// The bridge on the real control plane with a real broker and base-sim bases: base lifecycle, module
// install/status/uninstall of a bare pod, garbage on every topic, restart without reinstall storm,
// leader failover.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { useTestBroker } from '../support/broker.ts';
import { startTestBridge } from '../support/bridge-harness.ts';
import { startFleet, type Fleet } from '../../base-sim/fleet.ts';
import { toNodeName, VNODE_TAINT, MODULE_COMPONENT_LABEL } from '../../core/names.ts';
import { toBaseTopic, BASE_MESSAGE_KINDS } from '../../core/topics.ts';
import type { Bridge } from '../../bridge/bridge.ts';

const cluster = await getTestCluster();
let broker: { url: string; close(): Promise<void> } | undefined;
let url: string;
const cleanups: Array<() => Promise<unknown>> = [];
let ns: string;

before(async () => {
  broker = await useTestBroker();
  url = broker.url;
  ns = await cluster.createNamespace('bridge');
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await broker?.close();
});

function modulePod(name: string, nodeName: string, biz: { name: string; version: string }): k8s.V1Pod {
  return {
    metadata: { name, labels: { [MODULE_COMPONENT_LABEL]: 'module' } },
    spec: {
      nodeName,
      tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
      containers: [{ name: biz.name, image: `https://example.invalid/${biz.name}-${biz.version}-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: biz.version }] }],
    },
  };
}

async function readyStatus(nodeName: string): Promise<k8s.V1NodeCondition | undefined> {
  const node = await cluster.core.readNode({ name: nodeName }).catch(() => undefined);
  return node?.status?.conditions?.find((c) => c.type === 'Ready');
}

async function startBases(prefix: string, count: number, extra: Partial<Parameters<typeof startFleet>[0]> = {}): Promise<Fleet> {
  const fleet = await startFleet({ url, count, ipPrefix: prefix, heartbeatPeriodMs: 1_000, installLatencyMs: 100, ...extra });
  cleanups.push(async () => {
    await fleet.stop();
    for (const b of fleet.bases) await cluster.core.deleteNode({ name: toNodeName(b.identity) }).catch(() => undefined);
  });
  return fleet;
}

test('a base becomes a Ready virtual node, goes NotReady when silent, Ready when back, and is deleted after the grace period', async () => {
  const bridge = startTestBridge(cluster, url);
  cleanups.push(() => bridge.stop());
  const fleet = await startBases('127.41', 1);
  const base = fleet.bases[0]!;
  const nodeName = toNodeName(base.identity);
  const node = await eventually('the virtual node', async () => {
    const n = await cluster.core.readNode({ name: nodeName }).catch(() => undefined);
    return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
  });
  assert.equal(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, base.info.localIP);
  assert.equal(node.metadata?.labels?.['base.koupleless.io/name'], 'base');
  assert.equal(node.metadata?.labels?.['base.koupleless.io/version'], '1.0.0');
  assert.equal(node.metadata?.labels?.['virtual-kubelet.koupleless.io/component'], 'vnode');
  assert.ok(node.spec?.taints?.some((t) => t.key === VNODE_TAINT.key && t.effect === 'NoExecute'));
  const lease = await eventually('the node lease', () => cluster.coordination.readNamespacedLease({ name: nodeName, namespace: 'kube-node-lease' }).catch(() => undefined));
  assert.equal(lease.spec?.holderIdentity, nodeName);

  await base.silence();
  const notReady = await eventually('NotReady', async () => {
    const c = await readyStatus(nodeName);
    return c?.status === 'False' ? c : undefined;
  }, 15_000);
  assert.equal(notReady.reason, 'BaseUnreachable');
  assert.match(notReady.message ?? '', /no heartbeat/);

  await base.resume();
  await eventually('Ready again', async () => ((await readyStatus(nodeName))?.status === 'True' ? true : undefined), 15_000);

  await base.silence();
  await eventually('node deleted', async () => ((await cluster.core.readNode({ name: nodeName }).catch(() => undefined)) ? undefined : true), 30_000);
  await bridge.stop();
});

test('a bare module pod is installed on its base, reports Running with the base IP, and is uninstalled on delete', async () => {
  const bridge = startTestBridge(cluster, url);
  cleanups.push(() => bridge.stop());
  const fleet = await startBases('127.42', 1);
  const base = fleet.bases[0]!;
  const nodeName = toNodeName(base.identity);
  await eventually('node Ready', async () => ((await readyStatus(nodeName))?.status === 'True' ? true : undefined));
  await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('biz1-pod', nodeName, { name: 'biz1', version: '0.0.1' }) });
  const pod = await eventually('pod Running and Ready', async () => {
    const p = await cluster.core.readNamespacedPod({ name: 'biz1-pod', namespace: ns });
    return p.status?.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
  });
  assert.equal(pod.status?.podIP, base.info.localIP);
  assert.equal(pod.status?.hostIP, base.info.localIP);
  assert.ok(pod.status?.containerStatuses?.[0]?.state?.running);
  assert.deepEqual(base.installed().map((m) => `${m.bizName}:${m.bizVersion}:${m.state}`), ['biz1:0.0.1:ACTIVATED']);

  const byIp = await cluster.kubectl(['get', 'pod', '-n', ns, '--field-selector', `status.podIP=${base.info.localIP}`, '-o', 'name']);
  assert.equal(byIp.stdout.trim(), 'pod/biz1-pod');
  const byNode = await cluster.kubectl(['get', 'pod', '-n', ns, '--field-selector', `spec.nodeName=${nodeName}`, '-o', 'name']);
  assert.equal(byNode.stdout.trim(), 'pod/biz1-pod');
  const events = await eventually('Installed event', async () => {
    const list = await cluster.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=biz1-pod' });
    return list.items.some((e) => e.reason === 'Installed') ? list.items : undefined;
  });
  // An install the base confirms within --installing-status-delay has no Installing Event (the
  // harness runs the shipped 1 s); a slower one (a loaded machine) has one naming why it was sent.
  assert.match(events.find((e) => e.reason === 'Installed')?.message ?? '', /^module biz1:0\.0\.1 is ACTIVATED on node /);
  for (const e of events.filter((x) => x.reason === 'Installing')) assert.match(e.message ?? '', /^installBiz biz1:0\.0\.1 on base .*: module pod bound to this base$/);

  await cluster.core.deleteNamespacedPod({ name: 'biz1-pod', namespace: ns });
  await eventually('pod gone', async () => ((await cluster.core.readNamespacedPod({ name: 'biz1-pod', namespace: ns }).catch(() => undefined)) ? undefined : true), 20_000);
  assert.deepEqual(base.installed(), []);
  await bridge.stop();
});

test('garbage on every base topic changes nothing and crashes nothing', async () => {
  const registry = new Registry();
  const bridge = startTestBridge(cluster, url, { registry });
  cleanups.push(() => bridge.stop());
  const fleet = await startBases('127.43', 1);
  const base = fleet.bases[0]!;
  const nodeName = toNodeName(base.identity);
  await eventually('node Ready', async () => ((await readyStatus(nodeName))?.status === 'True' ? true : undefined));
  const before = bridge.bases.get(base.identity);
  const client = await mqtt.connectAsync(url, { clientId: `garbage-${Date.now()}`, protocolVersion: 4 });
  const garbage = ['', 'not json', '{"publishTimestamp":0}', '{"publishTimestamp":1,"data":{"code":"FAILED"}}', '[1,2,3]', '{"publishTimestamp":"x","data":null}', '\u0000\u0001'];
  for (const kind of BASE_MESSAGE_KINDS) for (const g of garbage) await client.publishAsync(toBaseTopic('default', base.identity, kind), g, { qos: 1 });
  for (const g of garbage) await client.publishAsync(toBaseTopic('default', 'unknown-base', 'heart'), g, { qos: 1 });
  await client.endAsync();
  await new Promise((r) => setTimeout(r, 1500));
  const afterRec = bridge.bases.get(base.identity);
  assert.equal(afterRec?.metadata.version, before?.metadata.version);
  assert.equal(afterRec?.localIP, before?.localIP);
  assert.equal(bridge.bases.get('unknown-base'), undefined);
  assert.equal((await readyStatus(nodeName))?.status, 'True');
  const text = await registry.metrics();
  assert.match(text, /module_controller_bridge_mqtt_messages_total\{kind="heart",outcome="malformed"\} \d+/);
  await bridge.stop();
});

test('a restarted bridge adopts nodes and pods without reinstalling, and a standby takes over from a dead leader', async () => {
  let installs = 0;
  const fleet = await startBases('127.44', 1, { onEvent: (e) => { if (e.kind === 'command' && e.command === 'installBiz') installs++; } });
  const base = fleet.bases[0]!;
  const nodeName = toNodeName(base.identity);
  const leaseName = `mc-failover-${Date.now()}`;
  const first: Bridge = startTestBridge(cluster, url, { leader: true, leaseName, instanceId: 'first' });
  await eventually('first is leader', async () => (first.isLeader() ? true : undefined), 15_000);
  await eventually('node Ready', async () => ((await readyStatus(nodeName))?.status === 'True' ? true : undefined));
  await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('keep-pod', nodeName, { name: 'keep', version: '1.0.0' }) });
  await eventually('pod Running', async () => ((await cluster.core.readNamespacedPod({ name: 'keep-pod', namespace: ns })).status?.phase === 'Running' ? true : undefined));
  assert.equal(installs, 1);

  const second: Bridge = startTestBridge(cluster, url, { leader: true, leaseName, instanceId: 'second' });
  cleanups.push(() => second.stop());
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(second.isLeader(), false, 'the standby must not act while the leader lives');
  const t0 = Date.now();
  await first.stop({ releaseLease: false }); // like a crashed leader: its lease must expire
  await eventually('standby takes over', async () => (second.isLeader() ? true : undefined), 15_000);
  assert.ok(Date.now() - t0 < 15_000);
  // The new leader re-reads the base's module list and installs nothing already there.
  await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('new-pod', nodeName, { name: 'fresh', version: '1.0.0' }) });
  await eventually('new pod Running under the new leader', async () => ((await cluster.core.readNamespacedPod({ name: 'new-pod', namespace: ns })).status?.phase === 'Running' ? true : undefined), 20_000);
  assert.equal(installs, 2, 'only the new module was installed; the existing one was adopted');
  assert.deepEqual(base.installed().map((m) => m.bizName).sort(), ['fresh', 'keep']);
  await second.stop();
});

test('an in-place image change on a bare pod uninstalls the old jar and installs the new one', async () => {
  const log: string[] = [];
  const bridge = startTestBridge(cluster, url);
  cleanups.push(() => bridge.stop());
  const fleet = await startBases('127.45', 1, { onEvent: (e) => { if (e.kind === 'command' && e.bizName) log.push(`${e.command} ${e.bizName}:${e.bizVersion}`); } });
  const base = fleet.bases[0]!;
  const nodeName = toNodeName(base.identity);
  await eventually('node Ready', async () => ((await readyStatus(nodeName))?.status === 'True' ? true : undefined));
  await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('swap-pod', nodeName, { name: 'swap', version: '1.0.0' }) });
  await eventually('pod Running', async () => ((await cluster.core.readNamespacedPod({ name: 'swap-pod', namespace: ns })).status?.phase === 'Running' ? true : undefined));
  const image = 'https://example.invalid/swap-1.0.0-hotfix-ark-biz.jar';
  await cluster.core.patchNamespacedPod({ name: 'swap-pod', namespace: ns, body: [{ op: 'replace', path: '/spec/containers/0/image', value: image }] });
  await eventually('uninstall then install of the new jar, pod Running with the new image', async () => {
    const p = await cluster.core.readNamespacedPod({ name: 'swap-pod', namespace: ns });
    const done = log.filter((l) => l.startsWith('uninstallBiz swap')).length === 1 && log.filter((l) => l.startsWith('installBiz swap')).length === 2;
    return done && p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.image === image && p.status.containerStatuses[0].ready ? true : undefined;
  }, 20_000);
  assert.deepEqual(log, ['installBiz swap:1.0.0', 'uninstallBiz swap:1.0.0', 'installBiz swap:1.0.0']);
  assert.deepEqual(base.installed().map((m) => `${m.bizName}:${m.state}`), ['swap:ACTIVATED']);
  await cluster.core.deleteNamespacedPod({ name: 'swap-pod', namespace: ns });
  await bridge.stop();
});

test('module pods of a silent base turn not Ready, and Ready again when it is back', async () => {
  const bridge = startTestBridge(cluster, url);
  cleanups.push(() => bridge.stop());
  const fleet = await startBases('127.46', 1);
  const base = fleet.bases[0]!;
  const nodeName = toNodeName(base.identity);
  await eventually('node Ready', async () => ((await readyStatus(nodeName))?.status === 'True' ? true : undefined));
  await cluster.core.createNamespacedPod({ namespace: ns, body: modulePod('quiet-pod', nodeName, { name: 'quiet', version: '1.0.0' }) });
  const podReady = async () => (await cluster.core.readNamespacedPod({ name: 'quiet-pod', namespace: ns })).status?.conditions?.find((c) => c.type === 'Ready');
  await eventually('pod Ready', async () => ((await podReady())?.status === 'True' ? true : undefined));
  await base.silence();
  const c = await eventually('pod not Ready', async () => { const r = await podReady(); return r?.status === 'False' ? r : undefined; }, 15_000);
  assert.match(c.message ?? '', /base is not Ready/);
  await base.resume();
  await eventually('pod Ready again', async () => ((await podReady())?.status === 'True' ? true : undefined), 15_000);
  await cluster.core.deleteNamespacedPod({ name: 'quiet-pod', namespace: ns });
  await bridge.stop();
});
