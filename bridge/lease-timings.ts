/**
 * The three leader-election timings (client-go's LeaseDuration, RenewDeadline, RetryPeriod), resolved
 * and checked once at config time. client-go's own defaults are 15 s / 10 s / 2 s; the bridge defaults
 * to a 10 s lease with the deadline at 70 % and the retry period at 20 % of it (10 s / 7 s / 2 s).
 */
import { ControllerError } from '../core/errors.ts';

export interface LeaseTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export const RENEW_DEADLINE_RATIO = 0.7;
export const RETRY_PERIOD_RATIO = 0.2;

/**
 * The safety argument needs renewDeadline < leaseDuration (a leader stops acting before any standby
 * may consider its lease expired) and retryPeriod < renewDeadline (a leader gets at least one more
 * try before its deadline). Throws CONFIG_INVALID naming every violated rule and the fix.
 */
export function toLeaseTimings(o: { leaseDurationMs: number; renewDeadlineMs?: number | undefined; retryPeriodMs?: number | undefined }): LeaseTimings {
  const leaseDurationMs = o.leaseDurationMs;
  const renewDeadlineMs = o.renewDeadlineMs ?? Math.floor(leaseDurationMs * RENEW_DEADLINE_RATIO);
  const retryPeriodMs = o.retryPeriodMs ?? Math.max(1, Math.floor(leaseDurationMs * RETRY_PERIOD_RATIO));
  const problems: string[] = [];
  if (!(leaseDurationMs > 0)) problems.push(`the leader lease duration must be positive (got ${leaseDurationMs} ms)`);
  if (!(renewDeadlineMs > 0)) problems.push(`--leader-renew-deadline must be positive (got ${renewDeadlineMs} ms)`);
  if (!(retryPeriodMs > 0)) problems.push(`--leader-retry-period must be positive (got ${retryPeriodMs} ms)`);
  if (renewDeadlineMs >= leaseDurationMs) {
    problems.push(`--leader-renew-deadline (${renewDeadlineMs} ms) must be shorter than --leader-lease-duration (${leaseDurationMs} ms): a leader must stop acting before a standby may take its lease; lower the deadline or raise the duration`);
  }
  if (retryPeriodMs >= renewDeadlineMs) {
    problems.push(`--leader-retry-period (${retryPeriodMs} ms) must be shorter than --leader-renew-deadline (${renewDeadlineMs} ms): a leader needs at least one retry before its deadline; lower the period or raise the deadline`);
  }
  if (problems.length > 0) throw new ControllerError('CONFIG_INVALID', `invalid leader election timings: ${problems.join('; ')}`);
  return Object.freeze({ leaseDurationMs, renewDeadlineMs, retryPeriodMs });
}

/** client-go's JitterFactor: candidates wait retryPeriod × (1 + random × 1.2) between tries. */
export const JITTER_FACTOR = 1.2;

/** The default sleep of the Lease loops (leader election, shard ownership): never keeps the process alive. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** The HTTP status of a failed Kubernetes API call, if it has one. */
export function errorCode(err: unknown): number | undefined {
  return (err as { code?: number } | undefined)?.code;
}
