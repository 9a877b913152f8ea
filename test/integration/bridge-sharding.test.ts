// Several bridge replicas share one fleet (issue #13, "Several replicas share the fleet"), on the real
// control plane and the real broker, the replicas as real child processes:
//   3 replicas, 300 simulated bases, a module pod on every base: every base has exactly one owner
//   (shard Leases + toShard, and each replica's own gauges agree), each replica holds a fair share,
//   every module installed; kill -9 one replica → its bases owned again within 15 s; then a
//   replacement, then 3 → 1 (two SIGTERMs at once) → 3 (two new replicas); module pods created during
//   every transition. After each step: one owner per base, final state = desired.
// "No module installed twice", precisely: over the whole run every (base, module) receives exactly
// one installBiz command and answers it SUCCESS — no second real install (base-sim installs a listed
// module again only after an uninstall, and there are none), and no REPEAT_BIZ either: with 200 ms
// installs and a takeover of seconds, no install of a dead owner is still running when the new owner
// re-reads the base's module list, so a REPEAT_BIZ here means two replicas acted on one base or a new
// owner planned without re-reading. And from the replicas' own logs: no replica sent a module
// command to a base whose shard it did not own at that moment, and no two replicas owned a shard at
// the same time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { useTestBroker } from '../support/broker.ts';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.ts';
import { basesByOwner, commandsOutsideOwnership, overlappingOwnership, ownershipProblems, readShardOwnership, type ReplicaLog, type ShardOwnership } from '../support/shard-observer.ts';
import { startFleet, type Fleet } from '../../base-sim/fleet.ts';
import { toShard } from '../../bridge/shards.ts';
import { toNodeName, toShardLeaseName, toMemberLeaseName, VNODE_TAINT, MODULE_COMPONENT_LABEL } from '../../core/names.ts';
import { countCommands, deleteNodes, desiredProblems, firstOf, type ModuleApp } from './faults/scenario.ts';

const cluster = await getTestCluster();
const BASES = 300;
const SHARDS = 16;
const TAKEOVER_BOUND_MS = 15_000;
// Lease 8 s → renew deadline 5.6 s, retry period 1.6 s: a dead replica's shards are free after 8 s of
// silence and taken at a later retry (≤ 1.6 s × 2.2 with client-go's jitter), ≈ 11.5 s, inside the
// 15 s bound; a replica must miss renewals for 5.6 s before it stops acting, so a loaded API server
// (Lease lists of seconds on a busy 2-core machine) does not make shards flap.
const BRIDGE_ARGS = [
  '--shards', String(SHARDS),
  '--leader-lease-duration', '8s',
  // 300 bases on three processes sharing two cores: polls and renewals at a pace the API server and
  // the broker carry (the fast defaults of bridge-process.ts are for fleets of a few bases).
  '--health-poll-period', '10s',
  '--module-list-period', '10s',
  // Node Leases every 6 s: a takeover (≤ 11.5 s) plus one period stays inside the test control
  // plane's 20 s node-monitor grace period.
  '--node-lease-renew', '6s',
  '--not-ready-after', '20s',
  '--command-timeout', '15s',
  '--max-modules-per-base', '10',
];
const LEASE_NAMESPACE = 'default'; // the bridge's --leader-lease-namespace default

const env = `shard${Math.random().toString(36).slice(2, 6)}`;
const leaseName = `${env}-bridge`;
let broker: { url: string; close(): Promise<void> };
let fleet: Fleet | undefined;
let ns = '';
const replicas: BridgeProcess[] = [];
const killedAt = new Map<string, number>();
let n = 0;

before(async () => {
  broker = await useTestBroker();
});

after(async () => {
  await fleet?.stop();
  for (const b of replicas) await b.terminate();
  await broker?.close();
  await deleteNodes(cluster, fleet);
  if (ns) await cluster.core.deleteNamespace({ name: ns }).catch(() => undefined);
  for (let k = 0; k < SHARDS; k++) await cluster.coordination.deleteNamespacedLease({ name: toShardLeaseName(leaseName, k), namespace: LEASE_NAMESPACE }).catch(() => undefined);
  for (const b of replicas) await cluster.coordination.deleteNamespacedLease({ name: toMemberLeaseName(leaseName, b.instanceId), namespace: LEASE_NAMESPACE }).catch(() => undefined);
  await cluster.coordination.deleteNamespacedLease({ name: leaseName, namespace: LEASE_NAMESPACE }).catch(() => undefined);
});

const live = () => replicas.filter((b) => !b.exited());
const identities = () => fleet?.bases.map((b) => b.identity) ?? [];

async function startReplicas(count: number): Promise<BridgeProcess[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startBridgeProcess({
    kubeconfig: cluster.kubeconfig, mqttUrl: broker.url, env, instanceId: `${env}-r${++n}`, leaseName, args: BRIDGE_ARGS,
  })));
  replicas.push(...started);
  return started;
}

async function snapshot(): Promise<{ o: ShardOwnership; problems: string[] }> {
  const [o, views] = await Promise.all([
    readShardOwnership(cluster.coordination, LEASE_NAMESPACE, leaseName, SHARDS),
    Promise.all(live().map(async (b) => ({ id: b.instanceId, shardsOwned: await b.metric('module_controller_bridge_shards_owned'), basesOwned: await b.metric('module_controller_bridge_bases_owned') }))),
  ]);
  return { o, problems: ownershipProblems(o, views, identities()) };
}

/** Waits until every base has exactly one live owner and the replicas agree; returns the ownership and when it held. */
async function waitOneOwnerEach(what: string, timeoutMs: number): Promise<{ o: ShardOwnership; at: number }> {
  let last: string[] = [];
  try {
    return await eventually(what, async () => {
      const s = await snapshot();
      last = s.problems;
      return s.problems.length === 0 ? { o: s.o, at: Date.now() } : undefined;
    }, timeoutMs, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n  ${firstOf(last)}\n${firstOf(live().flatMap((b) => b.notable(/shard/)).slice(-20))}`);
  }
}

/** Each live replica owns roughly 1/live of the bases (within half of it either way). */
function assertFairShare(o: ShardOwnership, step: string): string {
  const owners = basesByOwner(o, identities());
  const fair = BASES / live().length;
  const line = live().map((b) => `${b.instanceId} ${o.holders.filter((h) => h === b.instanceId).length} shards/${owners.get(b.instanceId)?.length ?? 0} bases`).join(', ');
  for (const b of live()) {
    const mine = owners.get(b.instanceId)?.length ?? 0;
    assert.ok(mine >= fair * 0.5 && mine <= fair * 1.5, `${step}: ${b.instanceId} owns ${mine} bases, not roughly ${fair.toFixed(0)} (${line})`);
  }
  return line;
}

/** Final state = desired (faults/scenario.ts' definition), polled every 1.5 s: 300+ pods and nodes per list. */
async function waitDesired(apps: readonly ModuleApp[], timeoutMs: number, explain: () => Promise<string[]>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let problems: string[] = [];
  while (Date.now() < deadline) {
    problems = await desiredProblems(cluster, ns, fleet!, apps).catch((err: unknown) => [`API: ${(err as Error).message}`]);
    if (problems.length === 0) return;
    await sleep(1_500);
  }
  assert.fail(`final state is not the desired one after ${timeoutMs} ms:\n  ${problems.slice(0, 15).join('\n  ')}\n${(await explain()).join('\n')}`);
}

async function waitNodesReady(timeoutMs: number): Promise<void> {
  const names = new Set(identities().map(toNodeName));
  await eventually(`${names.size} Ready nodes`, async () => {
    const ready = (await cluster.core.listNode()).items.filter((x) => names.has(x.metadata?.name ?? '') && x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === names.size ? true : undefined;
  }, timeoutMs, 1_000);
}

function barePod(name: string, nodeName: string, biz: string): k8s.V1Pod {
  return {
    metadata: { name, labels: { app: biz, [MODULE_COMPONENT_LABEL]: 'module' } },
    spec: {
      nodeName,
      tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
      terminationGracePeriodSeconds: 5,
      containers: [{ name: biz, image: `https://example.invalid/${biz}-1.0.0-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }],
    },
  };
}

/** One bare module pod of `biz` on each of these bases, bound by name, 16 creates at a time. */
async function createPods(biz: string, bases: readonly string[]): Promise<ModuleApp> {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < bases.length) {
      const i = next++;
      await cluster.core.createNamespacedPod({ namespace: ns, body: barePod(`${biz}-${i}`, toNodeName(bases[i]!), biz) });
    }
  }));
  return { name: biz, biz, version: '1.0.0', replicas: bases.length };
}

/** Every 5th base, rotated, so each transition's pods land on bases of every shard. */
const everyFifth = (offset: number) => identities().filter((_, i) => i % 5 === offset);

test('three replicas share 300 bases: one owner per base, fair shares, kill -9 → taken over within 15 s, 3 → 1 → 3, every module installed exactly once', async () => {
  const t0 = Date.now();
  const report: string[] = [];
  const phase = (what: string) => process.stderr.write(`# [sharding ${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);
  const note = (what: string) => { report.push(what); phase(what); };
  await startReplicas(3);
  // The shards are spread before any base exists, so the fleet joins onto settled owners.
  await waitOneOwnerEach('3 replicas hold every shard, fair shares, gauges agree', 30_000);
  phase('3 replicas hold every shard');
  ns = await cluster.createNamespace('sharding');
  const counts = countCommands();
  fleet = await startFleet({ url: broker.url, env, count: BASES, name: 'shardbase', ipPrefix: '127.86', heartbeatPeriodMs: 5_000, installLatencyMs: 200, onEvent: counts.onEvent });
  await waitNodesReady(120_000).catch(async (err: unknown) => {
    throw new Error(`${(err as Error).message}\n  ownership now: ${firstOf((await snapshot()).problems)}\n${firstOf(live().flatMap((b) => b.notable()).slice(-20))}`);
  });
  phase(`${BASES} nodes Ready`);
  const start = await waitOneOwnerEach('3 replicas: one owner per base', 30_000);
  note(`start: ${assertFairShare(start.o, '3 replicas')}`);

  // 1. A module on every base.
  const apps: ModuleApp[] = [await createPods('sha', identities())];
  /** For a failure: the counts, and for the first bases still wrong, their owner and every replica's log lines about them. */
  const explain = async (): Promise<string[]> => {
    const wrong = (await desiredProblems(cluster, ns, fleet!, apps).catch(() => [])).map((p) => /^(\S+): has /.exec(p)?.[1]).filter((x): x is string => !!x).slice(0, 3);
    const o = await readShardOwnership(cluster.coordination, LEASE_NAMESPACE, leaseName, SHARDS).catch(() => undefined);
    const lines = wrong.flatMap((id) => [
      `base ${id}: shard ${toShard(id, SHARDS)}, holder ${o ? o.holders[toShard(id, SHARDS)] : '?'}`,
      ...replicas.flatMap((b) => b.log().filter((l) => JSON.stringify(l).includes(`"${id}"`) || l['shard'] === toShard(id, SHARDS)).map((l) => `  ${b.instanceId} ${String(l['time']).slice(11, 23)} ${String(l['msg'])} ${JSON.stringify({ ...l, time: undefined, msg: undefined, level: undefined, name: undefined })}`)),
    ]);
    return [counts.summary(), ...lines.slice(0, 60), ...live().flatMap((b) => b.notable()).slice(-10)];
  };
  await waitDesired(apps, 120_000, explain);
  note(`300 modules installed after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // 2. kill -9 one replica; pods created at once on its bases and others' (a third of them its own).
  const before = (await waitOneOwnerEach('ownership before the kill', 20_000)).o;
  const victim = live()[1]!;
  const victimBases = basesByOwner(before, identities()).get(victim.instanceId) ?? [];
  assert.ok(victimBases.length > 0, 'the victim owns bases');
  await victim.kill9();
  const killed = Date.now();
  killedAt.set(victim.instanceId, killed);
  const others = identities().filter((id) => !victimBases.includes(id));
  const killPods = createPods('shk', [...victimBases.slice(0, 40), ...others.filter((_, i) => i % 10 === 0)]);
  const taken = await waitOneOwnerEach('the dead replica\'s bases owned again', TAKEOVER_BOUND_MS + 5_000);
  const takeoverMs = taken.at - killed;
  assert.ok(takeoverMs <= TAKEOVER_BOUND_MS, `the dead replica's ${victimBases.length} bases were owned again ${takeoverMs} ms after kill -9 (bound ${TAKEOVER_BOUND_MS} ms)`);
  for (const id of victimBases) assert.notEqual(basesByOwner(taken.o, [id]).has(victim.instanceId), true, `${id} still owned by the dead replica`);
  apps.push(await killPods);
  await waitDesired(apps, 90_000, explain);
  note(`kill -9 ${victim.instanceId} (${victimBases.length} bases): owned again after ${takeoverMs} ms; ${assertFairShare(taken.o, 'after the kill')}`);

  // The replacement pod a Deployment would start: back to 3, shards rebalance.
  await startReplicas(1);
  const three = await waitOneOwnerEach('a replacement joins: 3 replicas', 30_000);
  note(`replacement: ${assertFairShare(three.o, 'replacement')}`);
  await waitDesired(apps, 30_000, explain);

  // 3. Scale 3 → 1: two replicas get SIGTERM at once (as `kubectl scale` does) while pods are created.
  const [keep, ...stopping] = live();
  const downPods = createPods('shd', everyFifth(1));
  const sigterm = Date.now();
  const stops = await Promise.all(stopping.map((b) => b.terminate()));
  for (const [i, r] of stops.entries()) {
    assert.equal(r.code, 0, `${stopping[i]!.instanceId} exits cleanly on SIGTERM (code ${r.code}, signal ${r.signal})`);
  }
  const one = await waitOneOwnerEach('scaled to 1: the last replica owns every base', 30_000);
  assert.equal(one.o.holders.filter((h) => h === keep!.instanceId).length, SHARDS);
  apps.push(await downPods);
  await waitDesired(apps, 90_000, explain);
  note(`3 → 1: SIGTERMs took ${stops.map((s) => s.ms).join(', ')} ms; ${keep!.instanceId} owns all ${SHARDS} shards ${one.at - sigterm} ms after the SIGTERMs`);

  // 4. Scale 1 → 3: two new replicas while pods are created.
  const upPods = createPods('shu', everyFifth(2));
  await startReplicas(2);
  const again = await waitOneOwnerEach('scaled to 3: one owner per base', 30_000);
  apps.push(await upPods);
  await waitDesired(apps, 90_000, explain);
  note(`1 → 3: ${assertFairShare(again.o, '1 → 3')}`);
  // Settled: still one owner per base with the final state reached.
  await waitOneOwnerEach('settled: one owner per base', 10_000);

  // Nothing installed twice, nothing uninstalled, nothing failed (see the header for the definition).
  const pods = apps.reduce((s, a) => s + a.replicas, 0);
  assert.deepEqual(counts.duplicates(), [], counts.summary());
  assert.equal(counts.total(counts.installs), pods, `every module pod installed exactly once: ${counts.summary()}`);
  assert.equal(counts.total(counts.repeats), 0, `an install reached a base that already had the module: ${[...counts.repeats.keys()].slice(0, 10).join(', ')}; ${counts.summary()}`);
  assert.equal(counts.total(counts.failedInstalls), 0, counts.summary());
  assert.equal(counts.total(counts.uninstalls), 0, counts.summary());
  // Each replica acted only on bases it owned, and no shard had two owners at once.
  const logs: ReplicaLog[] = replicas.map((b) => ({ id: b.instanceId, lines: b.log(), diedAt: killedAt.get(b.instanceId) }));
  const sent = logs.reduce((s, l) => s + l.lines.filter((x) => x['msg'] === 'module command sent').length, 0);
  assert.ok(sent >= pods, `the replicas logged ${sent} module commands for ${pods} pods: the log check would be empty`);
  assert.deepEqual(commandsOutsideOwnership(logs, SHARDS), []);
  assert.deepEqual(overlappingOwnership(logs), []);
  process.stderr.write(`# bridge sharding (${BASES} bases, ${SHARDS} shards, ${pods} module pods, ${((Date.now() - t0) / 1000).toFixed(0)} s):\n#   ${report.join('\n#   ')}\n#   ${counts.summary()}\n`);
});
