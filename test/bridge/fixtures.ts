/**
 * Builders shared by the bridge's unit tests: settings, base records, module pods and reported
 * modules with realistic shapes, so each test states only what it is about.
 */
import type { V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { MODULE_COMPONENT_LABEL, toNodeName } from '../../core/names.ts';
import type { HealthData, ReportedModule } from '../../core/protocol.ts';
import type { BaseRecord, OpRecord } from '../../bridge/base-registry.ts';
import type { BridgeSettings } from '../../bridge/config.ts';

/** A fixed clock: every test computes its times from here. */
export const T0 = Date.parse('2024-05-01T10:00:00.000Z');

export const SETTINGS: BridgeSettings = Object.freeze({
  env: 'default',
  stack: 'java',
  notReadyAfterMs: 30_000,
  deleteAfterMs: 600_000,
  commandTimeoutMs: 30_000,
  retryBackoffBaseMs: 2_000,
  retryBackoffMaxMs: 120_000,
  maxModulesPerBase: 100,
  nodeCpu: '100',
  nodeMemory: '16Gi',
  maxMessageAgeMs: 0,
  healthPollMs: 10_000,
  moduleListPollMs: 15_000,
  nodeLeaseRenewMs: 10_000,
  maxClockSkewMs: 3_600_000,
  reconnectGraceMs: 15_000,
  installingStatusDelayMs: 0,
});

export const BASE_ID = '10.1.0.45';
export const BASE_IP = '10.1.0.45';

export function toBase(o: Partial<Omit<BaseRecord, 'ops' | 'installedUrls'>> & { ops?: readonly OpRecord[]; installedUrls?: Record<string, string> } = {}): BaseRecord {
  const identity = o.identity ?? BASE_ID;
  const { ops, installedUrls, ...rest } = o;
  return {
    identity,
    nodeName: toNodeName(identity),
    metadata: { identity, name: 'base', version: '1.0.0', clusterName: 'default' },
    localIP: BASE_IP,
    hostName: 'base-7d9f8c6b5-x2kq9',
    state: 'activated',
    firstSeenAt: T0,
    lastHeartbeatAt: T0,
    lastPublishTimestamp: T0,
    ...rest,
    ops: new Map((ops ?? []).map((op) => [`${op.bizName}:${op.bizVersion}`, op])),
    installedUrls: new Map(Object.entries(installedUrls ?? {})),
  };
}

export function toHealth(masterState = 'ACTIVATED', jvm: Record<string, number> = {}): HealthData {
  return { jvm, cpu: {}, masterBizInfo: { bizName: 'base', bizState: masterState, bizVersion: '1.0.0' } };
}

export function toReported(bizName: string, bizVersion: string, state = 'ACTIVATED', extra: Partial<ReportedModule> = {}): ReportedModule {
  return { bizName, bizVersion, state, ...extra };
}

export function toJarUrl(bizName: string, bizVersion: string): string {
  return `https://repo.example.invalid/${bizName}/${bizName}-${bizVersion}-ark-biz.jar`;
}

export interface ModuleRef {
  readonly name: string;
  readonly version: string;
  readonly url?: string;
}

export function toContainer(m: ModuleRef): V1Container {
  return { name: m.name, image: m.url ?? toJarUrl(m.name, m.version), env: [{ name: 'BIZ_VERSION', value: m.version }] };
}

export function toModulePod(o: {
  name: string;
  namespace?: string;
  modules: readonly ModuleRef[];
  /** deletionTimestamp (the end of the grace period). */
  deleting?: number;
  phase?: string;
  restartPolicy?: string;
  status?: V1PodStatus;
  containers?: V1Container[];
  /** A Deployment pod: owned by ReplicaSet `<deployment>-<revision>`, label pod-template-hash. */
  deployment?: { name: string; revision: string };
  /** A StatefulSet or DaemonSet pod: owned by it, label `controller-revision-hash` = `revisionLabel`. */
  controller?: { kind: 'StatefulSet' | 'DaemonSet'; name: string; revisionLabel: string };
  /** creationTimestamp (ms). */
  created?: number;
  uid?: string;
}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace ?? 'shop',
      uid: o.uid ?? `uid-${o.name}`,
      labels: { [MODULE_COMPONENT_LABEL]: 'module', ...(o.deployment ? { 'pod-template-hash': o.deployment.revision } : {}), ...(o.controller ? { 'controller-revision-hash': o.controller.revisionLabel } : {}) },
      ...(o.deployment ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${o.deployment.name}-${o.deployment.revision}`, uid: `rs-${o.deployment.revision}`, controller: true }] } : {}),
      ...(o.controller ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.controller.kind, name: o.controller.name, uid: `owner-${o.controller.name}`, controller: true }] } : {}),
      ...(o.created !== undefined ? { creationTimestamp: new Date(o.created) } : {}),
      ...(o.deleting !== undefined ? { deletionTimestamp: new Date(o.deleting), deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: {
      nodeName: toNodeName(BASE_ID),
      restartPolicy: o.restartPolicy ?? 'Always',
      containers: o.containers ?? o.modules.map(toContainer),
    },
    status: o.status ?? (o.phase ? { phase: o.phase } : { phase: 'Pending' }),
  };
}

export function toOp(o: Partial<OpRecord> & Pick<OpRecord, 'kind' | 'bizName' | 'bizVersion'>): OpRecord {
  return { bizUrl: toJarUrl(o.bizName, o.bizVersion), sentAt: T0, attempts: 1, ...o };
}
