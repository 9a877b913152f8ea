import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { canAcquire } from '../../bridge/leader-election.ts';

const NOW = Date.parse('2024-05-01T10:00:00.000Z');
const ME = 'bridge-a';

function lease(spec: k8s.V1LeaseSpec | undefined): k8s.V1Lease {
  return { metadata: { name: 'module-controller-bridge', namespace: 'default', resourceVersion: '7' }, ...(spec ? { spec } : {}) };
}

test('canAcquire: free, own, held by another, expired', () => {
  const at = (ms: number) => new k8s.V1MicroTime(ms);
  const cases: Array<[string, k8s.V1Lease | undefined, boolean]> = [
    ['no lease object', undefined, true],
    ['no spec', lease(undefined), true],
    ['no holder', lease({ leaseDurationSeconds: 10, renewTime: at(NOW) }), true],
    ['released (empty holder)', lease({ holderIdentity: '', leaseDurationSeconds: 1, renewTime: at(0) }), true],
    ['mine, fresh', lease({ holderIdentity: ME, leaseDurationSeconds: 10, renewTime: at(NOW - 1_000) }), true],
    ['mine, expired', lease({ holderIdentity: ME, leaseDurationSeconds: 10, renewTime: at(NOW - 60_000) }), true],
    ['another, fresh', lease({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10, renewTime: at(NOW - 1_000) }), false],
    ['another, renewed in the future (clock skew)', lease({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10, renewTime: at(NOW + 5_000) }), false],
    ['another, exactly at expiry', lease({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10, renewTime: at(NOW - 10_000) }), false],
    ['another, just expired', lease({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10, renewTime: at(NOW - 10_001) }), true],
    ['another, long expired', lease({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10, renewTime: at(NOW - 3_600_000) }), true],
    ['another, never renewed', lease({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10 }), true],
    ['another, no duration', lease({ holderIdentity: 'bridge-b', renewTime: at(NOW - 1) }), true],
    // What the API returns when read back: an RFC 3339 string with microseconds.
    ['another, fresh, time as string', lease({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10, renewTime: '2024-05-01T09:59:55.000000Z' as unknown as Date }), false],
    ['another, expired, time as string', lease({ holderIdentity: 'bridge-b', leaseDurationSeconds: 10, renewTime: '2024-05-01T09:59:49.999000Z' as unknown as Date }), true],
  ];
  for (const [name, l, want] of cases) assert.equal(canAcquire(l, ME, NOW), want, name);
});

test('canAcquire: identity comparison is exact', () => {
  const held = lease({ holderIdentity: 'Bridge-A', leaseDurationSeconds: 10, renewTime: new k8s.V1MicroTime(NOW) });
  assert.equal(canAcquire(held, ME, NOW), false);
  assert.equal(canAcquire(held, 'Bridge-A', NOW), true);
});
