// Real-shaped Node and Pod objects as the kube-scheduler sends them in ExtenderArgs.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import {
  BASE_NAME_LABEL,
  BASE_STACK_LABEL,
  BASE_VERSION_LABEL,
  BIZ_VERSION_ENV,
  DEFAULTS,
  MODULE_COMPONENT_LABEL,
  MODULE_COMPONENT_VALUE,
  VNODE_COMPONENT_LABEL,
  VNODE_COMPONENT_VALUE,
  VNODE_TAINT,
} from '../../core/names.ts';

export interface NodeOptions {
  readonly baseName?: string;
  readonly baseVersion?: string;
  readonly virtual?: boolean;
  readonly ready?: 'True' | 'False' | 'Unknown' | 'missing';
  readonly unschedulable?: boolean;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export function toNode(name: string, o: NodeOptions = {}): V1Node {
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    [BASE_STACK_LABEL]: 'java',
    [BASE_NAME_LABEL]: o.baseName ?? 'base',
    [BASE_VERSION_LABEL]: o.baseVersion ?? '1.0.0',
    ...(o.virtual === false ? {} : { [VNODE_COMPONENT_LABEL]: VNODE_COMPONENT_VALUE }),
    ...o.labels,
  };
  const ready = o.ready ?? 'True';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '100', labels, ...(o.annotations ? { annotations: o.annotations } : {}), creationTimestamp: new Date('2026-01-01T00:00:00Z') },
    spec: { taints: [{ ...VNODE_TAINT }], ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: { pods: '110', cpu: '8', memory: '16Gi' },
      allocatable: { pods: '110', cpu: '8', memory: '16Gi' },
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      conditions:
        ready === 'missing'
          ? []
          : [{ type: 'Ready', status: ready, reason: ready === 'True' ? 'BaseReady' : 'BaseHeartbeatLost', message: 'test', lastHeartbeatTime: new Date(), lastTransitionTime: new Date() }],
    },
  } as V1Node;
}

export interface PodOptions {
  readonly uid?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly modules?: ReadonlyArray<{ bizName: string; bizVersion: string }>;
  readonly nodeName?: string;
  readonly phase?: string;
  readonly baseName?: string;
  readonly baseVersion?: string;
  readonly nodeSelector?: Record<string, string>;
  readonly affinity?: boolean;
  readonly labels?: Record<string, string>;
  /** A Deployment's pod: owned by ReplicaSet `<name>-<revision>` with label pod-template-hash. */
  readonly deployment?: { readonly name: string; readonly revision: string };
}

let counter = 0;

/** A module pod the way the webhook leaves it: toleration, required base affinity, module-scheduler. */
export function toPod(o: PodOptions = {}): V1Pod {
  counter++;
  const modules = o.modules ?? [{ bizName: 'demo', bizVersion: '1.0.0' }];
  const expressions = [
    { key: BASE_STACK_LABEL, operator: 'In', values: ['java'] },
    { key: BASE_NAME_LABEL, operator: 'In', values: [o.baseName ?? 'base'] },
    { key: BASE_VERSION_LABEL, operator: 'In', values: [o.baseVersion ?? '1.0.0'] },
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name ?? `demo-7d9f-${counter}`,
      generateName: 'demo-7d9f-',
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? `pod-uid-${counter}`,
      labels: { app: 'demo', [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE, ...(o.deployment ? { 'pod-template-hash': o.deployment.revision } : {}), ...o.labels },
      ...(o.deployment ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${o.deployment.name}-${o.deployment.revision}`, uid: `rs-${o.deployment.revision}`, controller: true }] } : {}),
    },
    spec: {
      schedulerName: DEFAULTS.schedulerName,
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      containers: modules.map((m) => ({
        name: m.bizName,
        image: `https://repo.example.com/${m.bizName}-${m.bizVersion}-ark-biz.jar`,
        env: [{ name: BIZ_VERSION_ENV, value: m.bizVersion }],
      })),
      tolerations: [{ key: VNODE_TAINT.key, operator: 'Equal', value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }],
      ...(o.affinity === false
        ? {}
        : { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: expressions }] } } } }),
    },
    status: { phase: o.phase ?? 'Pending' },
  } as V1Pod;
}
