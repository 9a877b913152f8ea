/**
 * Bridge memory under base churn, on the real control plane: each round, 1,000 simulated bases join
 * under NEW identities (fresh IPs, like restarted base pods), are killed, and their nodes are deleted
 * after a short --delete-after. After every round (all old nodes gone) it reports the bridge's
 * registry size, heap used after a full GC, and RSS. Memory must stay flat: nothing per base may
 * outlive the base.
 *   node --expose-gc bench/bridge-churn.ts [--bases 1000] [--rounds 5]
 * The bridge runs in this process; bases (base-sim) and the broker (Mosquitto, else the Aedes broker)
 * run in child processes. Loopback only; bounded in time.
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
import { loadKubeConnection } from '../core/kube-connection.ts';
import { createKubeHttp } from '../core/kube-http.ts';
import { findMosquitto, startMosquitto } from '../test/support/mosquitto.ts';

// Short --delete-after so old nodes go each round; heartbeats every 5 s; node Leases every 40 s so
// the API server (not the bridge) is not what a shared 2-vCPU machine measures.
const { values: a } = parseArgs({ options: { bases: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } } });
const BASES = Number(a.bases), ROUNDS = Number(a.rounds);
const say = (s: string) => process.stdout.write(`${s}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const children: ChildProcess[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-bench-churn-'));
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
    children.push(spawn(process.execPath, ['cli/main.ts', 'broker', '--port', String(port), '--ops-port', '0', '--log-level', 'warn'], { stdio: 'inherit' }));
    url = `mqtt://127.0.0.1:${port}`;
    await sleep(1500);
  }
  say(`# bridge churn benchmark: ${ROUNDS} rounds of ${BASES} bases under new identities; broker ${url}${gc ? '' : ' (run with --expose-gc for heap after GC)'}`);
  say(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  withSharedAgents(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const bridge = startBridge({
    kube: createKubeHttp(loadKubeConnection(cp.kubeconfig)), registry: new Registry(), logger: createSilentLogger(), concurrency: 16,
    settings: { env: 'default', stack: 'java', notReadyAfterMs: 20_000, deleteAfterMs: 25_000, commandTimeoutMs: 30_000, retryBackoffBaseMs: 2_000, retryBackoffMaxMs: 60_000, maxModulesPerBase: 100, nodeCpu: '100', nodeMemory: '16Gi', maxMessageAgeMs: 0, healthPollMs: 10_000, moduleListPollMs: 15_000, nodeLeaseRenewMs: 40_000, maxClockSkewMs: 3_600_000, reconnectGraceMs: 3_000, installingStatusDelayMs: 1_000 },
    mqtt: { url, clientIdPrefix: 'bench' }, leader: { enabled: false, name: 'x', namespace: 'default', durationMs: 10_000 },
  });
  const vnodes = async () => (await core.listNode({ labelSelector: 'virtual-kubelet.koupleless.io/component=vnode' })).items;
  const measure = () => {
    gc?.();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, rss: m.rss };
  };
  await sleep(4000);
  const base0 = measure();
  say('\n| round | join (s) | gone (s) | registry after | heap after GC (MiB) | RSS (MiB) |\n|---|---|---|---|---|---|');
  say(`| before | | | ${bridge.bases.list().length} | ${mib(base0.heap)} | ${mib(base0.rss)} |`);
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    // Round r's bases: indexes r*BASES.. → new IPs, so new identities and new node names.
    const sim = spawn(process.execPath, ['cli/main.ts', 'base-sim', '--mqtt-url', url, '--count', String(BASES), '--first-index', String(r * BASES), '--ip-prefix', '127.8', '--heartbeat-period', '5s', '--log-level', 'warn'], { stdio: 'inherit' });
    children.push(sim);
    let ready = 0;
    let tick = 0;
    while (ready < BASES && performance.now() - t0 < 600_000) {
      await sleep(2000);
      const all = await vnodes();
      ready = all.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      if (++tick % 10 === 0) process.stderr.write(`  round ${r + 1}: ${all.length} nodes, ${ready} Ready, registry ${bridge.bases.list().length}\n`);
    }
    const joined = (performance.now() - t0) / 1000;
    if (ready < BASES) { await bridge.stop(); throw new Error(`round ${r}: only ${ready}/${BASES} nodes Ready`); }
    sim.kill('SIGKILL');
    const t1 = performance.now();
    let left = BASES;
    while ((left > 0 || bridge.bases.list().length > 0) && performance.now() - t1 < 600_000) {
      await sleep(2000);
      left = (await vnodes()).length;
    }
    const gone = (performance.now() - t1) / 1000;
    await sleep(2000);
    const m = measure();
    say(`| ${r + 1} | ${joined.toFixed(1)} | ${gone.toFixed(1)} | ${bridge.bases.list().length} | ${mib(m.heap)} | ${mib(m.rss)} |`);
  }
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
