/**
 * Bridge sizing benchmark on the real control plane: N simulated bases join at once, then M bare
 * module pods bound to them by name (M/N per base), created in parallel at a bounded rate; then a
 * steady window. Reports join CPU (per 100 bases), converge time, steady CPU, RSS steady and peak,
 * and heapUsed / external / arrayBuffers after a full GC; with --heap-snapshot, a snapshot of the
 * steady bridge summarised by constructor name (bench/heap-summary.ts, in a child process).
 *   node --expose-gc bench/bridge-scale.ts [--bases 100] [--pods 1000] [--steady 60]
 *        [--create-rate 100] [--heap-snapshot file.heapsnapshot] [--bridge in-process|process]
 *        [--node-options "--max-semi-space-size=2 ..."] [--services] [--bridge-root <checkout>]
 *        [--bridge-cli dist/cli/main.js]
 * --bridge in-process (default): the bridge runs in this process (its CPU and memory are this
 * process's, which also holds the benchmark's own client and loaded test code). --bridge process:
 * `node cli/main.ts bridge` as its own process with --node-options as NODE_OPTIONS, as the chart
 * runs it; CPU and RSS from /proc, heap from its /metrics (after the full GC of a snapshot when
 * --heap-snapshot is given, else as it stands); --bridge-root runs the bridge of another checkout
 * (an earlier commit, for before/after in one session), --bridge-cli the built one (npm run build), as
 * the image runs it. base-sim and the broker always run in child
 * processes. Loopback only; bounded in time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { startControlPlane } from '../sandbox/control-plane.ts';
import { findFreePort } from '../sandbox/free-port.ts';
import { startBridge } from '../bridge/bridge.ts';
import { createSilentLogger } from '../core/logger.ts';
import { withSharedAgents } from '../core/kubeconfig.ts';
import { loadKubeConnection } from '../core/kube-connection.ts';
import { createKubeHttp } from '../core/kube-http.ts';
import { toNodeName, MODULE_COMPONENT_LABEL, VNODE_TAINT } from '../core/names.ts';
import { toSimIp } from '../base-sim/base-info.ts';
import { findMosquitto, startMosquitto } from '../test/support/mosquitto.ts';
import { readProcStat, readPromValue } from './proc-stats.ts';

const { values: a } = parseArgs({
  options: {
    bases: { type: 'string', default: '100' }, pods: { type: 'string', default: '1000' }, steady: { type: 'string', default: '60' },
    'create-rate': { type: 'string', default: '100' }, 'heap-snapshot': { type: 'string' },
    bridge: { type: 'string', default: 'in-process' }, 'node-options': { type: 'string', default: '' }, services: { type: 'boolean', default: false }, 'bridge-root': { type: 'string', default: '.' }, 'bridge-cli': { type: 'string', default: 'cli/main.ts' },
  },
});
const CHILD = a.bridge === 'process';
if (a.bridge !== 'in-process' && !CHILD) {
  process.stderr.write('bridge-scale: --bridge is in-process or process\n');
  process.exit(2);
}
const BASES = Number(a.bases), PODS = Number(a.pods), STEADY_S = Number(a.steady), RATE = Number(a['create-rate']);
if (![BASES, PODS, STEADY_S, RATE].every((n) => Number.isInteger(n) && n >= 0) || BASES < 1 || RATE < 1) {
  process.stderr.write('bridge-scale: --bases, --create-rate ≥ 1 and --pods, --steady ≥ 0 must be whole numbers\n');
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
const say = (s: string) => process.stdout.write(`${s}\n`);
const MiB = (b: number) => (b / 2 ** 20).toFixed(0);
const cpuS = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const children: ChildProcess[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-bench-scale-'));
const cp = await startControlPlane({ dir, log: () => {} });
let stopBroker: () => void = () => {};
let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); }, 250);
sampler.unref();
try {
  let url: string;
  if (findMosquitto()) {
    const m = await startMosquitto();
    url = m.url;
    stopBroker = m.stop;
  } else {
    const port = await findFreePort();
    const b = spawn(process.execPath, ['cli/main.ts', 'broker', '--port', String(port), '--ops-port', '0', '--log-level', 'warn'], { stdio: 'inherit' });
    children.push(b);
    url = `mqtt://127.0.0.1:${port}`;
    await sleep(1500);
  }
  say(`# bridge-scale: ${BASES} bases, ${PODS} module pods (${(PODS / BASES).toFixed(1)} per base), created at ≤ ${RATE}/s; broker ${url}`);
  say(`bridge: ${CHILD ? `own process, ${path.resolve(a['bridge-root'], a['bridge-cli'])}, NODE_OPTIONS="${a['node-options']}", MALLOC_ARENA_MAX=${process.env['MALLOC_ARENA_MAX'] ?? 'unset'}` : 'in this process'}${a.services ? ', module Services on' : ''}`);
  say(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, NODE_OPTIONS=${process.env['NODE_OPTIONS'] ?? ''} ${process.execArgv.join(' ')}; load at start ${load()}`);
  if (!gc) say('(run with --expose-gc for heap figures after a full GC)');
  // The bridge's client, as `module-controller bridge` builds it (here without a rate limit).
  const kube = createKubeHttp(loadKubeConnection(cp.kubeconfig));
  // The benchmark's own client (pod creation, progress): separate from the bridge's.
  const benchKc = new k8s.KubeConfig();
  benchKc.loadFromFile(cp.kubeconfig);
  withSharedAgents(benchKc);
  const core = benchKc.makeApiClient(k8s.CoreV1Api);
  const registry = new Registry();
  const rssIdle = process.memoryUsage.rss();
  const SETTINGS = { env: 'default', stack: 'java', notReadyAfterMs: 30_000, deleteAfterMs: 600_000, commandTimeoutMs: 30_000, retryBackoffBaseMs: 2_000, retryBackoffMaxMs: 60_000, maxModulesPerBase: 100, nodeCpu: '100', nodeMemory: '16Gi', maxMessageAgeMs: 0, healthPollMs: 10_000, moduleListPollMs: 15_000, nodeLeaseRenewMs: 10_000, maxClockSkewMs: 3_600_000, reconnectGraceMs: 15_000, installingStatusDelayMs: 1_000 };
  /** What the benchmark reads of the bridge, in this process or in its own. */
  interface Probe { cpu(): number; rss(): number; peakRss(): number; leasesCreated(): Promise<number>; writes(): Promise<number>; heap(): Promise<string>; snapshot(file: string): Promise<void>; stop(): Promise<void> }
  let probe: Probe;
  if (!CHILD) {
    const bridge = startBridge({
      kube, registry, logger: createSilentLogger(), concurrency: 16, settings: SETTINGS,
      mqtt: { url, clientIdPrefix: 'bench' }, leader: { enabled: false, name: 'x', namespace: 'default', durationMs: 10_000 },
      services: a.services ? { defaultType: 'NodePort', resyncMs: 30_000 } : undefined,
    });
    const metric = async (resource?: string, verb?: string) => {
      const m = (await registry.getSingleMetric('module_controller_bridge_api_writes_total')?.get())?.values ?? [];
      return m.filter((v) => (!resource || v.labels['resource'] === resource) && (!verb || v.labels['verb'] === verb)).reduce((s, v) => s + v.value, 0);
    };
    probe = {
      cpu: () => cpuS(process.cpuUsage()), rss: () => process.memoryUsage.rss(), peakRss: () => peakRss,
      leasesCreated: () => metric('leases', 'create'), writes: () => metric(),
      heap: async () => {
        if (gc) { gc(); gc(); }
        const m = process.memoryUsage();
        const h = v8.getHeapStatistics();
        const spaces = v8.getHeapSpaceStatistics().filter((x) => x.space_used_size > 2 ** 20).map((x) => `${x.space_name} ${MiB(x.space_used_size)}/${MiB(x.space_size)}`).join(', ');
        return `rss ${MiB(m.rss)} MiB; heapUsed ${MiB(m.heapUsed)} MiB of heapTotal ${MiB(m.heapTotal)}; external ${MiB(m.external)} MiB (arrayBuffers ${MiB(m.arrayBuffers)}); V8 heap limit ${MiB(h.heap_size_limit)} MiB; spaces used/size MiB: ${spaces}${gc ? '' : ' (no --expose-gc: not after a full GC)'}`;
      },
      snapshot: async (file) => { v8.writeHeapSnapshot(file); },
      stop: () => bridge.stop(),
    };
  } else {
    const opsPort = await findFreePort();
    const diagDir = mkdtempSync(path.join(os.tmpdir(), 'mc-bench-diag-'));
    const nodeOptions = `${a['node-options']} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${diagDir}`.trim();
    const child = spawn(process.execPath, [path.resolve(a['bridge-root'], a['bridge-cli']), 'bridge', '--kubeconfig', cp.kubeconfig, '--mqtt-url', url, '--env', 'default', '--leader-elect=false', '--port', String(opsPort), '--log-level', 'warn', `--module-services=${a.services}`, '--instance-id', 'bench'], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: nodeOptions } });
    children.push(child);
    const pid = child.pid!;
    const metrics = async () => (await fetch(`http://127.0.0.1:${opsPort}/metrics`, { signal: AbortSignal.timeout(120_000) })).text();
    const leaseApi = benchKc.makeApiClient(k8s.CoordinationV1Api);
    probe = {
      cpu: () => readProcStat(pid).cpuSeconds, rss: () => readProcStat(pid).rssBytes, peakRss: () => readProcStat(pid).peakRssBytes,
      leasesCreated: async () => { const l = await leaseApi.listNamespacedLease({ namespace: 'kube-node-lease', limit: 1 }); return l.items.length + (l.metadata?.remainingItemCount ?? 0); },
      writes: async () => readPromValue(await metrics(), 'module_controller_bridge_api_writes_total'),
      heap: async () => {
        const t = await metrics();
        const v = (n: string) => MiB(readPromValue(t, n));
        return `rss ${MiB(readProcStat(pid).rssBytes)} MiB (peak ${MiB(readProcStat(pid).peakRssBytes)}); heapUsed ${v('nodejs_heap_size_used_bytes')} MiB of heapTotal ${v('nodejs_heap_size_total_bytes')}; external ${v('nodejs_external_memory_bytes')} MiB; NODE_OPTIONS ${a['node-options'] || '(none)'}`;
      },
      snapshot: async (file) => {
        process.kill(pid, 'SIGUSR2');
        for (let i = 0; i < 600; i++) {
          await sleep(1000);
          const f = readdirSync(diagDir).find((x) => x.endsWith('.heapsnapshot'));
          // Written once the size stops growing for a second.
          if (f) { const size = () => readFileSync(path.join(diagDir, f)).length; const s1 = size(); await sleep(1500); if (size() === s1) { renameSync(path.join(diagDir, f), file); return; } }
        }
        throw new Error('the bridge wrote no heap snapshot within 10 minutes');
      },
      stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); rmSync(diagDir, { recursive: true, force: true }); },
    };
    for (let i = 0; i < 100; i++) { try { await metrics(); break; } catch { await sleep(200); } }
  }
  const writes = () => probe.writes();
  await sleep(1000);

  // Join: every base's Node created, status written and Lease created (one Lease create per base).
  const cpuJ = probe.cpu(); const tJ = performance.now();
  children.push(spawn(process.execPath, ['cli/main.ts', 'base-sim', '--mqtt-url', url, '--count', String(BASES), '--ip-prefix', '127.3', '--heartbeat-period', '10s', '--install-latency', '200ms', '--log-level', 'warn'], { stdio: 'inherit' }));
  while ((await probe.leasesCreated()) < BASES && performance.now() - tJ < 600_000) await sleep(CHILD ? 500 : 100);
  const joinS = (performance.now() - tJ) / 1000; const joinCpu = probe.cpu() - cpuJ;
  say(`| join | ${await probe.leasesCreated()}/${BASES} bases with Node + Lease after ${joinS.toFixed(1)} s; bridge CPU ${joinCpu.toFixed(2)} s = **${((joinCpu / BASES) * 100).toFixed(2)} s per 100 bases**; load ${load()} |`);
  await sleep(3000);

  // Pods: bare, bound by name, the virtual-node toleration, the module label; bounded rate.
  const ns = 'bench';
  await core.createNamespace({ body: { metadata: { name: ns } } });
  for (let i = 0; i < 100; i++) { try { await core.readNamespacedServiceAccount({ name: 'default', namespace: ns }); break; } catch { await sleep(100); } }
  const cpuC = probe.cpu(); const tC = performance.now();
  let next = 0;
  const creator = async () => {
    while (next < PODS) {
      const i = next++;
      const due = tC + (i / RATE) * 1000;
      if (due > performance.now()) await sleep(due - performance.now());
      const base = toSimIp('127.3', i % BASES);
      await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: `m${i}`, labels: { [MODULE_COMPONENT_LABEL]: 'module' } }, spec: { nodeName: toNodeName(base), tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }], containers: [{ name: `biz${i}`, image: `https://example.invalid/biz${i}-1.0.0-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] } } });
    }
  };
  await Promise.all(Array.from({ length: 16 }, creator));
  const createdS = (performance.now() - tC) / 1000;
  // All Running: no pod of the namespace outside phase Running (one small page per check).
  let pending = PODS;
  while (PODS > 0 && performance.now() - tC < 900_000) {
    const l = await core.listNamespacedPod({ namespace: ns, fieldSelector: 'status.phase!=Running', limit: 500 });
    pending = l.items.length + (l.metadata?.remainingItemCount ?? 0);
    if (pending === 0 && !l.metadata?._continue) break;
    await sleep(1000);
  }
  const convS = (performance.now() - tC) / 1000; const convCpu = probe.cpu() - cpuC;
  say(`| converge | ${PODS} pods created in ${createdS.toFixed(1)} s, all Running after ${convS.toFixed(1)} s (${pending} not Running); ${CHILD ? 'bridge' : 'bridge + creators'} CPU ${convCpu.toFixed(1)} s (${((convCpu / Math.max(PODS, 1)) * 1000).toFixed(1)} ms per pod); load ${load()} |`);

  // Steady: heartbeats, polls, Lease renewals; RSS sampled every 250 ms.
  const cpuS0 = probe.cpu(); const w0 = await writes(); const tS = performance.now();
  peakRss = process.memoryUsage.rss();
  const rss: number[] = [];
  for (let i = 0; i < STEADY_S; i++) { await sleep(1000); rss.push(probe.rss()); }
  const steadyS = (performance.now() - tS) / 1000; const steadyCpu = probe.cpu() - cpuS0;
  const rssSorted = [...rss].sort((x, y) => x - y);
  const rssMedian = rssSorted[Math.floor(rssSorted.length / 2)] ?? probe.rss();
  const peak = CHILD ? probe.peakRss() : Math.max(peakRss, ...rss);
  say(`| steady ${steadyS.toFixed(0)} s | bridge CPU ${steadyCpu.toFixed(2)} s (${((steadyCpu / steadyS) * 100).toFixed(1)} % of one core); ${(((await writes()) - w0) / steadyS).toFixed(1)} API writes/s; RSS median **${MiB(rssMedian)} MiB**, peak ${MiB(peak)} MiB (${CHILD ? 'the bridge process, whole run' : `this process, steady window; ${MiB(rssIdle)} MiB before the bridge started`}); load ${load()} |`);
  if (a['heap-snapshot']) {
    await probe.snapshot(a['heap-snapshot']);
    say(`| after the snapshot's full GC | ${await probe.heap()} |`);
    const r = spawnSync(process.execPath, ['bench/heap-summary.ts', a['heap-snapshot'], '--top', '25'], { encoding: 'utf8', maxBuffer: 2 ** 24 });
    say(r.stdout || `heap summary failed: ${r.stderr}`);
  } else {
    say(`| ${CHILD ? 'heap' : 'after full GC'} | ${await probe.heap()} |`);
  }
  await probe.stop();
  rmSync(dir, { recursive: true, force: true });
} catch (err) {
  say(`benchmark failed: ${(err as Error).message}; control-plane logs kept in ${dir}/logs`);
  process.exitCode = 1;
} finally {
  for (const c of children) c.kill('SIGTERM');
  stopBroker();
  await cp.stop();
}
