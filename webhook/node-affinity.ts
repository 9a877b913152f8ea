/**
 * Required node affinity for module pods. Kubernetes ORs `nodeSelectorTerms` and ANDs the
 * expressions inside one term, so adding our requirements to every term means
 * (T1 ∧ R) ∨ (T2 ∧ R) = (T1 ∨ T2) ∧ R: the user's choice among terms survives and R always holds.
 * A key the user already constrains (in that term, or in `nodeSelector`) is left as written: we
 * never duplicate it and never replace a stricter expression with a wider one. A key's upstream
 * twin (`vnode.koupleless.io/name` for `base.koupleless.io/name`) counts as the key: a quick-start
 * manifest's own choice of base is never overridden by a default.
 */
import type { V1NodeSelectorTerm, V1PodSpec } from '@kubernetes/client-node';
import { toKeyFamily, type BaseRequirement } from './base-requirements.ts';

function toExpression(r: BaseRequirement): { key: string; operator: string; values: string[] } {
  return { key: r.key, operator: 'In', values: [r.value] };
}

/** Edits `spec` (a clone owned by the caller) and returns what it changed. */
export function mergeRequiredNodeAffinity(spec: V1PodSpec, requirements: readonly BaseRequirement[]): string[] {
  const selectorKeys = new Set(Object.keys(spec.nodeSelector ?? {}));
  const wanted = requirements.filter((r) => !toKeyFamily(r.key).some((k) => selectorKeys.has(k)));
  if (wanted.length === 0) return [];
  spec.affinity ??= {};
  spec.affinity.nodeAffinity ??= {};
  const na = spec.affinity.nodeAffinity;
  const terms: V1NodeSelectorTerm[] | undefined = na.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) {
    na.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchExpressions: wanted.map(toExpression) }] };
    return [`required node affinity ${wanted.map((r) => `${r.key}=${r.value}`).join(', ')}`];
  }
  const added = new Set<string>();
  for (const term of terms) {
    const constrained = new Set((term.matchExpressions ?? []).map((e) => e.key));
    const missing = wanted.filter((r) => !toKeyFamily(r.key).some((k) => constrained.has(k)));
    if (missing.length === 0) continue;
    term.matchExpressions = [...(term.matchExpressions ?? []), ...missing.map(toExpression)];
    for (const r of missing) added.add(`${r.key}=${r.value}`);
  }
  return added.size > 0 ? [`required node affinity ${[...added].join(', ')} merged into ${terms.length} term(s)`] : [];
}
