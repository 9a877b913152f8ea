import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODULE_DEPLOYMENT_MATCH_CONDITION, MODULE_DEPLOYMENT_VALIDATE_MATCH_CONDITION } from '../../webhook/registration-module-deployment.ts';
import { toWebhookConfigurations } from '../../webhook/registration.ts';

const cfg = toWebhookConfigurations({
  mutatingName: 'mc-webhook', validatingName: 'mc-webhook',
  client: { kind: 'url', baseUrl: 'https://127.0.0.1:9443' },
  excludedNamespaces: ['kube-system', 'mc-system'], timeoutSeconds: 5,
});

test('ModuleDeployments of both groups are mutated on CREATE and UPDATE through their own path, nothing else', () => {
  const w = cfg.mutating.webhooks!.find((x) => x.name === 'moduledeployments.mutate.module-controller.koupleless.io');
  assert.ok(w);
  assert.equal(w.clientConfig.url, 'https://127.0.0.1:9443/mutate-module-deployment');
  assert.deepEqual(w.rules, [{ apiGroups: ['koupleless.io', 'koupleless.alipay.com'], apiVersions: ['v1alpha1'], resources: ['moduledeployments'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }]);
  // Not moduledeployments/scale or /status: those carry a Scale or only status.
  assert.ok(!w.rules!.some((r) => r.resources!.some((x) => x.includes('/'))));
  assert.deepEqual(w.matchConditions, [MODULE_DEPLOYMENT_MATCH_CONDITION]);
  assert.equal(w.failurePolicy, 'Fail');
  assert.equal(w.reinvocationPolicy, 'Never');
  assert.deepEqual(w.namespaceSelector, { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'mc-system'] }] });
});

test('the ModuleDeployment webhook follows the mutating failure policy', () => {
  const open = toWebhookConfigurations({ mutatingName: 'm', validatingName: 'v', client: { kind: 'url', baseUrl: 'https://127.0.0.1:1' }, excludedNamespaces: [], timeoutSeconds: 5, failurePolicy: { mutating: 'Ignore' } });
  assert.equal(open.mutating.webhooks!.find((x) => x.name.startsWith('moduledeployments.'))?.failurePolicy, 'Ignore');
});

test('the match condition sends only v1 negative replicas, reading replicas only when it is an int', () => {
  assert.equal(MODULE_DEPLOYMENT_MATCH_CONDITION.expression, 'has(object.spec) && has(object.spec.replicas) && type(object.spec.replicas) == int && object.spec.replicas < 0');
});

test('ModuleDeployments of both groups are validated on CREATE and UPDATE through their own path, following the validating failure policy', () => {
  const w = cfg.validating.webhooks!.find((x) => x.name === 'moduledeployments.validate.module-controller.koupleless.io');
  assert.ok(w);
  assert.equal(w.clientConfig.url, 'https://127.0.0.1:9443/validate-module-deployment');
  assert.deepEqual(w.rules, [{ apiGroups: ['koupleless.io', 'koupleless.alipay.com'], apiVersions: ['v1alpha1'], resources: ['moduledeployments'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }]);
  assert.deepEqual(w.matchConditions, [MODULE_DEPLOYMENT_VALIDATE_MATCH_CONDITION]);
  assert.equal(w.failurePolicy, 'Fail');
  const open = toWebhookConfigurations({ mutatingName: 'm', validatingName: 'v', client: { kind: 'url', baseUrl: 'https://127.0.0.1:1' }, excludedNamespaces: [], timeoutSeconds: 5, failurePolicy: { validating: 'Ignore' } });
  assert.equal(open.validating.webhooks!.find((x) => x.name.startsWith('moduledeployments.'))?.failurePolicy, 'Ignore');
});

test('the validation match condition: every CREATE, and an UPDATE only when the module template or the base name changes', () => {
  assert.equal(
    MODULE_DEPLOYMENT_VALIDATE_MATCH_CONDITION.expression,
    'oldObject == null || !has(object.spec) || !has(oldObject.spec)'
      + ' || (has(object.spec.template) != has(oldObject.spec.template) || (has(object.spec.template) && object.spec.template != oldObject.spec.template))'
      + ' || (has(object.spec.baseDeploymentName) != has(oldObject.spec.baseDeploymentName) || (has(object.spec.baseDeploymentName) && object.spec.baseDeploymentName != oldObject.spec.baseDeploymentName))',
  );
});
