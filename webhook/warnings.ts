/**
 * Warnings: things that work but are probably not what the user meant. They are returned to
 * kubectl as "Warning: …" lines and never block a request. Each rule is a small function returning
 * its warnings, run in order.
 */
import type { V1PodSpec } from '@kubernetes/client-node';
import { BASE_NAME_LABEL, BASE_STACK_LABEL, BIZ_VERSION_ENV, VNODE_NAME_LABEL, VNODE_TAINT } from '../core/names.ts';
import { parseServiceAnnotations } from '../core/service-annotations.ts';
import { planBaseRequirements } from './base-requirements.ts';
import type { PodShape } from './mutate-pod.ts';
import { DEFAULT_SCHEDULER_NAME, type AdmissionPolicy } from './policy.ts';
import { tolerates } from './tolerations.ts';

type WarningRule = (shape: PodShape, spec: V1PodSpec, policy: AdmissionPolicy) => string[];

function affinityKeys(spec: V1PodSpec): Set<string> {
  const keys = new Set(Object.keys(spec.nodeSelector ?? {}));
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const e of term.matchExpressions ?? []) keys.add(e.key);
  }
  return keys;
}

const baseConflicts: WarningRule = (shape, _spec, policy) => [...planBaseRequirements(shape.metadata, policy).conflicts];

const noBaseName: WarningRule = (shape, spec, policy) => {
  const named = planBaseRequirements(shape.metadata, policy).requirements.some((r) => r.key === BASE_NAME_LABEL);
  const keys = affinityKeys(spec);
  if (named || keys.has(BASE_NAME_LABEL) || keys.has(VNODE_NAME_LABEL)) return [];
  const stack = planBaseRequirements(shape.metadata, policy).requirements.find((r) => r.key === BASE_STACK_LABEL)?.value;
  // The pod template's label (what the webhook turns into node affinity), or node affinity on either
  // key: both are read. The old text named only the label, and pointed quick-start users away from
  // the affinity they had written on vnode.koupleless.io/name.
  return [`no base is named: the modules may be installed on any base${stack ? ` of stack "${stack}"` : ''}; set the label ${BASE_NAME_LABEL}: <base name> on the pod template (or require ${BASE_NAME_LABEL} or ${VNODE_NAME_LABEL} in its node affinity)`];
};

const foreignScheduler: WarningRule = (_shape, spec, policy) => {
  const s = spec.schedulerName;
  if (!s || s === DEFAULT_SCHEDULER_NAME || !policy.schedulerName || s === policy.schedulerName) return [];
  return [`schedulerName "${s}" is not the module scheduler "${policy.schedulerName}"; that scheduler must know about virtual nodes`];
};

const fixedNode: WarningRule = (_shape, spec) =>
  spec.nodeName ? [`nodeName "${spec.nodeName}" is set, so no scheduler checks that base can take the modules; remove it`] : [];

const initContainers: WarningRule = (_shape, spec) =>
  (spec.initContainers ?? []).length > 0 ? ['init containers are not run on bases; they are ignored'] : [];

const evictingToleration: WarningRule = (_shape, spec) =>
  (spec.tolerations ?? [])
    .filter((t) => tolerates(t, VNODE_TAINT) && t.tolerationSeconds !== undefined && t.tolerationSeconds !== null)
    .map((t) => `the toleration of ${VNODE_TAINT.key} has tolerationSeconds ${t.tolerationSeconds}: the modules will be evicted from their base after that; remove tolerationSeconds`);

const idleServiceAnnotations: WarningRule = (shape) => {
  const s = parseServiceAnnotations(shape.metadata?.annotations);
  return s.present && !s.value.enabled && s.problems.length === 0
    ? ['module Service annotations are set but service-enabled is not "true", so no Service is created']
    : [];
};

// A jar named like "biz1-0.0.2-ark-biz.jar" with BIZ_VERSION 0.0.1 is the classic half-done version bump.
const VERSION_IN_FILE_RE = /\d+\.\d+/;
const versionMismatch: WarningRule = (_shape, spec) => {
  const out: string[] = [];
  for (const c of spec.containers ?? []) {
    const version = c.env?.find((e) => e.name === BIZ_VERSION_ENV)?.value;
    const file = c.image?.split(/[/?#]/).filter((p) => p.toLowerCase().endsWith('.jar')).pop();
    if (!version || !file || !VERSION_IN_FILE_RE.test(file) || file.includes(version)) continue;
    out.push(`container "${c.name}": ${BIZ_VERSION_ENV} "${version}" does not appear in the jar name "${file}"; check that both were updated`);
  }
  return out;
};

const RULES: readonly WarningRule[] = [baseConflicts, noBaseName, foreignScheduler, fixedNode, initContainers, evictingToleration, idleServiceAnnotations, versionMismatch];

export function planWarnings(shape: PodShape, policy: AdmissionPolicy): string[] {
  const spec = shape.spec ?? { containers: [] };
  return RULES.flatMap((rule) => rule(shape, spec, policy));
}
