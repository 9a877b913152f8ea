/**
 * Bridge benchmark on the real control plane, Mosquitto and base-sim (issue 13's scenario):
 *   1. join: `--bases` simulated bases join in `--waves` waves (`--wave-gap` apart) → all Ready;
 *   2. converge: `--pods` bare module pods (bound by name, round-robin over the first `--pod-bases`
 *      bases), created by `--clients` parallel clients at `--rate` pods/s in total (0 = as fast as
 *      they can) → all Running; base-sim installs take `--install-latency`, one at a time per base;
 *   3. steady: `--steady` seconds with every module Running;
 *   4. delete: every pod deleted → every pod gone from the API and no module left on any base.
 * `--cpu-hog` runs a bounded child process that keeps one core busy for the whole run.
 *
 * The bridge is the real `cli/main.ts bridge` in a child process with its shipped defaults (log
 * level info to /dev/null, API QPS 200), so its CPU and RSS are read from /proc alone (nothing of
 * the bench's own clients is counted); its API writes come from its /metrics. `--code-root <dir>`
 * runs the bridge of another checkout (a before/after comparison in one session);
 * `--bridge-node-args='--cpu-prof --cpu-prof-dir=/tmp/prof'` profiles it. The bridge runs with the
 * chart's Node options (bridge/runtime.ts BRIDGE_NODE_OPTIONS) unless `--no-shipped-node-options`.
 *   node bench/bridge.ts [--bases 100] [--pods 1000] [--rate 50] [--clients 16] [--cpu-hog]
 *   node bench/bridge.ts --bases 1000 --pod-bases 100 --waves 1 --rate 0 --clients 8  (the 1,000-base run)
 * Loopback only; bounded in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { connect } from 'mqtt';
import { startControlPlane } from '../sandbox/control-plane.ts';
import { findFreePort } from '../sandbox/free-port.ts';
import { withSharedAgents } from '../core/kubeconfig.ts';
import { toNodeName, MODULE_COMPONENT_LABEL, VNODE_TAINT, DEFAULTS } from '../core/names.ts';
import { toBaseTopic, toCommandTopic } from '../core/topics.ts';
import { BRIDGE_NODE_OPTIONS } from '../bridge/runtime.ts';
import { toSimIp } from '../base-sim/base-info.ts';
import { findMosquitto, startMosquitto } from '../test/support/mosquitto.ts';

const { values: a } = parseArgs({
  options: {
    bases: { type: 'string', default: '100' },
    pods: { type: 'string', default: '1000' },
    'pod-bases': { type: 'string' },
    waves: { type: 'string', default: '4' },
    'wave-gap': { type: 'string', default: '3' },
    rate: { type: 'string', default: '50' },
    clients: { type: 'string', default: '16' },
    'install-latency': { type: 'string', default: '200ms' },
    steady: { type: 'string', default: '60' },
    'cpu-hog': { type: 'boolean', default: false },
    'code-root': { type: 'string' },
    'bridge-args': { type: 'string', default: '' },
    'bridge-node-args': { type: 'string', default: '' },
    'no-shipped-node-options': { type: 'boolean', default: false },
    /** Keep the bridge's and base-sim's logs (info) in this folder. */
    logs: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log(`node bench/bridge.ts [options]: issue 13's bridge scenario on the real control plane, Mosquitto and base-sim
  --bases N (100)            simulated bases, joining in --waves W (4) waves --wave-gap S (3) seconds apart
  --pods N (1000)            bare module pods, round-robin over the first --pod-bases N (all) bases
  --rate N (50)              pods created per second in total by --clients N (16) clients (0 = as fast as they can)
  --install-latency D (200ms) how long base-sim takes per install (one at a time per base)
  --steady S (60)            seconds of steady state measured after every module is Running
  --cpu-hog                  a bounded child process keeps one core busy for the whole run
  --code-root DIR            run the bridge of another checkout (before/after in one session)
  --bridge-args '...'        extra bridge flags; --bridge-node-args '...' extra Node options (e.g. --cpu-prof)
  --no-shipped-node-options  without the chart's Node options (bridge/runtime.ts)
  --logs DIR                 keep the bridge's and base-sim's logs (info) there`);
  process.exit(0);
}
const BASES = Number(a.bases), PODS = Number(a.pods), POD_BASES = Math.min(Number(a['pod-bases'] ?? a.bases), BASES);
const WAVES = Math.max(1, Math.min(Number(a.waves), BASES)), WAVE_GAP_MS = Number(a['wave-gap']) * 1000;
const RATE = Number(a.rate), CLIENTS = Number(a.clients), STEADY_S = Number(a.steady);
const ROOT = path.resolve(a['code-root'] ?? path.join(import.meta.dirname, '..'));
for (const [k, v] of Object.entries({ bases: BASES, pods: PODS, waves: WAVES, rate: RATE, clients: CLIENTS, steady: STEADY_S })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a number ≥ 0, got ${String(v)}`);
}
const IP_PREFIX = '127.3';
const say = (s: string) => process.stdout.write(`${s}\n`);
const pct = (xs: number[], p: number) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN; };
const f1 = (x: number) => x.toFixed(1), f2 = (x: number) => x.toFixed(2);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/** CPU seconds (user + system) of a process, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
/** Current and peak RSS of a process in MiB. */
function rssMiB(pid: number): { now: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const children: ChildProcess[] = [];
if (a.logs) mkdirSync(a.logs, { recursive: true });
/** stdout of a child: a log file under --logs, else nowhere. */
const logTo = (name: string) => (a.logs ? openSync(path.join(a.logs, name), 'w') : 'ignore');
const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-bench-bridge-'));
const load0 = os.loadavg();
const cp = await startControlPlane({ dir, log: () => {} });
let stopBroker: () => void = () => {};
const results: string[] = [];
const row = (k: string, v: string) => { results.push(`| ${k} | ${v} |`); say(`| ${k} | ${v} |`); };
try {
  let url: string;
  if (findMosquitto()) {
    const m = await startMosquitto();
    url = m.url;
    stopBroker = m.stop;
  } else {
    const port = await findFreePort();
    children.push(spawn(process.execPath, ['cli/main.ts', 'broker', '--port', String(port), '--ops-port', '0', '--log-level', 'warn'], { stdio: 'inherit' }));
    url = `mqtt://127.0.0.1:${port}`;
    await sleep(1500);
  }
  const cpus = os.cpus();
  say(`# bridge benchmark: ${BASES} bases in ${WAVES} waves, ${PODS} pods over ${POD_BASES} bases at ${RATE || 'max'}/s by ${CLIENTS} clients, install latency ${a['install-latency']}${a['cpu-hog'] ? ', one core kept busy (--cpu-hog)' : ''}; broker ${url}; bridge code ${ROOT}; bridge node options "${[...(a['no-shipped-node-options'] ? [] : [BRIDGE_NODE_OPTIONS]), a['bridge-node-args']].filter(Boolean).join(' ')}"`);
  say(`machine: ${cpus.length} x ${cpus[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average at start ${load0.map(f2).join(' ')}`);
  if (a['cpu-hog']) {
    // Bounded: it ends on its own after 30 minutes even if this process is killed.
    children.push(spawn(process.execPath, ['-e', 'const end = Date.now() + 1_800_000; while (Date.now() < end) { for (let i = 0; i < 1e6; i++); }'], { stdio: 'ignore' }));
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  withSharedAgents(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);

  const opsPort = await findFreePort();
  const bridgeProc = spawn(process.execPath, [
    ...(a['no-shipped-node-options'] ? [] : BRIDGE_NODE_OPTIONS.split(' ')), ...a['bridge-node-args'].split(' ').filter(Boolean), path.join(ROOT, 'cli/main.ts'), 'bridge', '--kubeconfig', cp.kubeconfig, '--mqtt-url', url, '--ops-port', String(opsPort),
    '--mqtt-client-id-prefix', 'bench', ...a['bridge-args'].split(' ').filter(Boolean),
  ], { cwd: ROOT, stdio: ['ignore', logTo('bridge.log'), 'inherit'] });
  children.push(bridgeProc);
  const pid = bridgeProc.pid!;
  const writesBy = async () => {
    const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    const by = new Map<string, number>();
    for (const l of text.split('\n')) {
      if (!l.startsWith('module_controller_bridge_api_writes_total{')) continue;
      const labels = l.slice(l.indexOf('{') + 1, l.indexOf('}')).replace(/"/g, '').replace(/resource=|verb=/g, '');
      by.set(labels, Number(l.split(' ').at(-1)));
    }
    return by;
  };
  /** Sum and count of a histogram of the bridge (all label sets). */
  const histogram = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    let sum = 0, count = 0;
    for (const l of text.split('\n')) {
      if (l.startsWith(`${name}_sum`)) sum += Number(l.split(' ').at(-1));
      if (l.startsWith(`${name}_count`)) count += Number(l.split(' ').at(-1));
    }
    return { sum, count };
  };
  const meanSince = (a: { sum: number; count: number }, b: { sum: number; count: number }) => (b.count > a.count ? (b.sum - a.sum) / (b.count - a.count) : NaN);
  const writes = async () => [...(await writesBy()).values()].reduce((x, y) => x + y, 0);
  const diffWrites = (a: Map<string, number>, b: Map<string, number>) => [...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ');
  for (let i = 0; ; i++) {
    try { await writes(); break; } catch { if (i > 100) throw new Error('the bridge did not start (no /metrics after 20 s)'); await sleep(200); }
  }
  let peakRss = 0;
  const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, rssMiB(pid).now); } catch { /* gone */ } }, 500);
  sampler.unref();

  // 1. join, in waves.
  const cpuJ0 = cpuSeconds(pid); const t0 = performance.now();
  const perWave = Math.ceil(BASES / WAVES);
  for (let w = 0, first = 0; first < BASES; w++, first += perWave) {
    if (w > 0) await sleep(WAVE_GAP_MS);
    children.push(spawn(process.execPath, ['cli/main.ts', 'base-sim', '--mqtt-url', url, '--count', String(Math.min(perWave, BASES - first)), '--first-index', String(first), '--ip-prefix', IP_PREFIX, '--heartbeat-period', '10s', '--install-latency', a['install-latency'], '--log-level', a.logs ? 'info' : 'warn'], { stdio: ['ignore', logTo(`base-sim-${w}.log`), 'inherit'] }));
  }
  let ready = 0;
  while (ready < BASES && performance.now() - t0 < 300_000) {
    await sleep(500);
    const nodes = await core.listNode({ labelSelector: 'virtual-kubelet.koupleless.io/component=vnode' });
    ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  }
  const joinS = (performance.now() - t0) / 1000; const cpuJoin = cpuSeconds(pid) - cpuJ0;
  row(`${BASES} bases join (${WAVES} waves, ${WAVE_GAP_MS / 1000} s apart)`, `${ready} Ready after ${f1(joinS)} s; bridge CPU ${f2(cpuJoin)} s`);
  if (ready < BASES) throw new Error(`only ${ready} of ${BASES} nodes Ready`);
  await sleep(3000);

  // 2. converge.
  const ns = 'bench';
  await core.createNamespace({ body: { metadata: { name: ns } } });
  for (let i = 0; i < 100; i++) { try { await core.readNamespacedServiceAccount({ name: 'default', namespace: ns }); break; } catch { await sleep(100); } }
  const created = new Map<string, number>(); const running = new Map<string, number>(); const present = new Set<string>();
  // A watch of the bench's pods, re-established whenever the server ends it (an ADDED replay is harmless).
  const watch = new k8s.Watch(kc);
  let watching = true;
  let watchReq: AbortController | undefined;
  const startWatch = async (): Promise<void> => {
    // List first: what is there now (a DELETED event missed between two watches must not linger).
    const list = await core.listNamespacedPod({ namespace: ns });
    const now = performance.now();
    present.clear();
    for (const p of list.items) {
      present.add(p.metadata!.name!);
      if (p.status?.phase === 'Running' && !running.has(p.metadata!.name!)) running.set(p.metadata!.name!, now);
    }
    watchReq = await watch.watch(`/api/v1/namespaces/${ns}/pods`, { resourceVersion: list.metadata?.resourceVersion }, (type, pod: k8s.V1Pod) => {
      const name = pod.metadata?.name ?? '';
      if (type === 'DELETED') { present.delete(name); return; }
      if (type !== 'ADDED' && type !== 'MODIFIED') return;
      present.add(name);
      if (pod.status?.phase === 'Running' && !running.has(name)) running.set(name, performance.now());
    }, () => {
      if (watching) setTimeout(() => void startWatch().catch(() => undefined), 200);
    });
  };
  await startWatch();
  const watchDone = false;
  const cpuC0 = cpuSeconds(pid); const wC0 = await writes(); const byC0 = await writesBy(); const op0 = await histogram('module_controller_bridge_module_operation_seconds'); const rc0 = await histogram('module_controller_bridge_reconcile_seconds'); const p0 = performance.now();
  let next = 0;
  const interval = RATE > 0 ? 1000 / RATE : 0;
  const creator = async () => {
    while (next < PODS) {
      const i = next++;
      // Paced as one stream over all clients: pod i goes at p0 + i / rate.
      const due = p0 + i * interval - performance.now();
      if (due > 0) await sleep(due);
      const name = `m${i}`;
      created.set(name, performance.now());
      const base = toSimIp(IP_PREFIX, i % POD_BASES);
      await core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels: { [MODULE_COMPONENT_LABEL]: 'module' } }, spec: { nodeName: toNodeName(base), tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }], containers: [{ name: `biz${i}`, image: `https://example.invalid/biz${i}-1.0.0-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] } } });
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, creator));
  const createdIn = (performance.now() - p0) / 1000;
  while (running.size < PODS && performance.now() - p0 < 600_000 && !watchDone) await sleep(100);
  const convergeS = (performance.now() - p0) / 1000; const cpuConv = cpuSeconds(pid) - cpuC0; const wConv = (await writes()) - wC0; const byConv = diffWrites(byC0, await writesBy());
  const opMean = meanSince(op0, await histogram('module_controller_bridge_module_operation_seconds')); const rc = await histogram('module_controller_bridge_reconcile_seconds');
  const lat = [...running].map(([n, t]) => (t - created.get(n)!) / 1000);
  const p50 = pct(lat, 50), p99 = pct(lat, 99);
  const msPerPod = (cpuConv * 1000) / Math.max(1, PODS);
  row(`${PODS} module pods over ${POD_BASES} bases (created in ${f1(createdIn)} s)`, `${running.size}/${PODS} Running after ${f1(convergeS)} s; create → Running p50 ${f2(p50)} s, p99 ${f2(p99)} s; bridge CPU ${f2(cpuConv)} s = ${f1(msPerPod)} ms per pod; ${wConv} API writes (${f2(wConv / Math.max(1, PODS))} per pod: ${byConv}); command → base's answer mean ${f2(opMean)} s; ${rc.count - rc0.count} reconciles, mean ${(meanSince(rc0, rc) * 1000).toFixed(0)} ms`);

  // 3. steady.
  const cpuS0 = cpuSeconds(pid); const wS0 = await writes(); const byS0 = await writesBy(); const s0 = performance.now();
  let rssSum = 0, rssN = 0;
  while (performance.now() - s0 < STEADY_S * 1000) { await sleep(1000); rssSum += rssMiB(pid).now; rssN++; }
  const steadyS = (performance.now() - s0) / 1000; const cpuSteady = cpuSeconds(pid) - cpuS0; const wSteady = ((await writes()) - wS0) / steadyS; const bySteady = diffWrites(byS0, await writesBy());
  const rssSteady = rssSum / Math.max(1, rssN);
  row(`steady state (${f1(steadyS)} s)`, `bridge CPU ${f2(cpuSteady)} s (${f1((cpuSteady / steadyS) * 100)} % of one core); ${f1(wSteady)} API writes/s (${bySteady}); RSS ${rssSteady.toFixed(0)} MiB`);

  // 4. delete.
  const cpuD0 = cpuSeconds(pid); const d0 = performance.now();
  const names = [...created.keys()];
  let di = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => { while (di < names.length) await core.deleteNamespacedPod({ name: names[di++]!, namespace: ns }).catch(() => undefined); }));
  while (present.size > 0 && performance.now() - d0 < 300_000 && !watchDone) await sleep(100);
  const goneS = (performance.now() - d0) / 1000;
  // Ask every base for its module list over MQTT (what the bridge itself would be told).
  const mq = connect(url, { clientId: `bench-check-${process.pid}`, clean: true, protocolVersion: 4 });
  await new Promise<void>((r, j) => { mq.once('connect', () => r()); mq.once('error', j); });
  const counts = new Map<string, number>();
  mq.on('message', (topic, payload) => {
    const id = topic.split('/')[1]!;
    try { counts.set(id, ((JSON.parse(payload.toString()) as { data?: unknown[] }).data ?? []).length); } catch { /* ignore */ }
  });
  await mq.subscribeAsync(toBaseTopic(DEFAULTS.mqttEnv, '+', 'simpleBiz'), { qos: 1 });
  let emptyS = NaN;
  const bases = Array.from({ length: POD_BASES }, (_, i) => toSimIp(IP_PREFIX, i));
  const checkUntil = performance.now() + 120_000;
  while (performance.now() < checkUntil) {
    counts.clear();
    for (const b of bases) await mq.publishAsync(toCommandTopic(DEFAULTS.mqttEnv, b, 'queryAllBiz'), '{}', { qos: 1 });
    await sleep(1000);
    if (counts.size === bases.length && [...counts.values()].every((n) => n === 0)) { emptyS = (performance.now() - d0) / 1000; break; }
  }
  await mq.endAsync();
  const cpuDel = cpuSeconds(pid) - cpuD0;
  const left = [...counts.values()].reduce((s, n) => s + n, 0);
  row('delete every pod', `all gone from the API after ${f1(goneS)} s; no module left on any base after ${f1(emptyS)} s (${left} left); bridge CPU ${f2(cpuDel)} s`);
  watching = false;
  watchReq?.abort();
  const rss = rssMiB(pid);
  row('bridge RSS', `steady ${rssSteady.toFixed(0)} MiB, peak ${Math.max(peakRss, rss.peak).toFixed(0)} MiB`);
  row('CPU s: join / converge / steady / delete', `${f2(cpuJoin)} / ${f2(cpuConv)} / ${f2(cpuSteady)} / ${f2(cpuDel)}`);
  say('');
  say(`targets: create → Running p50 ≤ 1.2 s: ${verdict(p50 <= 1.2)} (${f2(p50)} s); p99 ≤ 2.5 s: ${verdict(p99 <= 2.5)} (${f2(p99)} s); converge CPU ≤ 5 ms per pod: ${verdict(msPerPod <= 5)} (${f1(msPerPod)} ms); all Running: ${verdict(running.size === PODS)}; no module left: ${verdict(left === 0 && Number.isFinite(emptyS))}`);
  say(`load average at the end ${os.loadavg().map(f2).join(' ')}`);
  rmSync(dir, { recursive: true, force: true });
} catch (err) {
  say(`benchmark failed: ${(err as Error).message}; control-plane logs kept in ${dir}/logs`);
  process.exitCode = 1;
} finally {
  for (const c of children.reverse()) c.kill('SIGTERM');
  await sleep(500);
  stopBroker();
  await cp.stop();
}
