/**
 * The core/v1 Events the Service sync leaves on workloads, so `kubectl describe deployment` shows
 * when its module Service came and went and why a request could not be honoured.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import type { WorkloadRef } from './module-workload.ts';

export const EVENT_SOURCE = 'module-controller';

export type WorkloadEventReason = 'ServiceCreated' | 'ServiceUpdated' | 'ServiceDeleted' | 'PortConflict' | 'NotManaged' | 'InvalidAnnotations' | 'InvalidServiceName';

export interface WorkloadEventInput {
  readonly workload: WorkloadRef;
  readonly type: 'Normal' | 'Warning';
  readonly reason: WorkloadEventReason;
  readonly message: string;
  readonly now: Date;
}

// Event names are DNS subdomains (≤ 253); the API server appends 5 characters to generateName.
const MAX_PREFIX = 200;

export function toWorkloadEvent(e: WorkloadEventInput): CoreV1Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${e.workload.name.slice(0, MAX_PREFIX)}.`, namespace: e.workload.namespace },
    involvedObject: { apiVersion: e.workload.apiVersion, kind: e.workload.kind, name: e.workload.name, namespace: e.workload.namespace, uid: e.workload.uid },
    type: e.type,
    reason: e.reason,
    message: e.message.slice(0, 1024),
    source: { component: EVENT_SOURCE },
    firstTimestamp: e.now,
    lastTimestamp: e.now,
    count: 1,
  };
}
