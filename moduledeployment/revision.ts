/**
 * One module revision = one native ReplicaSet of module pods (as a Deployment has one per pod
 * template hash): the hash of the module (name, version, url, md5), and the ReplicaSet the
 * ModuleDeployment owns for it. Pure.
 */
import { createHash } from 'node:crypto';
import type { V1ReplicaSet, V1PodTemplateSpec, V1NodeSelectorTerm } from '@kubernetes/client-node';
import {
  BASE_DEPLOYMENT_LABEL,
  BASE_NAME_LABEL,
  BIZ_VERSION_ENV,
  MODULE_COMPONENT_LABEL,
  MODULE_COMPONENT_VALUE,
  MODULE_DEPLOYMENT_LABEL,
  MODULE_REVISION_ANNOTATION,
  MODULE_REVISION_LABEL,
  SCHEDULING_POLICY_LABEL,
  toModuleLabel,
  type SchedulingPolicy,
} from '../core/names.ts';
import { MD_KIND, toApiVersion, type MdGroup, type ModuleDeployment, type ModuleTemplate } from './types.ts';

/** 10 hex digits of sha256 over what makes a module different: a new value starts a release. */
export function toRevisionHash(group: MdGroup, m: ModuleTemplate): string {
  return createHash('sha256').update(JSON.stringify([group, m.name, m.version, m.url, m.md5 ?? ''])).digest('hex').slice(0, 10);
}

export function toReplicaSetName(mdName: string, hash: string): string {
  return `${mdName}-${hash}`;
}

/**
 * Which bases (docs/module-deployment.md "Which bases"): nodes the controller linked to the base
 * Deployment, OR (a second term: terms are ORed) bases that call themselves by that name.
 */
export function toBaseTerms(baseDeploymentName: string): V1NodeSelectorTerm[] {
  return [
    { matchExpressions: [{ key: BASE_DEPLOYMENT_LABEL, operator: 'In', values: [baseDeploymentName] }] },
    { matchExpressions: [{ key: BASE_NAME_LABEL, operator: 'In', values: [baseDeploymentName] }] },
  ];
}

export function toSchedulingPolicy(md: ModuleDeployment): SchedulingPolicy {
  return md.spec.schedulingStrategy?.schedulingPolicy === 'stacking' ? 'stacking' : 'scatter';
}

/** The pod template: one module container; the webhook adds the toleration, stack and scheduler. */
export function toPodTemplate(md: ModuleDeployment, hash: string): V1PodTemplateSpec {
  const m = md.spec.template.spec.module;
  return {
    metadata: {
      labels: {
        [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE,
        [MODULE_DEPLOYMENT_LABEL]: md.metadata?.name ?? '',
        [MODULE_REVISION_LABEL]: hash,
        [toModuleLabel(m.name)]: 'true',
        [SCHEDULING_POLICY_LABEL]: toSchedulingPolicy(md),
      },
    },
    spec: {
      containers: [{ name: m.name, image: m.url, env: [{ name: BIZ_VERSION_ENV, value: m.version }] }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: toBaseTerms(md.spec.baseDeploymentName) } } },
    },
  };
}

export function toReplicaSet(md: ModuleDeployment, group: MdGroup, hash: string, revision: number, replicas: number): V1ReplicaSet {
  const name = md.metadata?.name ?? '';
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: toReplicaSetName(name, hash),
      namespace: md.metadata?.namespace ?? 'default',
      labels: { [MODULE_DEPLOYMENT_LABEL]: name, [MODULE_REVISION_LABEL]: hash },
      annotations: { [MODULE_REVISION_ANNOTATION]: String(revision) },
      // controller: true makes the garbage collector delete the ReplicaSet (and so its pods, which
      // the bridge uninstalls) with the ModuleDeployment; no finalizer needed.
      ownerReferences: [{ apiVersion: toApiVersion(group), kind: MD_KIND, name, uid: md.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      replicas,
      selector: { matchLabels: { [MODULE_DEPLOYMENT_LABEL]: name, [MODULE_REVISION_LABEL]: hash } },
      template: toPodTemplate(md, hash),
    },
  };
}

export function readRevisionNumber(rs: V1ReplicaSet): number {
  const n = Number(rs.metadata?.annotations?.[MODULE_REVISION_ANNOTATION]);
  return Number.isFinite(n) ? n : 0;
}
