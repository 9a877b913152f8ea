/**
 * Bridge benchmark on the real control plane: 1,000 simulated bases heartbeating every 10 s, then
 * 1,000 module pods over 100 of them. Reports bridge CPU and memory, API writes per second, pod
 * create → Running latency (p50/p99) and the time until all are Running.
 *   node bench/bridge.ts [--bases 1000] [--pods 1000] [--pod-bases 100] [--steady 60]
 * The bridge runs in this process (so its CPU/memory are measured); bases and the broker run in
 * child processes. Loopback only; bounded in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { startControlPlane } from '../sandbox/control-plane.ts';
import { findFreePort } from '../sandbox/free-port.ts';
import { startBridge } from '../bridge/bridge.ts';
import { createSilentLogger } from '../core/logger.ts';
import { withSharedAgents } from '../core/kubeconfig.ts';
import { toNodeName, MODULE_COMPONENT_LABEL, VNODE_TAINT } from '../core/names.ts';
import { toSimIp } from '../base-sim/base-info.ts';
import { findMosquitto, startMosquitto } from '../test/support/mosquitto.ts';

const { values: a } = parseArgs({ options: { bases: { type: 'string', default: '1000' }, pods: { type: 'string', default: '1000' }, 'pod-bases': { type: 'string', default: '100' }, steady: { type: 'string', default: '60' } } });
const BASES = Number(a.bases), PODS = Number(a.pods), POD_BASES = Math.min(Number(a['pod-bases']), BASES), STEADY_S = Number(a.steady);
const say = (s: string) => process.stdout.write(`${s}\n`);
const pct = (xs: number[], p: number) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN; };
const children: ChildProcess[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-bench-bridge-'));
const cp = await startControlPlane({ dir, log: () => {} });
let stopBroker: () => void = () => {};
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
  say(`# bridge benchmark: ${BASES} bases, ${PODS} pods over ${POD_BASES} bases; broker ${url}`);
  say(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  withSharedAgents(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const registry = new Registry();
  const bridge = startBridge({
    kc, registry, logger: createSilentLogger(), concurrency: 16,
    settings: { env: 'default', stack: 'java', notReadyAfterMs: 30_000, deleteAfterMs: 600_000, commandTimeoutMs: 30_000, retryBackoffBaseMs: 2_000, retryBackoffMaxMs: 60_000, maxModulesPerBase: 100, nodeCpu: '100', nodeMemory: '16Gi', maxMessageAgeMs: 0, healthPollMs: 10_000, moduleListPollMs: 15_000, nodeLeaseRenewMs: 10_000, maxClockSkewMs: 3_600_000, reconnectGraceMs: 15_000 },
    mqtt: { url, clientIdPrefix: 'bench' }, leader: { enabled: false, name: 'x', namespace: 'default', durationMs: 10_000 },
  });
  const writes = async () => {
    const m = (await registry.getSingleMetric('module_controller_bridge_api_writes_total')?.get())?.values ?? [];
    return m.reduce((s, v) => s + v.value, 0);
  };
  await sleep(1000);
  const t0 = performance.now();
  children.push(spawn(process.execPath, ['cli/main.ts', 'base-sim', '--mqtt-url', url, '--count', String(BASES), '--ip-prefix', '127.3', '--heartbeat-period', '10s', '--install-latency', '200ms', '--log-level', 'warn'], { stdio: 'inherit' }));
  let ready = 0;
  while (ready < BASES && performance.now() - t0 < 300_000) {
    await sleep(2000);
    const nodes = await core.listNode({ labelSelector: 'virtual-kubelet.koupleless.io/component=vnode' });
    ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  }
  say(`| ${BASES} bases → Ready virtual nodes | ${((performance.now() - t0) / 1000).toFixed(1)} s (${ready} Ready) |`);

  const cpu0 = process.cpuUsage(); const w0 = await writes(); const s0 = performance.now();
  let maxRss = 0;
  for (let i = 0; i < STEADY_S; i++) { await sleep(1000); maxRss = Math.max(maxRss, process.memoryUsage().rss); }
  const secs = (performance.now() - s0) / 1000; const cpu = process.cpuUsage(cpu0);
  say(`| steady state, ${BASES} bases heartbeating every 10 s (${STEADY_S} s) | bridge CPU ${(((cpu.user + cpu.system) / 1e6 / secs) * 100).toFixed(1)} % of one core, RSS max ${(maxRss / 2 ** 20).toFixed(0)} MiB, ${(((await writes()) - w0) / secs).toFixed(1)} API writes/s |`);

  const ns = 'bench';
  await core.createNamespace({ body: { metadata: { name: ns } } });
  for (let i = 0; i < 100; i++) { try { await core.readNamespacedServiceAccount({ name: 'default', namespace: ns }); break; } catch { await sleep(100); } }
  const created = new Map<string, number>(); const running = new Map<string, number>();
  const cpu1 = process.cpuUsage(); const w1 = await writes(); const p0 = performance.now();
  let next = 0;
  const creator = async () => {
    while (next < PODS) {
      const i = next++;
      const base = toSimIp('127.3', i % POD_BASES);
      const name = `m${i}`;
      created.set(name, performance.now());
      await core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels: { [MODULE_COMPONENT_LABEL]: 'module' } }, spec: { nodeName: toNodeName(base), tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }], containers: [{ name: `biz${i}`, image: `https://example.invalid/biz${i}-1.0.0-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] } } });
    }
  };
  // Caught here so a failed list ends the run through the finally below (no stray control plane).
  let watchError: unknown;
  const watcher = (async () => {
    while (running.size < PODS && performance.now() - p0 < 600_000) {
      const list = await core.listNamespacedPod({ namespace: ns });
      const now = performance.now();
      for (const p of list.items) if (p.status?.phase === 'Running' && !running.has(p.metadata!.name!)) running.set(p.metadata!.name!, now);
      await sleep(250);
    }
  })().catch((err: unknown) => {
    watchError = err;
  });
  await Promise.all(Array.from({ length: 8 }, creator));
  const createdIn = (performance.now() - p0) / 1000;
  await watcher;
  if (watchError) throw watchError;
  const total = (performance.now() - p0) / 1000; const cpu2 = process.cpuUsage(cpu1);
  const lat = [...running].map(([n, t]) => t - created.get(n)!);
  say(`| ${PODS} module pods over ${POD_BASES} bases (created in ${createdIn.toFixed(1)} s) | all Running after ${total.toFixed(1)} s; create → Running p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms (${running.size}/${PODS}); bridge CPU ${(((cpu2.user + cpu2.system) / 1e6 / total) * 100).toFixed(0)} % of one core; ${(((await writes()) - w1) / total).toFixed(1)} API writes/s; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB |`);
  await bridge.stop();
  rmSync(dir, { recursive: true, force: true });
} catch (err) {
  say(`benchmark failed: ${(err as Error).message}; control-plane logs kept in ${dir}/logs`);
  process.exitCode = 1;
} finally {
  for (const c of children) c.kill('SIGTERM');
  stopBroker();
  await cp.stop();
}
