/**
 * Lease-based leader election (coordination.k8s.io/v1) with client-go's semantics, so several bridge
 * replicas can run and exactly one acts:
 * - times are observed locally (bridge/plan-lease.ts): a standby takes over only a lease duration
 *   after it last *saw* the record change, on its own clock, so clock skew cannot cause overlap;
 * - a leader renews every retry period and stops acting the moment it has not renewed within the
 *   renew deadline (< lease duration), measured from the start of its last successful write: any
 *   standby's observation of that write is later, so the leader has stopped before anyone may take over;
 * - every write carries the resourceVersion read (optimistic concurrency), so two candidates cannot
 *   both win;
 * - an unhealthy replica does not acquire, and a leader turning unhealthy stops acting at once and
 *   releases the lease so a healthy standby leads;
 * - stop(): stop acting, drain in-flight work while still holding (renewing) the lease, then release
 *   it (client-go's ReleaseOnCancel).
 *
 * With sharding (bridge/shard-ownership.ts) this single Lease only gates cluster-wide work (module
 * Services); per-base work follows the shard Leases, which apply the same rules per shard.
 */
import type * as k8s from '@kubernetes/client-node';
import type { CoordinationApi } from '../core/kube-apis.ts';
import type { Logger } from '../core/logger.ts';
import { MicroTime } from '../core/micro-time.ts';
import { JITTER_FACTOR, errorCode, realSleep, toLeaseTimings } from './lease-timings.ts';
import { observeLease, planLeaseAttempt, toLeaseSpec, toReleasedSpec, type LeaseObservation } from './plan-lease.ts';

export interface LeaderElection {
  /** True only while this replica holds a lease renewed within the renew deadline and is healthy. */
  isLeader(): boolean;
  owns(baseIdentity: string): boolean;
  /**
   * Stops acting at once, waits for `drain` (still holding the lease, so no standby starts meanwhile),
   * then with `release` (the default) hands the lease back. Without `release` the lease is left to
   * expire, as a crashed replica's would.
   */
  stop(release?: boolean): Promise<void>;
}

/** The three calls election needs; core/kube-apis.ts's CoordinationApi fits, client-node's CoordinationV1Api too, and so does a unit-test double. */
export type LeaseApi = Pick<CoordinationApi, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

export interface LeaderElectionOptions {
  readonly coordination: LeaseApi;
  readonly name: string;
  readonly namespace: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  /** client-go's RenewDeadline: a leader that has not renewed within this stops acting (< leaseDurationMs). Default 70 % of the lease. */
  readonly renewDeadlineMs?: number | undefined;
  /** client-go's RetryPeriod: how often candidates try and leaders renew (< renewDeadlineMs). Default 20 % of the lease. */
  readonly retryPeriodMs?: number | undefined;
  /** When it returns false (e.g. the MQTT link is down) the replica does not take or keep the lease. */
  readonly isHealthy?: (() => boolean) | undefined;
  /** In-flight work to finish after acting stopped and before the lease is released. */
  readonly drain?: (() => Promise<void>) | undefined;
  /** Longest wait for `drain`; past it the lease is not released but left to expire. Default: the renew deadline. */
  readonly drainTimeoutMs?: number | undefined;
  readonly logger: Logger;
  /**
   * Local clock for every timing decision; only differences of its values are used, so it should be
   * monotonic (default performance.now()): a wall clock stepped back would stretch the deadline.
   */
  readonly now?: (() => number) | undefined;
  /** Wall clock for the renewTime/acquireTime written (informational for kubectl; nobody compares them). */
  readonly wallClock?: (() => number) | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** For the candidates' retry jitter (client-go's JitterFactor 1.2). */
  readonly random?: (() => number) | undefined;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

export function startLeaderElection(o: LeaderElectionOptions): LeaderElection {
  const t = toLeaseTimings(o);
  const now = o.now ?? (() => performance.now());
  const wall = o.wallClock ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  const random = o.random ?? Math.random;
  const healthy = o.isHealthy ?? (() => true);
  const durationS = Math.max(1, Math.ceil(t.leaseDurationMs / 1000));
  const where = { identity: o.identity, lease: `${o.namespace}/${o.name}` };
  let lease: k8s.V1Lease | undefined;
  let observed: LeaseObservation | undefined;
  let renewedAt: number | undefined;
  let acting = false;
  /** Set once stop() is called; resolves when stopping is complete. */
  let stopping: Promise<void> | undefined;
  let stopped = false;
  let inflight: Promise<void> = Promise.resolve();

  const withinDeadline = () => renewedAt !== undefined && now() - renewedAt < t.renewDeadlineMs;
  const setActing = (v: boolean, why: string) => {
    if (v === acting) return;
    acting = v;
    o.logger.info({ ...where, why }, v ? 'became leader' : 'stopped leading');
    if (v) o.onStartedLeading();
    else o.onStoppedLeading();
  };
  /** Resolves to the call's value, or to `timedOut` when it takes longer than `ms`. */
  const bounded = async <R>(p: Promise<R>, ms: number): Promise<R | 'timedOut'> => {
    p.catch(() => undefined);
    return Promise.race([p, sleep(ms).then(() => 'timedOut' as const)]);
  };

  const write = async (spec: k8s.V1LeaseSpec, budgetMs: number): Promise<boolean> => {
    const body: k8s.V1Lease = lease
      ? { ...lease, spec }
      : { metadata: { name: o.name, namespace: o.namespace }, spec };
    const call = lease
      ? o.coordination.replaceNamespacedLease({ name: o.name, namespace: o.namespace, body })
      : o.coordination.createNamespacedLease({ namespace: o.namespace, body });
    const r = await bounded(call, budgetMs);
    if (r === 'timedOut') throw new Error(`lease write took longer than ${budgetMs} ms`);
    lease = r;
    observed = observeLease(observed, r, now(), t.leaseDurationMs);
    return true;
  };

  const release = async (why: string) => {
    if (!lease || observed?.holder !== o.identity) return;
    try {
      await write(toReleasedSpec(lease.spec, new MicroTime(wall())), t.renewDeadlineMs);
      renewedAt = undefined;
      o.logger.info({ ...where, why }, 'released the leader lease');
    } catch (err) {
      // A conflict means the record moved on without us: nothing of ours left to release.
      if (errorCode(err) !== 409) o.logger.warn({ ...where, err: (err as Error).message }, 'could not release the leader lease; it will expire');
    }
  };

  const attempt = async () => {
    if (acting && !withinDeadline()) setActing(false, 'renew deadline passed');
    const started = now();
    const budget = acting && renewedAt !== undefined ? Math.max(1, renewedAt + t.renewDeadlineMs - started) : t.renewDeadlineMs;
    const isHealthy = healthy();
    if (!isHealthy && !acting && observed?.holder !== o.identity) return;
    try {
      const r = await bounded(o.coordination.readNamespacedLease({ name: o.name, namespace: o.namespace }), budget);
      if (r === 'timedOut') throw new Error(`lease read took longer than ${budget} ms`);
      lease = r;
      observed = observeLease(observed, r, now(), t.leaseDurationMs);
    } catch (err) {
      if (errorCode(err) !== 404) throw err;
      lease = undefined;
      observed = undefined;
    }
    const readAt = now();
    const decision = planLeaseAttempt(observed, o.identity, readAt, isHealthy);
    switch (decision.kind) {
      case 'wait':
        if (observed?.holder !== o.identity) renewedAt = undefined;
        setActing(false, decision.reason === 'unhealthy' ? 'unhealthy' : `held by ${decision.holder}`);
        return;
      case 'release':
        setActing(false, 'unhealthy');
        await release('unhealthy');
        return;
      case 'renew':
      case 'create':
      case 'take':
        // While stopping, only keep a lease we hold (so in-flight work finishes under it); take none.
        if (stopping && decision.kind !== 'renew') return;
        await write(toLeaseSpec(lease?.spec, o.identity, new MicroTime(wall()), durationS), Math.max(1, budget - (readAt - started)));
        renewedAt = started;
        if (decision.kind === 'take') o.logger.info({ ...where, reason: decision.reason }, 'took the leader lease');
        if (stopping === undefined && healthy() && withinDeadline()) setActing(true, decision.kind);
    }
  };

  const loop = async () => {
    while (!stopped) {
      inflight = attempt().catch((err: unknown) => {
        if (errorCode(err) !== 409) o.logger.warn({ ...where, err: (err as Error).message }, 'leader election attempt failed');
      });
      await inflight;
      if (acting && !withinDeadline()) setActing(false, 'renew deadline passed');
      if (stopped) break;
      // Leaders renew at the retry period; candidates retry with client-go's jitter, so they do not
      // all hit the API server at once.
      await sleep(acting || observed?.holder === o.identity ? t.retryPeriodMs : t.retryPeriodMs * (1 + random() * JITTER_FACTOR));
    }
  };
  void loop();

  const stopElection = async (releaseLease: boolean) => {
    setActing(false, 'stopping');
    if (o.drain) {
      const drained = await bounded(o.drain().then(() => 'drained' as const), o.drainTimeoutMs ?? t.renewDeadlineMs);
      if (drained === 'timedOut') {
        o.logger.warn({ ...where, timeoutMs: o.drainTimeoutMs ?? t.renewDeadlineMs }, 'in-flight work did not finish; leaving the leader lease to expire');
        releaseLease = false;
      }
    }
    stopped = true;
    await inflight;
    if (releaseLease) await release('stopping');
  };

  const isLeader = () => acting && stopping === undefined && withinDeadline() && healthy();
  return {
    isLeader,
    owns: () => isLeader(),
    stop: (releaseLease = true) => (stopping ??= stopElection(releaseLease)),
  };
}
