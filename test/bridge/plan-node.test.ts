import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Node } from '@kubernetes/client-node';
import {
  BASE_CLUSTER_LABEL, BASE_IDENTITY_ANNOTATION, BASE_NAME_LABEL, BASE_STACK_LABEL, BASE_VERSION_LABEL, HOSTNAME_LABEL,
  VNODE_COMPONENT_LABEL, VNODE_ENV_LABEL, VNODE_TAINT,
} from '../../core/names.ts';
import { planNode, toLabelValue, toLiveness, toNextLivenessChange, toNodeLabels, toNodeStatus, toReadyCondition, type Liveness, type NodePlan } from '../../bridge/plan-node.ts';
import { ALWAYS_HEARD, recordLinkDown, recordLinkUp, toStartHearing, type Hearing } from '../../bridge/hearing.ts';
import { BASE_ID, BASE_IP, SETTINGS, T0, toBase, toHealth } from './fixtures.ts';

const S = SETTINGS;
// Kubernetes' label value rule (apimachinery validation.IsValidLabelValue).
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

test('toLiveness: ready, leaving, unreachable, unhealthy, dead', () => {
  const cases: Array<{ name: string; base: Parameters<typeof toBase>[0]; at: number; kind: Liveness['kind']; reason?: string; message?: RegExp }> = [
    { name: 'fresh heartbeat', base: {}, at: T0, kind: 'ready', message: /base:1\.0\.0 is alive/ },
    { name: 'just before notReadyAfter', base: {}, at: T0 + S.notReadyAfterMs - 1, kind: 'ready' },
    { name: 'exactly notReadyAfter', base: {}, at: T0 + S.notReadyAfterMs, kind: 'notReady', reason: 'BaseUnreachable', message: /no heartbeat from base 10\.1\.0\.45 for 30s \(limit 30s\)/ },
    { name: 'silent a while', base: {}, at: T0 + 45_000, kind: 'notReady', reason: 'BaseUnreachable', message: /for 45s/ },
    { name: 'state deactivated, fresh', base: { state: 'deactivated' }, at: T0, kind: 'notReady', reason: 'BaseLeaving', message: /reported state "deactivated"/ },
    { name: 'any non-activated state', base: { state: 'stopping' }, at: T0 + 1000, kind: 'notReady', reason: 'BaseLeaving' },
    { name: 'leaving wins over unreachable', base: { state: 'deactivated' }, at: T0 + 60_000, kind: 'notReady', reason: 'BaseLeaving' },
    { name: 'master biz DEACTIVATED', base: { health: toHealth('DEACTIVATED') }, at: T0, kind: 'notReady', reason: 'BaseUnhealthy', message: /master biz base is DEACTIVATED/ },
    { name: 'master biz BROKEN', base: { health: toHealth('BROKEN') }, at: T0, kind: 'notReady', reason: 'BaseUnhealthy' },
    { name: 'master biz activated (lower case)', base: { health: toHealth('activated') }, at: T0, kind: 'ready' },
    { name: 'health without masterBizInfo', base: { health: { jvm: {}, cpu: {} } }, at: T0, kind: 'ready' },
    { name: 'unreachable wins over unhealthy', base: { health: toHealth('BROKEN') }, at: T0 + S.notReadyAfterMs, kind: 'notReady', reason: 'BaseUnreachable' },
    { name: 'just before deleteAfter', base: {}, at: T0 + S.deleteAfterMs - 1, kind: 'notReady', reason: 'BaseUnreachable' },
    { name: 'exactly deleteAfter', base: {}, at: T0 + S.deleteAfterMs, kind: 'dead', message: /no heartbeat for 600s/ },
    { name: 'dead wins over leaving', base: { state: 'deactivated' }, at: T0 + S.deleteAfterMs + 5, kind: 'dead' },
  ];
  for (const c of cases) {
    const l = toLiveness(toBase(c.base), c.at, S);
    assert.equal(l.kind, c.kind, c.name);
    if (c.reason) assert.equal(l.kind === 'notReady' ? l.reason : undefined, c.reason, c.name);
    if (c.message) assert.match(l.message, c.message, c.name);
  }
});

test('toNextLivenessChange: time to the next threshold, none once dead', () => {
  const cases: Array<[number, number | undefined]> = [
    [T0, S.notReadyAfterMs],
    [T0 + 10_000, S.notReadyAfterMs - 10_000],
    [T0 + S.notReadyAfterMs - 1, 1],
    // At the threshold the node is already NotReady: the next change is deletion.
    [T0 + S.notReadyAfterMs, S.deleteAfterMs - S.notReadyAfterMs],
    [T0 + 100_000, S.deleteAfterMs - 100_000],
    [T0 + S.deleteAfterMs, undefined],
    [T0 + S.deleteAfterMs + 1, undefined],
  ];
  for (const [at, want] of cases) assert.equal(toNextLivenessChange(toBase(), at, S), want, `at +${at - T0}ms`);
});

test('toLabelValue keeps valid values and repairs the rest into valid ones', () => {
  const cases: Array<[string, string]> = [
    ['1.0.0', '1.0.0'],
    ['0.0.1-SNAPSHOT', '0.0.1-SNAPSHOT'],
    // Label values may hold upper case; the node label must equal the base name the pods ask for.
    ['MyBase', 'MyBase'],
    ['', ''],
    ['my base/v1', 'my-base-v1'],
    ['-leading.and.trailing.', 'leading.and.trailing'],
    ['__', ''],
    ['@@@', ''],
    ['名前', ''],
    ['base:1.0', 'base-1.0'],
    ['a'.repeat(63), 'a'.repeat(63)],
    ['a'.repeat(70), 'a'.repeat(63)],
    // Cut at 63 leaves a trailing '-': trimmed.
    [`${'a'.repeat(62)}-b`, 'a'.repeat(62)],
    [`${'a'.repeat(62)}/bcd`, 'a'.repeat(62)],
  ];
  for (const [input, want] of cases) assert.equal(toLabelValue(input), want, JSON.stringify(input));
});

test('toLabelValue always yields a valid label value (generated inputs)', () => {
  const alphabet = 'aZ09-_./ :@é';
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const len = Math.floor(next() * 90);
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(next() * alphabet.length)];
    const v = toLabelValue(s);
    assert.ok(v.length <= 63, `${JSON.stringify(s)} → ${v.length} chars`);
    assert.match(v, LABEL_VALUE_RE, JSON.stringify(s));
  }
});

test('toNodeLabels: the virtual node vocabulary, values made valid', () => {
  const base = toBase({ metadata: { identity: BASE_ID, name: 'order base', version: '2.0.0', clusterName: 'c/1' } });
  assert.deepEqual(toNodeLabels(base, { ...S, env: 'default', stack: 'java' }), {
    [VNODE_COMPONENT_LABEL]: 'vnode',
    [VNODE_ENV_LABEL]: 'default',
    [BASE_STACK_LABEL]: 'java',
    [BASE_NAME_LABEL]: 'order-base',
    [BASE_VERSION_LABEL]: '2.0.0',
    [BASE_CLUSTER_LABEL]: 'c-1',
    'vnode.koupleless.io/name': 'order-base',
    'vnode.koupleless.io/version': '2.0.0',
    'vnode.koupleless.io/cluster-name': 'c-1',
    'vnode.koupleless.io/tunnel': 'mqtt_tunnel_provider',
    [HOSTNAME_LABEL]: 'virtual-node-10.1.0.45',
  });
  const empty = toBase({ metadata: { identity: BASE_ID, name: '', version: '', clusterName: '' } });
  for (const [k, v] of Object.entries(toNodeLabels(empty, S))) assert.match(v, LABEL_VALUE_RE, k);
});

test('toNodeLabels: every value is a valid label value even for a long base identity', () => {
  const identity = `base-${'x'.repeat(60)}`;
  const labels = toNodeLabels(toBase({ identity, metadata: { identity, name: 'base', version: '1.0.0', clusterName: '' } }), S);
  for (const [k, v] of Object.entries(labels)) {
    assert.ok(v.length <= 63, `${k} is ${v.length} chars`);
    assert.match(v, LABEL_VALUE_RE, k);
  }
});

test('node memory comes from the JVM max memory in the health data', () => {
  const cases: Array<[string, Record<string, number> | undefined, string]> = [
    ['no health yet', undefined, S.nodeMemory],
    ['max memory(M)', { 'total memory(M)': 1024, 'max memory(M)': 2048 }, '2048Mi'],
    ['max heap memory(M), fractional', { 'max heap memory(M)': 1023.6 }, '1024Mi'],
    ['-1 means unlimited', { 'max memory(M)': -1 }, S.nodeMemory],
    ['0 is no figure', { 'max memory(M)': 0 }, S.nodeMemory],
    ['non-heap is not the heap', { 'max non heap memory(M)': 512 }, S.nodeMemory],
    ['other figures only', { 'used heap memory(M)': 300 }, S.nodeMemory],
  ];
  for (const [name, jvm, want] of cases) {
    const base = toBase(jvm ? { health: toHealth('ACTIVATED', jvm) } : {});
    const st = toNodeStatus(base, toLiveness(base, T0, S), undefined, S, new Date(T0));
    assert.equal(st.capacity?.['memory'], want, name);
    assert.equal(st.allocatable?.['memory'], want, name);
  }
});

test('toNodeStatus: addresses, capacity and the Ready condition', () => {
  const now = new Date(T0 + 1000);
  const base = toBase();
  const st = toNodeStatus(base, toLiveness(base, now.getTime(), S), undefined, S, now);
  assert.deepEqual(st.addresses, [{ type: 'InternalIP', address: BASE_IP }, { type: 'Hostname', address: 'base-7d9f8c6b5-x2kq9' }]);
  assert.deepEqual(st.capacity, { cpu: '100', memory: '16Gi', pods: '100' });
  assert.deepEqual(st.conditions, [{ type: 'Ready', status: 'True', reason: 'BaseReady', message: 'base base:1.0.0 is alive', lastHeartbeatTime: now, lastTransitionTime: now }]);
  const noHost = toNodeStatus(toBase({ hostName: '' }), { kind: 'ready', message: '' }, undefined, S, now);
  assert.deepEqual(noHost.addresses?.[1], { type: 'Hostname', address: BASE_ID });
});

test('toReadyCondition keeps lastTransitionTime only while the status stays the same', () => {
  const then = new Date(T0 - 3_600_000);
  const now = new Date(T0);
  const notReady: Liveness = { kind: 'notReady', reason: 'BaseUnreachable', message: 'silent' };
  const cases: Array<[string, Liveness, Parameters<typeof toReadyCondition>[1], Date, string, string]> = [
    ['no previous', { kind: 'ready', message: '' }, undefined, now, 'True', 'BaseReady'],
    ['True → True', { kind: 'ready', message: '' }, { type: 'Ready', status: 'True', lastTransitionTime: then }, then, 'True', 'BaseReady'],
    ['True → False', notReady, { type: 'Ready', status: 'True', lastTransitionTime: then }, now, 'False', 'BaseUnreachable'],
    ['False → False, other reason', { kind: 'notReady', reason: 'BaseLeaving', message: '' }, { type: 'Ready', status: 'False', reason: 'BaseUnreachable', lastTransitionTime: then }, then, 'False', 'BaseLeaving'],
    ['Unknown (node lifecycle controller) → True', { kind: 'ready', message: '' }, { type: 'Ready', status: 'Unknown', lastTransitionTime: then }, now, 'True', 'BaseReady'],
    ['dead', { kind: 'dead', message: 'gone' }, undefined, now, 'False', 'BaseUnreachable'],
    // The API hands times back as strings on some client paths.
    ['string time kept', { kind: 'ready', message: '' }, { type: 'Ready', status: 'True', lastTransitionTime: then.toISOString() as unknown as Date }, then, 'True', 'BaseReady'],
  ];
  for (const [name, l, prev, transition, status, reason] of cases) {
    const c = toReadyCondition(l, prev, now);
    assert.equal(c.status, status, name);
    assert.equal(c.reason, reason, name);
    assert.equal(new Date(c.lastTransitionTime!).getTime(), transition.getTime(), name);
    assert.equal(c.lastHeartbeatTime, now, name);
  }
});

/** What the API would hold after the bridge created the node at `at` (times as the API returns them). */
function createdNode(at = T0, base = toBase()): V1Node {
  const plan = planNode(base, undefined, S, new Date(at));
  assert.equal(plan.action, 'create');
  return JSON.parse(JSON.stringify((plan as Extract<NodePlan, { action: 'create' }>).node)) as V1Node;
}

function asUpdate(p: NodePlan): Extract<NodePlan, { action: 'update' }> {
  assert.equal(p.action, 'update', JSON.stringify(p));
  return p as Extract<NodePlan, { action: 'update' }>;
}

test('planNode creates the node only once the base is ready', () => {
  const create = planNode(toBase(), undefined, S, new Date(T0));
  assert.equal(create.action, 'create');
  const node = (create as Extract<NodePlan, { action: 'create' }>).node;
  assert.equal(node.metadata?.name, 'virtual-node-10.1.0.45');
  assert.deepEqual(node.metadata?.annotations, { [BASE_IDENTITY_ANNOTATION]: BASE_ID });
  assert.deepEqual(node.metadata?.labels, toNodeLabels(toBase(), S));
  assert.deepEqual(node.spec?.taints, [{ key: VNODE_TAINT.key, value: VNODE_TAINT.value, effect: VNODE_TAINT.effect }]);
  assert.equal(node.status?.conditions?.[0]?.status, 'True');

  const none: Array<[string, ReturnType<typeof toBase>, number]> = [
    ['leaving', toBase({ state: 'deactivated' }), T0],
    ['unhealthy', toBase({ health: toHealth('DEACTIVATED') }), T0],
    ['unreachable', toBase(), T0 + S.notReadyAfterMs],
    ['dead', toBase(), T0 + S.deleteAfterMs],
  ];
  for (const [name, base, at] of none) assert.deepEqual(planNode(base, undefined, S, new Date(at)), { action: 'none' }, name);
});

test('planNode deletes the node of a dead base', () => {
  const p = planNode(toBase(), createdNode(), S, new Date(T0 + S.deleteAfterMs));
  assert.equal(p.action, 'delete');
  assert.match((p as Extract<NodePlan, { action: 'delete' }>).why, /no heartbeat for 600s/);
});

test('planNode writes nothing when nothing changed, and a status heartbeat when it is due', () => {
  const node = createdNode(T0);
  const base = toBase({ lastHeartbeatAt: T0 + 20_000 });
  assert.deepEqual(planNode(base, node, S, new Date(T0 + 20_000), 60_000), { action: 'none' });
  assert.deepEqual(planNode(toBase({ lastHeartbeatAt: T0 + 50_000 }), node, S, new Date(T0 + 59_999), 60_000), { action: 'none' });
  const beat = asUpdate(planNode(toBase({ lastHeartbeatAt: T0 + 55_000 }), node, S, new Date(T0 + 60_000), 60_000));
  assert.equal(beat.why, 'status heartbeat');
  assert.equal(beat.labels, undefined);
  assert.equal(beat.addTaint, undefined);
  const ready = beat.status?.conditions?.[0];
  assert.equal(new Date(ready!.lastHeartbeatTime!).getTime(), T0 + 60_000);
  // Still Ready: the transition time is the original one.
  assert.equal(new Date(ready!.lastTransitionTime!).getTime(), T0);
});

test('planNode ignores labels and taints it does not own', () => {
  const node = createdNode(T0);
  node.metadata!.labels = { ...node.metadata!.labels, 'team': 'payments' };
  node.spec!.taints = [...node.spec!.taints!, { key: 'other', value: 'x', effect: 'NoSchedule' }];
  assert.deepEqual(planNode(toBase(), node, S, new Date(T0 + 1000)), { action: 'none' });
});

test('planNode updates labels when the base version changes', () => {
  const node = createdNode(T0);
  const upgraded = toBase({ metadata: { identity: BASE_ID, name: 'base', version: '1.1.0', clusterName: 'default' } });
  const p = asUpdate(planNode(upgraded, node, S, new Date(T0 + 1000)));
  assert.equal(p.labels?.[BASE_VERSION_LABEL], '1.1.0');
  assert.equal(p.addTaint, undefined);
  assert.match(p.why, /^labels/);
  // The Ready message and nodeInfo name the version, so they follow it.
  assert.equal(p.status?.conditions?.[0]?.message, 'base base:1.1.0 is alive');
  assert.equal(p.status?.nodeInfo?.containerRuntimeVersion, 'koupleless://base:1.1.0');

  const relabelled = asUpdate(planNode(toBase(), { ...node, metadata: { ...node.metadata, labels: { ...node.metadata!.labels, [BASE_STACK_LABEL]: 'go' } } }, S, new Date(T0 + 1000)));
  assert.equal(relabelled.why, 'labels');
  assert.equal(relabelled.labels?.[BASE_STACK_LABEL], 'java');
  assert.equal(relabelled.status, undefined);
});

test('planNode re-adds a removed or altered taint', () => {
  const cases: Array<[string, V1Node['spec']]> = [
    ['removed', { taints: [] }],
    ['no spec', undefined],
    ['other value', { taints: [{ key: VNODE_TAINT.key, value: 'False', effect: VNODE_TAINT.effect }] }],
    ['other effect', { taints: [{ key: VNODE_TAINT.key, value: VNODE_TAINT.value, effect: 'NoSchedule' }] }],
  ];
  for (const [name, spec] of cases) {
    const node = createdNode(T0);
    if (spec) node.spec = spec;
    else delete node.spec;
    const p = asUpdate(planNode(toBase(), node, S, new Date(T0 + 1000)));
    assert.equal(p.addTaint, true, name);
    assert.equal(p.labels, undefined, name);
    assert.equal(p.why, 'taint', name);
  }
});

test('planNode: Ready transitions set lastTransitionTime, reason changes keep it', () => {
  const node = createdNode(T0);
  // Silent: Ready → False (BaseUnreachable).
  const down = asUpdate(planNode(toBase(), node, S, new Date(T0 + S.notReadyAfterMs)));
  assert.match(down.why, /Ready=False \(BaseUnreachable\)/);
  const downReady = down.status!.conditions![0]!;
  assert.equal(downReady.status, 'False');
  assert.equal(new Date(downReady.lastTransitionTime!).getTime(), T0 + S.notReadyAfterMs);

  // Still False, now leaving: a new reason, the same transition time.
  const nodeDown: V1Node = JSON.parse(JSON.stringify({ ...node, status: down.status })) as V1Node;
  const leaving = asUpdate(planNode(toBase({ state: 'deactivated', lastHeartbeatAt: T0 + 40_000 }), nodeDown, S, new Date(T0 + 40_000)));
  const leavingReady = leaving.status!.conditions![0]!;
  assert.equal(leavingReady.reason, 'BaseLeaving');
  assert.equal(new Date(leavingReady.lastTransitionTime!).getTime(), T0 + S.notReadyAfterMs);

  // Heartbeats again: back to True, a new transition time.
  const back = asUpdate(planNode(toBase({ lastHeartbeatAt: T0 + 50_000 }), nodeDown, S, new Date(T0 + 50_000)));
  const backReady = back.status!.conditions![0]!;
  assert.equal(backReady.status, 'True');
  assert.equal(new Date(backReady.lastTransitionTime!).getTime(), T0 + 50_000);
});

test('planNode overrides the Unknown status the node lifecycle controller sets', () => {
  const node = createdNode(T0);
  node.status!.conditions = [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: new Date(T0), lastTransitionTime: new Date(T0 + 40_000) }];
  const p = asUpdate(planNode(toBase({ lastHeartbeatAt: T0 + 45_000 }), node, S, new Date(T0 + 45_000)));
  assert.equal(p.status?.conditions?.[0]?.status, 'True');
  assert.equal(new Date(p.status!.conditions![0]!.lastTransitionTime!).getTime(), T0 + 45_000);
});

test('planNode rewrites status when the IP or the capacity changes', () => {
  const node = createdNode(T0);
  const moved = asUpdate(planNode(toBase({ localIP: '10.1.0.99' }), node, S, new Date(T0 + 1000)));
  assert.equal(moved.why, 'addresses');
  assert.equal(moved.status?.addresses?.[0]?.address, '10.1.0.99');

  const measured = asUpdate(planNode(toBase({ health: toHealth('ACTIVATED', { 'max memory(M)': 4096 }) }), node, S, new Date(T0 + 1000)));
  assert.equal(measured.why, 'capacity');
  assert.equal(measured.status?.capacity?.['memory'], '4096Mi');
});

test('planNode: several changes at once are one update', () => {
  const node = createdNode(T0);
  node.spec!.taints = [];
  const base = toBase({ localIP: '10.1.0.99', metadata: { identity: BASE_ID, name: 'base', version: '2.0.0', clusterName: 'default' } });
  const p = asUpdate(planNode(base, node, S, new Date(T0 + S.notReadyAfterMs)));
  assert.equal(p.why, 'labels, taint, addresses, Ready=False (BaseUnreachable)');
  assert.ok(p.labels && p.addTaint && p.status);
});

test('planNode: capacity as the API server stores it is no change', () => {
  const base = toBase({ health: toHealth('ACTIVATED', { 'max memory(M)': 2048 }) });
  const node = createdNode(T0, base);
  assert.equal(node.status?.capacity?.['memory'], '2048Mi');
  // What a read of the node returns.
  node.status!.capacity = { cpu: '100', memory: '2Gi', pods: '100' };
  node.status!.allocatable = { cpu: '100', memory: '2Gi', pods: '100' };
  assert.deepEqual(planNode(toBase({ health: base.health, lastHeartbeatAt: T0 + 10_000 }), node, S, new Date(T0 + 10_000)), { action: 'none' });
});

test('toLiveness with hearing: silence the bridge could not hear judges nobody', () => {
  // Heard at T0; the link went down at +5 s and came back at +200 s (grace 15 s).
  const outage = recordLinkUp(recordLinkDown(ALWAYS_HEARD, T0 + 5_000), T0 + 200_000, S.reconnectGraceMs);
  const stillDown = recordLinkDown(ALWAYS_HEARD, T0 + 5_000);
  const cases: Array<{ name: string; hearing: Hearing; at: number; kind: Liveness['kind']; reason?: string }> = [
    { name: 'link down for 20× notReadyAfter: still Ready', hearing: stillDown, at: T0 + 20 * S.notReadyAfterMs, kind: 'ready' },
    { name: 'link down past deleteAfter: never dead', hearing: stillDown, at: T0 + 2 * S.deleteAfterMs, kind: 'ready' },
    { name: 'back, inside the grace', hearing: outage, at: T0 + 210_000, kind: 'ready' },
    { name: 'back, grace over, silence not yet notReadyAfter', hearing: outage, at: T0 + 215_000 + S.notReadyAfterMs - 5_001, kind: 'ready' },
    { name: 'a base dead during the outage: NotReady after reconnect + grace + notReadyAfter (minus what it was silent before)', hearing: outage, at: T0 + 215_000 + S.notReadyAfterMs - 5_000, kind: 'notReady', reason: 'BaseUnreachable' },
    { name: 'and dead deleteAfter of heard silence later', hearing: outage, at: T0 + 215_000 + S.deleteAfterMs - 5_000, kind: 'dead' },
    { name: 'without the tracker the same silence is NotReady', hearing: ALWAYS_HEARD, at: T0 + 210_000, kind: 'notReady', reason: 'BaseUnreachable' },
  ];
  for (const c of cases) {
    const l = toLiveness(toBase(), c.at, S, c.hearing);
    assert.equal(l.kind, c.kind, c.name);
    if (c.reason) assert.equal(l.kind === 'notReady' ? l.reason : undefined, c.reason, c.name);
  }
});

test('toLiveness of an adopted base: what its Node said until the bridge hears, never "heard just now"', () => {
  const ready = { ready: true, reason: '', message: '' };
  const notReady = { ready: false, reason: 'BaseUnreachable', message: 'no heartbeat from base 10.1.0.45 for 45s (limit 30s)' };
  // Bridge started at T0 (lastHeard recorded 45 s earlier), subscribed at +1 s.
  const start = toStartHearing(T0);
  const up = recordLinkUp(start, T0 + 1_000, S.reconnectGraceMs);
  const graceEnd = T0 + 1_000 + S.reconnectGraceMs;
  const cases: Array<{ name: string; adopted: typeof ready; hearing: Hearing; at: number; kind: Liveness['kind']; reason?: string; message?: RegExp }> = [
    { name: 'Ready node, not subscribed yet', adopted: ready, hearing: start, at: T0 + 500, kind: 'ready', message: /was Ready; waiting for its next heartbeat/ },
    { name: 'Ready node, inside the grace', adopted: ready, hearing: up, at: graceEnd - 1, kind: 'ready' },
    { name: 'Ready node, silent through the grace: NotReady (its recorded silence counts)', adopted: ready, hearing: up, at: graceEnd, kind: 'notReady', reason: 'BaseUnreachable' },
    { name: 'NotReady node stays NotReady while deaf', adopted: notReady, hearing: start, at: T0 + 500, kind: 'notReady', reason: 'BaseUnreachable', message: /for 45s/ },
    { name: 'NotReady node stays NotReady when hearing', adopted: notReady, hearing: up, at: graceEnd + 1_000, kind: 'notReady', reason: 'BaseUnreachable' },
    { name: 'NotReady for another reason keeps it', adopted: { ready: false, reason: 'BaseUnhealthy', message: 'master biz base is BROKEN' }, hearing: up, at: graceEnd, kind: 'notReady', reason: 'BaseUnhealthy' },
  ];
  for (const c of cases) {
    const l = toLiveness(toBase({ lastHeartbeatAt: T0 - 45_000, adopted: c.adopted }), c.at, S, c.hearing);
    assert.equal(l.kind, c.kind, c.name);
    if (c.reason) assert.equal(l.kind === 'notReady' ? l.reason : undefined, c.reason, c.name);
    if (c.message) assert.match(l.message, c.message, c.name);
  }
  // The delete timer runs on from the recorded time (the bridge's own downtime counts), but only
  // once the bridge can hear: deleting while deaf could delete a live base.
  const old = toBase({ lastHeartbeatAt: T0 - S.deleteAfterMs, adopted: notReady });
  assert.equal(toLiveness(old, T0 + 500, S, start).kind, 'notReady');
  assert.equal(toLiveness(old, graceEnd, S, up).kind, 'dead');
});

test('toNextLivenessChange with hearing: none while down, thresholds shifted past the grace', () => {
  const down = recordLinkDown(ALWAYS_HEARD, T0 + 5_000);
  assert.equal(toNextLivenessChange(toBase(), T0 + 60_000, S, down), undefined);
  const up = recordLinkUp(down, T0 + 100_000, S.reconnectGraceMs);
  // 5 s heard before the outage; at +105 s (in grace) notReady comes 25 s after the grace ends.
  assert.equal(toNextLivenessChange(toBase(), T0 + 105_000, S, up), 10_000 + 25_000);
  // An adopted base's frozen verdict changes when the grace ends.
  const adopted = toBase({ lastHeartbeatAt: T0 - 100_000, adopted: { ready: true, reason: '', message: '' } });
  assert.equal(toNextLivenessChange(adopted, T0 + 105_000, S, up), 10_000);
});

test('planNode never deletes while the bridge cannot hear', () => {
  const node = { metadata: { name: 'virtual-node-10.1.0.45' }, status: { conditions: [] } } as V1Node;
  const down = recordLinkDown(ALWAYS_HEARD, T0 + 1_000);
  assert.equal(planNode(toBase(), node, S, new Date(T0 + 2 * S.deleteAfterMs), 60_000, ALWAYS_HEARD).action, 'delete');
  assert.notEqual(planNode(toBase(), node, S, new Date(T0 + 2 * S.deleteAfterMs), 60_000, down).action, 'delete');
});
