/**
 * Peer mode (v1's `spec.replicas: -1`): one replica per matching Ready base.
 *
 * The CRD's scale subresource maps `.spec.replicas`, and the API server refuses a negative value
 * there (apiextensions-apiserver ValidateScaleSpec), so `-1` cannot be stored. Peer mode is stored
 * as `peer: true` with `replicas` unset instead; the webhook (webhook/mutate-module-deployment.ts)
 * rewrites v1's `-1` into that form before validation. Unset is the one state of `.spec.replicas`
 * that `kubectl scale` can never write, so a scale (any N, 0 included) always means "N replicas,
 * peer mode off" without ambiguity.
 */
import type { ModuleDeploymentSpec } from './types.ts';

/** v1's `spec.replicas` for peer mode. */
export const V1_PEER_REPLICAS = -1;
/** What an unset `spec.replicas` means outside peer mode (the webhook writes it, the planner assumes it). */
export const DEFAULT_REPLICAS = 1;

type ReplicasFields = Pick<ModuleDeploymentSpec, 'peer' | 'replicas'>;

export function isPeerMode(spec: ReplicasFields): boolean {
  return spec.peer === true && spec.replicas === undefined;
}

/** The replica count wanted: the Ready matching bases in peer mode, else `spec.replicas`. */
export function toDesiredReplicas(spec: ReplicasFields, readyBases: number): number {
  return isPeerMode(spec) ? readyBases : Math.max(0, spec.replicas ?? DEFAULT_REPLICAS);
}

/**
 * `peer: true` next to a `replicas` value: only the scale subresource (which admission webhooks
 * for the main resource never see) writes that, so the user scaled a peer-mode object. It runs
 * `replicas`; setting `peer: false` makes the object read as what it does.
 */
export function planLeavePeerMode(spec: ReplicasFields): { readonly replicas: number; readonly why: string } | undefined {
  if (spec.peer !== true || typeof spec.replicas !== 'number') return undefined;
  return { replicas: spec.replicas, why: `spec.replicas was set to ${spec.replicas} (kubectl scale) on a peer-mode ModuleDeployment` };
}
