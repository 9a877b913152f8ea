/**
 * Pure: the status a module pod should have, from what its base reports. Times are carried over
 * from the previous status when nothing changed, so an unchanged pod yields an identical status and
 * no write.
 */
import type { V1Pod, V1PodCondition, V1PodStatus, V1ContainerStatus } from '@kubernetes/client-node';
import { toModuleStatusRow, type ModuleObservation, type ModuleStatusRow } from '../core/module-status.ts';

export interface PodStatusInput {
  readonly pod: V1Pod;
  /** Per container name, what is known of its module. */
  readonly observations: ReadonlyMap<string, ModuleObservation>;
  readonly baseIP: string | undefined;
  readonly baseReady: boolean;
  readonly now: Date;
}

function condition(type: string, ok: boolean, prev: V1PodCondition | undefined, now: Date, reason?: string, message?: string): V1PodCondition {
  const status = ok ? 'True' : 'False';
  const same = prev?.status === status;
  return {
    type,
    status,
    lastTransitionTime: same && prev?.lastTransitionTime ? new Date(prev.lastTransitionTime) : now,
    ...(reason && !ok ? { reason } : {}),
    ...(message && !ok ? { message } : {}),
  } as V1PodCondition;
}

function toContainerStatus(name: string, image: string, row: ModuleStatusRow, prev: V1ContainerStatus | undefined): V1ContainerStatus {
  // Keep the original startedAt while the module stays running.
  const state = row.state.running && prev?.state?.running?.startedAt ? { running: { startedAt: new Date(prev.state.running.startedAt) } } : row.state.running ? { running: { startedAt: new Date(row.state.running.startedAt) } } : row.state.terminated ? { terminated: { ...row.state.terminated, finishedAt: new Date(row.state.terminated.finishedAt) } } : { waiting: row.state.waiting };
  return { name, image, imageID: image, ready: row.ready, started: row.started, restartCount: prev?.restartCount ?? 0, state } as V1ContainerStatus;
}

export function toPodStatus(input: PodStatusInput): V1PodStatus {
  const { pod, now } = input;
  const prev = pod.status ?? {};
  const nowIso = now.toISOString();
  const containers = pod.spec?.containers ?? [];
  const rows = containers.map((c) => toModuleStatusRow(input.observations.get(c.name) ?? { kind: 'installing' }, nowIso));
  const statuses = containers.map((c, i) => toContainerStatus(c.name, c.image ?? '', rows[i]!, prev.containerStatuses?.find((s) => s.name === c.name)));
  const allReady = rows.length > 0 && rows.every((r) => r.ready);
  const podReady = allReady && input.baseReady;
  const anyFailed = rows.some((r) => r.failed);
  const deleting = pod.metadata?.deletionTimestamp !== undefined;
  let phase: string;
  if (deleting && prev.phase) phase = prev.phase;
  else if (anyFailed && pod.spec?.restartPolicy === 'Never') phase = 'Failed';
  else if (rows.length > 0 && rows.every((r) => r.present) && rows.some((r) => r.started)) phase = 'Running';
  else if (prev.phase === 'Running' && rows.some((r) => r.present)) phase = 'Running';
  else phase = 'Pending';
  const notReadyNames = containers.filter((_, i) => !rows[i]!.ready).map((c) => c.name);
  const whyNotReady = allReady ? 'the base is not Ready' : `modules not active: [${notReadyNames.join(' ')}]`;
  const find = (t: string) => prev.conditions?.find((c) => c.type === t);
  const ip = input.baseIP ?? prev.podIP;
  return {
    phase,
    conditions: [
      condition('PodScheduled', true, find('PodScheduled'), now),
      condition('Initialized', true, find('Initialized'), now),
      condition('ContainersReady', allReady, find('ContainersReady'), now, 'ContainersNotReady', `modules not active: [${notReadyNames.join(' ')}]`),
      condition('Ready', podReady, find('Ready'), now, allReady ? 'BaseNotReady' : 'ContainersNotReady', whyNotReady),
    ],
    ...(ip ? { hostIP: ip, hostIPs: [{ ip }], podIP: ip, podIPs: [{ ip }] } : {}),
    startTime: prev.startTime ? new Date(prev.startTime) : now,
    containerStatuses: statuses,
    qosClass: prev.qosClass ?? 'BestEffort',
  } as V1PodStatus;
}

/** Kubernetes stores times with second resolution, as strings or Dates depending on the client path. */
function toSec(t: Date | string | undefined): number {
  return t ? Math.floor(new Date(t).getTime() / 1000) : 0;
}

function toStateKey(st: V1ContainerStatus['state']): unknown {
  if (st?.running) return { running: toSec(st.running.startedAt) };
  if (st?.terminated) return { terminated: [st.terminated.exitCode, st.terminated.reason, st.terminated.message] };
  return { waiting: [st?.waiting?.reason, st?.waiting?.message] };
}

/** Status equality at the resolution Kubernetes stores. */
export function isSamePodStatus(a: V1PodStatus | undefined, b: V1PodStatus): boolean {
  const pick = (s: V1PodStatus | undefined) =>
    JSON.stringify({
      phase: s?.phase,
      conditions: (s?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message, toSec(c.lastTransitionTime)]),
      podIP: s?.podIP,
      hostIP: s?.hostIP,
      containerStatuses: (s?.containerStatuses ?? []).map((c) => [c.name, c.image, c.ready, c.started, toStateKey(c.state)]),
    });
  return pick(a) === pick(b);
}
