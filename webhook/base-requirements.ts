/**
 * Which bases a module pod may run on: `base.koupleless.io/{stack,name,version}` taken from the
 * pod's own labels, then its annotations, then the configured defaults (design.md "webhook").
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { BASE_NAME_LABEL, BASE_STACK_LABEL, BASE_VERSION_LABEL } from '../core/names.ts';
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

export function planBaseRequirements(meta: V1ObjectMeta | undefined, policy: AdmissionPolicy): BaseRequirementPlan {
  const requirements: BaseRequirement[] = [];
  const conflicts: string[] = [];
  for (const [key, policyKey] of KEYS) {
    const label = meta?.labels?.[key];
    const annotation = meta?.annotations?.[key];
    if (label && annotation && label !== annotation) {
      conflicts.push(`label ${key}="${label}" and annotation ${key}="${annotation}" differ; the label is used`);
    }
    if (label) requirements.push({ key, value: label, source: 'label' });
    else if (annotation) requirements.push({ key, value: annotation, source: 'annotation' });
    else if (policy[policyKey]) requirements.push({ key, value: policy[policyKey], source: 'default' });
  }
  return { requirements, conflicts };
}
