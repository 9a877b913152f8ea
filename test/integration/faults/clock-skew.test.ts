// Fault suite, clock case (issue #9 items 2 and 12): base clocks 10 minutes fast and slow, and
// far-future heartbeats, against the bridge as a child process and real bases on a real broker.
//   6. bases with clocks ±10 minutes off are Ready, run their modules, go NotReady when they stop
//      (liveness on the bridge's receive time); a heartbeat stamped a year ahead — from a stranger, or
//      on a real base's topic — creates nothing and does not stop a real base from being heard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { getTestCluster, eventually } from '../../support/cluster.ts';
import { useTestBroker } from '../../support/broker.ts';
import { startBridgeProcess, type BridgeProcess } from '../../support/bridge-process.ts';
import { startFleet, type Fleet } from '../../../base-sim/fleet.ts';
import { toSimBaseInfo } from '../../../base-sim/base-info.ts';
import { toHeartbeatMessage } from '../../../base-sim/messages.ts';
import { toNodeName } from '../../../core/names.ts';
import { toBaseTopic } from '../../../core/topics.ts';
import { applyApps, countCommands, deleteNodes, readNodeReady, waitDesired, waitNodesReady, type ModuleApp } from './scenario.ts';

const TEN_MINUTES = 10 * 60_000;
const YEAR = 365 * 24 * 3600_000;
const cluster = await getTestCluster();
const env = `faultsclock${Math.random().toString(36).slice(2, 6)}`;
let broker: { url: string; close(): Promise<void> };
let bridge: BridgeProcess;
const fleets: Fleet[] = [];
let ns: string;

before(async () => {
  broker = await useTestBroker();
  bridge = await startBridgeProcess({ kubeconfig: cluster.kubeconfig, mqttUrl: broker.url, env, instanceId: 'clock-fault-1', leaseName: `${env}-bridge` });
  ns = await cluster.createNamespace('faults-clock');
  await eventually('the bridge leads', async () => ((await bridge.isLeader()) ? true : undefined), 20_000);
});

after(async () => {
  for (const f of fleets) await f.stop();
  await bridge?.terminate();
  await broker?.close();
  for (const f of fleets) await deleteNodes(cluster, f);
  await cluster.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

const isDown = async (node: string) => { const c = await readNodeReady(cluster, node); return c?.status === 'False' || c?.status === 'Unknown' ? true : undefined; };
const isUp = async (node: string) => ((await readNodeReady(cluster, node))?.status === 'True' ? true : undefined);

test('6a. bases whose clocks are 10 minutes fast or slow work normally: Ready, modules installed, NotReady when they stop, Ready when back', async () => {
  const counts = countCommands();
  for (const [name, offset, prefix] of [['fastclock', TEN_MINUTES, '127.86'], ['slowclock', -TEN_MINUTES, '127.87']] as const) {
    const fleet = await startFleet({ url: broker.url, env, count: 3, name, ipPrefix: prefix, heartbeatPeriodMs: 1_000, installLatencyMs: 100, clockOffsetMs: offset, onEvent: counts.onEvent });
    fleets.push(fleet);
    await waitNodesReady(cluster, fleet, 20_000);
    const apps: ModuleApp[] = [{ name, biz: `${name}biz`, version: '1.0.0', replicas: 3 }];
    await applyApps(cluster, ns, apps, name);
    await waitDesired(cluster, ns, fleet, apps, 45_000, () => bridge.notable());
    // Silence is measured on the bridge's clock: a stopped base goes NotReady after --not-ready-after
    // (4 s) whatever its own clock said, and is Ready again as soon as it is heard.
    const b = fleet.bases[0]!;
    const node = toNodeName(b.identity);
    const t0 = Date.now();
    await b.silence();
    await eventually(`${name} base NotReady once silent`, () => isDown(node), 15_000, 200);
    assert.ok(Date.now() - t0 < 12_000, `${name}: NotReady after ${Date.now() - t0} ms`);
    await b.resume();
    await eventually(`${name} base Ready again`, () => isUp(node), 15_000, 200);
    await waitDesired(cluster, ns, fleet, apps, 30_000, () => bridge.notable());
  }
  assert.equal(counts.total(counts.uninstalls), 0, counts.summary());
  assert.deepEqual(counts.duplicates(), [], counts.summary());
});

test('6b. a heartbeat stamped a year ahead creates nothing and does not stop a real base from being heard', async () => {
  const fleet = await startFleet({ url: broker.url, env, count: 1, name: 'heard', ipPrefix: '127.88', heartbeatPeriodMs: 1_000, installLatencyMs: 100 });
  fleets.push(fleet);
  await waitNodesReady(cluster, fleet, 20_000);
  const real = fleet.bases[0]!;
  const realNode = toNodeName(real.identity);
  const infoOf = (index: number, prefix: string) => toSimBaseInfo(index, { name: 'stranger', version: '9.9.9', clusterName: 'default', identityPrefix: '', ipPrefix: prefix });
  const client = await mqtt.connectAsync(broker.url, { clientId: `stranger-${Date.now()}`, protocolVersion: 4 });
  try {
    const future = Date.now() + YEAR;
    // A stranger: a new identity, on its own topic.
    const stranger = infoOf(0, '127.89');
    await client.publishAsync(toBaseTopic(env, stranger.identity, 'heart'), JSON.stringify(toHeartbeatMessage(stranger, future)), { qos: 1 });
    // A stranger's payload on the real base's topic (identity mismatch), and a far-future heartbeat
    // claiming to be the real base.
    await client.publishAsync(toBaseTopic(env, real.identity, 'heart'), JSON.stringify(toHeartbeatMessage(infoOf(1, '127.89'), future)), { qos: 1 });
    await client.publishAsync(toBaseTopic(env, real.identity, 'heart'), JSON.stringify(toHeartbeatMessage(real.info, future)), { qos: 1 });
  } finally {
    await client.endAsync();
  }
  // The real base keeps being heard: its node stays Ready past --not-ready-after, and the stranger
  // gets no node.
  await sleep(6_000);
  const c = await readNodeReady(cluster, realNode);
  assert.equal(c?.status, 'True', `the real base must stay Ready: ${c?.reason} ${c?.message}`);
  for (const ip of ['127.89.0.1', '127.89.0.2']) assert.equal(await cluster.core.readNode({ name: toNodeName(ip) }).catch(() => undefined), undefined, `no node for the stranger ${ip}`);
  const ids = (await cluster.core.listNode()).items.map((n) => n.metadata?.name ?? '').filter((n) => n.includes('127.89'));
  assert.deepEqual(ids, []);
  // A real stop is still seen: the far-future stamp did not make the base immortal.
  const t0 = Date.now();
  await real.stop();
  await eventually('the real base NotReady once it really stopped', () => isDown(realNode), 15_000, 200);
  assert.ok(Date.now() - t0 < 12_000, `NotReady ${Date.now() - t0} ms after the real stop`);
  assert.equal(bridge.exited(), false);
});
