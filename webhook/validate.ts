/**
 * Is this module workload installable? Pure: one object in, a verdict out. Each container of a
 * module pod (template) must be a module (core/module-spec.ts rules, shared with the bridge), and
 * the module Service annotations must parse, each jar URL must be allowed by the cluster's jar URL
 * policy, and a base the pod names must not be reserved for other namespaces. Every problem is
 * reported, so a user fixes them all after one `kubectl apply`.
 */
import { parseModules } from '../core/module-spec.ts';
import { parseServiceAnnotations } from '../core/service-annotations.ts';
import { checkJarUrl } from './jar-url-policy.ts';
import { isModulePodShape } from './mutate-pod.ts';
import { findPodTemplate, toWorkloadName } from './pod-template.ts';
import type { AdmissionPolicy } from './policy.ts';
import { checkTenancy } from './tenancy.ts';
import { planWarnings } from './warnings.ts';

export interface Verdict {
  /** `Deployment "demo/biz1"`. */
  readonly workload: string;
  /** The (template) pod carries the module label; everything else is allowed untouched. */
  readonly module: boolean;
  /** Each names the container (or annotation) and the field, says what is wrong and how to fix it. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

export interface ValidateContext {
  /** The request's kind when the object does not carry one. */
  readonly kind?: string;
  /** The request's namespace (a new object may not carry it yet). */
  readonly namespace?: string;
}

function kindOf(object: unknown, fallback: string | undefined): string {
  const k = typeof object === 'object' && object !== null ? (object as { kind?: unknown }).kind : undefined;
  return typeof k === 'string' && k ? k : (fallback ?? 'object');
}

function metaNamespace(object: unknown): string | undefined {
  const meta = typeof object === 'object' && object !== null ? (object as { metadata?: { namespace?: unknown } }).metadata : undefined;
  return typeof meta?.namespace === 'string' && meta.namespace ? meta.namespace : undefined;
}

export function validate(object: unknown, policy: AdmissionPolicy, context: ValidateContext = {}): Verdict {
  const kind = kindOf(object, context.kind);
  const workload = toWorkloadName(kind, object, context.namespace);
  const ref = findPodTemplate(kind, object);
  if (!ref || !isModulePodShape(ref.template)) return { workload, module: false, problems: [], warnings: [] };
  const { template } = ref;
  const problems: string[] = [];
  const containers = template.spec?.containers ?? [];
  if (containers.length === 0) problems.push('the pod has no containers; add one container per module');
  const parsed = parseModules(containers);
  for (const p of parsed.problems) problems.push(`container "${p.container}": ${p.message}`);
  for (const m of parsed.modules) {
    const why = checkJarUrl(m.bizUrl, policy.jarUrls);
    if (why) problems.push(`container "${m.bizName}": ${why}`);
  }
  for (const p of parseServiceAnnotations(template.metadata?.annotations).problems) problems.push(p.message);
  // The request's namespace is the authoritative one (the API server refuses an object naming another).
  const namespace = context.namespace ?? metaNamespace(object);
  const tenancy = checkTenancy(template, namespace, policy);
  if (tenancy.problem) problems.push(tenancy.problem);
  return { workload, module: true, problems, warnings: [...planWarnings(template, policy), ...tenancy.warnings] };
}

/** The denial kubectl shows after `admission webhook "…" denied the request: `. */
export function toDenialMessage(verdict: Verdict, problems: readonly string[] = verdict.problems): string {
  if (problems.length === 1) return `${verdict.workload}: ${problems[0]}`;
  return `${verdict.workload} has ${problems.length} problems:\n${problems.map((p) => `- ${p}`).join('\n')}`;
}
