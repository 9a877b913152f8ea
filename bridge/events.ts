/** Kubernetes Events (core/v1) for what the bridge does, fire-and-forget: an Event never blocks work. */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../core/logger.ts';

export interface EventTarget {
  readonly kind: 'Pod' | 'Node';
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly uid?: string | undefined;
}

export type RecordEvent = (target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string) => void;

export function createEventRecorder(core: k8s.CoreV1Api, component: string, instance: string, logger: Logger, now: () => number): RecordEvent {
  let seq = 0;
  return (target, type, reason, message) => {
    const namespace = target.namespace ?? 'default';
    const t = new Date(now());
    const body: k8s.CoreV1Event = {
      metadata: { name: `${target.name}.${t.getTime().toString(16)}${(seq++ % 1000).toString(16)}`, namespace },
      involvedObject: { apiVersion: 'v1', kind: target.kind, name: target.name, ...(target.namespace ? { namespace: target.namespace } : {}), ...(target.uid ? { uid: target.uid } : {}) },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component, host: instance },
      reportingComponent: component,
      reportingInstance: instance,
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
    };
    core.createNamespacedEvent({ namespace, body }).catch((err: unknown) => {
      logger.debug({ err: (err as Error).message, reason }, 'could not record event');
    });
  };
}
