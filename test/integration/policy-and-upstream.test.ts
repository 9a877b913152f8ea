// On the real control plane, with the webhook (URL mode), the extender and the real module-scheduler:
// - the jar URL policy and base tenancy refuse modules at `kubectl apply` with what is allowed;
// - the same rules refuse a ModuleDeployment (both groups) at `kubectl apply`, not only its pods later;
// - a pod that can only go to reserved bases stays Pending with the extender's reason;
// - the upstream-style samples (samples/upstream-*.yaml: affinity on vnode.koupleless.io/*, the
//   node-env toleration) are admitted without a misleading warning and bound to a base.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { getTestCluster, eventually, type TestCluster } from '../support/cluster.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { BASE_TENANTS_ANNOTATION, MODULE_COMPONENT_LABEL, UPSTREAM_ENV_TAINT_KEY } from '../../core/names.ts';
import { createSecretCaStore } from '../../webhook/ca-store.ts';
import { installModuleDeploymentCrds } from '../../moduledeployment/install-crds.ts';
import { DEFAULT_POLICY, type AdmissionPolicy } from '../../webhook/policy.ts';
import { toServingNames } from '../../webhook/registration.ts';
import { startWebhookServer, type RunningWebhook } from '../../webhook/server.ts';
import { startExtenderServer, type ExtenderServer } from '../../extender/server.ts';
import { renderSchedulerConfigTemplate } from '../../extender/scheduler-config.ts';
import { createVirtualNodes, type VirtualNodes } from '../extender/virtual-nodes.ts';

const HOUR = 3_600_000;
const suffix = Math.random().toString(36).slice(2, 7);
const upBase = `up-base-${suffix}`;
const reservedBase = `res-base-${suffix}`;
const clusterName = `c-${suffix}`;
const configName = `mc-policy-it-${suffix}`;
const SAMPLES = new URL('../../samples/', import.meta.url);

let cluster: TestCluster;
let tenantNs = '';
let otherNs = '';
let ownNs = '';
let webhook: RunningWebhook | undefined;
let extender: ExtenderServer | undefined;
let scheduler: { stop(): void; logFile: string } | undefined;
let nodes: VirtualNodes | undefined;
const webhookRegistry = createRegistry(false);

/** How many ModuleDeployment reviews the webhook has answered (all results). */
async function mdValidations(): Promise<number> {
  const text = await webhookRegistry.metrics();
  return [...text.matchAll(/^module_controller_webhook_requests_total\{endpoint="validate-module-deployment",result="[a-z]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

function moduleDeployment(name: string, image: string, labels: Record<string, string> = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, [MODULE_COMPONENT_LABEL]: 'module', ...labels } },
        spec: { containers: [{ name, image, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] },
      },
    },
  };
}

async function apply(ns: string, object: object | string): Promise<{ code: number; stdout: string; stderr: string }> {
  return cluster.kubectl(['apply', '-n', ns, '-f', '-'], typeof object === 'string' ? object : stringify(object));
}

before(async () => {
  cluster = await getTestCluster();
  await installModuleDeploymentCrds(cluster.kc);
  tenantNs = await cluster.createNamespace('mc-tenant');
  otherNs = await cluster.createNamespace('mc-other');
  ownNs = await cluster.createNamespace('mc-policy-own');
  nodes = await createVirtualNodes(cluster.kc, [
    { name: `virtual-node-up-${suffix}`, baseName: upBase, baseVersion: '1.0.0', clusterName },
    { name: `virtual-node-res-${suffix}`, baseName: reservedBase, baseVersion: '2.0.0', clusterName },
    { name: `virtual-node-ann-${suffix}`, baseName: `ann-base-${suffix}`, baseVersion: '2.0.0', clusterName, annotations: { [BASE_TENANTS_ANNOTATION]: tenantNs } },
  ]);
  const tenancy = new Map([[reservedBase, [tenantNs]]]);
  const policy: AdmissionPolicy = { ...DEFAULT_POLICY, jarUrls: { schemes: ['https', 'http'], prefixes: ['https://example.invalid/', 'https://repo.example.com/'] }, tenancy };
  webhook = await startWebhookServer({
    policy,
    host: '127.0.0.1',
    port: 0,
    keepAliveTimeoutMs: 120_000,
    tls: {
      kind: 'managed',
      store: createSecretCaStore(cluster.core, ownNs, 'webhook-ca'),
      certPolicy: { caValidityMs: 90 * 24 * HOUR, servingValidityMs: 24 * HOUR, renewBeforeMs: 8 * HOUR, commonName: 'mc-webhook', ...toServingNames({ kind: 'url', host: '127.0.0.1' }) },
    },
    checkIntervalMs: 60_000,
    admissionApi: cluster.kc.makeApiClient(k8s.AdmissionregistrationV1Api),
    registration: { mode: 'url', host: '127.0.0.1' },
    mutatingName: configName,
    validatingName: configName,
    excludedNamespaces: ['kube-system', ownNs],
    timeoutSeconds: 5,
    logger: createSilentLogger(),
    registry: webhookRegistry,
    now: () => new Date(),
  });
  extender = await startExtenderServer({ kc: cluster.kc, logger: createSilentLogger(), registry: createRegistry(false), port: 0, host: '127.0.0.1', maxModulesPerBase: 100, placementTtlMs: 30_000, maxBodyBytes: 4 * 1024 * 1024, tenancy });
  await eventually('the extender informers to sync', async () => (extender!.snapshot.notReadyReason() ? undefined : true));
  // Its own Lease namespace: no wait for a Lease another test's scheduler left behind.
  scheduler = await cluster.startScheduler('module-scheduler', renderSchedulerConfigTemplate({ extenderUrl: `http://127.0.0.1:${extender.port}`, kubeconfig: 'KUBECONFIG_PATH', leaseNamespace: ownNs }));
  await eventually('the webhook to be called by the API server', async () => {
    const pod = await cluster.core.createNamespacedPod({
      namespace: otherNs,
      dryRun: 'All',
      body: { metadata: { generateName: 'probe-', labels: { [MODULE_COMPONENT_LABEL]: 'module' } }, spec: { containers: [{ name: 'probe', image: 'https://repo.example.com/probe-1.0.0.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }] } },
    });
    return pod.spec?.schedulerName === 'module-scheduler' ? pod : undefined;
  }, 30_000, 250);
});

after(async () => {
  scheduler?.stop();
  await webhook?.close();
  const admission = cluster?.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  await admission?.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  await admission?.deleteValidatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  await extender?.close();
  await nodes?.delete();
  for (const ns of [tenantNs, otherNs, ownNs]) if (ns) await cluster.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

test('jar URL policy: a file:// jar and a jar from an unlisted host are refused at kubectl apply, saying what is allowed', async (t) => {
  const file = await apply(tenantNs, moduleDeployment('biz-file', 'file:///opt/modules/biz-file-1.0.0.jar', { 'base.koupleless.io/name': upBase }));
  t.diagnostic(file.stderr.trim());
  assert.notEqual(file.code, 0);
  assert.match(file.stderr, /denied the request: Deployment "mc-tenant-[a-z0-9]+\/biz-file": container "biz-file": image "file:\/\/\/opt\/modules\/biz-file-1\.0\.0\.jar" uses file:\/\/, which this cluster does not allow; allowed schemes: https, http \(webhook flag --allowed-jar-url-schemes\)/);
  const elsewhere = await apply(tenantNs, moduleDeployment('biz-evil', 'https://repo.example.com.evil.test/biz-evil-1.0.0.jar', { 'base.koupleless.io/name': upBase }));
  assert.notEqual(elsewhere.code, 0);
  assert.match(elsewhere.stderr, /is not under an allowed jar location; allowed prefixes: https:\/\/example\.invalid\/, https:\/\/repo\.example\.com\/ \(webhook flag --allowed-jar-url-prefixes\)/);
  await assert.rejects(cluster.apps.readNamespacedDeployment({ name: 'biz-file', namespace: tenantNs }));
  await assert.rejects(cluster.apps.readNamespacedDeployment({ name: 'biz-evil', namespace: tenantNs }));
});

test('tenancy: a module naming a reserved base is refused in another namespace, and bound there in the tenant namespace', async (t) => {
  const other = await apply(otherNs, moduleDeployment('biz-res', 'https://repo.example.com/biz-res-1.0.0.jar', { 'base.koupleless.io/name': reservedBase }));
  t.diagnostic(other.stderr.trim());
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, new RegExp(`denied the request: Deployment "${otherNs}/biz-res": base "${reservedBase}" is reserved for namespaces ${tenantNs}: namespace "${otherNs}" may not run modules there`));
  const own = await apply(tenantNs, moduleDeployment('biz-res', 'https://repo.example.com/biz-res-1.0.0.jar', { 'base.koupleless.io/name': reservedBase, 'base.koupleless.io/version': '2.0.0' }));
  assert.equal(own.code, 0, own.stderr);
  const pod = await eventually('the tenant\'s pod bound', async () => (await cluster.core.listNamespacedPod({ namespace: tenantNs, labelSelector: 'app=biz-res' })).items.find((p) => p.spec?.nodeName), 60_000, 500);
  assert.equal(pod.spec?.nodeName, `virtual-node-res-${suffix}`);
});

function md(group: string, name: string, url: string, baseDeploymentName: string): object {
  return {
    apiVersion: `${group}/v1alpha1`, kind: 'ModuleDeployment', metadata: { name },
    spec: { baseDeploymentName, replicas: 1, template: { spec: { module: { name, version: '1.0.0', url } } } },
  };
}

test('ModuleDeployments: a file:// url and a reserved base are refused at kubectl apply in both groups; an allowed one is stored', async (t) => {
  const file = await apply(tenantNs, md('koupleless.io', 'md-file', 'file:///opt/modules/md-file-1.0.0.jar', upBase));
  t.diagnostic(file.stderr.trim());
  assert.notEqual(file.code, 0);
  assert.match(file.stderr, /denied the request: ModuleDeployment "mc-tenant-[a-z0-9]+\/md-file": spec\.template\.spec\.module\.url: image "file:\/\/\/opt\/modules\/md-file-1\.0\.0\.jar" uses file:\/\/, which this cluster does not allow; allowed schemes: https, http \(webhook flag --allowed-jar-url-schemes\)/);
  const evil = await apply(tenantNs, md('koupleless.alipay.com', 'md-evil', 'https://repo.example.com.evil.test/md-evil-1.0.0.jar', upBase));
  assert.notEqual(evil.code, 0);
  assert.match(evil.stderr, /spec\.template\.spec\.module\.url: .* is not under an allowed jar location; allowed prefixes: https:\/\/example\.invalid\/, https:\/\/repo\.example\.com\//);
  const reserved = await apply(otherNs, md('koupleless.alipay.com', 'md-res', 'https://repo.example.com/md-res-1.0.0.jar', reservedBase));
  t.diagnostic(reserved.stderr.trim());
  assert.notEqual(reserved.code, 0);
  assert.match(reserved.stderr, new RegExp(`denied the request: ModuleDeployment "${otherNs}/md-res": spec\\.baseDeploymentName: base "${reservedBase}" is reserved for namespaces ${tenantNs}: namespace "${otherNs}" may not run modules there`));
  for (const [ns, name] of [[tenantNs, 'md-file'], [tenantNs, 'md-evil'], [otherNs, 'md-res']] as const) {
    assert.notEqual((await cluster.kubectl(['get', '-n', ns, 'moduledeployments.koupleless.io,moduledeployments.koupleless.alipay.com', name])).code, 0, `${ns}/${name} was stored`);
  }
  // The tenant may use its base. The validation's matchCondition (CEL over object and oldObject):
  // scaling is not even sent to the webhook, an UPDATE that breaks the url is, and is refused.
  const own = await apply(tenantNs, md('koupleless.io', 'md-res', 'https://repo.example.com/md-res-1.0.0.jar', reservedBase));
  assert.equal(own.code, 0, own.stderr);
  const sent = await mdValidations();
  assert.ok(sent >= 4, `the webhook answered the ModuleDeployment reviews above (${sent})`);
  const scaled = await cluster.kubectl(['patch', '-n', tenantNs, 'moduledeployments.koupleless.io', 'md-res', '--type', 'merge', '-p', '{"spec":{"replicas":2}}']);
  assert.equal(scaled.code, 0, scaled.stderr);
  assert.equal(await mdValidations(), sent, 'a change to replicas only is not sent to the webhook');
  const broken = await cluster.kubectl(['patch', '-n', tenantNs, 'moduledeployments.koupleless.io', 'md-res', '--type', 'merge', '-p', '{"spec":{"template":{"spec":{"module":{"url":"file:///tmp/md-res.jar"}}}}}']);
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /spec\.template\.spec\.module\.url: image "file:\/\/\/tmp\/md-res\.jar" uses file:\/\//);
});

test('tenancy at scheduling: a pod that names no base but fits only reserved bases stays Pending with the extender\'s reason', async (t) => {
  const body: k8s.V1Pod = {
    metadata: { name: 'biz-any', labels: { [MODULE_COMPONENT_LABEL]: 'module' } },
    spec: {
      nodeSelector: { 'base.koupleless.io/cluster-name': clusterName, 'base.koupleless.io/version': '2.0.0' },
      containers: [{ name: 'biz-any', image: 'https://repo.example.com/biz-any-1.0.0.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }],
    },
  };
  await cluster.core.createNamespacedPod({ namespace: otherNs, body });
  const described = await eventually(
    'a FailedScheduling event with the tenancy reason',
    async () => {
      const r = await cluster.kubectl(['describe', 'pod', '-n', otherNs, 'biz-any']);
      return /FailedScheduling/.test(r.stdout) && /base reserved for namespaces/.test(r.stdout) ? r.stdout : undefined;
    },
    60_000,
    1_000,
  );
  t.diagnostic(described.split('\n').find((l) => l.includes('FailedScheduling'))?.trim() ?? '');
  // Both: one reserved by --base-tenants, one by the node annotation, each for the tenant namespace only.
  assert.match(described, new RegExp(`2 base reserved for namespaces ${tenantNs}`));
  assert.equal((await cluster.core.readNamespacedPod({ name: 'biz-any', namespace: otherNs })).spec?.nodeName, undefined);
});

test('upstream-style samples: admitted without a "no base is named" warning and bound to the base they name on vnode.koupleless.io/*', async (t) => {
  const forThisRun = (file: string) => readFileSync(new URL(file, SAMPLES), 'utf8').replaceAll('values: [base]', `values: [${upBase}]`);
  const deployment = await apply(tenantNs, forThisRun('upstream-quick-start-deployment.yaml'));
  t.diagnostic(`${deployment.stdout.trim()} ${deployment.stderr.trim()}`);
  assert.equal(deployment.code, 0, deployment.stderr);
  assert.doesNotMatch(deployment.stderr, /Warning/);
  const pod = await apply(tenantNs, forThisRun('upstream-module-pod.yaml'));
  assert.equal(pod.code, 0, pod.stderr);
  assert.doesNotMatch(pod.stderr, /Warning/);
  const fromDeployment = await eventually('the quick-start pod bound', async () => (await cluster.core.listNamespacedPod({ namespace: tenantNs, labelSelector: 'module=quick-start-biz1' })).items.find((p) => p.spec?.nodeName), 60_000, 500);
  assert.equal(fromDeployment.spec?.nodeName, `virtual-node-up-${suffix}`);
  // The webhook took vnode.koupleless.io/name as the base name and added no second name or stack term.
  const expressions = fromDeployment.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchExpressions ?? [];
  assert.deepEqual(expressions.map((e) => e.key).sort(), ['base.koupleless.io/stack', 'vnode.koupleless.io/name', 'vnode.koupleless.io/version']);
  assert.equal(fromDeployment.spec?.schedulerName, 'module-scheduler');
  assert.ok(fromDeployment.spec?.tolerations?.some((tol) => tol.key === UPSTREAM_ENV_TAINT_KEY), 'the env toleration is kept as written');
  const single = await eventually('the upstream pod bound', async () => {
    const p = await cluster.core.readNamespacedPod({ name: 'upstream-single-module-biz2', namespace: tenantNs });
    return p.spec?.nodeName ? p : undefined;
  }, 60_000, 500);
  assert.equal(single.spec?.nodeName, `virtual-node-up-${suffix}`);
  assert.equal(single.metadata?.labels?.['module.koupleless.io/biz2'], 'true');
});
