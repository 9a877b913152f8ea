/**
 * Kubernetes Events (core/v1) for what the bridge does, fire-and-forget: an Event never blocks work.
 *
 * Repeats are aggregated as client-go's EventCorrelator does: the same type, reason and message on
 * the same object within the window updates the existing Event (count + 1, lastTimestamp) instead of
 * creating a new one, so a retry loop shows `x12 over 5m` in `kubectl describe`, not twelve Events.
 * The memory of recent Events is bounded (least recently used first out) and forgets entries older
 * than the window.
 */
import type * as k8s from '@kubernetes/client-node';
import type { CoreApi } from '../core/kube-apis.ts';
import { PATCH } from '../core/kube-http.ts';
import type { Logger } from '../core/logger.ts';

export interface EventTarget {
  readonly kind: 'Pod' | 'Node';
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly uid?: string | undefined;
}

export type RecordEvent = (target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string) => void;

/** client-go's aggregation window (10 minutes) and a bound on the Events remembered. */
export const EVENT_WINDOW_MS = 10 * 60_000;
export const EVENT_MEMORY = 4_096;
/** The API server accepts messages up to 1 KiB in practice (kubectl shows them whole up to there). */
export const EVENT_MESSAGE_MAX = 1_024;

interface Seen {
  readonly name: string;
  readonly namespace: string;
  count: number;
  lastAt: number;
}

/** The aggregation key: one per object, type, reason and message (client-go's EventAggregatorByReasonFunc plus the message). */
export function toEventKey(target: EventTarget, type: string, reason: string, message: string): string {
  return [target.kind, target.namespace ?? '', target.name, target.uid ?? '', type, reason, message].join('\n');
}

export function createEventRecorder(
  core: Pick<CoreApi, 'createNamespacedEvent' | 'patchNamespacedEvent'>,
  component: string,
  instance: string,
  logger: Logger,
  now: () => number,
  memory = EVENT_MEMORY,
  /** Called for every Event write sent (for the API-writes metric). */
  onWrite: (verb: 'create' | 'patch') => void = () => undefined,
): RecordEvent & { remembered(): number } {
  let seq = 0;
  const seen = new Map<string, Seen>();

  const forgetOld = (at: number) => {
    for (const [k, v] of seen) {
      // Room for the one about to be recorded.
      if (seen.size < memory && at - v.lastAt < EVENT_WINDOW_MS) break;
      seen.delete(k);
    }
  };

  const create = (key: string, target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string, t: Date) => {
    const namespace = target.namespace ?? 'default';
    const name = `${target.name}.${t.getTime().toString(16)}${(seq++ % 1000).toString(16)}`;
    const body: k8s.CoreV1Event = {
      metadata: { name, namespace },
      involvedObject: { apiVersion: 'v1', kind: target.kind, name: target.name, ...(target.namespace ? { namespace: target.namespace } : {}), ...(target.uid ? { uid: target.uid } : {}) },
      type,
      reason,
      message,
      source: { component, host: instance },
      reportingComponent: component,
      reportingInstance: instance,
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
    };
    seen.delete(key);
    seen.set(key, { name, namespace, count: 1, lastAt: t.getTime() });
    onWrite('create');
    core.createNamespacedEvent({ namespace, body }).catch((err: unknown) => {
      seen.delete(key);
      logger.debug({ err: (err as Error).message, reason }, 'could not record event');
    });
  };

  const record = ((target, type, reason, rawMessage) => {
    const message = rawMessage.length > EVENT_MESSAGE_MAX ? `${rawMessage.slice(0, EVENT_MESSAGE_MAX - 1)}…` : rawMessage;
    const t = new Date(now());
    forgetOld(t.getTime());
    const key = toEventKey(target, type, reason, message);
    const prev = seen.get(key);
    if (!prev || t.getTime() - prev.lastAt >= EVENT_WINDOW_MS) return create(key, target, type, reason, message, t);
    prev.count++;
    prev.lastAt = t.getTime();
    seen.delete(key);
    seen.set(key, prev);
    const patch = { count: prev.count, lastTimestamp: t.toISOString() };
    onWrite('patch');
    core
      .patchNamespacedEvent({ name: prev.name, namespace: prev.namespace, body: patch }, PATCH.merge)
      .catch((err: unknown) => {
        // Gone (expired by the API server's event TTL, or deleted): start a new one.
        if ((err as { code?: number }).code === 404) return create(key, target, type, reason, message, t);
        logger.debug({ err: (err as Error).message, reason }, 'could not update event');
      });
  }) as RecordEvent & { remembered(): number };
  record.remembered = () => seen.size;
  return record;
}
