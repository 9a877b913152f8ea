/**
 * Which workload a pod belongs to and which revision of it, from the pod alone (no ReplicaSet
 * lookups): the rollout hand-off rules of the bridge and the extender need "same workload, another
 * revision" (docs/bridge.md "Rollouts").
 *
 * - Deployment pods are owned by a ReplicaSet named `<deployment>-<pod-template-hash>` and carry the
 *   `pod-template-hash` label (the Deployment controller sets both), so the Deployment is the
 *   ReplicaSet name without that suffix and the hash is the revision.
 * - ModuleDeployment pods (docs/module-deployment.md) are owned by a ReplicaSet named
 *   `<moduledeployment>-<revision hash>` with no `pod-template-hash`; they carry the ModuleDeployment
 *   name label and the revision label, so the workload is the ModuleDeployment and the revision its
 *   hash (two revisions of one ModuleDeployment hand modules off like two of one Deployment).
 * - StatefulSet and DaemonSet pods are owned by their controller and carry `controller-revision-hash`
 *   (the StatefulSet controller sets it to the ControllerRevision's full name, the DaemonSet
 *   controller to the bare hash; bridge/module-claims.ts `toRevisionRef` maps both to the revision).
 * - Anything else (a bare pod, a Job) has no workload: it never hands its module to another pod.
 */

import { MODULE_DEPLOYMENT_LABEL, MODULE_REVISION_LABEL } from './names.ts';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** The subset of V1ObjectMeta this needs, so pure code needs no client types. */
export interface PodMetaLike {
  readonly namespace?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly ownerReferences?: ReadonlyArray<{ readonly kind: string; readonly name: string; readonly controller?: boolean | undefined }> | undefined;
}

export interface PodWorkload {
  /** `namespace/Kind/name` of the owning workload. */
  readonly workload: string;
  /** The pod template's revision (hash); undefined when the controller sets none. */
  readonly revision: string | undefined;
}

export function toPodWorkload(meta: PodMetaLike | undefined): PodWorkload | undefined {
  const owner = meta?.ownerReferences?.find((o) => o.controller === true);
  if (!owner) return undefined;
  const ns = meta?.namespace ?? '';
  const labels = meta?.labels ?? {};
  if (owner.kind === 'ReplicaSet') {
    const md = labels[MODULE_DEPLOYMENT_LABEL];
    const mdRevision = labels[MODULE_REVISION_LABEL];
    if (md && mdRevision) return { workload: `${ns}/ModuleDeployment/${md}`, revision: mdRevision };
    const hash = labels[POD_TEMPLATE_HASH_LABEL];
    if (hash && owner.name.endsWith(`-${hash}`)) return { workload: `${ns}/Deployment/${owner.name.slice(0, -hash.length - 1)}`, revision: hash };
    return { workload: `${ns}/ReplicaSet/${owner.name}`, revision: hash };
  }
  if (owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet') {
    return { workload: `${ns}/${owner.kind}/${owner.name}`, revision: labels[CONTROLLER_REVISION_HASH_LABEL] };
  }
  return undefined;
}

/** True when `a` and `b` are pods of one workload at different revisions (a rollout in progress). */
export function isOtherRevision(a: Partial<PodWorkload> | undefined, b: Partial<PodWorkload> | undefined): boolean {
  return a !== undefined && b !== undefined && a.workload === b.workload && a.revision !== undefined && b.revision !== undefined && a.revision !== b.revision;
}
