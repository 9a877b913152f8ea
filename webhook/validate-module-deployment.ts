/**
 * ModuleDeployments at `kubectl apply` (docs/webhook.md "ModuleDeployments"): the jar URL policy
 * (jar-url-policy.ts) and tenancy (tenancy.ts) that module pods meet, applied to the object that
 * will create them, so a `file://` or off-policy url, or a base reserved for other namespaces, is
 * refused when the user applies it instead of when the controller's pods are refused later.
 *
 * The CRD's schema and CEL rules already judged the shape (name, version, url a jar URL) before a
 * validating webhook sees the object; this adds only what depends on the cluster's policy. Pure.
 */
import { BASE_NAME_LABEL } from '../core/names.ts';
import { MD_GROUPS, MD_KIND } from '../moduledeployment/types.ts';
import type { AdmissionHandler, AdmissionResult } from './admission.ts';
import { checkJarUrl } from './jar-url-policy.ts';
import type { AdmissionPolicy } from './policy.ts';
import { checkTenancy } from './tenancy.ts';
import { toDenialMessage, type Verdict } from './validate.ts';

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export const MD_URL_FIELD = 'spec.template.spec.module.url';
export const MD_BASE_FIELD = 'spec.baseDeploymentName';

/**
 * The ModuleDeployment's problems under `policy`. `namespace` is the request's (authoritative).
 * The base: the controller's pods may go to bases labelled `base.koupleless.io/name=<baseDeploymentName>`
 * or to the bases of the Deployment of that name (moduledeployment/revision.ts toBaseTerms). A
 * name reserved for other namespaces (--base-tenants) is refused: asking for a reserved base by
 * name is what tenancy forbids, whatever else the name also matches.
 */
export function validateModuleDeployment(object: unknown, policy: AdmissionPolicy, namespace: string | undefined): Verdict {
  const metadata = isRecord(object) && isRecord(object['metadata']) ? object['metadata'] : {};
  const ns = namespace ?? str(metadata['namespace']);
  const name = str(metadata['name']) ?? '(unnamed)';
  const workload = `${MD_KIND} "${ns ? `${ns}/` : ''}${name}"`;
  const spec = isRecord(object) && isRecord(object['spec']) ? object['spec'] : {};
  const template = isRecord(spec['template']) && isRecord(spec['template']['spec']) ? spec['template']['spec'] : {};
  const module = isRecord(template['module']) ? template['module'] : {};
  const problems: string[] = [];
  const url = str(module['url']);
  if (url !== undefined) {
    const why = checkJarUrl(url, policy.jarUrls);
    if (why) problems.push(`${MD_URL_FIELD}: ${why}`);
  }
  const warnings: string[] = [];
  const base = str(spec['baseDeploymentName']);
  if (base !== undefined) {
    // The shape checkTenancy reads: a pod that names exactly this base.
    const tenancy = checkTenancy({ metadata: {}, spec: { containers: [], nodeSelector: { [BASE_NAME_LABEL]: base } } }, ns, policy);
    if (tenancy.problem) problems.push(`${MD_BASE_FIELD}: ${tenancy.problem}`);
    warnings.push(...tenancy.warnings);
  }
  return { workload, module: true, problems, warnings };
}

function isModuleDeployment(group: string, kind: string): boolean {
  return kind === MD_KIND && (MD_GROUPS as readonly string[]).includes(group);
}

/** The handler behind /validate-module-deployment: ModuleDeployment CREATE and UPDATE. */
export function createModuleDeploymentValidateHandler(policy: AdmissionPolicy): AdmissionHandler {
  return (req): AdmissionResult => {
    const { group, kind } = req.kind;
    if (req.subResource) return { kind: 'allowed', reason: `subresource ${req.subResource} is not validated` };
    if (!isModuleDeployment(group, kind)) return { kind: 'allowed', reason: `${group ? `${group}/` : ''}${kind} is not validated here` };
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return { kind: 'allowed', reason: `ModuleDeployment ${req.operation} is not validated` };
    if (!isRecord(req.object)) return { kind: 'errored', code: 400, message: `the ModuleDeployment ${req.operation} request has no object` };
    const verdict = validateModuleDeployment(req.object, policy, req.namespace || undefined);
    const warnings = verdict.warnings;
    const allowed = (reason: string, extra: readonly string[] = []): AdmissionResult => {
      const all = [...extra, ...warnings];
      return all.length > 0 ? { kind: 'allowed', reason, warnings: all } : { kind: 'allowed', reason };
    };
    if (verdict.problems.length === 0) return allowed('valid ModuleDeployment');
    if (req.operation === 'UPDATE' && req.oldObject !== undefined) {
      // Ratchet, as for workloads (handlers.ts): one stored before a rule existed can still be
      // scaled, paused or fixed; only new problems are refused.
      const before = new Set(validateModuleDeployment(req.oldObject, policy, req.namespace || undefined).problems);
      if (verdict.problems.every((p) => before.has(p))) return allowed('no new problems', verdict.problems.map((p) => `still invalid: ${p}`));
    }
    return { kind: 'denied', message: toDenialMessage(verdict), warnings };
  };
}
