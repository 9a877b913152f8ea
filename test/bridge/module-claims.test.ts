// The pure claims of one base: which pod of a workload is the newer revision (ReplicaSet or
// ControllerRevision revision first, creationTimestamp and name only when a revision is unknown),
// and which revision objects the caller must read for that (none in steady state).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toClaims, toRevisionReads, toRevisionRef, type RevisionOf } from '../../bridge/module-claims.ts';
import { T0, toModulePod } from './fixtures.ts';

const DEP = 'orders';
const V1 = { name: 'orders', version: '1.0.0' };
const V2 = { name: 'orders', version: '2.0.0' };
/** One second: both pods' creationTimestamps fall in it (the API server keeps whole seconds). */
const SAME_SECOND = T0 - 5_000;

/** A pod of Deployment `orders` whose ReplicaSet is `orders-<hash>`. */
const pod = (name: string, hash: string, module: typeof V1, created = SAME_SECOND) => toModulePod({ name, modules: [module], deployment: { name: DEP, revision: hash }, created });
/** Revision numbers per revision key (`shop/ReplicaSet/orders-<hash>`, `shop/ControllerRevision/<name>`); a missing one is unknown. */
const revisions = (r: Record<string, number>): RevisionOf => (c) => (c.revisionKey ? r[c.revisionKey] : undefined);
/** A pod of StatefulSet `orders` (ordinal names), its label the ControllerRevision's full name. */
const stsPod = (name: string, revisionName: string, module: typeof V1, created = SAME_SECOND) => toModulePod({ name, modules: [module], controller: { kind: 'StatefulSet', name: DEP, revisionLabel: revisionName }, created });
/** A pod of DaemonSet `orders`, its label only the hash (the ControllerRevision is `orders-<hash>`). */
const dsPod = (name: string, hash: string, module: typeof V1, created = SAME_SECOND) => toModulePod({ name, modules: [module], controller: { kind: 'DaemonSet', name: DEP, revisionLabel: hash }, created });

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
    revisionOf: revisions({ 'shop/ReplicaSet/orders-7f9d': 1, 'shop/ReplicaSet/orders-5bc9': 2 }),
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
    revisionOf: revisions({ 'shop/ReplicaSet/orders-aaa': 3, 'shop/ReplicaSet/orders-bbb': 2 }),
    superseded: ['shop/orders-bbb-1 → shop/orders-aaa-1'],
    active: ['orders:1.0.0'],
  },
  {
    name: 'one revision unknown: falls back to creationTimestamp',
    pods: [pod('orders-aaa-1', 'aaa', V1, T0 - 60_000), pod('orders-bbb-1', 'bbb', V2, T0 - 1_000)],
    revisionOf: revisions({ 'shop/ReplicaSet/orders-aaa': 3 }),
    superseded: ['shop/orders-aaa-1 → shop/orders-bbb-1'],
    active: ['orders:2.0.0'],
  },
  {
    name: 'equal revisions: falls back to creationTimestamp',
    pods: [pod('orders-aaa-1', 'aaa', V1, T0 - 60_000), pod('orders-bbb-1', 'bbb', V2, T0 - 1_000)],
    revisionOf: revisions({ 'shop/ReplicaSet/orders-aaa': 2, 'shop/ReplicaSet/orders-bbb': 2 }),
    superseded: ['shop/orders-aaa-1 → shop/orders-bbb-1'],
    active: ['orders:2.0.0'],
  },
  {
    name: 'pods of different workloads never supersede each other, whatever their revisions',
    pods: [pod('orders-aaa-1', 'aaa', V1), toModulePod({ name: 'billing-ccc-1', modules: [V2], deployment: { name: 'billing', revision: 'ccc' }, created: SAME_SECOND })],
    revisionOf: revisions({ 'shop/ReplicaSet/orders-aaa': 1, 'shop/ReplicaSet/billing-ccc': 9 }),
    superseded: [],
    active: ['orders:1.0.0', 'orders:2.0.0'],
  },
  {
    // partition: 1 — orders-0 is below the partition, deleted and recreated by the controller at the
    // old revision after orders-1 was updated: the later pod, the older revision.
    name: 'StatefulSet partition: the recreated old-revision pod (later creationTimestamp) loses to the higher revision',
    pods: [stsPod('orders-1', 'orders-6c8f5d', V2, T0 - 60_000), stsPod('orders-0', 'orders-5d4b7c', V1, T0 - 1_000)],
    revisionOf: revisions({ 'shop/ControllerRevision/orders-5d4b7c': 1, 'shop/ControllerRevision/orders-6c8f5d': 2 }),
    superseded: ['shop/orders-0 → shop/orders-1'],
    active: ['orders:2.0.0'],
  },
  {
    name: 'StatefulSet without revisions: the later creationTimestamp wins (the fallback)',
    pods: [stsPod('orders-1', 'orders-6c8f5d', V2, T0 - 60_000), stsPod('orders-0', 'orders-5d4b7c', V1, T0 - 1_000)],
    revisionOf: revisions({ 'shop/ControllerRevision/orders-6c8f5d': 2 }),
    superseded: ['shop/orders-1 → shop/orders-0'],
    active: ['orders:1.0.0'],
  },
  {
    // rollout undo on a DaemonSet: its controller raises the revision of the ControllerRevision it returns to.
    name: 'DaemonSet rollout undo: the pod of the raised ControllerRevision wins over a later surge pod',
    pods: [dsPod('orders-x1', '7b9f', V1, T0 - 1_000), dsPod('orders-y2', '5c6d', V2, T0 - 500)],
    revisionOf: revisions({ 'shop/ControllerRevision/orders-7b9f': 3, 'shop/ControllerRevision/orders-5c6d': 2 }),
    superseded: ['shop/orders-y2 → shop/orders-x1'],
    active: ['orders:1.0.0'],
  },
];

for (const c of cases) {
  test(`toClaims: ${c.name}`, () => {
    assert.deepEqual(decide(c.pods, c.revisionOf), { superseded: c.superseded, active: c.active });
  });
}

test('toClaims: the active claims of one module put the higher revision first (it decides the jar URL)', () => {
  const claims = toClaims([pod('orders-bbb-1', 'bbb', V1, T0 - 1_000), pod('orders-aaa-1', 'aaa', V1, T0 - 60_000)], revisions({ 'shop/ReplicaSet/orders-aaa': 3, 'shop/ReplicaSet/orders-bbb': 2 }));
  assert.deepEqual(claims.active.get('orders:1.0.0')!.map((c) => c.podKey), ['shop/orders-aaa-1', 'shop/orders-bbb-1']);
});

test('toClaims: revision numbers of two workloads are not compared (creationTimestamp orders their claims)', () => {
  const billing = toModulePod({ name: 'billing-ccc-1', modules: [V1], deployment: { name: 'billing', revision: 'ccc' }, created: T0 - 1_000 });
  const claims = toClaims([pod('orders-aaa-1', 'aaa', V1, T0 - 60_000), billing], revisions({ 'shop/ReplicaSet/orders-aaa': 9, 'shop/ReplicaSet/billing-ccc': 1 }));
  assert.deepEqual(claims.active.get('orders:1.0.0')!.map((c) => c.podKey), ['shop/billing-ccc-1', 'shop/orders-aaa-1']);
});

for (const [name, p, want] of [
  ['Deployment pod: its owner ReplicaSet', pod('orders-aaa-1', 'aaa', V1), { kind: 'ReplicaSet', namespace: 'shop', name: 'orders-aaa' }],
  ['StatefulSet pod: the label is the ControllerRevision name', stsPod('orders-0', 'orders-5d4b7c', V1), { kind: 'ControllerRevision', namespace: 'shop', name: 'orders-5d4b7c' }],
  ['DaemonSet pod: the ControllerRevision is <daemonset>-<hash>', dsPod('orders-x1', '7b9f', V1), { kind: 'ControllerRevision', namespace: 'shop', name: 'orders-7b9f' }],
  ['StatefulSet pod without the label: unknown', toModulePod({ name: 'orders-0', modules: [V1], controller: { kind: 'StatefulSet', name: DEP, revisionLabel: '' } }), undefined],
  ['bare pod: none', toModulePod({ name: 'bare', modules: [V1] }), undefined],
] as const) {
  test(`toRevisionRef: ${name}`, () => assert.deepEqual(toRevisionRef(p), want));
}

test('toRevisionReads: nothing to read in steady state (one ReplicaSet per workload, bare pods)', () => {
  assert.deepEqual(toRevisionReads([pod('orders-aaa-1', 'aaa', V1), pod('orders-aaa-2', 'aaa', V1), toModulePod({ name: 'bare', modules: [V2] }), toModulePod({ name: 'billing-ccc-1', modules: [V2], deployment: { name: 'billing', revision: 'ccc' } })]), []);
});

test('toRevisionReads: a workload with pods of two ReplicaSets on the base reads both', () => {
  const reads = toRevisionReads([pod('orders-aaa-1', 'aaa', V1), pod('orders-aaa-2', 'aaa', V1), pod('orders-bbb-1', 'bbb', V2), toModulePod({ name: 'billing-ccc-1', modules: [V2], deployment: { name: 'billing', revision: 'ccc' } })]);
  assert.deepEqual(reads, [{ kind: 'ReplicaSet', namespace: 'shop', name: 'orders-aaa' }, { kind: 'ReplicaSet', namespace: 'shop', name: 'orders-bbb' }]);
});

test('toRevisionReads: StatefulSet and DaemonSet pods of two revisions read their ControllerRevisions; one revision reads nothing', () => {
  assert.deepEqual(toRevisionReads([stsPod('orders-0', 'orders-5d4b7c', V1), stsPod('orders-1', 'orders-5d4b7c', V1)]), []);
  const web = (name: string, hash: string) => toModulePod({ name, modules: [V2], controller: { kind: 'DaemonSet', name: 'web', revisionLabel: hash } });
  const reads = toRevisionReads([stsPod('orders-0', 'orders-5d4b7c', V1), stsPod('orders-1', 'orders-6c8f5d', V2), web('web-a', '7b9f'), web('web-b', '5c6d')]);
  assert.deepEqual(reads, [
    { kind: 'ControllerRevision', namespace: 'shop', name: 'orders-5d4b7c' },
    { kind: 'ControllerRevision', namespace: 'shop', name: 'orders-6c8f5d' },
    { kind: 'ControllerRevision', namespace: 'shop', name: 'web-7b9f' },
    { kind: 'ControllerRevision', namespace: 'shop', name: 'web-5c6d' },
  ]);
});

test('toRevisionReads: a deleting or finished pod of the old ReplicaSet does not count', () => {
  const gone = toModulePod({ name: 'orders-aaa-1', modules: [V1], deployment: { name: DEP, revision: 'aaa' }, deleting: T0 + 30_000 });
  const done = toModulePod({ name: 'orders-aaa-2', modules: [V1], deployment: { name: DEP, revision: 'aaa' }, phase: 'Failed' });
  assert.deepEqual(toRevisionReads([gone, done, pod('orders-bbb-1', 'bbb', V2)]), []);
});
