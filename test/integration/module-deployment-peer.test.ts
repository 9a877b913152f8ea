// v1 peer mode (`spec.replicas: -1`) on the real control plane: kubectl apply goes through the
// running webhook, which rewrites -1 into peer: true before the API server's scale-subresource
// validation; the controller keeps replicas at the Ready base count; kubectl scale afterwards
// leaves peer mode; base-sim bases over a real broker run the modules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { useTestBroker } from '../support/broker.ts';
import { startModuleStack, type ModuleStack } from '../../sandbox/module-stack.ts';
import { startFleet, type Fleet } from '../../base-sim/fleet.ts';
import { toNodeName } from '../../core/names.ts';

const cluster = await getTestCluster();
const custom = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
let broker: { url: string; close(): Promise<void> } | undefined;
let stack: ModuleStack | undefined;
let fleet: Fleet | undefined;
let ns: string;
const K = (args: string[], input?: string) => cluster.kubectl(['-n', ns, ...args], input);
const BASE = 'peer-v1-base';

before(async () => {
  broker = await useTestBroker();
  stack = await startModuleStack({
    dir: mkdtempSync(path.join(os.tmpdir(), 'mc-mdpeer-')), binDir: cluster.state.binDir, kubeconfig: cluster.kubeconfig, mqttUrl: broker.url,
    logLevel: 'warn', logTo: process.stderr, suffix: '-mdpeer',
    bridgeArgs: ['--not-ready-after', '3s', '--delete-after', '60s', '--health-poll-period', '1s', '--module-list-period', '2s', '--node-lease-renew', '2s', '--command-timeout', '5s', '--retry-backoff-base', '500ms'],
    moduleDeploymentArgs: ['--resync', '5s'],
  });
  fleet = await startFleet({ url: broker.url, count: 3, name: BASE, version: '1.0.0', ipPrefix: '192.0.2', firstIndex: 120, heartbeatPeriodMs: 1_000, installLatencyMs: 50 });
  for (const b of fleet.bases) {
    await eventually(`node of ${b.identity} Ready`, async () => {
      const n = await cluster.core.readNode({ name: toNodeName(b.identity) }).catch(() => undefined);
      return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
    });
  }
  ns = await cluster.createNamespace('mdpeer');
});

after(async () => {
  await fleet?.stop();
  await stack?.stop();
  await broker?.close();
  for (const b of fleet?.bases ?? []) await cluster.core.deleteNode({ name: toNodeName(b.identity) }).catch(() => undefined);
});

interface Md { metadata?: { annotations?: Record<string, string> }; spec: { replicas?: number; peer?: boolean }; status?: { ready?: string } }
const RECORD = 'module-controller.koupleless.io/peer-replicas';

function v1(group: string, name: string, replicas?: number): string {
  return `apiVersion: ${group}/v1alpha1
kind: ModuleDeployment
metadata: { name: ${name} }
spec:
  baseDeploymentName: ${BASE}
${replicas === undefined ? '' : `  replicas: ${replicas}\n`}  template: { spec: { module: { name: ${name}biz, version: "1.0.0", url: "https://example.invalid/${name}biz-1.0.0-ark-biz.jar" } } }
  operationStrategy: { batchCount: 1 }
`;
}

async function readMd(group: string, name: string): Promise<Md> {
  return (await custom.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace: ns, plural: 'moduledeployments', name })) as Md;
}

function activeOn(biz: string): number {
  return fleet!.bases.filter((b) => b.installed().some((m) => m.bizName === biz && m.state === 'ACTIVATED')).length;
}

async function waitActive(biz: string, bases: number): Promise<void> {
  await eventually(`${biz} ACTIVATED on ${bases} base(s)`, async () => (activeOn(biz) === bases ? true : undefined), 60_000);
}

test('dry-run through the webhook: -1 → peer: true with a storable replicas in both groups; N untouched; -2 is refused with the schema message', async () => {
  for (const group of ['koupleless.io', 'koupleless.alipay.com']) {
    const peer = await K(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], v1(group, 'dry', -1));
    assert.equal(peer.code, 0, peer.stderr);
    const m = JSON.parse(peer.stdout) as Md;
    assert.equal(m.spec.peer, true, group);
    assert.equal(m.spec.replicas, 0, group);
    assert.equal(m.metadata?.annotations?.[RECORD], '0', group);
    const plain = await K(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], v1(group, 'dry', 2));
    assert.equal(plain.code, 0, plain.stderr);
    const p = JSON.parse(plain.stdout) as Md;
    assert.equal(p.spec.replicas, 2, group);
    assert.equal(p.spec.peer, undefined, group);
  }
  // The sandbox sample is a v1 peer manifest too.
  const sample = await K(['apply', '--dry-run=server', '-o', 'json', '-f', 'samples/module-deployment-v1-peer.yaml']);
  assert.equal(sample.code, 0, sample.stderr);
  assert.equal((JSON.parse(sample.stdout) as Md).spec.peer, true);
  const bad = await K(['apply', '-f', '-'], v1('koupleless.io', 'bad', -2));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /replicas must be 0 or more, or -1 for one replica per matching Ready base/);
});

test('a v1 manifest with replicas: -1 runs one module per Ready base; kubectl scale --replicas=2 leaves peer mode; applying -1 again returns to it', async () => {
  const group = 'koupleless.alipay.com';
  const resource = `moduledeployments.${group}/peer`;
  const applied = await K(['apply', '-f', '-'], v1(group, 'peer', -1));
  assert.equal(applied.code, 0, applied.stderr);
  const stored = await readMd(group, 'peer');
  assert.equal(stored.spec.peer, true);
  await waitActive('peerbiz', 3);
  // The controller holds spec.replicas at the Ready base count, so the scale subresource reads it.
  await eventually('replicas 3, READY 3/3', async () => {
    const m = await readMd(group, 'peer');
    return m.spec.replicas === 3 && m.metadata?.annotations?.[RECORD] === '3' && m.status?.ready === '3/3' ? true : undefined;
  });
  // What kubectl get shows (docs/module-deployment.md "Peer mode").
  await eventually('kubectl get in peer mode', async () => (/peer\s+peerbiz\s+1\.0\.0\s+3\/3\s+3\s+Completed\s+1\/1\s/.test((await K(['get', resource])).stdout) ? true : undefined));
  const raw = await cluster.kubectl(['get', '--raw', `/apis/${group}/v1alpha1/namespaces/${ns}/moduledeployments/peer/scale`]);
  assert.equal(raw.code, 0, raw.stderr);
  const scale = JSON.parse(raw.stdout) as { spec: { replicas?: number }; status: { replicas: number } };
  assert.equal(scale.spec.replicas, 3);
  assert.equal(scale.status.replicas, 3);
  // Applying the same v1 manifest again is accepted and changes nothing.
  const again = await K(['apply', '-f', '-'], v1(group, 'peer', -1));
  assert.equal(again.code, 0, again.stderr);
  const after = await readMd(group, 'peer');
  assert.deepEqual([after.spec.peer, after.spec.replicas], [true, 3]);

  // Server-side apply: spec.replicas has another manager now, so the apply must force it; the
  // webhook still keeps peer mode and the running count.
  const ssa = await K(['apply', '--server-side', '--force-conflicts', '-f', '-'], v1(group, 'peer', -1));
  assert.equal(ssa.code, 0, ssa.stderr);
  const afterSsa = await readMd(group, 'peer');
  assert.deepEqual([afterSsa.spec.peer, afterSsa.spec.replicas], [true, 3]);

  const scaled = await K(['scale', resource, '--replicas=2']);
  assert.equal(scaled.code, 0, scaled.stderr);
  await eventually('peer: false, replicas 2', async () => {
    const m = await readMd(group, 'peer');
    return m.spec.peer === false && m.spec.replicas === 2 ? true : undefined;
  });
  await waitActive('peerbiz', 2);
  await eventually('READY 2/2', async () => ((await readMd(group, 'peer')).status?.ready === '2/2' ? true : undefined));
  const ev = await eventually('PeerModeLeft event', async () => {
    const out = await K(['get', 'events', '--field-selector', 'involvedObject.name=peer,reason=PeerModeLeft', '-o', 'jsonpath={.items[*].message}']);
    return out.stdout.trim() ? out.stdout : undefined;
  });
  assert.match(ev, /spec\.replicas set to 2 \(kubectl scale or a patch\)/);
  const get = await K(['get', resource]);
  assert.match(get.stdout, /peer\s+peerbiz\s+1\.0\.0\s+2\/2\s+2\s+Completed\s+1\/1\s/);

  const back = await K(['apply', '-f', '-'], v1(group, 'peer', -1));
  assert.equal(back.code, 0, back.stderr);
  await eventually('peer mode again', async () => {
    const m = await readMd(group, 'peer');
    return m.spec.peer === true && m.spec.replicas === 3 ? true : undefined;
  });
  await waitActive('peerbiz', 3);

  // Scaling to 0 is a count like any other.
  assert.equal((await K(['scale', resource, '--replicas=0'])).code, 0);
  await waitActive('peerbiz', 0);
  await eventually('peer: false, replicas 0', async () => {
    const m = await readMd(group, 'peer');
    return m.spec.peer === false && m.spec.replicas === 0 ? true : undefined;
  });
  assert.equal((await K(['delete', resource, '--wait=false'])).code, 0);
});
