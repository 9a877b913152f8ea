/**
 * The ModuleDeployment API (docs/module-deployment.md): upstream v1's field names, served in the
 * group v1's code used and in the group the Koupleless docs show. Both behave the same.
 */
import type { SchedulingPolicy } from '../core/names.ts';

export const MD_GROUPS = ['koupleless.io', 'koupleless.alipay.com'] as const;
export type MdGroup = (typeof MD_GROUPS)[number];
export const MD_VERSION = 'v1alpha1';
export const MD_KIND = 'ModuleDeployment';
export const MD_PLURAL = 'moduledeployments';
export const MD_SHORT_NAME = 'mddeploy';

export const UPGRADE_POLICIES = ['install_then_uninstall', 'uninstall_then_install', 'scaleup_then_scaledown'] as const;
export type UpgradePolicy = (typeof UPGRADE_POLICIES)[number];

export const PROGRESS = ['Init', 'Executing', 'WaitingForConfirmation', 'Paused', 'Completed', 'Terminating'] as const;
export type Progress = (typeof PROGRESS)[number];

export interface ModuleTemplate {
  readonly name: string;
  readonly version: string;
  readonly url: string;
  readonly type?: string | undefined;
  readonly md5?: string | undefined;
}

export interface ServiceStrategy {
  readonly enableModuleService?: boolean | undefined;
  readonly port?: number | undefined;
  readonly targetPort?: number | undefined;
}

export interface OperationStrategy {
  readonly needConfirm?: boolean | undefined;
  readonly useBeta?: boolean | undefined;
  readonly batchCount?: number | undefined;
  readonly grayTimeBetweenBatchSeconds?: number | undefined;
  readonly upgradePolicy?: UpgradePolicy | undefined;
  readonly serviceStrategy?: ServiceStrategy | undefined;
}

export interface ModuleDeploymentSpec {
  readonly baseDeploymentName: string;
  readonly template: { readonly spec: { readonly module: ModuleTemplate } };
  readonly replicas?: number | undefined;
  /** Peer mode: one replica per matching Ready base (v1's replicas: -1); see peer-mode.ts. */
  readonly peer?: boolean | undefined;
  readonly confirmBatchNum?: number | undefined;
  readonly revisionHistoryLimit?: number | undefined;
  readonly operationStrategy?: OperationStrategy | undefined;
  readonly schedulingStrategy?: { readonly schedulingPolicy?: SchedulingPolicy | undefined } | undefined;
}

export interface MdCondition {
  readonly type: 'Available' | 'Progressing' | 'ReplicaFailure';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

export interface ReleaseStatus {
  readonly progress: Progress;
  readonly currentBatch: number;
  readonly realBatchCount: number;
  readonly originalDeltaReplicas: number;
  /** `<currentBatch>/<realBatchCount>` (the printer column). */
  readonly batchProgress: string;
  readonly lastTransitionTime: string;
  readonly nextReconcileTime?: string | undefined;
  /** The module revision (template hash) this release rolls out. */
  readonly revision: string;
  /**
   * spec.confirmBatchNum when the release started: a left-over confirmation from an earlier release
   * confirms nothing until the user changes it.
   */
  readonly staleConfirmBatchNum?: number | undefined;
  /**
   * Set when this is a scale (spec.replicas changed, same revision, not peer mode): the replicas it
   * started from. originalDeltaReplicas is then |toReplicas − fromReplicas|.
   */
  readonly fromReplicas?: number | undefined;
  /** The replicas this release or scale moves to (a release follows spec.replicas). */
  readonly toReplicas?: number | undefined;
}

export interface ModuleDeploymentStatus {
  readonly observedGeneration?: number | undefined;
  readonly replicas?: number | undefined;
  readonly readyReplicas?: number | undefined;
  readonly availableReplicas?: number | undefined;
  readonly updatedReplicas?: number | undefined;
  /** `<readyReplicas>/<desired>` (the printer column). */
  readonly ready?: string | undefined;
  /** Label selector of all its pods (the scale subresource's labelSelectorPath). */
  readonly selector?: string | undefined;
  readonly releaseStatus?: ReleaseStatus | undefined;
  readonly conditions?: readonly MdCondition[] | undefined;
}

export interface ModuleDeployment {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly generation?: number;
    readonly deletionTimestamp?: Date | string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly resourceVersion?: string;
  };
  readonly spec: ModuleDeploymentSpec;
  readonly status?: ModuleDeploymentStatus | undefined;
}

export function toApiVersion(group: MdGroup): string {
  return `${group}/${MD_VERSION}`;
}

export function parseGroup(apiVersion: string | undefined): MdGroup | undefined {
  const g = apiVersion?.split('/')[0];
  return MD_GROUPS.find((x) => x === g);
}
