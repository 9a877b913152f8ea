/**
 * The webhook's own MutatingWebhookConfiguration and ValidatingWebhookConfiguration, as pure
 * builders (URL mode for local runs and tests, service mode for the chart).
 *
 * Scoping, so the webhook can never block what it must not:
 * - namespaceSelector on `kubernetes.io/metadata.name NotIn [kube-system, <own namespace>, …]`
 *   (the API server sets that label on every namespace), so neither the control plane nor the
 *   webhook's own pods depend on the webhook.
 * - Pods are selected by their labels (objectSelector). A selector ANDs its expressions and the
 *   module label has an alias, so each pod webhook comes twice: primary label = module, and
 *   alias = module while primary is not (no pod is sent twice).
 * - Workloads carry the module label on their pod template, not on themselves, which an
 *   objectSelector cannot see: a CEL matchCondition on the template's labels does (Kubernetes ≥ 1.30).
 *
 * Failure policies (both configurable, `failurePolicy`; the chart's `webhook.failurePolicy`): by
 * default mutation and validation both Fail — fail closed — because only module objects are ever
 * sent (objectSelector / matchConditions above), so nothing else is blocked while the webhook is down.
 * Mutation Fail: a module pod without its toleration and scheduler could never run, so it is better
 * refused with a clear error. Validation Fail: an invalid module (a jar URL outside the policy) is
 * never admitted unchecked. The price of validation Fail: while the webhook is down, creating or
 * updating module workloads (and module pod updates) is refused; Ignore keeps them editable then, at
 * the cost of admitting unvalidated modules (docs/security-kubernetes.md).
 */
import type {
  AdmissionregistrationV1WebhookClientConfig,
  V1MatchCondition,
  V1MutatingWebhook,
  V1MutatingWebhookConfiguration,
  V1RuleWithOperations,
  V1ValidatingWebhook,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { MODULE_DEPLOYMENT_MUTATE_PATH, MODULE_DEPLOYMENT_VALIDATE_PATH, toModuleDeploymentValidatingWebhook, toModuleDeploymentWebhook } from './registration-module-deployment.ts';
import { MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS, MODULE_COMPONENT_VALUE } from '../core/names.ts';

export type WebhookClient =
  | { readonly kind: 'url'; readonly baseUrl: string }
  | { readonly kind: 'service'; readonly name: string; readonly namespace: string; readonly port: number };

export interface RegistrationOptions {
  readonly mutatingName: string;
  readonly validatingName: string;
  readonly client: WebhookClient;
  /** PEM; empty leaves caBundle out (cert-manager's cainjector, or filled in later). */
  readonly caBundlePem?: string;
  /** Namespaces never sent to the webhook; kube-system and the controller's own belong here. */
  readonly excludedNamespaces: readonly string[];
  readonly timeoutSeconds: number;
  /** Defaults: DEFAULT_FAILURE_POLICY. */
  readonly failurePolicy?: Partial<FailurePolicies>;
}

export type FailurePolicy = 'Fail' | 'Ignore';
export interface FailurePolicies {
  readonly mutating: FailurePolicy;
  readonly validating: FailurePolicy;
}
export const DEFAULT_FAILURE_POLICY: FailurePolicies = Object.freeze({ mutating: 'Fail', validating: 'Fail' });

export interface WebhookConfigurations {
  readonly mutating: V1MutatingWebhookConfiguration;
  readonly validating: V1ValidatingWebhookConfiguration;
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
const SUFFIX = 'module-controller.koupleless.io';

function toClientConfig(opts: RegistrationOptions, path: string): AdmissionregistrationV1WebhookClientConfig {
  const caBundle = opts.caBundlePem ? { caBundle: Buffer.from(opts.caBundlePem).toString('base64') } : {};
  if (opts.client.kind === 'url') return { url: `${opts.client.baseUrl.replace(/\/+$/, '')}${path}`, ...caBundle };
  const { name, namespace, port } = opts.client;
  return { service: { name, namespace, port, path }, ...caBundle };
}

const LABEL_KEYS = [MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS];

/** The two objectSelectors that together select module pods exactly once. */
export function toModulePodSelectors() {
  return [
    { matchExpressions: [{ key: MODULE_COMPONENT_LABEL, operator: 'In', values: [MODULE_COMPONENT_VALUE] }] },
    {
      matchExpressions: [
        { key: MODULE_COMPONENT_LABEL_ALIAS, operator: 'In', values: [MODULE_COMPONENT_VALUE] },
        { key: MODULE_COMPONENT_LABEL, operator: 'NotIn', values: [MODULE_COMPONENT_VALUE] },
      ],
    },
  ];
}

/** CEL: the pod template at `path` (under `object`) carries a module label. Every step is guarded. */
export function toTemplateMatchCondition(path: readonly string[]): V1MatchCondition {
  const steps = [...path, 'metadata', 'labels'];
  const guards = steps.map((_, i) => `has(object.${steps.slice(0, i + 1).join('.')})`);
  const labels = `object.${steps.join('.')}`;
  const anyLabel = LABEL_KEYS.map((k) => `('${k}' in ${labels} && ${labels}['${k}'] == '${MODULE_COMPONENT_VALUE}')`).join(' || ');
  return { name: 'module-pod-template', expression: `${guards.join(' && ')} && (${anyLabel})` };
}

function rule(apiGroup: string, resources: string[], operations: string[]): V1RuleWithOperations {
  return { apiGroups: [apiGroup], apiVersions: ['v1'], resources, operations, scope: 'Namespaced' };
}

export function toWebhookConfigurations(opts: RegistrationOptions): WebhookConfigurations {
  const namespaceSelector = { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...new Set(opts.excludedNamespaces)] }] };
  const common = { admissionReviewVersions: ['v1'], sideEffects: 'None', timeoutSeconds: opts.timeoutSeconds, namespaceSelector, matchPolicy: 'Equivalent' };
  const [primary, alias] = toModulePodSelectors();
  const { mutating: mutatePolicy, validating: validatePolicy } = { ...DEFAULT_FAILURE_POLICY, ...opts.failurePolicy };
  const mutate = toClientConfig(opts, '/mutate');
  const validate = toClientConfig(opts, '/validate');
  const mutating: V1MutatingWebhook[] = [
    { name: `pods.mutate.${SUFFIX}`, clientConfig: mutate, rules: [rule('', ['pods'], ['CREATE'])], objectSelector: primary, failurePolicy: mutatePolicy, reinvocationPolicy: 'IfNeeded', ...common },
    { name: `pods-alias.mutate.${SUFFIX}`, clientConfig: mutate, rules: [rule('', ['pods'], ['CREATE'])], objectSelector: alias, failurePolicy: mutatePolicy, reinvocationPolicy: 'IfNeeded', ...common },
    {
      name: `daemonsets.mutate.${SUFFIX}`,
      clientConfig: mutate,
      rules: [rule('apps', ['daemonsets'], ['CREATE', 'UPDATE'])],
      matchConditions: [toTemplateMatchCondition(['spec', 'template'])],
      failurePolicy: mutatePolicy,
      reinvocationPolicy: 'Never',
      ...common,
    },
    toModuleDeploymentWebhook(`moduledeployments.mutate.${SUFFIX}`, toClientConfig(opts, MODULE_DEPLOYMENT_MUTATE_PATH), mutatePolicy, common),
  ];
  const validating: V1ValidatingWebhook[] = [
    { name: `pods.validate.${SUFFIX}`, clientConfig: validate, rules: [rule('', ['pods'], ['CREATE', 'UPDATE'])], objectSelector: primary, failurePolicy: validatePolicy, ...common },
    { name: `pods-alias.validate.${SUFFIX}`, clientConfig: validate, rules: [rule('', ['pods'], ['CREATE', 'UPDATE'])], objectSelector: alias, failurePolicy: validatePolicy, ...common },
    {
      name: `workloads.validate.${SUFFIX}`,
      clientConfig: validate,
      rules: [rule('apps', ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], ['CREATE', 'UPDATE']), rule('batch', ['jobs'], ['CREATE', 'UPDATE'])],
      matchConditions: [toTemplateMatchCondition(['spec', 'template'])],
      failurePolicy: validatePolicy,
      ...common,
    },
    {
      name: `cronjobs.validate.${SUFFIX}`,
      clientConfig: validate,
      rules: [rule('batch', ['cronjobs'], ['CREATE', 'UPDATE'])],
      matchConditions: [toTemplateMatchCondition(['spec', 'jobTemplate', 'spec', 'template'])],
      failurePolicy: validatePolicy,
      ...common,
    },
    toModuleDeploymentValidatingWebhook(`moduledeployments.validate.${SUFFIX}`, toClientConfig(opts, MODULE_DEPLOYMENT_VALIDATE_PATH), validatePolicy, common),
  ];
  const metadata = (name: string) => ({ name, labels: { [MANAGED_BY_LABEL]: 'module-controller' } });
  return {
    mutating: { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: metadata(opts.mutatingName), webhooks: mutating },
    validating: { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: metadata(opts.validatingName), webhooks: validating },
  };
}

const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Names the serving certificate must carry for the API server to reach the webhook through `client`. */
export function toServingNames(client: { kind: 'url'; host: string } | { kind: 'service'; name: string; namespace: string }): { dnsNames: string[]; ips: string[] } {
  const dnsNames = new Set<string>(['localhost']);
  const ips = new Set<string>(['127.0.0.1']);
  if (client.kind === 'url') {
    const host = client.host.replace(/^\[|\]$/g, '');
    if (IPV4_RE.test(host) || host.includes(':')) ips.add(host);
    else dnsNames.add(host);
  } else {
    const { name, namespace } = client;
    for (const n of [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`]) dnsNames.add(n);
  }
  return { dnsNames: [...dnsNames], ips: [...ips] };
}
