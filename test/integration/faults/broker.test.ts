// Fault suite, broker cases (issue #9 items 1 and 6): a real Mosquitto really stopped and started
// again on the same port, the bridge a real child process, 20 base-sim bases.
//   1. broker down for 2 × --not-ready-after in steady state: nothing NotReady, nothing uninstalled;
//      a base killed during the outage goes NotReady after reconnect (+ grace + not-ready-after).
//   2. broker restarted mid-rollout of 100 module pods: final = desired, 0 duplicate real installs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { getTestCluster, eventually } from '../../support/cluster.ts';
import { startRestartableMosquitto, findMosquitto, type RestartableMosquitto } from '../../support/mosquitto.ts';
import { startBridgeProcess, type BridgeProcess } from '../../support/bridge-process.ts';
import { startFleet, type Fleet } from '../../../base-sim/fleet.ts';
import { toNodeName } from '../../../core/names.ts';
import { applyApps, countCommands, firstOf, deleteNodes, monitorReadiness, readNodeReady, waitDesired, waitInstalls, waitNodesReady, type ModuleApp } from './scenario.ts';

const NOT_READY_AFTER_MS = 4_000;
const HEARTBEAT_MS = 1_000;
const skip = findMosquitto() ? false : 'mosquitto is not installed';
const cluster = await getTestCluster();
const env = `faultsbroker${Math.random().toString(36).slice(2, 6)}`;
let mq: RestartableMosquitto;
let bridge: BridgeProcess;
let ns: string;
const fleets: Fleet[] = [];

before(async () => {
  if (skip) return;
  mq = await startRestartableMosquitto();
  bridge = await startBridgeProcess({ kubeconfig: cluster.kubeconfig, mqttUrl: mq.url, env, instanceId: 'broker-fault-1', leaseName: `${env}-bridge` });
  ns = await cluster.createNamespace('faults-broker');
  await eventually('the bridge leads', async () => ((await bridge.isLeader()) ? true : undefined), 20_000);
});

after(async () => {
  if (skip) return;
  for (const f of fleets) await f.stop();
  await bridge?.terminate();
  await mq?.stop();
  for (const f of fleets) await deleteNodes(cluster, f);
  await cluster.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

async function startBases(name: string, ipPrefix: string, count: number, counts: ReturnType<typeof countCommands>): Promise<Fleet> {
  const fleet = await startFleet({ url: mq.url, env, count, name, ipPrefix, heartbeatPeriodMs: HEARTBEAT_MS, installLatencyMs: 200, onEvent: counts.onEvent });
  fleets.push(fleet);
  return fleet;
}

test('1. broker stopped for 2 × --not-ready-after in steady state: no node or pod NotReady, no uninstall; a base killed meanwhile goes NotReady after reconnect', { skip }, async () => {
  const counts = countCommands();
  const fleet = await startBases('steady', '127.81', 20, counts);
  await waitNodesReady(cluster, fleet);
  const apps: ModuleApp[] = [{ name: 'steady', biz: 'steadybiz', version: '1.0.0', replicas: 20 }];
  await applyApps(cluster, ns, apps, 'steady');
  await waitDesired(cluster, ns, fleet, apps, 60_000, () => bridge.notable());
  assert.equal(counts.total(counts.installs), 20, counts.summary());

  const victim = fleet.bases[0]!;
  const victimNode = toNodeName(victim.identity);
  const survivors = fleet.bases.slice(1).map((b) => toNodeName(b.identity));
  const monitorStart = Date.now();
  const monitor = monitorReadiness(cluster, { nodes: () => survivors, podNamespace: ns });
  const victimMonitor = monitorReadiness(cluster, { nodes: () => [victimNode] });

  await mq.stop();
  const outageStart = Date.now();
  await sleep(NOT_READY_AFTER_MS);
  await victim.stop(); // really dies while nobody can hear it
  const readyDuringOutage = await bridge.isReady();
  await sleep(NOT_READY_AFTER_MS);
  await mq.start();
  const reconnectedAt = Date.now();
  const outageMs = reconnectedAt - outageStart;
  // The victim goes NotReady only after the bridge can hear again: reconnect + grace + not-ready-after.
  const notReady = await eventually('the killed base NotReady after reconnect', async () => {
    const c = await readNodeReady(cluster, victimNode);
    return c?.status === 'False' || c?.status === 'Unknown' ? Date.now() : undefined;
  }, 30_000, 200);
  // Survivors stay Ready a while after the reconnect too (the grace must not expire them).
  await sleep(Math.max(0, reconnectedAt + NOT_READY_AFTER_MS + 2 * HEARTBEAT_MS - Date.now()));
  await monitor.stop();
  await victimMonitor.stop();

  assert.ok(monitor.polls() > 10, 'the monitor really polled');
  assert.equal(monitor.sightings.length, 0, `no surviving node or pod may be NotReady during or after a ${outageMs} ms broker outage; seen:\n${firstOf(monitor.sightings)}\nbridge log:\n${firstOf(bridge.notable(/NotReady|liveness|frozen|link/i).slice(-12))}`);
  const early = victimMonitor.sightings.filter((s) => Number(s.split('ms')[0]) < reconnectedAt - monitorStart);
  assert.equal(early.length, 0, `the killed base was judged NotReady while the bridge could not hear the broker:\n${firstOf(early)}`);
  assert.ok(notReady - reconnectedAt >= NOT_READY_AFTER_MS - 500, `the killed base went NotReady ${notReady - reconnectedAt} ms after the reconnect, before --not-ready-after had passed on heard time`);
  assert.equal(counts.total(counts.uninstalls), 0, counts.summary());
  assert.equal(counts.total(counts.installs), 20, counts.summary());
  assert.equal(readyDuringOutage, false, '/readyz reports the broker link as down during the outage');
  assert.equal(await bridge.isReady(), true, '/readyz is ready again after the reconnect');
});

test('2. broker restarted mid-rollout of 100 module pods: final state = desired, 0 duplicate real installs; pods created and deleted during the outage get nothing after reconnect', { skip }, async () => {
  const counts = countCommands();
  const fleet = await startBases('rollout', '127.82', 20, counts);
  await waitNodesReady(cluster, fleet);
  const apps: ModuleApp[] = ['a', 'b', 'c', 'd', 'e'].map((x) => ({ name: `roll-${x}`, biz: `roll${x}`, version: '1.0.0', replicas: 20 }));
  const kept = apps.slice(0, -1);
  const gone = apps.at(-1)!;
  const t0 = Date.now();
  await applyApps(cluster, ns, kept, 'rollout');
  const at = await waitInstalls(counts, 15);
  await mq.stop();
  const stoppedAt = Date.now();
  // While the bridge cannot reach the bases, 20 more pods are bound to them and then deleted again: a
  // command the bridge planned for them meanwhile must not reach a base after the reconnect.
  await applyApps(cluster, ns, [gone], 'rollout');
  const podsOf = async () => (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${gone.name}` })).items;
  await eventually(`${gone.replicas} ${gone.name} pods bound`, async () => ((await podsOf()).filter((p) => p.spec?.nodeName).length === gone.replicas ? true : undefined), 30_000, 200);
  await sleep(1_500); // time for a bridge to plan (and queue) their installs
  assert.equal((await cluster.kubectl(['-n', ns, 'delete', 'deployment', gone.name, '--wait=false'])).code, 0);
  await eventually(`every ${gone.name} pod terminating`, async () => ((await podsOf()).every((p) => p.metadata?.deletionTimestamp) ? true : undefined), 30_000, 200);
  await mq.start();
  const reconnectedAt = Date.now();
  await waitDesired(cluster, ns, fleet, kept, 120_000, () => [counts.summary(), ...bridge.notable()]);
  await eventually(`the ${gone.name} pods released`, async () => ((await podsOf()).length === 0 ? true : undefined), 30_000, 250);
  const isKept = (k: string) => !k.includes(` ${gone.biz}:`);
  assert.ok(at < 80, `the broker restart came mid-rollout (${at} of 80 installs done)`);
  assert.deepEqual(counts.duplicates(), [], counts.summary());
  assert.equal(counts.total(counts.installs, isKept), 80, counts.summary());
  assert.equal(counts.total(counts.uninstalls, isKept), 0, counts.summary());
  const late = counts.log.filter((e) => !isKept(e.key) && e.at > reconnectedAt);
  assert.deepEqual(late.map((e) => `${e.command} ${e.key} ${e.outcome}`), [], 'a command for a pod deleted during the outage reached a base after the reconnect (replayed, not re-planned)');
  process.stderr.write(`# broker down ${reconnectedAt - stoppedAt} ms mid-rollout (${at}/80 installed): desired after ${Date.now() - t0} ms; ${counts.summary()}\n`);
});

test('SIGTERM while the broker is down: the bridge exits within 10 s, its last log line written', { skip }, async () => {
  await mq.stop();
  await sleep(1_500); // the client is now retrying an unreachable broker
  const r = await bridge.terminate();
  await mq.start();
  assert.ok(r.ms < 10_000, `the bridge took ${r.ms} ms to stop after SIGTERM`);
  assert.equal(r.code, 0, `exit code ${r.code}, signal ${r.signal}`);
  assert.equal(bridge.log().at(-1)?.['msg'], 'bridge stopped', `last log lines:\n${bridge.log().slice(-3).map((l) => JSON.stringify(l)).join('\n')}`);
});
