/**
 * The webhook entries for ModuleDeployments (both API groups), registered next to the pod
 * webhooks by registration.ts: the mutation below and the validation further down. A CEL matchCondition sends only the objects the mutation changes
 * (mutate-module-deployment.ts: v1's negative `replicas`), so with failurePolicy Fail a webhook outage blocks nothing else — not the
 * controller's writes, not the garbage collector's finalizer updates on a deletion.
 */
import type { AdmissionregistrationV1WebhookClientConfig, V1MatchCondition, V1MutatingWebhook, V1ValidatingWebhook } from '@kubernetes/client-node';
import { MD_GROUPS, MD_PLURAL, MD_VERSION } from '../moduledeployment/types.ts';

export const MODULE_DEPLOYMENT_MUTATE_PATH = '/mutate-module-deployment';

export const MODULE_DEPLOYMENT_MATCH_CONDITION: V1MatchCondition = Object.freeze({
  name: 'v1-peer-replicas',
  expression: 'has(object.spec) && has(object.spec.replicas) && type(object.spec.replicas) == int && object.spec.replicas < 0',
});

type Common = Pick<V1MutatingWebhook, 'admissionReviewVersions' | 'sideEffects' | 'timeoutSeconds' | 'namespaceSelector' | 'matchPolicy'>;

export function toModuleDeploymentWebhook(name: string, clientConfig: AdmissionregistrationV1WebhookClientConfig, failurePolicy: string, common: Common): V1MutatingWebhook {
  return {
    name,
    clientConfig,
    rules: [{ apiGroups: [...MD_GROUPS], apiVersions: [MD_VERSION], resources: [MD_PLURAL], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
    matchConditions: [MODULE_DEPLOYMENT_MATCH_CONDITION],
    failurePolicy,
    reinvocationPolicy: 'Never',
    ...common,
  };
}

export const MODULE_DEPLOYMENT_VALIDATE_PATH = '/validate-module-deployment';

/** CEL: `object.spec.<field>` differs from `oldObject.spec.<field>` (present on one side only counts). */
function specFieldChanged(field: string): string {
  const now = `object.spec.${field}`;
  const then = `oldObject.spec.${field}`;
  return `(has(${now}) != has(${then}) || (has(${now}) && ${now} != ${then}))`;
}

/**
 * Validation (validate-module-deployment.ts) reads only the module and the base name, so it is
 * sent a CREATE and an UPDATE that changes one of them: the controller's own writes (peer-mode
 * replicas, annotations), status and scale, and the garbage collector's finalizer updates never
 * depend on the webhook, even with failurePolicy Fail.
 */
export const MODULE_DEPLOYMENT_VALIDATE_MATCH_CONDITION: V1MatchCondition = Object.freeze({
  name: 'module-or-base-changed',
  expression: `oldObject == null || !has(object.spec) || !has(oldObject.spec) || ${specFieldChanged('template')} || ${specFieldChanged('baseDeploymentName')}`,
});

export function toModuleDeploymentValidatingWebhook(name: string, clientConfig: AdmissionregistrationV1WebhookClientConfig, failurePolicy: string, common: Common): V1ValidatingWebhook {
  return {
    name,
    clientConfig,
    rules: [{ apiGroups: [...MD_GROUPS], apiVersions: [MD_VERSION], resources: [MD_PLURAL], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
    matchConditions: [MODULE_DEPLOYMENT_VALIDATE_MATCH_CONDITION],
    failurePolicy,
    ...common,
  };
}
