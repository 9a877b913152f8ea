/**
 * Building blocks of the fault suite: module Deployments spread one replica per base by the default
 * kube-scheduler (no webhook or extender: the suite tests the bridge), install/uninstall counts taken
 * from the bases' own command events, a monitor that polls Node and pod Ready conditions the whole
 * time, and the "final state = desired" check.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import type { SimEvent } from '../../../base-sim/sim-base.ts';
import type { Fleet } from '../../../base-sim/fleet.ts';
import { toNodeName, VNODE_TAINT, MODULE_COMPONENT_LABEL, BASE_NAME_LABEL, HOSTNAME_LABEL } from '../../../core/names.ts';
import { eventually, type TestCluster } from '../../support/cluster.ts';

/** Counts what the bases really did, per `<base> <biz>:<version>`. */
export interface CommandCounts {
  readonly onEvent: (e: SimEvent) => void;
  /** installBiz answered SUCCESS (a real install). */
  readonly installs: Map<string, number>;
  /** installBiz answered REPEAT_BIZ (already there: harmless, counted apart). */
  readonly repeats: Map<string, number>;
  /** uninstallBiz answered SUCCESS (a real uninstall). */
  readonly uninstalls: Map<string, number>;
  /** installBiz answered anything else (FAILED, INVALID...). */
  readonly failedInstalls: Map<string, number>;
  /** Every install/uninstall a base ran, in order, with the wall-clock time it answered. */
  readonly log: Array<{ readonly at: number; readonly key: string; readonly command: string; readonly outcome: string }>;
  total(m: Map<string, number>, filter?: (key: string) => boolean): number;
  /** Keys installed for real more than once. */
  duplicates(): string[];
  summary(): string;
}

export function countCommands(): CommandCounts {
  const installs = new Map<string, number>();
  const repeats = new Map<string, number>();
  const uninstalls = new Map<string, number>();
  const failedInstalls = new Map<string, number>();
  const log: CommandCounts['log'] = [];
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const total = (m: Map<string, number>, filter: (key: string) => boolean = () => true) => [...m].filter(([k]) => filter(k)).reduce((a, [, n]) => a + n, 0);
  return {
    installs, repeats, uninstalls, failedInstalls, total, log,
    onEvent: (e) => {
      if (e.kind !== 'command' || !e.bizName) return;
      const key = `${e.identity} ${e.bizName}:${e.bizVersion ?? ''}`;
      log.push({ at: Date.now(), key, command: e.command, outcome: e.outcome });
      if (e.command === 'installBiz') inc(e.outcome === 'SUCCESS' ? installs : e.outcome === 'REPEAT_BIZ' ? repeats : failedInstalls, key);
      else if (e.command === 'uninstallBiz' && e.outcome === 'SUCCESS') inc(uninstalls, key);
    },
    duplicates: () => [...installs].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`),
    summary: () => `real installs ${total(installs)}, REPEAT_BIZ ${total(repeats)}, failed installs ${total(failedInstalls)}, real uninstalls ${total(uninstalls)}`,
  };
}

export interface ModuleApp {
  readonly name: string;
  readonly biz: string;
  readonly version: string;
  readonly replicas: number;
}

/**
 * A module Deployment pinned to one fleet (node label base.koupleless.io/name) and spread at most
 * one skew apart over its nodes, so `replicas = bases` puts exactly one replica on every base.
 * `strategy` empty = Kubernetes' default rolling update (25 % surge, 25 % unavailable).
 */
export function toModuleDeployment(app: ModuleApp, baseName: string, strategy = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app.name} }
spec:
  replicas: ${app.replicas}
  selector: { matchLabels: { app: ${app.name} } }
  ${strategy}
  template:
    metadata:
      labels: { app: ${app.name}, ${MODULE_COMPONENT_LABEL}: module }
    spec:
      nodeSelector: { ${BASE_NAME_LABEL}: ${baseName} }
      tolerations: [{ key: ${VNODE_TAINT.key}, operator: Equal, value: "${VNODE_TAINT.value}", effect: ${VNODE_TAINT.effect} }]
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: ${HOSTNAME_LABEL}, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: ${app.name} } } }
      terminationGracePeriodSeconds: 5
      containers:
        - name: ${app.biz}
          image: https://example.invalid/${app.biz}-${app.version}-ark-biz.jar
          env: [{ name: BIZ_VERSION, value: "${app.version}" }]
`;
}

export async function applyApps(cluster: TestCluster, ns: string, apps: readonly ModuleApp[], baseName: string, strategy = ''): Promise<void> {
  const r = await cluster.kubectl(['-n', ns, 'apply', '-f', '-'], apps.map((a) => toModuleDeployment(a, baseName, strategy)).join('---\n'));
  assert.equal(r.code, 0, r.stderr);
}

const isReady = (p: k8s.V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const nodeReady = (n: k8s.V1Node | undefined) => n?.status?.conditions?.find((c) => c.type === 'Ready');

/** What is wrong with the cluster and the bases compared to the apps fully rolled out (empty = desired). */
export async function desiredProblems(cluster: TestCluster, ns: string, fleet: Fleet, apps: readonly ModuleApp[]): Promise<string[]> {
  const problems: string[] = [];
  const pods = (await cluster.core.listNamespacedPod({ namespace: ns })).items;
  for (const app of apps) {
    const mine = pods.filter((p) => p.metadata?.labels?.['app'] === app.name);
    const good = mine.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && isReady(p) && p.spec?.containers[0]?.image?.includes(`-${app.version}-ark-biz.jar`));
    if (good.length !== app.replicas || mine.length !== app.replicas) {
      problems.push(`${app.name}: ${good.length}/${app.replicas} pods Running+Ready at ${app.version} (${mine.length} pods exist)`);
      for (const p of mine.filter((x) => !good.includes(x)).slice(0, 5)) {
        const notOk = (p.status?.conditions ?? []).filter((c) => c.status !== 'True').map((c) => `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`);
        const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
        problems.push(`  pod ${p.metadata?.name} on ${p.spec?.nodeName ?? '(unscheduled)'} ${p.status?.phase}${p.metadata?.deletionTimestamp ? ' terminating' : ''} ${p.spec?.containers[0]?.env?.[0]?.value ?? ''} ${waiting ? `${waiting.reason}: ${waiting.message ?? ''}` : ''} ${notOk.join('; ')}`);
      }
    }
  }
  // Every base holds exactly one ACTIVATED module per app whose replica is bound to it, and nothing else.
  for (const b of fleet.bases) {
    const node = toNodeName(b.identity);
    const want = apps.filter((a) => pods.some((p) => p.metadata?.labels?.['app'] === a.name && p.spec?.nodeName === node && !p.metadata?.deletionTimestamp)).map((a) => `${a.biz}:${a.version}:ACTIVATED`).sort();
    const have = b.installed().map((m) => `${m.bizName}:${m.bizVersion}:${m.state}`).sort();
    if (want.join() !== have.join()) problems.push(`${b.identity}: has [${have.join(' ')}], wants [${want.join(' ')}]`);
  }
  return problems;
}

export async function waitDesired(cluster: TestCluster, ns: string, fleet: Fleet, apps: readonly ModuleApp[], timeoutMs: number, explain: () => string[] = () => []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let problems: string[] = [];
  while (Date.now() < deadline) {
    problems = await desiredProblems(cluster, ns, fleet, apps).catch((err: unknown) => [`API: ${(err as Error).message}`]);
    if (problems.length === 0) return;
    await sleep(500);
  }
  assert.fail(`final state is not the desired one after ${timeoutMs} ms:\n  ${problems.slice(0, 15).join('\n  ')}\n${explain().slice(-25).join('\n')}`);
}

/** At most `n` entries, then how many more (keeps assertion messages readable). */
export function firstOf(list: readonly string[], n = 12): string {
  return list.length <= n ? list.join('\n') : `${list.slice(0, n).join('\n')}\n… and ${list.length - n} more`;
}

/** Resolves once at least `n` real installs happened (the moment "mid-rollout" faults strike). */
export function waitInstalls(counts: CommandCounts, n: number, timeoutMs = 60_000): Promise<number> {
  return eventually(`${n} real installs`, async () => { const t = counts.total(counts.installs); return t >= n ? t : undefined; }, timeoutMs, 50);
}

/**
 * Polls the Ready condition of the given nodes (and of the module pods on them) every `everyMs`
 * until stopped; records every observation that is not Ready, with the time.
 */
export interface ReadinessMonitor {
  /** `<ms since start> <node or pod> <status> <reason>` of every not-Ready sighting. */
  readonly sightings: string[];
  /** How many polls ran (so a test knows the monitor really watched). */
  polls(): number;
  stop(): Promise<void>;
}

export function monitorReadiness(cluster: TestCluster, opts: { nodes: () => readonly string[]; podNamespace?: string; everyMs?: number }): ReadinessMonitor {
  const sightings: string[] = [];
  const t0 = Date.now();
  let polls = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const names = new Set(opts.nodes());
      try {
        const nodes = (await cluster.core.listNode()).items.filter((n) => names.has(n.metadata?.name ?? ''));
        for (const name of names) {
          const n = nodes.find((x) => x.metadata?.name === name);
          const c = nodeReady(n);
          if (c?.status !== 'True') sightings.push(`${Date.now() - t0}ms node ${name} ${n ? (c?.status ?? 'no Ready condition') : 'missing'} ${c?.reason ?? ''}`);
        }
        if (opts.podNamespace) {
          for (const p of (await cluster.core.listNamespacedPod({ namespace: opts.podNamespace })).items) {
            if (!names.has(p.spec?.nodeName ?? '') || p.metadata?.deletionTimestamp || p.status?.phase !== 'Running') continue;
            if (!isReady(p)) sightings.push(`${Date.now() - t0}ms pod ${p.metadata?.name} on ${p.spec?.nodeName} not Ready ${p.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? ''}`);
          }
        }
        polls++;
      } catch {
        // The API server may be the thing that is down; the next poll tries again.
      }
      await sleep(opts.everyMs ?? 300);
    }
  })();
  return { sightings, polls: () => polls, stop: async () => { stopped = true; await loop; } };
}

/** The Ready condition of one node right now. */
export async function readNodeReady(cluster: TestCluster, name: string): Promise<k8s.V1NodeCondition | undefined> {
  return nodeReady(await cluster.core.readNode({ name }).catch(() => undefined));
}

/** Waits until every base of the fleet has a Ready node. */
export async function waitNodesReady(cluster: TestCluster, fleet: Fleet, timeoutMs = 30_000): Promise<void> {
  const names = new Set(fleet.bases.map((b) => toNodeName(b.identity)));
  await eventually(`${names.size} Ready nodes`, async () => {
    const ready = (await cluster.core.listNode()).items.filter((n) => names.has(n.metadata?.name ?? '') && nodeReady(n)?.status === 'True');
    return ready.length === names.size ? true : undefined;
  }, timeoutMs, 300);
}

/** Deletes the fleet's nodes (each test file cleans up what it made in the shared cluster). */
export async function deleteNodes(cluster: TestCluster, fleet: Fleet | undefined): Promise<void> {
  for (const b of fleet?.bases ?? []) await cluster.core.deleteNode({ name: toNodeName(b.identity) }).catch(() => undefined);
}
