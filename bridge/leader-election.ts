/**
 * Lease-based leader election (coordination.k8s.io/v1), so several bridge replicas can run and one
 * acts. Writes carry the resourceVersion read, so two candidates cannot both win; an expired lease is
 * taken over (upstream's standby never did). Stepping down on shutdown releases the lease at once.
 *
 * Sharding later: a shard would be one more Lease name per base group, and `owns(baseIdentity)` would
 * ask the shard's election instead of the single one.
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../core/logger.ts';

export interface LeaderElection {
  isLeader(): boolean;
  owns(baseIdentity: string): boolean;
  /** Stops campaigning; with `release` (the default) the lease is handed back at once. */
  stop(release?: boolean): Promise<void>;
}

export interface LeaderElectionOptions {
  readonly coordination: k8s.CoordinationV1Api;
  readonly name: string;
  readonly namespace: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  /** client-go's RenewDeadline: a leader that has not renewed within this stops acting (< leaseDurationMs). */
  readonly renewDeadlineMs?: number | undefined;
  /** client-go's RetryPeriod: how often candidates try and leaders renew. */
  readonly retryPeriodMs?: number | undefined;
  /** When it returns false (e.g. the MQTT link is down) the replica does not take or keep the lease. */
  readonly isHealthy?: (() => boolean) | undefined;
  readonly logger: Logger;
  readonly now: () => number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

/** Pure: may `identity` take or keep this lease now? */
export function canAcquire(lease: k8s.V1Lease | undefined, identity: string, now: number): boolean {
  const spec = lease?.spec;
  if (!spec?.holderIdentity) return true;
  if (spec.holderIdentity === identity) return true;
  const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < now;
}

export function startLeaderElection(o: LeaderElectionOptions): LeaderElection {
  let leaderUntil = 0;
  let leading = false;
  let stopped = false;
  const durationS = Math.max(1, Math.round(o.leaseDurationMs / 1000));
  const retryMs = Math.max(500, Math.floor(o.leaseDurationMs / 5));
  const setLeading = (v: boolean) => {
    if (v === leading) return;
    leading = v;
    o.logger.info({ identity: o.identity, lease: `${o.namespace}/${o.name}` }, v ? 'became leader' : 'lost leadership');
    if (v) o.onStartedLeading();
    else o.onStoppedLeading();
  };
  const tryOnce = async () => {
    const now = o.now();
    let lease: k8s.V1Lease | undefined;
    try {
      lease = await o.coordination.readNamespacedLease({ name: o.name, namespace: o.namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    if (!canAcquire(lease, o.identity, now)) {
      setLeading(false);
      return;
    }
    const wasMine = lease?.spec?.holderIdentity === o.identity;
    const spec: k8s.V1LeaseSpec = {
      holderIdentity: o.identity,
      leaseDurationSeconds: durationS,
      renewTime: new k8s.V1MicroTime(now),
      acquireTime: wasMine && lease?.spec?.acquireTime ? lease.spec.acquireTime : new k8s.V1MicroTime(now),
      leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (wasMine || !lease ? 0 : 1),
    };
    if (!lease) {
      await o.coordination.createNamespacedLease({ namespace: o.namespace, body: { metadata: { name: o.name, namespace: o.namespace }, spec } });
    } else {
      await o.coordination.replaceNamespacedLease({ name: o.name, namespace: o.namespace, body: { ...lease, spec } });
    }
    leaderUntil = now + o.leaseDurationMs - retryMs;
    setLeading(true);
  };
  const loop = async () => {
    while (!stopped) {
      try {
        await tryOnce();
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code !== 409) o.logger.warn({ err: (err as Error).message }, 'leader election attempt failed');
        if (o.now() > leaderUntil) setLeading(false);
      }
      await new Promise((r) => setTimeout(r, retryMs).unref());
    }
  };
  void loop();
  return {
    isLeader: () => leading && o.now() <= leaderUntil + retryMs,
    owns: () => leading,
    stop: async (release = true) => {
      stopped = true;
      if (!leading) return;
      setLeading(false);
      if (!release) return;
      try {
        const lease = await o.coordination.readNamespacedLease({ name: o.name, namespace: o.namespace });
        if (lease.spec?.holderIdentity === o.identity) {
          await o.coordination.replaceNamespacedLease({ name: o.name, namespace: o.namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new k8s.V1MicroTime(0) } } });
        }
      } catch (err) {
        o.logger.warn({ err: (err as Error).message }, 'could not release the leader lease');
      }
    },
  };
}
