// The admission webhook against the real kube-apiserver: served over HTTPS in-process on 127.0.0.1,
// registered in URL mode with its own CA (kept in a Secret) as caBundle. No module-scheduler runs
// here, so module pods stay Pending; what matters is what the API server stored.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { createLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { createSecretCaStore } from '../../webhook/ca-store.ts';
import { DEFAULT_POLICY } from '../../webhook/policy.ts';
import { toServingNames } from '../../webhook/registration.ts';
import { startWebhookServer, type RunningWebhook } from '../../webhook/server.ts';
import { getTestCluster, eventually } from '../support/cluster.ts';

const cluster = await getTestCluster();
const admission = cluster.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const batch = cluster.kc.makeApiClient(k8s.BatchV1Api);
const configName = `mc-webhook-it-${Math.random().toString(36).slice(2, 7)}`;
const HOUR = 3_600_000;
const MODULE_LABEL = 'module-controller.koupleless.io/component';
const VNODE_TOLERATION = { key: 'schedule.koupleless.io/virtual-node', operator: 'Equal', value: 'True', effect: 'NoExecute' };

// Every review the webhook answers is logged (debug); the test reads them to see what was sent.
const reviews: Array<Record<string, unknown>> = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, cb) {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (String(entry['msg']).startsWith('admission review')) reviews.push(entry);
    }
    cb();
  },
});

let ns = '';
let ownNs = '';
let running: RunningWebhook | undefined;
const kubeSystemPod = `mc-webhook-it-${Math.random().toString(36).slice(2, 7)}`;

function container(name: string, env: Array<{ name: string; value: string }> = [{ name: 'BIZ_VERSION', value: '0.0.1' }]) {
  return { name, image: `https://repo.example.com/${name}-0.0.1-ark-biz.jar`, env };
}

function deployment(name: string, labels: Record<string, string>, containers: object[]): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name, ...labels } }, spec: { containers } } },
  } as k8s.V1Deployment;
}

/** The client returns model class instances; compare their JSON. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

function errorText(err: unknown): string {
  const e = err as { body?: unknown; message?: string };
  return typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? e.message);
}

before(async () => {
  ns = await cluster.createNamespace('mc-webhook');
  ownNs = await cluster.createNamespace('mc-webhook-own');
  running = await startWebhookServer({
    policy: DEFAULT_POLICY,
    host: '127.0.0.1',
    port: 0,
    keepAliveTimeoutMs: 120_000,
    tls: {
      kind: 'managed',
      store: createSecretCaStore(cluster.core, ownNs, 'webhook-ca'),
      certPolicy: { caValidityMs: 90 * 24 * HOUR, servingValidityMs: 24 * HOUR, renewBeforeMs: 8 * HOUR, commonName: 'mc-webhook', ...toServingNames({ kind: 'url', host: '127.0.0.1' }) },
    },
    checkIntervalMs: 60_000,
    admissionApi: admission,
    registration: { mode: 'url', host: '127.0.0.1' },
    mutatingName: configName,
    validatingName: configName,
    excludedNamespaces: ['kube-system', ownNs],
    timeoutSeconds: 5,
    logger: createLogger('debug', 'webhook-it', logStream),
    registry: createRegistry(false),
    now: () => new Date(),
  });
  // The API server picks up new configurations asynchronously: wait until a dry-run module pod is mutated.
  await eventually('the webhook to be called by the API server', async () => {
    const pod = await cluster.core.createNamespacedPod({
      namespace: ns,
      dryRun: 'All',
      body: { metadata: { generateName: 'probe-', labels: { [MODULE_LABEL]: 'module' } }, spec: { containers: [container('probe')] } },
    });
    return pod.spec?.schedulerName === 'module-scheduler' ? pod : undefined;
  }, 30_000, 250);
});

after(async () => {
  await running?.close();
  await admission.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  await admission.deleteValidatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  await cluster.core.deleteNamespacedPod({ name: kubeSystemPod, namespace: 'kube-system', gracePeriodSeconds: 0 }).catch(() => undefined);
  for (const n of [ns, ownNs]) if (n) await cluster.core.deleteNamespace({ name: n }).catch(() => undefined);
});

test('registration: both configurations carry the caBundle of the CA kept in the Secret', async () => {
  const secret = await cluster.core.readNamespacedSecret({ name: 'webhook-ca', namespace: ownNs });
  const caPem = Buffer.from(secret.data!['ca.crt']!, 'base64').toString();
  const m = await admission.readMutatingWebhookConfiguration({ name: configName });
  const v = await admission.readValidatingWebhookConfiguration({ name: configName });
  for (const w of [...m.webhooks!, ...v.webhooks!]) {
    assert.equal(Buffer.from(w.clientConfig.caBundle!, 'base64').toString(), caPem, w.name);
    assert.match(w.clientConfig.url!, /^https:\/\/127\.0\.0\.1:\d+\/(mutate|validate|mutate-module-deployment|validate-module-deployment)$/);
  }
});

test('1. a plain module Deployment: its pods get the toleration, base affinity, module labels and module-scheduler', async () => {
  await cluster.apps.createNamespacedDeployment({ namespace: ns, body: deployment('biz1', { [MODULE_LABEL]: 'module', 'base.koupleless.io/name': 'base-it' }, [container('biz1')]) });
  const pod = await eventually('the module pod', async () => (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=biz1' })).items[0]);
  assert.equal(pod.metadata?.generateName?.startsWith('biz1-'), true, 'created by the ReplicaSet with generateName');
  assert.equal(pod.spec?.schedulerName, 'module-scheduler');
  assert.deepEqual(plain(pod.spec?.tolerations?.filter((t) => t.key === VNODE_TOLERATION.key)), [VNODE_TOLERATION]);
  assert.deepEqual(plain(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms), [
    { matchExpressions: [{ key: 'base.koupleless.io/stack', operator: 'In', values: ['java'] }, { key: 'base.koupleless.io/name', operator: 'In', values: ['base-it'] }] },
  ]);
  assert.equal(pod.metadata?.labels?.['module.koupleless.io/biz1'], 'true');
  assert.equal(pod.status?.phase, 'Pending');
  // The Deployment itself is not rewritten (GitOps tools see what the user wrote).
  const d = await cluster.apps.readNamespacedDeployment({ name: 'biz1', namespace: ns });
  assert.equal(d.spec?.template.spec?.tolerations, undefined);
});

test('1b. a module DaemonSet gets the toleration on its template (the DaemonSet controller reads it there)', async () => {
  const body = deployment('biz-ds', { [MODULE_LABEL]: 'module' }, [container('biz-ds')]) as unknown as k8s.V1DaemonSet;
  body.kind = 'DaemonSet';
  delete (body.spec as { replicas?: number }).replicas;
  const ds = await cluster.apps.createNamespacedDaemonSet({ namespace: ns, body });
  assert.deepEqual(plain(ds.spec?.template.spec?.tolerations), [VNODE_TOLERATION]);
  assert.equal(ds.spec?.template.spec?.schedulerName, 'module-scheduler');
  assert.equal(ds.spec?.template.metadata?.labels?.['module.koupleless.io/biz-ds'], 'true');
});

test('2. a Deployment with a missing BIZ_VERSION is rejected at kubectl apply with the container and the fix', async (t) => {
  const yaml = stringify(deployment('biz-bad', { [MODULE_LABEL]: 'module' }, [container('biz-bad', [])]));
  const r = await cluster.kubectl(['apply', '-f', '-'], yaml);
  t.diagnostic(`kubectl apply: ${r.stderr.trim()}`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /denied the request: Deployment "mc-webhook-[a-z0-9]+\/biz-bad": container "biz-bad": env BIZ_VERSION is missing; set it to the module version from pom\.xml/);
  await assert.rejects(cluster.apps.readNamespacedDeployment({ name: 'biz-bad', namespace: ns }));
  // Through the client, a CronJob (template two levels down) is refused the same way.
  const cron: k8s.V1CronJob = {
    metadata: { name: 'biz-cron' },
    spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { metadata: { labels: { [MODULE_LABEL]: 'module' } }, spec: { restartPolicy: 'Never', containers: [{ ...container('biz-cron'), image: 'busybox' }] } } } } },
  };
  await assert.rejects(batch.createNamespacedCronJob({ namespace: ns, body: cron }), (err) => /container \\?"biz-cron\\?": image \\?"busybox\\?" is not a jar URL/.test(errorText(err)));
});

test('2b. a valid module Deployment without a base name is created with a warning', async (t) => {
  const r = await cluster.kubectl(['apply', '-f', '-'], stringify(deployment('biz-warn', { [MODULE_LABEL]: 'module' }, [container('biz-warn')])));
  t.diagnostic(`kubectl apply: ${r.stderr.trim()} / ${r.stdout.trim()}`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Warning: no base is named/);
});

test('3. a non-module Deployment is untouched and never sent; kube-system is never sent', async () => {
  await cluster.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', {}, [{ name: 'web', image: 'nginx:1.27' }]) });
  const pod = await eventually('the web pod', async () => (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items[0]);
  assert.equal(pod.spec?.schedulerName, 'default-scheduler');
  assert.equal(pod.spec?.tolerations?.some((t) => t.key === VNODE_TOLERATION.key), false);
  assert.equal(pod.spec?.affinity, undefined);
  // A module-labelled pod in kube-system: the namespaceSelector keeps it away from the webhook.
  const sys = await cluster.core.createNamespacedPod({
    namespace: 'kube-system',
    body: { metadata: { name: kubeSystemPod, labels: { [MODULE_LABEL]: 'module' } }, spec: { containers: [container('biz-sys')] } },
  });
  assert.equal(sys.spec?.schedulerName, 'default-scheduler');
  assert.equal(sys.metadata?.labels?.['module.koupleless.io/biz-sys'], undefined);
  assert.ok(reviews.some((r) => r['namespace'] === ns && r['kind'] === 'Pod'), 'the module pods were reviewed');
  assert.deepEqual(reviews.filter((r) => r['namespace'] === 'kube-system' || r['namespace'] === ownNs), []);
  assert.deepEqual(reviews.filter((r) => typeof r['objectName'] === 'string' && (r['objectName'] as string).startsWith('web')), []);
  assert.deepEqual(reviews.filter((r) => r['kind'] === 'Pod' && r['namespace'] === ns && r['result'] === 'allowed' && r['endpoint'] === 'mutate'), [], 'no non-module pod reached /mutate');
});

test('4. with the webhook stopped, non-module pods still create; module pods are refused (failurePolicy Fail)', async () => {
  await running!.close();
  running = undefined;
  const plain = await cluster.core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'plain' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } });
  assert.equal(plain.metadata?.name, 'plain');
  await cluster.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web2', {}, [{ name: 'web', image: 'nginx:1.27' }]) });
  await eventually('the web2 pod', async () => (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web2' })).items[0]);
  await assert.rejects(
    cluster.core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'module-down', labels: { [MODULE_LABEL]: 'module' } }, spec: { containers: [container('biz-down')] } } }),
    (err) => /failed calling webhook/.test(errorText(err)),
  );
});
