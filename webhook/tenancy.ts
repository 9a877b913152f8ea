/**
 * Tenancy at admission (core/base-tenancy.ts, docs/webhook.md "Tenancy"). The webhook does not
 * know which node a pod will get, but it knows which bases the pod may go to: its base-name
 * requirement (label, annotation or default, which the mutation turns into node affinity) and the
 * name constraints already in its nodeSelector and node affinity, on either label family. When
 * every base the pod can go to is reserved for other namespaces, it can never run: refuse it at
 * apply time. When only some are, warn; the extender keeps it off the reserved ones. A pod that
 * names no base is left to the extender.
 */
import type { V1NodeSelectorTerm, V1PodSpec } from '@kubernetes/client-node';
import { BASE_NAME_LABEL, VNODE_NAME_LABEL } from '../core/names.ts';
import { planBaseRequirements } from './base-requirements.ts';
import type { PodShape } from './mutate-pod.ts';
import type { AdmissionPolicy } from './policy.ts';

const NAME_KEYS = [BASE_NAME_LABEL, VNODE_NAME_LABEL] as const;

/** Base names one term allows; undefined = the term does not constrain the name. */
function termBases(term: V1NodeSelectorTerm): readonly string[] | undefined {
  let out: string[] | undefined;
  for (const e of term.matchExpressions ?? []) {
    if (!(NAME_KEYS as readonly string[]).includes(e.key) || e.operator !== 'In') continue;
    const values = e.values ?? [];
    out = out ? out.filter((v) => values.includes(v)) : [...values];
  }
  return out;
}

/** Every base name the pod may be placed on, or undefined when any base is possible. */
export function toNamedBases(shape: PodShape, policy: AdmissionPolicy): readonly string[] | undefined {
  const spec: Partial<V1PodSpec> = shape.spec ?? {};
  for (const key of NAME_KEYS) {
    const v = spec.nodeSelector?.[key];
    if (v) return [v];
  }
  const required = planBaseRequirements(shape.metadata, policy).requirements.find((r) => r.key === BASE_NAME_LABEL)?.value;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return required === undefined ? undefined : [required];
  const out = new Set<string>();
  for (const term of terms) {
    // The mutation adds the requirement to each term that does not constrain the name itself.
    const bases = termBases(term) ?? (required === undefined ? undefined : [required]);
    if (!bases) return undefined;
    for (const b of bases) out.add(b);
  }
  return [...out];
}

export interface TenancyVerdict {
  /** Set when no base the pod may go to admits its namespace. */
  readonly problem?: string;
  readonly warnings: readonly string[];
}

function toReservedText(base: string, namespaces: readonly string[]): string {
  return `base "${base}" is reserved for namespaces ${namespaces.join(', ')}`;
}

export function checkTenancy(shape: PodShape, namespace: string | undefined, policy: AdmissionPolicy): TenancyVerdict {
  if (policy.tenancy.size === 0) return { warnings: [] };
  const bases = toNamedBases(shape, policy);
  if (!bases || bases.length === 0) return { warnings: [] };
  const refused = bases.filter((b) => {
    const allowed = policy.tenancy.get(b);
    return allowed !== undefined && (namespace === undefined || !allowed.includes(namespace));
  });
  if (refused.length === 0) return { warnings: [] };
  const reasons = refused.map((b) => toReservedText(b, policy.tenancy.get(b)!)).join('; ');
  const ns = namespace === undefined ? 'this namespace' : `namespace "${namespace}"`;
  if (refused.length === bases.length) {
    return { problem: `${reasons}: ${ns} may not run modules there; ask the cluster admin to add it to --base-tenants, or name a base of your own`, warnings: [] };
  }
  return { warnings: [`${reasons}: the modules will only be placed on ${bases.filter((b) => !refused.includes(b)).join(', ')}`] };
}
