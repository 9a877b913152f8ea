/**
 * The mutating webhook entry for ModuleDeployments (both API groups), registered next to the pod
 * webhooks by registration.ts. A CEL matchCondition sends only the objects the mutation changes
 * (mutate-module-deployment.ts: v1's negative `replicas`), so with failurePolicy Fail a webhook outage blocks nothing else — not the
 * controller's writes, not the garbage collector's finalizer updates on a deletion.
 */
import type { AdmissionregistrationV1WebhookClientConfig, V1MatchCondition, V1MutatingWebhook } from '@kubernetes/client-node';
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
