/**
 * The pure half of leader election, after client-go's leaderelection package. A candidate never
 * compares the holder's renewTime with its own clock: it remembers *when it saw the record change*, on
 * its own clock, and treats the lease as expired only a lease duration after that observation. Clock
 * skew between replicas therefore cannot make two of them act at once; only the rate of the clocks
 * matters, over one lease duration.
 */
import type * as k8s from '@kubernetes/client-node';

export interface LeaseObservation {
  /** '' when the lease is free (never held, or released). */
  readonly holder: string;
  /** The holder's advertised leaseDurationSeconds, in ms. */
  readonly durationMs: number;
  readonly transitions: number;
  /** Everything a live holder changes on renewal; a new value means "the holder was alive". */
  readonly fingerprint: string;
  /** Local clock time at which this fingerprint was first seen. */
  readonly observedAt: number;
}

function toMs(t: Date | string | undefined): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Folds a freshly read lease into the previous observation: the observation time moves only when the
 * record changed (client-go compares the whole record the same way; we add the resourceVersion). A record without a duration is
 * judged by our own `fallbackDurationMs`.
 */
export function observeLease(prev: LeaseObservation | undefined, lease: k8s.V1Lease | undefined, now: number, fallbackDurationMs: number): LeaseObservation {
  const spec = lease?.spec;
  const holder = spec?.holderIdentity ?? '';
  const durationMs = spec?.leaseDurationSeconds ? spec.leaseDurationSeconds * 1000 : fallbackDurationMs;
  const transitions = spec?.leaseTransitions ?? 0;
  // The resourceVersion changes with every write, so even two renewals stamped with the same
  // renewTime (a clock stepped back) count as a change; any other write only delays a takeover.
  const fingerprint = JSON.stringify([lease?.metadata?.resourceVersion, holder, durationMs, toMs(spec?.renewTime), toMs(spec?.acquireTime), transitions]);
  if (prev && prev.fingerprint === fingerprint) return prev;
  return { holder, durationMs, transitions, fingerprint, observedAt: now };
}

export type LeaseDecision =
  | { readonly kind: 'create' }
  | { readonly kind: 'take'; readonly reason: 'free' | 'expired' }
  | { readonly kind: 'renew' }
  | { readonly kind: 'release' }
  | { readonly kind: 'wait'; readonly reason: 'held' | 'unhealthy'; readonly holder: string; readonly expiresAt?: number };

/**
 * What `identity` should do with the lease it just read (`obs` undefined: no Lease object exists).
 * An unhealthy replica never takes a lease and hands back one it holds.
 */
export function planLeaseAttempt(obs: LeaseObservation | undefined, identity: string, now: number, healthy: boolean): LeaseDecision {
  const mine = obs?.holder === identity;
  if (!healthy) return mine ? { kind: 'release' } : { kind: 'wait', reason: 'unhealthy', holder: obs?.holder ?? '' };
  if (!obs) return { kind: 'create' };
  if (mine) return { kind: 'renew' };
  if (obs.holder === '') return { kind: 'take', reason: 'free' };
  const expiresAt = obs.observedAt + obs.durationMs;
  if (now < expiresAt) return { kind: 'wait', reason: 'held', holder: obs.holder, expiresAt };
  return { kind: 'take', reason: 'expired' };
}

/**
 * The spec to write for a create, take or renew (client-go keeps acquireTime and counts transitions).
 * Times must be V1MicroTime: the API server rejects a MicroTime without microsecond digits.
 */
export function toLeaseSpec(prev: k8s.V1LeaseSpec | undefined, identity: string, now: k8s.V1MicroTime, durationSeconds: number): k8s.V1LeaseSpec {
  const wasMine = prev?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    renewTime: now,
    acquireTime: wasMine && prev?.acquireTime ? prev.acquireTime : now,
    // client-go counts every acquisition by a replica that was not the holder, a released lease's too.
    leaseTransitions: (prev?.leaseTransitions ?? 0) + (prev && !wasMine ? 1 : 0),
  };
}

/** The released record (client-go's ReleaseOnCancel): no holder, a 1 s duration, transitions kept. */
export function toReleasedSpec(prev: k8s.V1LeaseSpec | undefined, now: k8s.V1MicroTime): k8s.V1LeaseSpec {
  return { holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now, leaseTransitions: prev?.leaseTransitions ?? 0 };
}
