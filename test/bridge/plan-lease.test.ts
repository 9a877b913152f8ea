import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { observeLease, planLeaseAttempt, toLeaseSpec, toReleasedSpec } from '../../bridge/plan-lease.ts';

const ME = 'bridge-a';
const spec = (s: Partial<k8s.V1LeaseSpec>): k8s.V1LeaseSpec => ({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10, renewTime: new Date(1_000_000), leaseTransitions: 2, ...s });
const lease = (s: Partial<k8s.V1LeaseSpec> | undefined, resourceVersion = '7'): k8s.V1Lease => ({ metadata: { name: 'l', resourceVersion }, ...(s ? { spec: spec(s) } : {}) });

test('observeLease: the observation time moves only when the record changes, and is our own clock', () => {
  const first = observeLease(undefined, lease({}), 500, 10_000);
  assert.equal(first.observedAt, 500, 'our clock, not the holder\'s renewTime');
  assert.equal(first.holder, 'bridge-b');
  assert.equal(first.durationMs, 10_000);
  // Read back as the RFC 3339 string the API returns: the same record.
  const same = observeLease(first, lease({ renewTime: new Date(1_000_000).toISOString() as unknown as Date }), 9_000, 10_000);
  assert.equal(same, first);
  for (const [what, changed] of [
    ['renewTime', { renewTime: new Date(1_000_001) }],
    ['holder', { holderIdentity: 'bridge-c' }],
    ['transitions', { leaseTransitions: 3 }],
    ['duration', { leaseDurationSeconds: 11 }],
  ] as const) {
    assert.equal(observeLease(first, lease(changed), 9_000, 10_000).observedAt, 9_000, what);
  }
  assert.equal(observeLease(first, lease({}, '8'), 9_000, 10_000).observedAt, 9_000, 'a new resourceVersion alone is a change');
  assert.equal(observeLease(undefined, lease({ leaseDurationSeconds: undefined }), 0, 4_000).durationMs, 4_000, 'no duration: our own');
  assert.equal(observeLease(undefined, lease(undefined), 0, 4_000).holder, '');
});

test('planLeaseAttempt: a lease held by another expires a lease duration after we saw it change, whatever its renewTime says', () => {
  const held = observeLease(undefined, lease({ renewTime: new Date(10 ** 12) /* far in our future */ }), 1_000, 10_000);
  const cases: Array<[string, Parameters<typeof planLeaseAttempt>, ReturnType<typeof planLeaseAttempt>['kind']]> = [
    ['no Lease object', [undefined, ME, 0, true], 'create'],
    ['free (released)', [observeLease(undefined, lease({ holderIdentity: '' }), 0, 10_000), ME, 0, true], 'take'],
    ['mine', [observeLease(undefined, lease({ holderIdentity: ME }), 0, 10_000), ME, 50_000, true], 'renew'],
    ['held, just seen', [held, ME, 1_000, true], 'wait'],
    ['held, 1 ms before expiry', [held, ME, 10_999, true], 'wait'],
    ['held, at expiry', [held, ME, 11_000, true], 'take'],
    ['identity compared exactly', [observeLease(undefined, lease({ holderIdentity: 'Bridge-A' }), 0, 10_000), ME, 1, true], 'wait'],
    ['unhealthy, no lease', [undefined, ME, 0, false], 'wait'],
    ['unhealthy, free', [observeLease(undefined, lease({ holderIdentity: '' }), 0, 10_000), ME, 0, false], 'wait'],
    ['unhealthy, expired', [held, ME, 99_000, false], 'wait'],
    ['unhealthy, mine', [observeLease(undefined, lease({ holderIdentity: ME }), 0, 10_000), ME, 0, false], 'release'],
  ];
  for (const [name, args, want] of cases) assert.equal(planLeaseAttempt(...args).kind, want, name);
  assert.deepEqual(planLeaseAttempt(held, ME, 5_000, true), { kind: 'wait', reason: 'held', holder: 'bridge-b', expiresAt: 11_000 });
  assert.deepEqual(planLeaseAttempt(held, ME, 11_000, true), { kind: 'take', reason: 'expired' });
});

test('toLeaseSpec keeps acquireTime on renewal and counts a transition on takeover; release clears the holder', () => {
  const now = new k8s.V1MicroTime(5_000);
  const acquired = new k8s.V1MicroTime(1_000);
  assert.deepEqual(toLeaseSpec(undefined, ME, now, 10), { holderIdentity: ME, leaseDurationSeconds: 10, renewTime: now, acquireTime: now, leaseTransitions: 0 });
  assert.deepEqual(toLeaseSpec(spec({ holderIdentity: ME, acquireTime: acquired }), ME, now, 10), { holderIdentity: ME, leaseDurationSeconds: 10, renewTime: now, acquireTime: acquired, leaseTransitions: 2 });
  assert.deepEqual(toLeaseSpec(spec({ acquireTime: acquired }), ME, now, 10), { holderIdentity: ME, leaseDurationSeconds: 10, renewTime: now, acquireTime: now, leaseTransitions: 3 });
  assert.equal(toLeaseSpec(spec({ holderIdentity: '' }), ME, now, 10).leaseTransitions, 3, 'taking a released lease counts, as in client-go');
  assert.deepEqual(toReleasedSpec(spec({}), now), { holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now, leaseTransitions: 2 });
});
