// Fault suite, bridge cases (issue #9 items 3, 7 and 13): the bridge as real child processes that
// are `kill -9`ed and stopped with SIGTERM like Kubernetes does.
//   4. two replicas; the active one `kill -9`ed twice mid-rollout, then a graceful rolling restart of
//      both: final = desired, 0 duplicate real installs, 0 uninstalls, never two leaders, SIGTERM < 10 s.
//   5. a cold restart with one dead base: its node never turns Ready, and its delete timer runs on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import { getTestCluster, eventually } from '../../support/cluster.ts';
import { useTestBroker } from '../../support/broker.ts';
import { startBridgeProcess, currentLeader, type BridgeProcess } from '../../support/bridge-process.ts';
import { startFleet, type Fleet } from '../../../base-sim/fleet.ts';
import { toNodeName, VNODE_TAINT, MODULE_COMPONENT_LABEL } from '../../../core/names.ts';
import { applyApps, countCommands, deleteNodes, firstOf, monitorReadiness, readNodeReady, waitDesired, waitInstalls, waitNodesReady, type ModuleApp } from './scenario.ts';

const cluster = await getTestCluster();
let broker: { url: string; close(): Promise<void> };
const bridges: BridgeProcess[] = [];
const fleets: Fleet[] = [];
const namespaces: string[] = [];

before(async () => {
  broker = await useTestBroker();
});

after(async () => {
  for (const f of fleets) await f.stop();
  for (const b of bridges) await b.terminate();
  await broker?.close();
  for (const f of fleets) await deleteNodes(cluster, f);
  for (const ns of namespaces) await cluster.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

async function startReplica(env: string, id: string, args: string[] = []): Promise<BridgeProcess> {
  const b = await startBridgeProcess({ kubeconfig: cluster.kubeconfig, mqttUrl: broker.url, env, instanceId: id, leaseName: `${env}-bridge`, args });
  bridges.push(b);
  return b;
}

/** Samples every live replica's leader gauge until stopped; counts samples with two leaders at once. */
function watchLeaders(): { overlaps: string[]; stop(): Promise<void> } {
  const overlaps: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const live = bridges.filter((b) => !b.exited());
      const flags = await Promise.all(live.map((b) => b.isLeader()));
      const leaders = live.filter((_, i) => flags[i]).map((b) => b.instanceId);
      if (leaders.length > 1) overlaps.push(`${new Date().toISOString()} ${leaders.join(' + ')}`);
      await sleep(200);
    }
  })();
  return { overlaps, stop: async () => { stopped = true; await loop; } };
}

const leaderOf = async (replicas: () => BridgeProcess[], what: string) => eventually(what, () => currentLeader(replicas()), 30_000, 200);

test('4. the active bridge kill -9ed twice mid-rollout, then a graceful rolling restart of both replicas: final = desired, nothing installed twice or uninstalled, one leader at a time', async () => {
  const env = `faultsha${Math.random().toString(36).slice(2, 6)}`;
  const live = () => bridges.filter((b) => !b.exited() && b.instanceId.startsWith(env));
  let n = 0;
  const next = () => startReplica(env, `${env}-r${++n}`);
  const first = await next();
  await leaderOf(live, 'the first replica leads');
  await next();
  const counts = countCommands();
  const fleet = await startFleet({ url: broker.url, env, count: 20, name: 'habase', ipPrefix: '127.84', heartbeatPeriodMs: 1_000, installLatencyMs: 1_000, onEvent: counts.onEvent });
  fleets.push(fleet);
  await waitNodesReady(cluster, fleet);
  const ns = await cluster.createNamespace('faults-ha');
  namespaces.push(ns);
  const nodes = fleet.bases.map((b) => toNodeName(b.identity));
  const apps: ModuleApp[] = ['a', 'b', 'c'].map((x) => ({ name: `ha-${x}`, biz: `ha${x}`, version: '1.0.0', replicas: 20 }));
  const leaders = watchLeaders();
  const nodeMonitor = monitorReadiness(cluster, { nodes: () => nodes });
  const t0 = Date.now();
  // Two waves, so that both kills come mid-rollout however long a takeover takes on a loaded machine:
  // the leader dies after 10 installs of the first two apps, the next one once the third app's
  // installs have begun (bases take 1 s per install).
  await applyApps(cluster, ns, apps.slice(0, 2), 'habase');

  const kills: string[] = [];
  const isC = (k: string) => k.includes(' hac:');
  /** Kills the leader; returns [all installs, ha-c installs] at that moment. */
  const killLeader = async (): Promise<[number, number]> => {
    const leader = await leaderOf(live, 'one leader before the kill');
    await leader.kill9();
    const at: [number, number] = [counts.total(counts.installs), counts.total(counts.installs, isC)];
    kills.push(`${leader.instanceId} at ${at[0]}/60 installs (${at[1]}/20 of ha-c)`);
    await next(); // the replacement pod starts as a standby
    await leaderOf(live, 'a standby takes over');
    return at;
  };
  await waitInstalls(counts, 10);
  const [firstAt] = await killLeader();
  assert.ok(firstAt < 40, `kill 1 came mid-rollout: ${kills[0]}`);
  await applyApps(cluster, ns, apps.slice(2), 'habase');
  await eventually('ha-c installs begun', async () => (counts.total(counts.installs, isC) >= 1 ? true : undefined), 60_000, 50);
  const [, secondC] = await killLeader();
  assert.ok(secondC < 20, `kill 2 came mid-rollout: ${kills[1]}`);
  await waitDesired(cluster, ns, fleet, apps, 120_000, () => [counts.summary(), ...live().flatMap((b) => b.notable())]);
  const rolloutMs = Date.now() - t0;
  assert.deepEqual(counts.duplicates(), [], counts.summary());
  assert.equal(counts.total(counts.installs), 60, counts.summary());
  assert.equal(counts.total(counts.uninstalls), 0, counts.summary());

  // Rolling restart like a Deployment does it: standby first, then the leader; each new replica up
  // before the next old one gets SIGTERM.
  const stops: number[] = [];
  const leader = await leaderOf(live, 'one leader before the rolling restart');
  const standby = live().find((b) => b !== leader)!;
  for (const old of [standby, leader]) {
    const r = await old.terminate();
    stops.push(r.ms);
    assert.equal(r.code, 0, `${old.instanceId} exits cleanly on SIGTERM (code ${r.code}, signal ${r.signal})`);
    assert.ok(r.ms < 10_000, `${old.instanceId} stopped ${r.ms} ms after SIGTERM (must be < 10 s)`);
    await next();
    await leaderOf(live, 'a leader after the restart step');
  }
  await sleep(3_000);
  await waitDesired(cluster, ns, fleet, apps, 30_000, () => live().flatMap((b) => b.notable()));
  await leaders.stop();
  await nodeMonitor.stop();
  assert.deepEqual(counts.duplicates(), [], counts.summary());
  assert.equal(counts.total(counts.installs), 60, `the rolling restart installed nothing again: ${counts.summary()}`);
  assert.equal(counts.total(counts.uninstalls), 0, counts.summary());
  assert.equal(leaders.overlaps.length, 0, `two replicas said they lead at once:\n${firstOf(leaders.overlaps)}`);
  assert.equal(nodeMonitor.sightings.length, 0, `a failover made nodes NotReady:\n${firstOf(nodeMonitor.sightings)}`);
  assert.ok(first.exited());
  process.stderr.write(`# bridge kill -9 ×2 mid-rollout (${kills.join('; ')}): desired after ${rolloutMs} ms; SIGTERM stops took ${stops.join(', ')} ms; ${counts.summary()}\n`);
});

function barePod(name: string, nodeName: string, biz: string): k8s.V1Pod {
  return {
    metadata: { name, labels: { [MODULE_COMPONENT_LABEL]: 'module' } },
    spec: {
      nodeName,
      tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
      containers: [{ name: biz, image: `https://example.invalid/${biz}-1.0.0-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }],
    },
  };
}

test('5. a bridge cold restart with one dead base: its node never turns Ready, its pod never Ready, and its delete timer runs on', async () => {
  const env = `faultscold${Math.random().toString(36).slice(2, 6)}`;
  const DELETE_AFTER_MS = 20_000;
  const args = ['--delete-after', `${DELETE_AFTER_MS / 1000}s`];
  let bridge = await startReplica(env, `${env}-1`, args);
  await eventually('the bridge leads', async () => ((await bridge.isLeader()) ? true : undefined), 20_000);
  const counts = countCommands();
  const fleet = await startFleet({ url: broker.url, env, count: 3, name: 'coldbase', ipPrefix: '127.85', heartbeatPeriodMs: 1_000, installLatencyMs: 100, onEvent: counts.onEvent });
  fleets.push(fleet);
  await waitNodesReady(cluster, fleet);
  const ns = await cluster.createNamespace('faults-cold');
  namespaces.push(ns);
  for (const [i, b] of fleet.bases.entries()) await cluster.core.createNamespacedPod({ namespace: ns, body: barePod(`cold-${i}`, toNodeName(b.identity), 'coldbiz') });
  await eventually('3 pods Ready', async () => {
    const pods = (await cluster.core.listNamespacedPod({ namespace: ns })).items;
    return pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 3 ? true : undefined;
  }, 30_000);

  const victim = fleet.bases[0]!;
  const victimNode = toNodeName(victim.identity);
  await victim.stop();
  const diedAt = Date.now();
  await eventually('the dead base NotReady', async () => ((await readNodeReady(cluster, victimNode))?.status === 'False' ? true : undefined), 15_000);

  // From here on the dead base's node and pod are watched the whole time: neither may turn Ready.
  const seen: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const c = await readNodeReady(cluster, victimNode).catch(() => undefined);
      if (c?.status === 'True') seen.push(`${Date.now() - diedAt}ms node Ready (${c.reason ?? ''}, heartbeat ${String(c.lastHeartbeatTime)})`);
      const pod = await cluster.core.readNamespacedPod({ name: 'cold-0', namespace: ns }).catch(() => undefined);
      if (pod?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) seen.push(`${Date.now() - diedAt}ms pod cold-0 Ready`);
      await sleep(150);
    }
  })();
  await bridge.kill9();
  await sleep(6_000); // the Lease expires; nothing updates the nodes meanwhile
  bridge = await startReplica(env, `${env}-2`, args);
  const restartedAt = Date.now(); // serving: a loaded machine can take seconds to start node
  await eventually('the restarted bridge leads', async () => ((await bridge.isLeader()) ? true : undefined), 20_000);
  const deleted = await eventually('the dead base\'s node deleted', async () => ((await cluster.core.readNode({ name: victimNode }).catch(() => undefined)) ? undefined : Date.now()), DELETE_AFTER_MS + 20_000, 250);
  watching = false;
  await watcher;

  assert.deepEqual(seen, [], `the dead base looked alive after the restart:\n${firstOf(seen)}\n${firstOf(bridge.notable(/adopt/i))}`);
  // The delete timer counts from the last heartbeat, not from the restart: the node goes before a
  // timer restarted by the new bridge could have expired, and not before --delete-after.
  assert.ok(deleted < restartedAt + DELETE_AFTER_MS, `node deleted ${deleted - diedAt} ms after the base died, ${deleted - restartedAt} ms after the restarted bridge served: the restart reset the delete timer`);
  assert.ok(deleted - diedAt >= DELETE_AFTER_MS - 1_000, `node deleted ${deleted - diedAt} ms after the base died, before --delete-after`);
  // Final state: the live bases keep their modules, Ready, never reinstalled or uninstalled.
  for (const b of fleet.bases.slice(1)) {
    assert.equal((await readNodeReady(cluster, toNodeName(b.identity)))?.status, 'True');
    assert.deepEqual(b.installed().map((m) => `${m.bizName}:${m.state}`), ['coldbiz:ACTIVATED']);
  }
  assert.equal(counts.total(counts.installs), 3, counts.summary());
  assert.equal(counts.total(counts.uninstalls), 0, counts.summary());
});
