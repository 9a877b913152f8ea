import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerError } from '../../core/errors.ts';
import { toLeaseTimings } from '../../bridge/lease-timings.ts';

test('defaults scale with the lease: 10 s → 7 s deadline, 2 s retry', () => {
  assert.deepEqual(toLeaseTimings({ leaseDurationMs: 10_000 }), { leaseDurationMs: 10_000, renewDeadlineMs: 7_000, retryPeriodMs: 2_000 });
  assert.deepEqual(toLeaseTimings({ leaseDurationMs: 4_000 }), { leaseDurationMs: 4_000, renewDeadlineMs: 2_800, retryPeriodMs: 800 });
  assert.deepEqual(toLeaseTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
});

test('renewDeadline < leaseDuration and retryPeriod < renewDeadline, or a CONFIG_INVALID error that says how to fix it', () => {
  const cases: Array<[string, Parameters<typeof toLeaseTimings>[0], RegExp[]]> = [
    ['deadline = lease', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, [/--leader-renew-deadline \(10000 ms\) must be shorter than --leader-lease-duration \(10000 ms\)/]],
    ['deadline > lease', { leaseDurationMs: 4_000, renewDeadlineMs: 7_000 }, [/must be shorter than --leader-lease-duration/, /lower the deadline or raise the duration/]],
    ['retry = deadline', { leaseDurationMs: 10_000, renewDeadlineMs: 5_000, retryPeriodMs: 5_000 }, [/--leader-retry-period \(5000 ms\) must be shorter than --leader-renew-deadline \(5000 ms\)/]],
    ['both', { leaseDurationMs: 5_000, renewDeadlineMs: 6_000, retryPeriodMs: 8_000 }, [/shorter than --leader-lease-duration/, /shorter than --leader-renew-deadline/]],
    ['zero retry', { leaseDurationMs: 5_000, retryPeriodMs: 0 }, [/--leader-retry-period must be positive/]],
  ];
  for (const [name, input, messages] of cases) {
    assert.throws(() => toLeaseTimings(input), (err: unknown) => {
      assert.ok(err instanceof ControllerError, name);
      assert.equal(err.code, 'CONFIG_INVALID', name);
      for (const m of messages) assert.match(err.message, m, name);
      return true;
    });
  }
});
