/**
 * Which bases a module pod may run on: `base.koupleless.io/{stack,name,version}` taken from the
 * pod's own labels, then its annotations, then the configured defaults (design.md "webhook"). The
 * upstream twins `vnode.koupleless.io/{name,version}` count as the same keys (core/names.ts
 * BASE_LABEL_TWINS), so a Koupleless quick-start manifest means what it says.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { BASE_LABEL_TWINS, BASE_NAME_LABEL, BASE_STACK_LABEL, BASE_VERSION_LABEL } from '../core/names.ts';
import type { AdmissionPolicy } from './policy.ts';

export type RequirementSource = 'label' | 'annotation' | 'default';

export interface BaseRequirement {
  readonly key: string;
  readonly value: string;
  readonly source: RequirementSource;
}

export interface BaseRequirementPlan {
  /** One entry per key that has a value; a key with no value anywhere gets no term. */
  readonly requirements: readonly BaseRequirement[];
  /** Human notes about label/annotation disagreements (the label wins). */
  readonly conflicts: readonly string[];
}

const KEYS = [
  [BASE_STACK_LABEL, 'stack'],
  [BASE_NAME_LABEL, 'baseName'],
  [BASE_VERSION_LABEL, 'baseVersion'],
] as const;

/** The key and its upstream twin, if it has one. */
export function toKeyFamily(key: string): readonly string[] {
  const twin = BASE_LABEL_TWINS[key];
  return twin ? [key, twin] : [key];
}

/** The first key of the family present in `map`, with its value. */
function pick(map: Readonly<Record<string, string>> | undefined, family: readonly string[]): { key: string; value: string } | undefined {
  for (const k of family) {
    const v = map?.[k];
    if (v) return { key: k, value: v };
  }
  return undefined;
}

export function planBaseRequirements(meta: V1ObjectMeta | undefined, policy: AdmissionPolicy): BaseRequirementPlan {
  const requirements: BaseRequirement[] = [];
  const conflicts: string[] = [];
  for (const [key, policyKey] of KEYS) {
    const family = toKeyFamily(key);
    const label = pick(meta?.labels, family);
    const annotation = pick(meta?.annotations, family);
    if (label && annotation && label.value !== annotation.value) {
      conflicts.push(`label ${label.key}="${label.value}" and annotation ${annotation.key}="${annotation.value}" differ; the label is used`);
    }
    if (label) requirements.push({ key, value: label.value, source: 'label' });
    else if (annotation) requirements.push({ key, value: annotation.value, source: 'annotation' });
    else if (policy[policyKey]) requirements.push({ key, value: policy[policyKey], source: 'default' });
  }
  return { requirements, conflicts };
}
