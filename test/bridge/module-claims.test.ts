// The pure claims of one base: which pod of a workload is the newer revision (ReplicaSet revision
// first, creationTimestamp and name only when a revision is unknown), and which ReplicaSets the
// caller must read for that (none in steady state).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toClaims, toRevisionReads, type RevisionOf } from '../../bridge/module-claims.ts';
import { T0, toModulePod } from './fixtures.ts';

const DEP = 'orders';
const V1 = { name: 'orders', version: '1.0.0' };
const V2 = { name: 'orders', version: '2.0.0' };
/** One second: both pods' creationTimestamps fall in it (the API server keeps whole seconds). */
const SAME_SECOND = T0 - 5_000;

/** A pod of Deployment `orders` whose ReplicaSet is `orders-<hash>`. */
const pod = (name: string, hash: string, module: typeof V1, created = SAME_SECOND) => toModulePod({ name, modules: [module], deployment: { name: DEP, revision: hash }, created });
/** Revision numbers per ReplicaSet (`shop/orders-<hash>`); a missing one is unknown. */
const revisions = (r: Record<string, number>): RevisionOf => (c) => (c.replicaSet ? r[c.replicaSet] : undefined);

/** `pod → the pod that replaced it` for superseded pods, and the version the workload runs. */
function decide(pods: ReturnType<typeof pod>[], revisionOf?: RevisionOf) {
  const claims = toClaims(pods, revisionOf);
  const superseded = [...claims.superseded].map(([k, m]) => `${k} → ${m.get('orders')!.podKey}`).sort();
  return { superseded, active: [...claims.active.keys()].sort() };
}

const cases: Array<{ name: string; pods: ReturnType<typeof pod>[]; revisionOf?: RevisionOf; superseded: string[]; active: string[] }> = [
  {
    // The surge pod sorts before the old replica by name ("5bc…" < "7f…"): timestamps and names alone pick the old pod.
    name: 'same second, the new ReplicaSet has the higher revision: the new pod wins',
    pods: [pod('orders-7f9d-old', '7f9d', V1), pod('orders-5bc9-new', '5bc9', V2)],
    revisionOf: revisions({ 'shop/orders-7f9d': 1, 'shop/orders-5bc9': 2 }),
    superseded: ['shop/orders-7f9d-old → shop/orders-5bc9-new'],
    active: ['orders:2.0.0'],
  },
  {
    name: 'same second without revisions: creationTimestamp ties, the name decides (the old behaviour)',
    pods: [pod('orders-7f9d-old', '7f9d', V1), pod('orders-5bc9-new', '5bc9', V2)],
    superseded: ['shop/orders-5bc9-new → shop/orders-7f9d-old'],
    active: ['orders:1.0.0'],
  },
  {
    // rollout undo: the old ReplicaSet is reused and gets revision 3, above the one being undone.
    name: 'rollout undo: the reused old ReplicaSet has the higher revision and wins over a later pod',
    pods: [pod('orders-aaa-1', 'aaa', V1, T0 - 60_000), pod('orders-bbb-1', 'bbb', V2, T0 - 1_000)],
    revisionOf: revisions({ 'shop/orders-aaa': 3, 'shop/orders-bbb': 2 }),
    superseded: ['shop/orders-bbb-1 → shop/orders-aaa-1'],
    active: ['orders:1.0.0'],
  },
  {
    name: 'one revision unknown: falls back to creationTimestamp',
    pods: [pod('orders-aaa-1', 'aaa', V1, T0 - 60_000), pod('orders-bbb-1', 'bbb', V2, T0 - 1_000)],
    revisionOf: revisions({ 'shop/orders-aaa': 3 }),
    superseded: ['shop/orders-aaa-1 → shop/orders-bbb-1'],
    active: ['orders:2.0.0'],
  },
  {
    name: 'equal revisions: falls back to creationTimestamp',
    pods: [pod('orders-aaa-1', 'aaa', V1, T0 - 60_000), pod('orders-bbb-1', 'bbb', V2, T0 - 1_000)],
    revisionOf: revisions({ 'shop/orders-aaa': 2, 'shop/orders-bbb': 2 }),
    superseded: ['shop/orders-aaa-1 → shop/orders-bbb-1'],
    active: ['orders:2.0.0'],
  },
  {
    name: 'pods of different workloads never supersede each other, whatever their revisions',
    pods: [pod('orders-aaa-1', 'aaa', V1), toModulePod({ name: 'billing-ccc-1', modules: [V2], deployment: { name: 'billing', revision: 'ccc' }, created: SAME_SECOND })],
    revisionOf: revisions({ 'shop/orders-aaa': 1, 'shop/billing-ccc': 9 }),
    superseded: [],
    active: ['orders:1.0.0', 'orders:2.0.0'],
  },
];

for (const c of cases) {
  test(`toClaims: ${c.name}`, () => {
    assert.deepEqual(decide(c.pods, c.revisionOf), { superseded: c.superseded, active: c.active });
  });
}

test('toClaims: the active claims of one module put the higher revision first (it decides the jar URL)', () => {
  const claims = toClaims([pod('orders-bbb-1', 'bbb', V1, T0 - 1_000), pod('orders-aaa-1', 'aaa', V1, T0 - 60_000)], revisions({ 'shop/orders-aaa': 3, 'shop/orders-bbb': 2 }));
  assert.deepEqual(claims.active.get('orders:1.0.0')!.map((c) => c.podKey), ['shop/orders-aaa-1', 'shop/orders-bbb-1']);
});

test('toRevisionReads: nothing to read in steady state (one ReplicaSet per workload, bare pods)', () => {
  assert.deepEqual(toRevisionReads([pod('orders-aaa-1', 'aaa', V1), pod('orders-aaa-2', 'aaa', V1), toModulePod({ name: 'bare', modules: [V2] }), toModulePod({ name: 'billing-ccc-1', modules: [V2], deployment: { name: 'billing', revision: 'ccc' } })]), []);
});

test('toRevisionReads: a workload with pods of two ReplicaSets on the base reads both', () => {
  const reads = toRevisionReads([pod('orders-aaa-1', 'aaa', V1), pod('orders-aaa-2', 'aaa', V1), pod('orders-bbb-1', 'bbb', V2), toModulePod({ name: 'billing-ccc-1', modules: [V2], deployment: { name: 'billing', revision: 'ccc' } })]);
  assert.deepEqual(reads, [{ namespace: 'shop', name: 'orders-aaa' }, { namespace: 'shop', name: 'orders-bbb' }]);
});

test('toRevisionReads: a deleting or finished pod of the old ReplicaSet does not count', () => {
  const gone = toModulePod({ name: 'orders-aaa-1', modules: [V1], deployment: { name: DEP, revision: 'aaa' }, deleting: T0 + 30_000 });
  const done = toModulePod({ name: 'orders-aaa-2', modules: [V1], deployment: { name: DEP, revision: 'aaa' }, phase: 'Failed' });
  assert.deepEqual(toRevisionReads([gone, done, pod('orders-bbb-1', 'bbb', V2)]), []);
});
