import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCaBundle } from '../../webhook/registration-client.ts';
import { toModulePodSelectors, toServingNames, toTemplateMatchCondition, toWebhookConfigurations, type RegistrationOptions } from '../../webhook/registration.ts';

const BASE: RegistrationOptions = {
  mutatingName: 'mc-webhook',
  validatingName: 'mc-webhook',
  client: { kind: 'service', name: 'mc-webhook', namespace: 'mc-system', port: 443 },
  caBundlePem: '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n',
  excludedNamespaces: ['kube-system', 'mc-system', 'kube-system'],
  timeoutSeconds: 5,
};

/** Evaluates a LabelSelector the way the API server does (In/NotIn/Exists/DoesNotExist). */
function matches(selector: { matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }, labels: Record<string, string>): boolean {
  return (selector.matchExpressions ?? []).every((e) => {
    const has = e.key in labels;
    switch (e.operator) {
      case 'In': return has && e.values!.includes(labels[e.key]!);
      case 'NotIn': return !has || !e.values!.includes(labels[e.key]!);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: throw new Error(e.operator);
    }
  });
}

const labelCases: Array<[string, Record<string, string>, number]> = [
  ['primary label', { 'module-controller.koupleless.io/component': 'module' }, 1],
  ['alias label', { 'virtual-kubelet.koupleless.io/component': 'module' }, 1],
  ['both labels: sent once, not twice', { 'module-controller.koupleless.io/component': 'module', 'virtual-kubelet.koupleless.io/component': 'module' }, 1],
  ['primary not module, alias module', { 'module-controller.koupleless.io/component': 'other', 'virtual-kubelet.koupleless.io/component': 'module' }, 1],
  ['no label', { app: 'web' }, 0],
  ['other value', { 'module-controller.koupleless.io/component': 'base' }, 0],
];
for (const [name, labels, expected] of labelCases) {
  test(`pod objectSelectors: ${name} → matched by ${expected} webhook(s)`, () => {
    assert.equal(toModulePodSelectors().filter((s) => matches(s, labels)).length, expected);
  });
}

test('service mode: every webhook is scoped, v1, side-effect free, with caBundle and the service path', () => {
  const { mutating, validating } = toWebhookConfigurations(BASE);
  const all = [...mutating.webhooks!, ...validating.webhooks!];
  assert.equal(new Set(all.map((w) => w.name)).size, all.length);
  for (const w of all) {
    assert.match(w.name, /^[a-z-]+\.(mutate|validate)\.module-controller\.koupleless\.io$/);
    assert.deepEqual(w.admissionReviewVersions, ['v1']);
    assert.equal(w.sideEffects, 'None');
    assert.equal(w.timeoutSeconds, 5);
    assert.deepEqual(w.namespaceSelector, { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'mc-system'] }] });
    assert.equal(Buffer.from(w.clientConfig.caBundle!, 'base64').toString(), BASE.caBundlePem);
    assert.equal(w.clientConfig.url, undefined);
    assert.equal(w.clientConfig.service!.name, 'mc-webhook');
    // Every webhook is narrowed to module objects, by labels or by a template condition.
    assert.ok(w.objectSelector || (w.matchConditions?.length ?? 0) > 0, w.name);
  }
  assert.deepEqual(mutating.webhooks!.map((w) => w.clientConfig.service!.path), ['/mutate', '/mutate', '/mutate', '/mutate-module-deployment']);
  assert.deepEqual(validating.webhooks!.map((w) => w.clientConfig.service!.path), ['/validate', '/validate', '/validate', '/validate', '/validate-module-deployment']);
});

test('failure policies: mutation and validation fail closed by default (module objects only)', () => {
  const { mutating, validating } = toWebhookConfigurations(BASE);
  assert.deepEqual(mutating.webhooks!.map((w) => [w.name.split('.')[0], w.failurePolicy]), [['pods', 'Fail'], ['pods-alias', 'Fail'], ['daemonsets', 'Fail'], ['moduledeployments', 'Fail']]);
  assert.ok(validating.webhooks!.every((w) => w.failurePolicy === 'Fail'));
});

test('failure policies: each side can be opened on its own', () => {
  const open = toWebhookConfigurations({ ...BASE, failurePolicy: { validating: 'Ignore' } });
  assert.ok(open.mutating.webhooks!.every((w) => w.failurePolicy === 'Fail'));
  assert.ok(open.validating.webhooks!.every((w) => w.failurePolicy === 'Ignore'));
  const both = toWebhookConfigurations({ ...BASE, failurePolicy: { mutating: 'Ignore', validating: 'Ignore' } });
  assert.ok([...both.mutating.webhooks!, ...both.validating.webhooks!].every((w) => w.failurePolicy === 'Ignore'));
});

test('rules: pods CREATE mutated, DaemonSets CREATE/UPDATE mutated, pods, all workload kinds and ModuleDeployments validated', () => {
  const { mutating, validating } = toWebhookConfigurations(BASE);
  const rules = (ws: typeof mutating.webhooks) => ws!.flatMap((w) => w.rules!.flatMap((r) => r.resources!.map((res) => `${r.apiGroups![0] || 'core'}/${res}:${r.operations!.join('+')}`)));
  assert.deepEqual(rules(mutating.webhooks), ['core/pods:CREATE', 'core/pods:CREATE', 'apps/daemonsets:CREATE+UPDATE', 'koupleless.io/moduledeployments:CREATE+UPDATE']);
  assert.deepEqual(rules(validating.webhooks), [
    'core/pods:CREATE+UPDATE', 'core/pods:CREATE+UPDATE',
    'apps/deployments:CREATE+UPDATE', 'apps/statefulsets:CREATE+UPDATE', 'apps/daemonsets:CREATE+UPDATE', 'apps/replicasets:CREATE+UPDATE', 'batch/jobs:CREATE+UPDATE',
    'batch/cronjobs:CREATE+UPDATE',
    'koupleless.io/moduledeployments:CREATE+UPDATE',
  ]);
});

test('URL mode: url with path, no service; no caBundle when none is given', () => {
  const { mutating, validating } = toWebhookConfigurations({ ...BASE, caBundlePem: '', client: { kind: 'url', baseUrl: 'https://127.0.0.1:9443/' } });
  assert.equal(mutating.webhooks![0]!.clientConfig.url, 'https://127.0.0.1:9443/mutate');
  assert.equal(validating.webhooks![0]!.clientConfig.url, 'https://127.0.0.1:9443/validate');
  assert.equal(mutating.webhooks![0]!.clientConfig.caBundle, undefined);
  assert.equal(mutating.webhooks![0]!.clientConfig.service, undefined);
});

test('template matchCondition: guarded CEL over both labels', () => {
  assert.equal(
    toTemplateMatchCondition(['spec', 'jobTemplate', 'spec', 'template']).expression,
    "has(object.spec) && has(object.spec.jobTemplate) && has(object.spec.jobTemplate.spec) && has(object.spec.jobTemplate.spec.template) && has(object.spec.jobTemplate.spec.template.metadata) && has(object.spec.jobTemplate.spec.template.metadata.labels) && (('module-controller.koupleless.io/component' in object.spec.jobTemplate.spec.template.metadata.labels && object.spec.jobTemplate.spec.template.metadata.labels['module-controller.koupleless.io/component'] == 'module') || ('virtual-kubelet.koupleless.io/component' in object.spec.jobTemplate.spec.template.metadata.labels && object.spec.jobTemplate.spec.template.metadata.labels['virtual-kubelet.koupleless.io/component'] == 'module'))",
  );
});

test('serving names: service DNS names, URL host as IP or DNS, always localhost', () => {
  assert.deepEqual(toServingNames({ kind: 'service', name: 'wh', namespace: 'ns' }), { dnsNames: ['localhost', 'wh', 'wh.ns', 'wh.ns.svc', 'wh.ns.svc.cluster.local'], ips: ['127.0.0.1'] });
  assert.deepEqual(toServingNames({ kind: 'url', host: '10.0.0.5' }), { dnsNames: ['localhost'], ips: ['127.0.0.1', '10.0.0.5'] });
  assert.deepEqual(toServingNames({ kind: 'url', host: 'webhook.example.com' }), { dnsNames: ['localhost', 'webhook.example.com'], ips: ['127.0.0.1'] });
});

test('planCaBundle: sets every webhook\'s caBundle, undefined when already current, input untouched', () => {
  const { mutating } = toWebhookConfigurations({ ...BASE, caBundlePem: '' });
  const pem = 'PEM-NEW';
  const next = planCaBundle(mutating, pem)!;
  assert.ok(next.webhooks!.every((w) => w.clientConfig.caBundle === Buffer.from(pem).toString('base64')));
  assert.equal(mutating.webhooks![0]!.clientConfig.caBundle, undefined);
  assert.equal(planCaBundle(next, pem), undefined);
});
