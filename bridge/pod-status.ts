/**
 * Pure: the status a module pod should have, from what its base reports. Times are carried over
 * from the previous status when nothing changed, so an unchanged pod yields an identical status and
 * no write.
 */
import type { V1Pod, V1PodCondition, V1PodStatus, V1ContainerStatus } from '@kubernetes/client-node';
import { toModuleStatusRow, toOneLine, type ModuleObservation, type ModuleStatusRow } from '../core/module-status.ts';

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

/** Conditions the bridge writes; every other type (DisruptionTarget, readiness gates, …) belongs to someone else and is kept. */
export const OWN_CONDITIONS: readonly string[] = Object.freeze(['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']);

/**
 * The kubelet's readiness-gate rule (pod readiness gates, KEP-580): a pod with `spec.readinessGates`
 * is Ready only when ContainersReady and every gate's condition is True. Undefined when all gates pass.
 */
export function checkReadinessGates(pod: V1Pod): string | undefined {
  const problems: string[] = [];
  for (const g of pod.spec?.readinessGates ?? []) {
    const c = pod.status?.conditions?.find((x) => x.type === g.conditionType);
    if (!c) problems.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') problems.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  return problems.length ? problems.join(', ') : undefined;
}

export function toPodStatus(input: PodStatusInput): V1PodStatus {
  const { pod, now } = input;
  const prev = pod.status ?? {};
  const nowIso = now.toISOString();
  const containers = pod.spec?.containers ?? [];
  const rows = containers.map((c) => toModuleStatusRow(input.observations.get(c.name) ?? { kind: 'installing' }, nowIso));
  const statuses = containers.map((c, i) => toContainerStatus(c.name, c.image ?? '', rows[i]!, prev.containerStatuses?.find((s) => s.name === c.name)));
  const allReady = rows.length > 0 && rows.every((r) => r.ready);
  const gates = checkReadinessGates(pod);
  const podReady = allReady && input.baseReady && gates === undefined;
  const anyFailed = rows.some((r) => r.failed);
  const deleting = pod.metadata?.deletionTimestamp !== undefined;
  let phase: string;
  if (deleting && prev.phase) phase = prev.phase;
  else if (anyFailed && pod.spec?.restartPolicy === 'Never') phase = 'Failed';
  else if (rows.length > 0 && rows.every((r) => r.present) && rows.some((r) => r.started)) phase = 'Running';
  else if (prev.phase === 'Running' && rows.some((r) => r.present)) phase = 'Running';
  else phase = 'Pending';
  const notReadyNames = containers.filter((_, i) => !rows[i]!.ready).map((c) => c.name);
  // A failed module's one-line cause also goes into the conditions, where `kubectl describe` shows it.
  const failedAt = rows.findIndex((r) => r.failed && r.state.waiting?.message);
  const cause = failedAt >= 0 ? ` (${containers[failedAt]!.name}: ${rows[failedAt]!.state.waiting!.reason}: ${toOneLine(rows[failedAt]!.state.waiting!.message!)})` : '';
  const containersMessage = `modules not active: [${notReadyNames.join(' ')}]${cause}`;
  const notReady = !allReady
    ? { reason: 'ContainersNotReady', message: containersMessage }
    : !input.baseReady
      ? { reason: 'BaseNotReady', message: 'the base is not Ready' }
      : { reason: 'ReadinessGatesNotReady', message: gates ?? '' };
  const find = (t: string) => prev.conditions?.find((c) => c.type === t);
  const ip = input.baseIP ?? prev.podIP;
  const own = [
    condition('PodScheduled', true, find('PodScheduled'), now),
    condition('Initialized', true, find('Initialized'), now),
    condition('ContainersReady', allReady, find('ContainersReady'), now, 'ContainersNotReady', containersMessage),
    condition('Ready', podReady, find('Ready'), now, notReady.reason, notReady.message),
  ];
  const foreign = (prev.conditions ?? []).filter((c) => !OWN_CONDITIONS.includes(c.type));
  return {
    phase,
    conditions: [...own, ...foreign],
    ...(ip ? { hostIP: ip, hostIPs: [{ ip }], podIP: ip, podIPs: [{ ip }] } : {}),
    startTime: prev.startTime ? new Date(prev.startTime) : now,
    containerStatuses: statuses,
    qosClass: prev.qosClass ?? 'BestEffort',
  } as V1PodStatus;
}

/**
 * How long to hold back a pod's first status, in ms; undefined = write it now. A pod no one has
 * written a status for yet waits while every one of its modules is an install sent less than
 * `delayMs` ago and not answered: a base that confirms within that time takes the pod from no status
 * straight to Running in one write (one API write and one watch event less per pod, and no
 * Installing Event), while a slow install still shows Installing after `delayMs`. `installSentAt`
 * maps a container name to when its module's install was sent (in flight only).
 */
export function toFirstStatusHoldMs(pod: V1Pod, observations: ReadonlyMap<string, ModuleObservation>, installSentAt: ReadonlyMap<string, number>, now: number, delayMs: number): number | undefined {
  if (delayMs <= 0 || (pod.status?.containerStatuses?.length ?? 0) > 0) return undefined;
  const containers = pod.spec?.containers ?? [];
  let hold = 0;
  for (const c of containers) {
    const sentAt = installSentAt.get(c.name);
    if (observations.get(c.name)?.kind !== 'installing' || sentAt === undefined) return undefined;
    const left = sentAt + delayMs - now;
    if (left <= 0) return undefined;
    hold = Math.max(hold, left);
  }
  return containers.length > 0 ? hold : undefined;
}

/**
 * The status write as a strategic merge patch, as the kubelet writes it: `metadata.uid` is a
 * precondition (the API server refuses the patch with 422 "metadata.uid: field is immutable" when the
 * pod under this name is another one, e.g. a StatefulSet pod recreated under the same name —
 * test/integration/pod-status.test.ts); conditions merge by type, so a
 * condition someone else adds meanwhile (DisruptionTarget, a readiness gate's) survives; fields a
 * condition no longer has are removed with null; containerStatuses are replaced as a whole: the list
 * has no merge key (an atomic list), so a patch's list replaces it. A `{ $patch: replace }`
 * directive element there is not a directive but data: the API server (v1.34) stored it as a
 * nameless container status, every later pass saw a status that differed from the one it computed
 * and wrote it again — about one status write per pod per module-list poll, for ever.
 */
export function toStatusPatch(pod: V1Pod, status: V1PodStatus): Record<string, unknown> {
  const conditions = (status.conditions ?? [])
    .filter((c) => OWN_CONDITIONS.includes(c.type))
    .map((c) => ({ reason: null, message: null, ...c }));
  return {
    metadata: { uid: pod.metadata?.uid },
    status: { ...status, conditions, containerStatuses: status.containerStatuses ?? [] },
  };
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

/**
 * The statuses this bridge wrote that its pod cache may not show yet. A pass computes a pod's
 * status from the cache; right after a write the cache still holds an older version, and a pass in
 * that window (another pod of the base changed, a reply came) would find the status "changed" and
 * write it — and record its Events — again. The pod as last written stands in for the cache's copy
 * while the cache shows a version this bridge's own writes went through (the one a write was
 * computed from, or one an earlier write produced) but not the last one; once the cache shows the
 * last write's version, or any version not of ours (someone else wrote), the cache is the truth again.
 */
export class WrittenStatuses {
  private readonly byUid = new Map<string, { readonly versions: ReadonlySet<string>; readonly last: string | undefined; readonly status: V1PodStatus }>();

  /** The pod with the status this bridge last wrote, while the cache has not caught up; else the pod itself. */
  view(pod: V1Pod): V1Pod {
    const uid = pod.metadata?.uid;
    const seen = uid === undefined ? undefined : this.byUid.get(uid);
    if (!seen) return pod;
    const rv = pod.metadata?.resourceVersion;
    if (rv === undefined || rv === seen.last || !seen.versions.has(rv)) {
      this.byUid.delete(uid!);
      return pod;
    }
    return { ...pod, status: seen.status };
  }

  /**
   * `status` was written over `pod` (the copy the write was computed from); `written` is the API
   * server's answer: the pod, or only its metadata (then the status written stands for it).
   */
  record(pod: V1Pod, status: V1PodStatus, written?: { readonly metadata?: { readonly resourceVersion?: string | undefined } | undefined; readonly status?: V1PodStatus | undefined }): void {
    const uid = pod.metadata?.uid;
    const before = pod.metadata?.resourceVersion;
    if (uid === undefined || before === undefined) return;
    const prev = this.byUid.get(uid);
    const versions = new Set(prev?.versions.has(before) ? prev.versions : []);
    versions.add(before);
    const last = written?.metadata?.resourceVersion;
    if (last !== undefined) versions.add(last);
    this.byUid.set(uid, { versions, last, status: written?.status ?? status });
  }

  /**
   * The pod is exactly what this bridge's last status write over it produced (its resourceVersion is
   * that write's answer): the cache now shows what the pass that wrote it already planned with.
   */
  isLastWrite(pod: V1Pod): boolean {
    const uid = pod.metadata?.uid;
    const rv = pod.metadata?.resourceVersion;
    if (uid === undefined || rv === undefined) return false;
    return this.byUid.get(uid)?.last === rv;
  }

  /** Forgets pods no longer on the base. */
  keepOnly(pods: readonly V1Pod[]): void {
    if (this.byUid.size === 0) return;
    const live = new Set(pods.map((p) => p.metadata?.uid));
    for (const uid of this.byUid.keys()) if (!live.has(uid)) this.byUid.delete(uid);
  }

  get size(): number {
    return this.byUid.size;
  }
}
