// The acceptance scenarios of design.md on the real control plane: webhook, extender, module-scheduler
// and bridge as the sandbox runs them, with base-sim bases over a real broker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { useTestBroker } from '../support/broker.ts';
import { startModuleStack, type ModuleStack } from '../../sandbox/module-stack.ts';
import { startFleet, type Fleet } from '../../base-sim/fleet.ts';
import type { SimBase, SimEvent } from '../../base-sim/sim-base.ts';
import { toNodeName } from '../../core/names.ts';

const cluster = await getTestCluster();
let broker: { url: string; close(): Promise<void> } | undefined;
let url: string;
let stack: ModuleStack;
let fleet: Fleet;
const extraFleets: Fleet[] = [];
let ns: string;
/** Every command the bases carried out, in order: base identity, command, module, strategy, outcome. */
const commands: Array<{ base: string; command: string; module: string; strategy?: string | undefined; outcome: string }> = [];
const recordCommand = (e: SimEvent) => {
  if (e.kind === 'command' && e.bizName) commands.push({ base: e.identity, command: e.command, module: `${e.bizName}:${e.bizVersion}`, strategy: e.installStrategy, outcome: e.outcome });
};
const K = (args: string[], input?: string) => cluster.kubectl(['-n', ns, ...args], input);

before(async () => {
  broker = await useTestBroker();
  url = broker.url;
  stack = await startModuleStack({
    dir: mkdtempSync(path.join(os.tmpdir(), 'mc-e2e-')),
    binDir: cluster.state.binDir,
    kubeconfig: cluster.kubeconfig,
    mqttUrl: url,
    logLevel: 'warn',
    logTo: process.stderr,
    suffix: '-e2e',
    bridgeArgs: ['--not-ready-after', '3s', '--delete-after', '8s', '--health-poll-period', '1s', '--module-list-period', '2s', '--node-lease-renew', '2s', '--command-timeout', '5s', '--retry-backoff-base', '500ms'],
  });
  // Documentation-range IPs: the EndpointSlice API rejects loopback addresses; nothing is sent to them.
  // Bases at arklet's defaults: no module switching (a second version stays DEACTIVATED).
  fleet = await startFleet({ url, count: 3, name: 'base', version: '1.0.0', ipPrefix: '192.0.2', heartbeatPeriodMs: 1_000, installLatencyMs: 100, onEvent: recordCommand });
  for (const b of fleet.bases) {
    await eventually(`node of ${b.identity} Ready`, async () => {
      const n = await cluster.core.readNode({ name: toNodeName(b.identity) }).catch(() => undefined);
      return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
    });
  }
  ns = await cluster.createNamespace('e2e');
});

after(async () => {
  await fleet?.stop();
  for (const f of extraFleets) await f.stop();
  await stack?.stop();
  await broker?.close();
  for (const b of [...(fleet?.bases ?? []), ...extraFleets.flatMap((f) => f.bases)]) await cluster.core.deleteNode({ name: toNodeName(b.identity) }).catch(() => undefined);
});

function moduleDeployment(name: string, biz: string, version: string, replicas: number, extra: { baseVersion?: string; explicit?: boolean; service?: boolean; strategy?: 'default' | { maxSurge: number; maxUnavailable: number }; jarVersion?: string } = {}): string {
  const strategy = extra.strategy === 'default' ? '' : `\n  strategy: { rollingUpdate: { maxSurge: ${extra.strategy?.maxSurge ?? 1}, maxUnavailable: ${extra.strategy?.maxUnavailable ?? 0} } }`;
  const explicit = extra.explicit
    ? `
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - { key: base.koupleless.io/stack, operator: In, values: [java] }
                  - { key: base.koupleless.io/version, operator: In, values: ["${extra.baseVersion ?? '1.0.0'}"] }
                  - { key: base.koupleless.io/name, operator: In, values: [base] }
      tolerations:
        - { key: schedule.koupleless.io/virtual-node, operator: Equal, value: "True", effect: NoExecute }`
    : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }${strategy}
  template:
    metadata:
      labels:
        app: ${name}
        module-controller.koupleless.io/component: module
        ${extra.explicit ? '' : `base.koupleless.io/version: "${extra.baseVersion ?? '1.0.0'}"`}
      ${extra.service ? 'annotations: { module-controller.koupleless.io/service-enabled: "true", module-controller.koupleless.io/service-port: "8080" }' : ''}
    spec:
      containers:
        - name: ${biz}
          image: https://example.invalid/${biz}-${extra.jarVersion ?? version}-ark-biz.jar
          env: [{ name: BIZ_VERSION, value: "${version}" }]${explicit}
`;
}

async function podsOf(app: string): Promise<k8s.V1Pod[]> {
  return (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
}

const isReady = (p: k8s.V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

async function waitRunning(app: string, count: number, timeoutMs = 60_000): Promise<k8s.V1Pod[]> {
  try {
    return await eventually(`${count} ready pods of ${app}`, async () => {
      const pods = (await podsOf(app)).filter((p) => !p.metadata?.deletionTimestamp && isReady(p) && p.status?.phase === 'Running');
      return pods.length === count ? pods : undefined;
    }, timeoutMs);
  } catch (err) {
    // Say what the pods show, so a timeout explains itself.
    const seen = (await podsOf(app)).map((p) => `${p.metadata?.name} node=${p.spec?.nodeName ?? '-'} phase=${p.status?.phase} ${JSON.stringify(p.status?.containerStatuses?.map((c) => c.state) ?? p.status?.conditions ?? [])}`);
    throw new Error(`${(err as Error).message}; pods: ${seen.join(' | ') || 'none'}; bases: ${fleet.bases.map((b) => `${b.identity}=[${b.installed().map((m) => `${m.bizName}:${m.bizVersion}:${m.state}`).join(',')}]`).join(' ')}`, { cause: err });
  }
}

function installedOn(biz: string): string[] {
  return fleet.bases.flatMap((b) => b.installed().filter((m) => m.bizName === biz).map((m) => `${b.identity}=${m.bizVersion}:${m.state}`)).sort();
}

test('1. the seed\'s Deployment with explicit affinity and tolerations runs on a matching base', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('seed', 'seedbiz', '0.0.1-SNAPSHOT', 1, { explicit: true }));
  assert.equal(r.code, 0, r.stderr);
  const [pod] = await waitRunning('seed', 1);
  assert.ok(fleet.bases.some((b) => b.info.localIP === pod!.status?.podIP));
  // The webhook merged instead of duplicating.
  assert.equal(pod!.spec?.tolerations?.filter((t) => t.key === 'schedule.koupleless.io/virtual-node').length, 1);
  assert.equal(pod!.spec?.schedulerName, 'module-scheduler');
});

const SAMPLES = new URL('../../samples/', import.meta.url);

test('1b. the upstream-style samples (vnode.koupleless.io/* affinity, node-env toleration) run as written on bridge-created nodes, and are uninstalled when deleted', async () => {
  // Applied as written: the samples name base "base" at version 1.0.0, which is what this fleet reports.
  assert.ok(fleet.bases.every((b) => b.info.name === 'base' && b.info.version === '1.0.0'), 'the fleet reports base:1.0.0 as the samples expect');
  const applied: string[] = [];
  for (const file of ['upstream-quick-start-deployment.yaml', 'upstream-module-pod.yaml']) {
    const r = await K(['apply', '-f', '-'], readFileSync(new URL(file, SAMPLES), 'utf8'));
    assert.equal(r.code, 0, r.stderr);
    applied.push(file);
  }
  const readyPods = async () => (await cluster.core.listNamespacedPod({ namespace: ns })).items
    .filter((p) => (p.metadata?.labels?.['module'] === 'quick-start-biz1' || p.metadata?.name === 'upstream-single-module-biz2') && !p.metadata?.deletionTimestamp && isReady(p) && p.status?.phase === 'Running');
  let pods: k8s.V1Pod[];
  try {
    pods = await eventually('the quick-start pod and the bare upstream pod Running and Ready', async () => {
      const ready = await readyPods();
      return ready.length === 2 ? ready : undefined;
    }, 60_000);
  } catch (err) {
    const seen = (await cluster.core.listNamespacedPod({ namespace: ns })).items.filter((p) => /biz1|biz2/.test(p.metadata?.name ?? ''))
      .map((p) => `${p.metadata?.name} node=${p.spec?.nodeName ?? '-'} phase=${p.status?.phase} ${JSON.stringify(p.status?.conditions ?? [])}`);
    throw new Error(`${(err as Error).message}; pods: ${seen.join(' | ') || 'none'}; biz1: ${installedOn('biz1').join(',')}; biz2: ${installedOn('biz2').join(',')}`, { cause: err });
  }
  for (const p of pods) {
    assert.ok(fleet.bases.some((b) => toNodeName(b.identity) === p.spec?.nodeName && b.info.localIP === p.status?.podIP), `${p.metadata?.name} runs on a base of the fleet`);
  }
  // ACTIVATED on exactly the base each pod is bound to.
  const nodeOf = (match: (p: k8s.V1Pod) => boolean) => pods.find(match)!.spec!.nodeName!;
  const identityOn = (node: string) => fleet.bases.find((b) => toNodeName(b.identity) === node)!.identity;
  await eventually('biz1 and biz2 ACTIVATED on their pods\' bases', async () => (
    JSON.stringify(installedOn('biz1')) === JSON.stringify([`${identityOn(nodeOf((p) => p.metadata?.labels?.['module'] === 'quick-start-biz1'))}=0.0.1-SNAPSHOT:ACTIVATED`])
    && JSON.stringify(installedOn('biz2')) === JSON.stringify([`${identityOn(nodeOf((p) => p.metadata?.name === 'upstream-single-module-biz2'))}=0.0.1-SNAPSHOT:ACTIVATED`]) ? true : undefined
  ), 30_000);

  for (const w of ['deployment/quick-start-biz1', 'pod/upstream-single-module-biz2']) {
    const d = await K(['delete', w, '--wait=false']);
    assert.equal(d.code, 0, d.stderr);
  }
  await eventually('biz1 and biz2 uninstalled from every base', async () => ([...installedOn('biz1'), ...installedOn('biz2')].length === 0 ? true : undefined), 60_000);
  await eventually('the upstream pods gone', async () => (
    (await cluster.core.listNamespacedPod({ namespace: ns })).items.some((p) => p.metadata?.labels?.['module'] === 'quick-start-biz1' || p.metadata?.name === 'upstream-single-module-biz2') ? undefined : true
  ), 60_000);
});

test('2, 4, 5. a plain Deployment is injected, scheduled one per base, found by field selectors; a 4th replica stays Pending with our reason', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('plain', 'biz1', '0.0.1', 3));
  assert.equal(r.code, 0, r.stderr);
  const pods = await waitRunning('plain', 3);
  assert.deepEqual(new Set(pods.map((p) => p.spec?.nodeName)).size, 3, 'one replica per base');
  assert.deepEqual(installedOn('biz1'), fleet.bases.map((b) => `${b.identity}=0.0.1:ACTIVATED`).sort());
  const base = fleet.bases[0]!;
  const byIp = await K(['get', 'pod', '--field-selector', `status.podIP=${base.info.localIP}`, '-l', 'app=plain', '-o', 'name']);
  assert.equal(byIp.stdout.trim().split('\n').length, 1);
  const byNode = await K(['get', 'pod', '--field-selector', `spec.nodeName=${toNodeName(base.identity)}`, '-l', 'app=plain', '-o', 'name']);
  assert.equal(byIp.stdout, byNode.stdout);

  await K(['scale', 'deployment/plain', '--replicas=4']);
  const pending = await eventually('a Pending 4th replica with a FailedScheduling reason', async () => {
    const p = (await podsOf('plain')).find((x) => !x.spec?.nodeName);
    if (!p) return undefined;
    const d = await K(['describe', 'pod', p.metadata!.name!]);
    return /FailedScheduling/.test(d.stdout) ? d.stdout : undefined;
  });
  assert.match(pending, /already runs module biz1:0\.0\.1/);
  await K(['scale', 'deployment/plain', '--replicas=3']);
});

test('3. an invalid module fails at kubectl apply with a clear message', async () => {
  // (A bizName that is not a DNS label never reaches the webhook: the API server's own validation rejects it first.)
  const bad = moduleDeployment('bad', 'badbiz', '0.0.1', 1).replace('env: [{ name: BIZ_VERSION, value: "0.0.1" }]', 'env: []').replace('https://example.invalid/badbiz-0.0.1-ark-biz.jar', 'nginx:latest');
  const r = await K(['apply', '-f', '-'], bad);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /denied the request/);
  assert.match(r.stderr, /BIZ_VERSION is missing; set it to the module version from pom\.xml/);
  assert.match(r.stderr, /container "badbiz": image "nginx:latest" is not a jar URL/);
  const bare = await K(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: { name: badpod, labels: { module-controller.koupleless.io/component: module } }
spec:
  containers: [{ name: x, image: "https://example.invalid/x-1.0.0-ark-biz.jar", env: [{ name: BIZ_VERSION, value: "not a version" }] }]
`);
  assert.notEqual(bare.code, 0);
  assert.match(bare.stderr, /BIZ_VERSION "not a version" is not a valid version/);
});

/** The bases' versions of `biz` (`version:STATE` per base identity), sampled every 50 ms until stopped. */
function sampleModules(biz: string, bases: readonly SimBase[] = fleet.bases) {
  const samples: Array<Map<string, string[]>> = [];
  const take = () => samples.push(new Map(bases.map((b) => [b.identity, b.installed().filter((m) => m.bizName === biz).map((m) => `${m.bizVersion}:${m.state}`)])));
  take();
  const timer = setInterval(take, 50);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** A base that runs the module at the start and at the end of a rollout had an ACTIVATED version of it at every sample. */
function assertNeverGone(samples: Array<Map<string, string[]>>, what: string): void {
  const first = samples[0]!;
  const last = samples.at(-1)!;
  for (const [base, versions] of first) {
    if (versions.length === 0 || (last.get(base) ?? []).length === 0) continue;
    const gap = samples.findIndex((sm) => !(sm.get(base) ?? []).some((v) => v.endsWith(':ACTIVATED')));
    assert.equal(gap, -1, `${what}: the module left base ${base} (which keeps a replica) at sample ${gap}: ${JSON.stringify(samples[gap]?.get(base))}`);
  }
}

/** Real installs, REPEAT_BIZ answers and uninstalls of `biz` since command index `from`. */
function countCommands(biz: string, from: number) {
  const mine = commands.slice(from).filter((c) => c.module.startsWith(`${biz}:`));
  return {
    installs: mine.filter((c) => c.command === 'installBiz' && c.outcome === 'SUCCESS'),
    repeats: mine.filter((c) => c.command === 'installBiz' && c.outcome === 'REPEAT_BIZ').length,
    uninstalls: mine.filter((c) => c.command === 'uninstallBiz'),
  };
}

async function waitOnly(biz: string, version: string, bases: readonly SimBase[] = fleet.bases, timeoutMs = 60_000): Promise<void> {
  const want = JSON.stringify(bases.map((b) => `${b.identity}=${version}:ACTIVATED`).sort());
  await eventually(`only ${biz}:${version}, ACTIVATED, on every base`, async () => {
    const got = bases.flatMap((b) => b.installed().filter((m) => m.bizName === biz).map((m) => `${b.identity}=${m.bizVersion}:${m.state}`)).sort();
    return JSON.stringify(got) === want ? true : undefined;
  }, timeoutMs);
}

async function rollout(deployment: string): Promise<void> {
  const st = await K(['rollout', 'status', `deployment/${deployment}`, '--timeout=120s']);
  assert.equal(st.code, 0, st.stdout + st.stderr);
}

test('6. at arklet\'s defaults, a rolling update (maxSurge) hands each base over to the new version, and rollout undo restores the old one', async () => {
  await waitRunning('plain', 3);
  let from = commands.length;
  let sampler = sampleModules('biz1');
  const r1 = await K(['apply', '-f', '-'], moduleDeployment('plain', 'biz1', '0.0.2', 3));
  assert.equal(r1.code, 0, r1.stderr);
  await rollout('plain');
  await waitOnly('biz1', '0.0.2');
  assertNeverGone(sampler.stop(), 'rolling update');
  let n = countCommands('biz1', from);
  // One real install per base, each a hand-off (uninstallThenInstall takes 0.0.1 along); no separate uninstall.
  assert.equal(n.installs.length, 3, JSON.stringify(n));
  assert.ok(n.installs.every((c) => c.module === 'biz1:0.0.2' && c.strategy === 'uninstallThenInstall'), JSON.stringify(n.installs));
  assert.equal(new Set(n.installs.map((c) => c.base)).size, 3);
  assert.deepEqual(n.uninstalls, []);

  from = commands.length;
  sampler = sampleModules('biz1');
  const undo = await K(['rollout', 'undo', 'deployment/plain']);
  assert.equal(undo.code, 0, undo.stderr);
  await rollout('plain');
  await waitOnly('biz1', '0.0.1');
  assertNeverGone(sampler.stop(), 'rollout undo');
  n = countCommands('biz1', from);
  assert.equal(n.installs.length, 3, JSON.stringify(n));
  assert.ok(n.installs.every((c) => c.module === 'biz1:0.0.1' && c.strategy === 'uninstallThenInstall'), JSON.stringify(n.installs));
  await waitRunning('plain', 3);
});

test('6b. at arklet\'s defaults, a rolling update by maxUnavailable ends with the new version ACTIVATED everywhere and nothing DEACTIVATED', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('mu', 'mubiz', '1.0.0', 3, { strategy: { maxSurge: 0, maxUnavailable: 1 } }));
  assert.equal(r.code, 0, r.stderr);
  await waitRunning('mu', 3);
  const from = commands.length;
  const r2 = await K(['apply', '-f', '-'], moduleDeployment('mu', 'mubiz', '2.0.0', 3, { strategy: { maxSurge: 0, maxUnavailable: 1 } }));
  assert.equal(r2.code, 0, r2.stderr);
  await rollout('mu');
  await waitOnly('mubiz', '2.0.0');
  const n = countCommands('mubiz', from);
  assert.equal(n.installs.length, 3, JSON.stringify(n));
  assert.equal(n.repeats, 0);
  assert.ok(n.uninstalls.length <= 3, JSON.stringify(n.uninstalls));
  await waitRunning('mu', 3);
  assert.equal((await K(['delete', 'deployment/mu', '--wait=false'])).code, 0);
});

test('6c. kubectl rollout restart with exactly as many bases as replicas completes at the default strategy; the module never leaves a base', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('rr', 'rrbiz', '1.0.0', 3, { strategy: 'default' }));
  assert.equal(r.code, 0, r.stderr);
  const before = await waitRunning('rr', 3);
  await waitOnly('rrbiz', '1.0.0');
  const from = commands.length;
  const sampler = sampleModules('rrbiz');
  const restart = await K(['rollout', 'restart', 'deployment/rr']);
  assert.equal(restart.code, 0, restart.stderr);
  await rollout('rr');
  const after = await waitRunning('rr', 3);
  assert.equal(after.filter((p) => before.some((b) => b.metadata!.uid === p.metadata!.uid)).length, 0, 'every pod was replaced');
  assert.equal(new Set(after.map((p) => p.spec?.nodeName)).size, 3);
  await waitOnly('rrbiz', '1.0.0');
  assertNeverGone(sampler.stop(), 'rollout restart');
  // The new pods took the modules over: nothing was installed or uninstalled.
  const n = countCommands('rrbiz', from);
  assert.deepEqual({ installs: n.installs.length, uninstalls: n.uninstalls.length }, { installs: 0, uninstalls: 0 }, JSON.stringify(n));
  assert.equal((await K(['delete', 'deployment/rr', '--wait=false'])).code, 0);
});

test('6d. two Deployments of one bizName never share a base: both versions ACTIVATED, nothing DEACTIVATED, the extra replica Pending with the reason', async () => {
  for (const [name, version] of [['twa', '1.0.0'], ['twb', '2.0.0']] as const) {
    const r = await K(['apply', '-f', '-'], moduleDeployment(name, 'twin', version, 1));
    assert.equal(r.code, 0, r.stderr);
  }
  const [a] = await waitRunning('twa', 1);
  const [b] = await waitRunning('twb', 1);
  assert.notEqual(a!.spec?.nodeName, b!.spec?.nodeName);
  const states = installedOn('twin');
  assert.equal(states.length, 2, JSON.stringify(states));
  assert.ok(states.every((x) => x.endsWith(':ACTIVATED')), JSON.stringify(states));
  await K(['scale', 'deployment/twb', '--replicas=3']);
  await waitRunning('twb', 2);
  const why = await eventually('a Pending twb replica whose reason names the other workload', async () => {
    const p = (await podsOf('twb')).find((x) => !x.spec?.nodeName);
    if (!p) return undefined;
    const d = await K(['describe', 'pod', p.metadata!.name!]);
    return /for another workload/.test(d.stdout) ? d.stdout : undefined;
  });
  assert.match(why, /base runs twin:1\.0\.0 for another workload/);
  assert.ok(!installedOn('twin').some((x) => x.endsWith(':DEACTIVATED')), JSON.stringify(installedOn('twin')));
  for (const d of ['deployment/twa', 'deployment/twb']) assert.equal((await K(['delete', d, '--wait=false'])).code, 0);
  await eventually('twin uninstalled', async () => (installedOn('twin').length === 0 ? true : undefined), 60_000);
});

test('6e. bases with module switching on (one extra case): a rolling update ends with only the new version', async () => {
  const sw = await startFleet({ url, count: 2, name: 'base', version: '3.0.0', ipPrefix: '192.0.2', firstIndex: 30, heartbeatPeriodMs: 1_000, installLatencyMs: 100, switching: true, onEvent: recordCommand });
  extraFleets.push(sw);
  const r = await K(['apply', '-f', '-'], moduleDeployment('sw', 'swbiz', '1.0.0', 2, { baseVersion: '3.0.0' }));
  assert.equal(r.code, 0, r.stderr);
  await waitRunning('sw', 2, 90_000);
  const r2 = await K(['apply', '-f', '-'], moduleDeployment('sw', 'swbiz', '2.0.0', 2, { baseVersion: '3.0.0' }));
  assert.equal(r2.code, 0, r2.stderr);
  await rollout('sw');
  await waitOnly('swbiz', '2.0.0', sw.bases);
  assert.equal((await K(['delete', 'deployment/sw', '--wait=false'])).code, 0);
});

test('6f. a BIZ_VERSION that differs from the jar\'s own version is bounded and explained, then fixed by the user', async () => {
  const jar = await startFleet({ url, count: 1, name: 'base', version: '4.0.0', ipPrefix: '192.0.2', firstIndex: 40, heartbeatPeriodMs: 1_000, installLatencyMs: 100, reportJarVersion: true, onEvent: recordCommand });
  extraFleets.push(jar);
  const from = commands.length;
  const r = await K(['apply', '-f', '-'], moduleDeployment('mm', 'mmbiz', '1.0.0', 1, { baseVersion: '4.0.0', jarVersion: '1.0.0-SNAPSHOT' }));
  assert.equal(r.code, 0, r.stderr);
  const waiting = await eventually('ModuleInstallFailed naming the reported version', async () => {
    const [p] = await podsOf('mm');
    const w = p?.status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === 'ModuleInstallFailed' ? w : undefined;
  }, 60_000);
  assert.equal(waiting.message, "base reports mmbiz as version 1.0.0-SNAPSHOT, but BIZ_VERSION is 1.0.0: set env BIZ_VERSION to the version in the jar's pom.xml (1.0.0-SNAPSHOT)");
  // Bounded: a few seconds later still one install and no uninstall; the module stays on the base.
  await new Promise((res) => setTimeout(res, 4_000));
  const n = countCommands('mmbiz', from);
  assert.equal(n.installs.length, 1, JSON.stringify(n));
  assert.equal(n.repeats, 0, JSON.stringify(n));
  assert.deepEqual(n.uninstalls, []);
  assert.deepEqual(jar.bases[0]!.installed().map((m) => `${m.bizName}:${m.bizVersion}:${m.state}`), ['mmbiz:1.0.0-SNAPSHOT:ACTIVATED']);
  // The fix the message names: the new pod takes the module over, nothing is reinstalled.
  const fixed = await K(['apply', '-f', '-'], moduleDeployment('mm', 'mmbiz', '1.0.0-SNAPSHOT', 1, { baseVersion: '4.0.0' }));
  assert.equal(fixed.code, 0, fixed.stderr);
  await rollout('mm');
  await waitRunning('mm', 1);
  assert.equal(countCommands('mmbiz', from).installs.length, 1);
  assert.equal((await K(['delete', 'deployment/mm', '--wait=false'])).code, 0);
  await eventually('mmbiz uninstalled', async () => (jar.bases[0]!.installed().length === 0 ? true : undefined), 60_000);
  // The extra bases go (a DaemonSet later must see only the first three).
  // The bridge itself deletes a silent base's node after --delete-after (8s). Deleting the node by hand
  // would race the bridge: a base heard < --not-ready-after ago is still alive to it, so it recreates
  // the node Ready, and a pod scheduled there in the next case waits for a base that never comes.
  for (const f of extraFleets.splice(0)) {
    await f.stop();
    await eventually('the extra bases\' nodes gone', async () => {
      const left = await Promise.all(f.bases.map((b) => cluster.core.readNode({ name: toNodeName(b.identity) }).then(() => 1, () => 0)));
      return left.every((x) => x === 0) ? true : undefined;
    }, 60_000);
  }
});

test('10. a module Service lists the base IPs of Ready replicas in its EndpointSlice', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('svc', 'svcbiz', '1.0.0', 2, { service: true }));
  assert.equal(r.code, 0, r.stderr);
  const pods = await waitRunning('svc', 2);
  const svc = await eventually('svcbiz-service', () => cluster.core.readNamespacedService({ name: 'svcbiz-service', namespace: ns }).catch(() => undefined));
  assert.equal(svc.spec?.type, 'NodePort');
  const want = pods.map((p) => p.status!.podIP!).sort();
  await eventually('EndpointSlice with the base IPs', async () => {
    const out = await K(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=svcbiz-service', '-o', 'jsonpath={.items[*].endpoints[*].addresses[*]}']);
    const got = out.stdout.split(/\s+/).filter(Boolean).sort();
    return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
  });
});

test('7. deleting workloads uninstalls their modules from every base; bare Pod, StatefulSet and DaemonSet work too', async () => {
  const others = `apiVersion: v1
kind: Pod
metadata: { name: bare, labels: { module-controller.koupleless.io/component: module, app: bare } }
spec:
  containers: [{ name: barebiz, image: "https://example.invalid/barebiz-1.0.0-ark-biz.jar", env: [{ name: BIZ_VERSION, value: "1.0.0" }] }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: sts }
spec:
  replicas: 2
  serviceName: sts
  selector: { matchLabels: { app: sts } }
  template:
    metadata: { labels: { app: sts, module-controller.koupleless.io/component: module } }
    spec:
      containers: [{ name: stsbiz, image: "https://example.invalid/stsbiz-1.0.0-ark-biz.jar", env: [{ name: BIZ_VERSION, value: "1.0.0" }] }]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ds }
spec:
  selector: { matchLabels: { app: ds } }
  template:
    metadata: { labels: { app: ds, virtual-kubelet.koupleless.io/component: module } }
    spec:
      containers: [{ name: dsbiz, image: "https://example.invalid/dsbiz-1.0.0-ark-biz.jar", env: [{ name: BIZ_VERSION, value: "1.0.0" }] }]
`;
  const r = await K(['apply', '-f', '-'], others);
  assert.equal(r.code, 0, r.stderr);
  await waitRunning('bare', 1);
  await waitRunning('sts', 2);
  await waitRunning('ds', 3);
  assert.equal(installedOn('dsbiz').length, 3);
  for (const w of ['deployment/plain', 'deployment/seed', 'deployment/svc', 'pod/bare', 'statefulset/sts', 'daemonset/ds']) {
    const d = await K(['delete', w, '--wait=false']);
    assert.equal(d.code, 0, d.stderr);
  }
  await eventually('every module uninstalled from every base', async () => {
    const left = ['biz1', 'seedbiz', 'svcbiz', 'barebiz', 'stsbiz', 'dsbiz'].flatMap(installedOn);
    return left.length === 0 ? true : undefined;
  }, 60_000);
  await eventually('every pod gone', async () => ((await cluster.core.listNamespacedPod({ namespace: ns })).items.length === 0 ? true : undefined), 60_000);
});

test('9. a Deployment for a base version that does not exist yet stays Pending, then runs when such a base joins', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('future', 'futurebiz', '2.0.0', 1, { baseVersion: '2.0.0' }));
  assert.equal(r.code, 0, r.stderr);
  await new Promise((res) => setTimeout(res, 3000));
  const [pending] = await podsOf('future');
  assert.equal(pending?.spec?.nodeName, undefined, 'no base of version 2.0.0 yet');
  const newer = await startFleet({ url, count: 1, name: 'base', version: '2.0.0', ipPrefix: '192.0.2', firstIndex: 20, heartbeatPeriodMs: 1_000, installLatencyMs: 100 });
  extraFleets.push(newer);
  const [pod] = await waitRunning('future', 1, 90_000);
  assert.equal(pod!.status?.podIP, newer.bases[0]!.info.localIP);
  assert.deepEqual(newer.bases[0]!.installed().map((m) => `${m.bizName}:${m.bizVersion}`), ['futurebiz:2.0.0']);
});

test('8. a base that stops goes NotReady with a reason, its modules move to another base, and it is Ready again when back', async () => {
  const r = await K(['apply', '-f', '-'], moduleDeployment('move', 'movebiz', '1.0.0', 1));
  assert.equal(r.code, 0, r.stderr);
  const [pod] = await waitRunning('move', 1);
  const lost = fleet.bases.find((b) => toNodeName(b.identity) === pod!.spec?.nodeName)!;
  await lost.silence();
  const cond = await eventually('NotReady with a reason', async () => {
    const n = await cluster.core.readNode({ name: toNodeName(lost.identity) }).catch(() => undefined);
    const c = n?.status?.conditions?.find((x) => x.type === 'Ready');
    return c?.status === 'False' ? c : undefined;
  }, 20_000);
  assert.equal(cond.reason, 'BaseUnreachable');
  // The node is deleted after --delete-after; Kubernetes' pod GC removes its pods and the ReplicaSet
  // places a replacement on a live base.
  const moved = await eventually('the module running on another base', async () => {
    const pods = (await podsOf('move')).filter((p) => isReady(p) && p.spec?.nodeName !== toNodeName(lost.identity));
    return pods[0];
  }, 150_000, 1000);
  assert.notEqual(moved.status?.podIP, lost.info.localIP);
  await lost.resume();
  await eventually('the base is a Ready node again', async () => {
    const n = await cluster.core.readNode({ name: toNodeName(lost.identity) }).catch(() => undefined);
    return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
  }, 30_000);
});
