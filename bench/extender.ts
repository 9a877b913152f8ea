/**
 * Extender benchmark (on demand: `node bench/extender.ts [--latency-only|--throughput-only]`).
 *
 * Options: --latency-only, --throughput-only, --decisions-only (the in-process decision timings
 * alone, about 20 s), --round-trip-only (the 5,000-names round trip five times, fresh extender each).
 *
 * 1. Latency: filter + prioritize for one pod over 100, 1,000 and 5,000 virtual nodes, in both
 *    scheduler modes (nodeCacheCapable names, and full Node objects), over loopback HTTP to the
 *    real app, the way kube-scheduler calls it (filter, then prioritize on the feasible nodes).
 *    Three processes, as in a cluster: this one (setup, results), the extender (extender-server.ts,
 *    started with the chart's NODE_OPTIONS from extender/runtime.ts) and the scheduler's side
 *    (extender-client.ts). BENCH_EXTENDER_NODE_OPTIONS adds options to the extender's, e.g.
 *    `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. Then the extender's own work per pair
 *    without HTTP, in this process.
 * 2. Throughput: pods/s bound by the real kube-scheduler with the module-scheduler configuration,
 *    with and without the extender, in the same run on the real local control plane. Pods exist
 *    before each scheduler starts; the rate is measured from the first bind to the last.
 */
import http from 'node:http';
import { fork, spawn } from 'node:child_process';
import os from 'node:os';
import { stringify } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { parseExtenderArgs } from '../extender/extender-args.ts';
import { planFilter, planPrioritize } from '../extender/decisions.ts';
import { NodeListCache } from '../extender/node-list-cache.ts';
import { rememberFeasibleList } from '../extender/feasible-list.ts';
import { encodeFilterNames, encodeHostPriorities } from '../extender/wire.ts';
import { EXTENDER_NODE_OPTIONS } from '../extender/runtime.ts';
import { toSchedulerConfig } from '../extender/scheduler-config.ts';
import { BASE_NAME_LABEL, BASE_STACK_LABEL, BASE_VERSION_LABEL, BIZ_VERSION_ENV, MODULE_COMPONENT_LABEL, MODULE_COMPONENT_VALUE, VNODE_TAINT } from '../core/names.ts';
import { benchNodes, benchPod, benchSnapshot } from './extender-fixture.ts';
import { toPod } from '../test/extender/fixtures.ts';
import type { ServerTimes } from './extender-server.ts';
import type { ClientJob, ClientTimings } from './extender-client.ts';

const args = new Set(process.argv.slice(2));
const KNOWN_ARGS = ['--latency-only', '--throughput-only', '--decisions-only', '--round-trip-only'];
if (args.has('--help')) {
  console.log(`node bench/extender.ts [${KNOWN_ARGS.join('|')}]: the extender's latency (filter + prioritize at 100, 1,000 and 5,000 nodes), its decisions' own timings, the 5,000-names round trip five times, and the real kube-scheduler's throughput with and without it (all of them without an option)`);
  process.exit(0);
}
/** The option this benchmark starts its own decisions child with (not for users). */
const DECISIONS_CHILD_ARG = '--decisions-child';
const unknownArgs = [...args].filter((x) => !KNOWN_ARGS.includes(x) && x !== DECISIONS_CHILD_ARG);
if (unknownArgs.length > 0) {
  console.error(`unknown option ${unknownArgs.join(', ')}; known: ${KNOWN_ARGS.join(', ')}, --help`);
  process.exit(2);
}
const out = (line: string) => process.stdout.write(`${line}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}

function post(port: number, agent: http.Agent, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

let httpFloor = '';
const REPLICA_ROUNDS = 3;
const decisionRows: string[] = [];

/** Runs the client (extender-client.ts) as a separate process, like a scheduler: the job on stdin, timings on stdout. */
function runClient(job: ClientJob): Promise<ClientTimings> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL('./extender-client.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`the benchmark client exited with ${code}`));
      else resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as ClientTimings);
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** The benchmark's extender process (extender-server.ts), started with the shipped runtime options. */
async function startServer(nodeCount: number, peerPort?: number): Promise<{ readonly port: number; times(): Promise<ServerTimes>; stop(): void }> {
  const child = fork(new URL('./extender-server.ts', import.meta.url).pathname, [], { env: { ...process.env, NODE_OPTIONS: `${EXTENDER_NODE_OPTIONS} ${process.env['BENCH_EXTENDER_NODE_OPTIONS'] ?? ''}`.trim() }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>() => new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`the benchmark extender exited with ${code}`)));
  });
  const ready = next<{ port: number }>();
  child.send(peerPort === undefined ? { nodes: nodeCount } : { nodes: nodeCount, peerPort });
  const { port } = await ready;
  return {
    port,
    times: () => {
      const answer = next<ServerTimes>();
      child.send('times');
      return answer;
    },
    // Disconnecting lets it exit on its own (and write a --cpu-prof profile when asked for one).
    stop: () => child.disconnect(),
  };
}

async function measureLatency(nodeCount: number, withPeer = false, namesOnly = withPeer): Promise<void> {
  const nodes = benchNodes(nodeCount);
  const pod = benchPod();
  const names = nodes.map((n) => n.metadata!.name!);
  // A second replica the first pushes its assumptions to (each prioritize assumes one), names mode only.
  const peer = withPeer ? await startServer(nodeCount) : undefined;
  const server = await startServer(nodeCount, peer?.port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // Let this process's and the new extender's collectors finish the setup's garbage first: on 2
  // CPUs their background marking would otherwise run during the first measured pairs.
  await new Promise((r) => setTimeout(r, 1500));
  try {
    for (const mode of namesOnly ? (['names'] as const) : (['names', 'objects'] as const)) {
      const filterBody = JSON.stringify(mode === 'names' ? { Pod: pod, Nodes: null, NodeNames: names } : { Pod: pod, Nodes: { metadata: {}, items: nodes }, NodeNames: null });
      const first = JSON.parse(await post(server.port, agent, '/filter', filterBody)) as { NodeNames: string[] | null; Nodes: { items: k8s.V1Node[] } | null; Error: string };
      if (first.Error) throw new Error(first.Error);
      const feasible = mode === 'names' ? first.NodeNames! : first.Nodes!.items.map((n) => n.metadata!.name!);
      const feasibleObjects = new Set(feasible);
      const prioritizeBody = JSON.stringify(
        mode === 'names' ? { Pod: pod, Nodes: null, NodeNames: feasible } : { Pod: pod, Nodes: { metadata: {}, items: nodes.filter((n) => feasibleObjects.has(n.metadata!.name!)) }, NodeNames: null },
      );
      // Enough pairs that p99 is not the worst handful of samples.
      const iterations = mode === 'objects' ? (nodeCount >= 5000 ? 40 : nodeCount >= 1000 ? 300 : 1000) : 2000;
      const warmup = Math.ceil(iterations / 10);
      await server.times();
      const { both, filter: filterMs } = await runClient({ kind: 'pair', port: server.port, filterBody, prioritizeBody, iterations, warmup });
      const times = await server.times();
      const serverPairs = times.filter.slice(warmup).map((f, i) => f + (times.prioritize[warmup + i] ?? 0)).sort((a, b) => a - b);
      both.sort((a, b) => a - b);
      filterMs.sort((a, b) => a - b);
      const mb = (Buffer.byteLength(filterBody) / 1024 / 1024).toFixed(2);
      out(
        `| ${nodeCount} | ${mode === 'names' ? `true (names)${withPeer ? ', 1 peer' : ''}` : 'false (Node objects)'} | ${feasible.length} | ${mb} MiB | ${percentile(both, 0.5).toFixed(2)} | ${percentile(both, 0.99).toFixed(2)} | ${percentile(serverPairs, 0.5).toFixed(2)} | ${percentile(serverPairs, 0.99).toFixed(2)} | ${percentile(filterMs, 0.5).toFixed(2)} | ${iterations} |`,
      );
    }
    if (nodeCount === 100) {
      const floor = await runClient({ kind: 'healthz', port: server.port, filterBody: '', prioritizeBody: '', iterations: 1000, warmup: 100 });
      const sorted = floor.filter.sort((a, b) => a - b);
      httpFloor = `loopback HTTP floor (GET /healthz round trip, same client): p50 ${percentile(sorted, 0.5).toFixed(3)} ms, p99 ${percentile(sorted, 0.99).toFixed(3)} ms`;
    }
  } finally {
    agent.destroy();
    server.stop();
    peer?.stop();
  }
}

/** The extender's work for one pair without HTTP: decode both requests, decide, encode both answers. */
function measureDecisions(nodeCount: number): void {
  const names = benchNodes(nodeCount).map((n) => n.metadata!.name!);
  const pod = benchPod();
  const snapshot = benchSnapshot(nodeCount);
  const lists = new NodeListCache();
  const config = { maxModulesPerBase: 100 };
  const filterBytes = Buffer.from(JSON.stringify({ Pod: pod, Nodes: null, NodeNames: names }));
  let prioritizeBytes: Buffer | undefined;
  const decide: number[] = [];
  for (let i = 0; i < 1100; i++) {
    const t0 = performance.now();
    const args = parseExtenderArgs(lists.parse(filterBytes));
    if (args.kind !== 'ok') throw new Error(args.error);
    const filtered = planFilter(args.args, snapshot, config);
    rememberFeasibleList(lists, filtered, encodeFilterNames(filtered));
    prioritizeBytes ??= Buffer.from(JSON.stringify({ Pod: pod, Nodes: null, NodeNames: filtered.names.filter((_n, k) => filtered.rejections.fits(k)) }));
    const pargs = parseExtenderArgs(lists.parse(prioritizeBytes));
    if (pargs.kind !== 'ok') throw new Error(pargs.error);
    const scored = planPrioritize(pargs.args, snapshot);
    encodeHostPriorities(scored.hosts, scored.scores);
    if (i >= 100) decide.push(performance.now() - t0);
  }
  decide.sort((a, b) => a - b);
  // A Deployment's replicas one after another, each bound where it was ranked first before the
  // next comes: the feasible list changes with every bind, so prioritize sees a new list each time.
  // Three scale-ups, each on a fresh cluster, so p99 is not the third-worst of 270 samples.
  const replicas: number[] = [];
  const replicaCount = Math.min(300, Math.floor(nodeCount * 0.8));
  for (let round = 0; round < REPLICA_ROUNDS; round++) {
    const cluster = round === 0 ? snapshot : benchSnapshot(nodeCount);
    const roundLists = round === 0 ? lists : new NodeListCache();
    for (let r = 0; r < replicaCount; r++) {
      const replica = toPod({ uid: `web-${round}-${r}`, name: `web-${r}`, modules: [{ bizName: 'web', bizVersion: '1.0.0' }] });
      const filterBody = Buffer.from(JSON.stringify({ Pod: replica, Nodes: null, NodeNames: names }));
      const t0 = performance.now();
      const args = parseExtenderArgs(roundLists.parse(filterBody));
      if (args.kind !== 'ok') throw new Error(args.error);
      const filtered = planFilter(args.args, cluster, config);
      // As the app does (app.ts): the answer's feasible list is remembered for the prioritize that follows.
      rememberFeasibleList(roundLists, filtered, encodeFilterNames(filtered));
      const t1 = performance.now();
      // The scheduler's side: the next request's bytes.
      const body = Buffer.from(JSON.stringify({ Pod: replica, Nodes: null, NodeNames: filtered.names.filter((_n, k) => filtered.rejections.fits(k)) }));
      const t2 = performance.now();
      const pargs = parseExtenderArgs(roundLists.parse(body));
      if (pargs.kind !== 'ok') throw new Error(pargs.error);
      const scored = planPrioritize(pargs.args, cluster);
      if (scored.assumed) cluster.assume(scored.assumed);
      encodeHostPriorities(scored.hosts, scored.scores);
      const t3 = performance.now();
      if (r >= replicaCount / 10) replicas.push(t1 - t0 + (t3 - t2));
      if (scored.assumed) cluster.applyPod('bench', 'add', { ...replica, spec: { ...replica.spec!, nodeName: scored.assumed.nodeName } });
    }
  }
  replicas.sort((a, b) => a - b);
  decisionRows.push(`| ${nodeCount} | ${percentile(decide, 0.5).toFixed(2)} | ${percentile(decide, 0.99).toFixed(2)} | ${percentile(replicas, 0.5).toFixed(2)} | ${percentile(replicas, 0.99).toFixed(2)} |`);
}

async function measureThroughput(): Promise<void> {
  const { getTestCluster } = await import('../test/support/cluster.ts');
  const { createVirtualNodes } = await import('../test/extender/virtual-nodes.ts');
  const cluster = await getTestCluster();
  const suffix = Math.random().toString(36).slice(2, 7);
  const baseName = `bench-base-${suffix}`;
  const NODES = 60;
  const MODULES = 20;
  const REPLICAS = 15;
  const pods = MODULES * REPLICAS;
  const nodes = await createVirtualNodes(cluster.kc, Array.from({ length: NODES }, (_, i) => ({ name: `virtual-node-bench-${suffix}-${i}`, baseName, baseVersion: '1.0.0' })));
  const extender = await startClusterExtender(cluster.kubeconfig);
  try {
    out(`\nThroughput: ${pods} pods (${MODULES} modules x ${REPLICAS} replicas) over ${NODES} virtual nodes, real kube-scheduler v1.34 with the module-scheduler configuration.`);
    out('"shipped" keeps the client defaults (qps 50, burst 100: binds are rate limited); "qps 1000" lifts the limit so the scheduling itself is measured.');
    out('| run | client | scheduler | pods bound | first→last bind | pods/s | max replicas of one module on one base |');
    out('|---|---|---|---|---|---|---|');
    const results: Record<string, number[]> = {};
    const runs = (['shipped', 'qps 1000'] as const).flatMap((client) => ([[1, false], [1, true], [2, false], [2, true]] as const).map(([round, withExtender]) => ({ client, round, withExtender })));
    for (const { client, round, withExtender } of runs) {
      const schedulerName = `bench-${withExtender ? 'ext' : 'plain'}-${round}-${client === 'shipped' ? 's' : 'q'}-${suffix}`;
      const config = toSchedulerConfig({ extenderUrl: `http://127.0.0.1:${extender.port}`, kubeconfig: 'KUBECONFIG_PATH', schedulerName, leaderElect: false });
      if (!withExtender) delete config['extenders'];
      if (client !== 'shipped') config['clientConnection'] = { kubeconfig: 'KUBECONFIG_PATH', qps: 1000, burst: 2000 };
      const ns = await cluster.createNamespace('bench');
      const prefix = `r${round}${withExtender ? 'e' : 'p'}${client === 'shipped' ? 's' : 'q'}`;
      const specs = Array.from({ length: pods }, (_, i) => ({ name: `${prefix}-m${i % MODULES}-${Math.floor(i / MODULES)}`, bizName: `${prefix}-m${i % MODULES}` }));
      for (let i = 0; i < specs.length; i += 20) {
        await Promise.all(specs.slice(i, i + 20).map((s) => cluster.core.createNamespacedPod({ namespace: ns, body: toBenchPod(s.name, s.bizName, baseName, schedulerName) })));
      }
      const boundAt = new Map<string, number>();
      const placement = new Map<string, string>();
      const noteBound = (obj: k8s.V1Pod) => {
        const name = obj.metadata?.name;
        if (name && obj.spec?.nodeName && !boundAt.has(name)) {
          boundAt.set(name, performance.now());
          placement.set(name, obj.spec.nodeName);
        }
      };
      // Bind times come from a watch (milliseconds); a list every second backs it up in case the
      // watch drops, so a lost stream cannot stall the run.
      let watch: AbortController | undefined;
      let watchDrops = 0;
      let running = true;
      const startWatch = async (): Promise<void> => {
        watch = await new k8s.Watch(cluster.kc).watch(`/api/v1/namespaces/${ns}/pods`, {}, (_type, obj: k8s.V1Pod) => noteBound(obj), () => {
          if (!running) return;
          watchDrops++;
          void startWatch();
        });
      };
      await startWatch();
      const scheduler = await cluster.startScheduler(schedulerName, stringify(config));
      const deadline = Date.now() + 120_000;
      let nextList = Date.now() + 1_000;
      while (boundAt.size < pods && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        if (Date.now() >= nextList) {
          nextList = Date.now() + 1_000;
          for (const p of (await cluster.core.listNamespacedPod({ namespace: ns })).items) noteBound(p);
        }
      }
      running = false;
      scheduler.stop();
      watch?.abort();
      if (boundAt.size < pods || watchDrops > 0) out(`(run ${round} ${client} ${withExtender ? 'with' : 'without'}: ${boundAt.size}/${pods} bound, watch dropped ${watchDrops}x; scheduler log ${scheduler.logFile})`);
      const times = [...boundAt.values()].sort((a, b) => a - b);
      const spanS = times.length > 1 ? (times.at(-1)! - times[0]!) / 1000 : NaN;
      const rate = (times.length - 1) / spanS;
      const perModuleBase = new Map<string, number>();
      for (const s of specs) {
        const node = placement.get(s.name);
        if (node) perModuleBase.set(`${s.bizName}@${node}`, (perModuleBase.get(`${s.bizName}@${node}`) ?? 0) + 1);
      }
      const key = `${client}/${withExtender ? 'with' : 'without'}`;
      if (boundAt.size === pods) (results[key] ??= []).push(rate);
      out(`| ${round} | ${client} | ${withExtender ? 'with extender' : 'without extender'} | ${boundAt.size}/${pods} | ${spanS.toFixed(2)} s | ${rate.toFixed(1)} | ${Math.max(0, ...perModuleBase.values())} |`);
      await cluster.core.deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 });
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const client of ['shipped', 'qps 1000']) {
      const without = avg(results[`${client}/without`] ?? []);
      const withExt = avg(results[`${client}/with`] ?? []);
      out(`mean pods/s over complete runs (${client}): without ${without.toFixed(1)}, with ${withExt.toFixed(1)} (${((withExt / without) * 100).toFixed(0)}% of without)`);
    }
    // The extender's own time per request over the whole run (its request histogram).
    const metrics = await extender.metrics();
    for (const verb of ['filter', 'prioritize']) {
      const sum = Number(new RegExp(`^module_controller_extender_request_duration_seconds_sum\\{verb="${verb}",outcome="ok"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
      const count = Number(new RegExp(`^module_controller_extender_request_duration_seconds_count\\{verb="${verb}",outcome="ok"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
      out(`extender time per ${verb} over all runs: ${((sum / count) * 1000).toFixed(2)} ms mean (${count} requests)`);
    }
  } finally {
    extender.stop();
    await nodes.delete();
  }
}

/** The throughput benchmark's extender (extender-cluster-server.ts): its own process with the shipped runtime options, informers on the control plane. */
async function startClusterExtender(kubeconfig: string): Promise<{ readonly port: number; metrics(): Promise<string>; stop(): void }> {
  const child = fork(new URL('./extender-cluster-server.ts', import.meta.url).pathname, [], { env: { ...process.env, NODE_OPTIONS: `${EXTENDER_NODE_OPTIONS} ${process.env['BENCH_EXTENDER_NODE_OPTIONS'] ?? ''}`.trim() }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>() => new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`the benchmark extender exited with ${code}`)));
  });
  const ready = next<{ port: number }>();
  child.send({ kubeconfig });
  const { port } = await ready;
  return {
    port,
    metrics: () => {
      const text = next<string>();
      child.send('metrics');
      return text;
    },
    stop: () => child.disconnect(),
  };
}

function toBenchPod(name: string, bizName: string, baseName: string, schedulerName: string): k8s.V1Pod {
  return {
    metadata: { name, labels: { app: bizName, [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE } },
    spec: {
      schedulerName,
      tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: BASE_STACK_LABEL, operator: 'In', values: ['java'] },
                  { key: BASE_NAME_LABEL, operator: 'In', values: [baseName] },
                  { key: BASE_VERSION_LABEL, operator: 'In', values: ['1.0.0'] },
                ],
              },
            ],
          },
        },
      },
      containers: [{ name: bizName, image: `https://repo.example.com/${bizName}-1.0.0-ark-biz.jar`, env: [{ name: BIZ_VERSION_ENV, value: '1.0.0' }] }],
    },
  };
}

if (args.has(DECISIONS_CHILD_ARG)) {
  // The child measureDecisionRows forks: the extender's work in a process started like the extender.
  for (const n of [100, 1000, 5000]) measureDecisions(n);
  process.stdout.write(`${JSON.stringify(decisionRows)}\n`);
  process.exit(0);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
// The load average matters on a shared machine: p99s measure the neighbours as much as the code.
out(`machine: ${os.cpus().length} CPUs (${cpu}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
/**
 * The in-process decision timings, in a child started with the extender's runtime options
 * (extender/runtime.ts), as the extender runs: in this process, holding the latency runs'
 * garbage and V8's default young generation, its p99 measured this harness's collections.
 */
function measureDecisionRows(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL(import.meta.url).pathname, DECISIONS_CHILD_ARG], { env: { ...process.env, NODE_OPTIONS: EXTENDER_NODE_OPTIONS }, stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as string[]) : reject(new Error(`the decisions child exited with ${code}`))));
  });
}

const decisionsHeader = () => {
  out('\nThe extender\'s work alone (in-process, nodeCacheCapable: decode both requests, filter, prioritize, encode both answers; no HTTP; a child process with the extender\'s runtime options), ms.');
  out(`"same pod": the pair above, repeated; "replicas": up to 300 replicas of one module (at most 80% of the bases) one after another, each bound before the next, so the feasible list changes every time (${REPLICA_ROUNDS} scale-ups on fresh clusters).`);
  out('| virtual nodes | same pod p50 | same pod p99 | replicas p50 | replicas p99 |');
  out('|---|---|---|---|---|');
};
if (args.has('--round-trip-only')) {
  // The round-trip target's row five times, each with a fresh extender: "p99 ≤ 5 ms in five runs out of five".
  out('\nLatency: filter + prioritize for one pod over loopback HTTP (ms), 5,000 names, five runs.');
  out('| virtual nodes | nodeCacheCapable | feasible | filter body | round trip p50 | round trip p99 | extender time p50 | extender time p99 | filter round trip p50 | samples |');
  out('|---|---|---|---|---|---|---|---|---|---|');
  for (let run = 0; run < 5; run++) await measureLatency(5000, false, true);
} else if (args.has('--decisions-only')) {
  decisionsHeader();
  for (const row of await measureDecisionRows()) out(row);
} else if (!args.has('--throughput-only')) {
  out('\nLatency: filter + prioritize for one pod over loopback HTTP (ms).');
  out('| virtual nodes | nodeCacheCapable | feasible | filter body | round trip p50 | round trip p99 | extender time p50 | extender time p99 | filter round trip p50 | samples |');
  out('|---|---|---|---|---|---|---|---|---|---|');
  for (const n of [100, 1000, 5000]) await measureLatency(n);
  await measureLatency(5000, true);
  out(httpFloor);
  const rows = await measureDecisionRows();
  decisionsHeader();
  for (const row of rows) out(row);
}
if (!['--latency-only', '--decisions-only', '--round-trip-only'].some((a) => args.has(a))) await measureThroughput();
out(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
process.exit(0);
