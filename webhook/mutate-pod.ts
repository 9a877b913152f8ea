/**
 * What a module pod needs to be scheduled on a base (design.md "webhook"): the virtual-node
 * toleration, required node affinity on the base's stack/name/version, one
 * `module.koupleless.io/<bizName>: "true"` label per module (module Services select on it) and the
 * module scheduler. Pure: the input is never touched; the caller diffs the returned clone to get the
 * JSON Patch, so no patch operation is ever written by hand.
 */
import type { V1DaemonSet, V1ObjectMeta, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { checkBizName } from '../core/module-spec.ts';
import { isModulePodLabels, toModuleLabel } from '../core/names.ts';
import { planBaseRequirements } from './base-requirements.ts';
import { mergeRequiredNodeAffinity } from './node-affinity.ts';
import { DEFAULT_SCHEDULER_NAME, type AdmissionPolicy } from './policy.ts';
import { addVnodeToleration } from './tolerations.ts';

/** A pod or a pod template: what the mutation reads and edits. */
export interface PodShape {
  metadata?: V1ObjectMeta;
  spec?: V1PodSpec;
}

export interface Mutation<T> {
  /** A mutated clone, or the input itself when nothing changed. */
  readonly object: T;
  /** One human line per change, for logs and tests; empty when nothing changed. */
  readonly changes: readonly string[];
}

function addModuleLabels(meta: V1ObjectMeta, spec: V1PodSpec): string[] {
  const changes: string[] = [];
  for (const c of spec.containers ?? []) {
    // Only names that can be a label key; the validating webhook rejects the others.
    if (checkBizName(c.name) !== undefined) continue;
    const key = toModuleLabel(c.name);
    if (meta.labels?.[key] === 'true') continue;
    meta.labels = { ...meta.labels, [key]: 'true' };
    changes.push(`label ${key}="true"`);
  }
  return changes;
}

function setSchedulerName(spec: V1PodSpec, schedulerName: string): string[] {
  if (!schedulerName) return [];
  // The API server defaults schedulerName before admission, so default-scheduler means "not chosen".
  if (spec.schedulerName && spec.schedulerName !== DEFAULT_SCHEDULER_NAME) return [];
  spec.schedulerName = schedulerName;
  return [`schedulerName ${schedulerName}`];
}

/** Edits a pod shape the caller owns; returns the changes. */
function mutateInPlace(shape: PodShape, policy: AdmissionPolicy): string[] {
  shape.metadata ??= {};
  shape.spec ??= {} as V1PodSpec; // garbage without a spec: the API server will reject it anyway
  const { requirements } = planBaseRequirements(shape.metadata, policy);
  return [
    ...addVnodeToleration(shape.spec),
    ...mergeRequiredNodeAffinity(shape.spec, requirements),
    ...addModuleLabels(shape.metadata, shape.spec),
    ...setSchedulerName(shape.spec, policy.schedulerName),
  ];
}

export function isModulePodShape(shape: PodShape | undefined): boolean {
  return isModulePodLabels(shape?.metadata?.labels);
}

/**
 * A copy that shares everything the mutation never writes (containers, volumes, status…) and owns
 * everything it does: metadata's and spec's top level (labels and tolerations are replaced, not
 * edited) and the affinity (edited in place, so deep-copied). Cheaper than a full clone on the
 * webhook's hot path, and the input is still never touched (the tests freeze it).
 */
function toWritableShape<T extends PodShape>(shape: T): T {
  const metadata = { ...shape.metadata };
  if (!shape.spec) return { ...shape, metadata };
  const spec = { ...shape.spec, ...(shape.spec.affinity ? { affinity: structuredClone(shape.spec.affinity) } : {}) };
  return { ...shape, metadata, spec };
}

export function mutatePod(pod: V1Pod, policy: AdmissionPolicy): Mutation<V1Pod> {
  if (!isModulePodShape(pod)) return { object: pod, changes: [] };
  const clone = toWritableShape(pod);
  const changes = mutateInPlace(clone, policy);
  return { object: changes.length > 0 ? clone : pod, changes };
}

/**
 * The DaemonSet controller picks nodes from the *template's* tolerations and node affinity
 * (pkg/controller/daemon, NodeShouldRunDaemonPod), before any pod exists. A module DaemonSet whose
 * template lacks the toleration would never get a pod on a tainted virtual node, so its template
 * receives the same mutation as a pod.
 */
export function mutateDaemonSet(ds: V1DaemonSet, policy: AdmissionPolicy): Mutation<V1DaemonSet> {
  const template = ds.spec?.template;
  if (!template || !isModulePodShape(template)) return { object: ds, changes: [] };
  const clone = { ...ds, spec: { ...ds.spec!, template: toWritableShape(template) } };
  const changes = mutateInPlace(clone.spec.template as PodShape, policy);
  return { object: changes.length > 0 ? clone : ds, changes: changes.map((c) => `template ${c}`) };
}
