/**
 * Sharded bridge benchmark (issue #13): bases per replica vs replicas on this machine. For each
 * replica count R (default 1, 2, 3), on a fresh real control plane and a real Mosquitto:
 *   R bridge replicas as child processes (production timings: 10 s lease, 10 s health polls, 15 s
 *   module lists, 10 s node Lease renewals), N simulated bases (a base-sim child process, 10 s
 *   heartbeats, 200 ms installs) joining at once, then one module pod per base.
 * Reports per replica: bases owned, CPU seconds while the fleet joins and while the modules converge,
 * CPU % and RSS in steady state, peak RSS; the time to Ready nodes and to all pods Running; and with
 * R ≥ 2 the takeover after kill -9 of one replica (until every shard is held by a live replica whose
 * gauges agree) and how long a pod created on a dead replica's base right after the kill takes to run.
 *   node bench/bridge-shards.ts [--bases 600] [--replicas 1,2,3] [--shards 16] [--steady 30]
 * Bridges and bases are separate processes (per-process CPU and RSS from /proc); loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { startControlPlane } from '../sandbox/control-plane.ts';
import { withSharedAgents } from '../core/kubeconfig.ts';
import { toNodeName, MODULE_COMPONENT_LABEL, VNODE_TAINT } from '../core/names.ts';
import { toSimIp } from '../base-sim/base-info.ts';
import { startMosquitto } from '../test/support/mosquitto.ts';
import { startBridgeProcess, type BridgeProcess } from '../test/support/bridge-process.ts';
import { basesByOwner, ownershipProblems, readShardOwnership } from '../test/support/shard-observer.ts';

const { values: a } = parseArgs({ options: {
  bases: { type: 'string', default: '600' }, replicas: { type: 'string', default: '1,2,3' },
  shards: { type: 'string', default: '16' }, steady: { type: 'string', default: '30' },
} });
const BASES = Number(a.bases), SHARDS = Number(a.shards), STEADY_S = Number(a.steady);
const COUNTS = a.replicas.split(',').map(Number);
if (!(BASES >= 1 && BASES <= 5_000) || !(SHARDS >= 1) || COUNTS.some((c) => !(c >= 1 && c <= 6))) {
  throw new Error('usage: --bases 1..5000 --replicas 1,2,3 (each 1..6) --shards ≥1 --steady <s>');
}
const say = (s: string) => process.stdout.write(`${s}\n`);
const CLK_TCK = 100; // Linux USER_HZ
const LEASE_NAMESPACE = 'default';
const PRODUCTION = [
  '--not-ready-after', '30s', '--delete-after', '10m', '--health-poll-period', '10s', '--module-list-period', '15s',
  '--node-lease-renew', '10s', '--command-timeout', '30s', '--retry-backoff-base', '2s', '--retry-backoff-max', '60s',
  '--leader-lease-duration', '10s', '--max-modules-per-base', '100', '--shards', String(SHARDS),
];

/** CPU seconds (user + system) and RSS bytes of one process, from /proc. */
function procStats(pid: number): { cpuS: number; rss: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { cpuS, rss: rssKb * 1024 };
  } catch {
    return { cpuS: NaN, rss: 0 };
  }
}

/** Samples every bridge's RSS each second; `peak()` is the highest per replica since the last reset. */
function rssSampler(bridges: () => BridgeProcess[]) {
  const peak = new Map<string, number>();
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const b of bridges()) if (!b.exited()) peak.set(b.instanceId, Math.max(peak.get(b.instanceId) ?? 0, procStats(b.pid).rss));
      await sleep(1000);
    }
  })();
  return { peak: (id: string) => peak.get(id) ?? 0, stop: async () => { on = false; await loop; } };
}

const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const range = (xs: number[], f: (x: number) => string = String) => {
  if (xs.length === 0) return '–';
  const [lo, hi] = [f(Math.min(...xs)), f(Math.max(...xs))];
  return lo === hi ? lo : `${lo}–${hi}`;
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-bench-shards-'));
const cp = await startControlPlane({ dir, log: () => {} });
const mq = await startMosquitto();
const kc = new k8s.KubeConfig();
kc.loadFromFile(cp.kubeconfig);
withSharedAgents(kc);
const core = kc.makeApiClient(k8s.CoreV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
const rows: string[] = [];
const children: ChildProcess[] = [];
let all: BridgeProcess[] = [];

say(`# sharded bridge benchmark: ${BASES} bases, one module pod each, ${SHARDS} shards, replicas ${COUNTS.join(', ')}`);
say(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; load at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

try {
  for (const [round, R] of COUNTS.entries()) {
    const env = `bench${round}x${R}`;
    const leaseName = `${env}-bridge`;
    const IP_PREFIX = `127.${70 + round}`; // fresh node names every round
    const identities = Array.from({ length: BASES }, (_, i) => toSimIp(IP_PREFIX, i));
    const bridges = await Promise.all(Array.from({ length: R }, (_, i) => startBridgeProcess({
      kubeconfig: cp.kubeconfig, mqttUrl: mq.url, env, instanceId: `${env}-r${i}`, leaseName, args: PRODUCTION, logLevel: 'info',
    })));
    all = bridges;
    const live = () => bridges.filter((b) => !b.exited());
    const agreed = async () => {
      const o = await readShardOwnership(coordination, LEASE_NAMESPACE, leaseName, SHARDS);
      const views = await Promise.all(live().map(async (b) => ({ id: b.instanceId, shardsOwned: await b.metric('module_controller_bridge_shards_owned'), basesOwned: await b.metric('module_controller_bridge_bases_owned') })));
      return ownershipProblems(o, views, identities).length === 0 ? o : undefined;
    };
    const cpu = () => new Map(bridges.map((b) => [b.instanceId, procStats(b.pid).cpuS]));
    const cpuSince = (m0: Map<string, number>) => bridges.filter((b) => !b.exited()).map((b) => procStats(b.pid).cpuS - m0.get(b.instanceId)!);
    const rss = rssSampler(() => bridges);

    // Join: the fleet connects at once.
    const c0 = cpu();
    const tJoin = performance.now();
    const sim = spawn(process.execPath, ['cli/main.ts', 'base-sim', '--mqtt-url', mq.url, '--env', env, '--count', String(BASES), '--ip-prefix', IP_PREFIX,
      '--heartbeat-period', '10s', '--install-latency', '200ms', '--log-level', 'warn'], { stdio: 'inherit' });
    children.push(sim);
    await until(`${BASES} Ready nodes`, async () => {
      const nodes = await core.listNode({ labelSelector: 'virtual-kubelet.koupleless.io/component=vnode' });
      const ready = nodes.items.filter((n) => n.metadata?.labels?.['base.koupleless.io/name'] !== undefined && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length >= BASES ? true : undefined;
    }, 300_000, 1000);
    const joinS = (performance.now() - tJoin) / 1000;
    const joinCpu = cpuSince(c0);
    const owned = await until('one owner per base', agreed, 60_000);
    const perReplica = bridges.map((b) => basesByOwner(owned, identities).get(b.instanceId)?.length ?? 0);

    // Converge: one module pod per base.
    const ns = `bench-${env}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await until('default ServiceAccount', async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: ns })) ? true : undefined, 30_000, 100);
    const pod = (name: string, base: string): k8s.V1Pod => ({
      metadata: { name, labels: { [MODULE_COMPONENT_LABEL]: 'module' } },
      spec: { nodeName: toNodeName(base), tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
        containers: [{ name: 'benchbiz', image: 'https://example.invalid/benchbiz-1.0.0-ark-biz.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] },
    });
    const running = async (want: number) => {
      const pods = await core.listNamespacedPod({ namespace: ns });
      return pods.items.filter((p) => p.status?.phase === 'Running').length >= want ? true : undefined;
    };
    const c1 = cpu();
    const tConv = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < BASES) { const i = next++; await core.createNamespacedPod({ namespace: ns, body: pod(`m${i}`, identities[i]!) }); }
    }));
    await until(`${BASES} pods Running`, () => running(BASES), 600_000, 500);
    const convS = (performance.now() - tConv) / 1000;
    const convCpu = cpuSince(c1);

    // Steady state.
    await sleep(5_000);
    const c2 = cpu();
    const tSteady = performance.now();
    await sleep(STEADY_S * 1000);
    const steadyPct = cpuSince(c2).map((s) => (s / ((performance.now() - tSteady) / 1000)) * 100);
    const steadyRss = live().map((b) => procStats(b.pid).rss);

    // Takeover after kill -9.
    let takeover = '–';
    if (R >= 2) {
      const victim = bridges[R - 1]!;
      const victimBases = basesByOwner(owned, identities).get(victim.instanceId) ?? [];
      const probe = victimBases[0];
      await victim.kill9();
      const tKill = performance.now();
      if (probe) await core.createNamespacedPod({ namespace: ns, body: { ...pod('probe', probe), spec: { ...pod('probe', probe).spec!, containers: [{ name: 'probebiz', image: 'https://example.invalid/probebiz-1.0.0-ark-biz.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] } } });
      await until('the dead replica\'s shards owned again', agreed, 60_000, 200);
      const ownedMs = performance.now() - tKill;
      await until('the probe pod Running', async () => ((await core.readNamespacedPod({ name: 'probe', namespace: ns })).status?.phase === 'Running' ? true : undefined), 60_000, 200);
      const probeMs = performance.now() - tKill;
      takeover = `${(ownedMs / 1000).toFixed(1)} s (${victimBases.length} bases; a new pod on one Running after ${(probeMs / 1000).toFixed(1)} s)`;
    }
    await rss.stop();
    const peaks = bridges.map((b) => rss.peak(b.instanceId));
    const f1 = (x: number) => x.toFixed(1);
    rows.push(`| ${R} | ${range(perReplica)} | ${joinS.toFixed(1)} s | ${range(joinCpu, f1)} | ${convS.toFixed(1)} s | ${range(convCpu, f1)} | ${range(steadyPct, f1)} % | ${range(steadyRss, mib)} / ${range(peaks, mib)} MiB | ${takeover} |`);
    say(rows.at(-1)!);

    // Clean up before the next round: bases gone, bridges stopped, nodes and pods removed.
    sim.kill('SIGTERM');
    for (const b of bridges) await b.terminate();
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    await core.deleteCollectionNode({ labelSelector: 'virtual-kubelet.koupleless.io/component=vnode' }).catch(() => undefined);
    await sleep(3_000);
  }
  say('');
  say(`| replicas | bases per replica | join (${BASES} Ready) | CPU-s per replica, join | converge (${BASES} pods Running) | CPU-s per replica, converge | CPU per replica, steady ${STEADY_S} s | RSS per replica, steady / peak | kill -9 → owned again |`);
  say('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) say(r);
  say(`load at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  rmSync(dir, { recursive: true, force: true });
} catch (err) {
  say(`benchmark failed: ${(err as Error).message}; control-plane logs kept in ${dir}/logs; bridge logs: ${all.map((b) => b.logFile).join(' ')}`);
  process.exitCode = 1;
} finally {
  for (const c of children) c.kill('SIGTERM');
  for (const b of all) await b.kill9();
  mq.stop();
  await cp.stop();
}
