/** The virtual-node toleration, added only when no toleration of the pod already tolerates the taint. */
import type { V1PodSpec, V1Toleration } from '@kubernetes/client-node';
import { VNODE_TAINT } from '../core/names.ts';

interface TaintLike {
  readonly key: string;
  readonly value: string;
  readonly effect: string;
}

/** Kubernetes' own rule (k8s.io/api core/v1 Toleration.ToleratesTaint). */
export function tolerates(t: V1Toleration, taint: TaintLike): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  // Empty operator means Equal; an empty key is only valid with Exists.
  return Boolean(t.key) && (t.operator === undefined || t.operator === '' || t.operator === 'Equal') && (t.value ?? '') === taint.value;
}

/** The toleration module pods get: `schedule.koupleless.io/virtual-node=True:NoExecute`. */
export function toVnodeToleration(): V1Toleration {
  return { key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect };
}

/** Edits `spec` (a clone owned by the caller) and returns what it changed. */
export function addVnodeToleration(spec: V1PodSpec): string[] {
  if ((spec.tolerations ?? []).some((t) => tolerates(t, VNODE_TAINT))) return [];
  spec.tolerations = [...(spec.tolerations ?? []), toVnodeToleration()];
  return [`toleration ${VNODE_TAINT.key}=${VNODE_TAINT.value}:${VNODE_TAINT.effect}`];
}
