// The real module-scheduler talking to the extender over HTTPS with a client certificate (the
// scheduler's extender tlsConfig caFile/certFile/keyFile), the extender requiring one signed by its
// --tls-client-ca-file: the module pod is bound, so the scheduler's certificate was accepted; a
// client without one is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getTestCluster, eventually, type TestCluster } from '../support/cluster.ts';
import { createCa, issueCert } from '../../core/pki.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { DEFAULTS, MODULE_COMPONENT_LABEL, VNODE_TAINT } from '../../core/names.ts';
import { startExtenderServer, type ExtenderServer } from '../../extender/server.ts';
import { toSchedulerConfigYaml } from '../../extender/scheduler-config.ts';
import { createVirtualNodes, type VirtualNodes } from '../extender/virtual-nodes.ts';

const suffix = Math.random().toString(36).slice(2, 7);
const baseName = `tls-base-${suffix}`;
const HOUR = 3_600_000;
let cluster: TestCluster;
let ns = '';
let dir = '';
let extender: ExtenderServer | undefined;
let scheduler: { stop(): void; logFile: string } | undefined;
let nodes: VirtualNodes | undefined;
let serverCa = '';
const registry = createRegistry(false);

before(async () => {
  cluster = await getTestCluster();
  ns = await cluster.createNamespace('mc-ext-tls');
  dir = mkdtempSync(path.join(os.tmpdir(), 'mc-ext-tls-'));
  const now = new Date();
  const ca = createCa('extender-ca', HOUR, now);
  const serving = issueCert(ca, { commonName: 'module-extender', dnsNames: ['localhost'], ips: ['127.0.0.1'], validForMs: HOUR, usage: 'server', now });
  const clientCa = createCa('module-scheduler-ca', HOUR, now);
  const client = issueCert(clientCa, { commonName: 'module-scheduler', dnsNames: [], ips: [], validForMs: HOUR, usage: 'client', now });
  serverCa = ca.certPem;
  writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
  writeFileSync(path.join(dir, 'client.crt'), client.certPem);
  writeFileSync(path.join(dir, 'client.key'), client.keyPem);
  nodes = await createVirtualNodes(cluster.kc, [{ name: `virtual-node-tls-${suffix}`, baseName, baseVersion: '1.0.0' }]);
  extender = await startExtenderServer({
    kc: cluster.kc, logger: createSilentLogger(), registry, port: 0, host: '127.0.0.1', maxModulesPerBase: 100, placementTtlMs: 30_000, maxBodyBytes: 4 * 1024 * 1024,
    tls: { cert: serving.certPem, key: serving.keyPem, ca: clientCa.certPem },
    requireClientCert: true,
  });
  await eventually('the extender informers to sync', async () => (extender!.snapshot.notReadyReason() ? undefined : true));
  const config = toSchedulerConfigYaml({
    extenderUrl: `https://127.0.0.1:${extender.port}`,
    kubeconfig: 'KUBECONFIG_PATH',
    leaseNamespace: ns,
    tls: { caFile: path.join(dir, 'ca.crt'), certFile: path.join(dir, 'client.crt'), keyFile: path.join(dir, 'client.key') },
  });
  scheduler = await cluster.startScheduler('module-scheduler', config);
});

after(async () => {
  scheduler?.stop();
  await extender?.close();
  await nodes?.delete();
  if (ns) await cluster.core.deleteNamespace({ name: ns }).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the scheduler presents its client certificate and binds the module pod; a client without one gets 401', async () => {
  await cluster.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'biz-tls', labels: { [MODULE_COMPONENT_LABEL]: 'module' } },
      spec: {
        schedulerName: DEFAULTS.schedulerName,
        tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
        nodeSelector: { 'base.koupleless.io/name': baseName },
        containers: [{ name: 'biz-tls', image: 'https://repo.example.com/biz-tls-1.0.0.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }],
      },
    },
  });
  const pod = await eventually('the pod bound through the mTLS extender', async () => {
    const p = await cluster.core.readNamespacedPod({ name: 'biz-tls', namespace: ns });
    return p.spec?.nodeName ? p : undefined;
  }, 60_000, 500);
  assert.equal(pod.spec?.nodeName, `virtual-node-tls-${suffix}`);
  const metrics = await registry.metrics();
  assert.match(metrics, /module_controller_extender_request_duration_seconds_count\{verb="filter",outcome="ok"\} [1-9]/);
  const anonymous = await new Promise<number>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: extender!.port, method: 'POST', path: '/filter', ca: serverCa, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('{}');
  });
  assert.equal(anonymous, 401);
});
