import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { planBatchReplicas, planModuleDeployment, type MdAction, type PlanInput } from '../../moduledeployment/plan-module-deployment.ts';
import { toReplicaSet, toRevisionHash } from '../../moduledeployment/revision.ts';
import type { ModuleDeployment, ModuleDeploymentStatus, OperationStrategy } from '../../moduledeployment/types.ts';

const NOW = Date.parse('2026-12-01T10:00:00Z');

function md(version: string, replicas: number, os: OperationStrategy = {}, status?: ModuleDeploymentStatus, extra: Partial<ModuleDeployment['spec']> = {}): ModuleDeployment {
  return {
    metadata: { name: 'm', namespace: 'ns', uid: 'uid-m', generation: 3 },
    spec: { baseDeploymentName: 'stock', replicas, template: { spec: { module: { name: 'biz', version, url: `https://x.invalid/biz-${version}.jar` } } }, operationStrategy: os, ...extra },
    status,
  };
}

function rs(d: ModuleDeployment, version: string, replicas: number, revision: number): V1ReplicaSet {
  const withVersion = { ...d, spec: { ...d.spec, template: { spec: { module: { ...d.spec.template.spec.module, version, url: `https://x.invalid/biz-${version}.jar` } } } } };
  const r = toReplicaSet(withVersion, 'koupleless.io', toRevisionHash('koupleless.io', withVersion.spec.template.spec.module), revision, replicas);
  return { ...r, metadata: { ...r.metadata, uid: `rs-${version}` } };
}

function pods(r: V1ReplicaSet, ready: number, notReady = 0, extra: Partial<V1Pod> = {}): V1Pod[] {
  const hash = r.metadata!.labels!['module-controller.koupleless.io/module-revision']!;
  const mk = (i: number, ok: boolean): V1Pod => ({
    metadata: { name: `${r.metadata!.name}-${ok ? 'r' : 'n'}${i}`, namespace: 'ns', labels: { 'module-controller.koupleless.io/module-revision': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: r.metadata!.name!, uid: r.metadata!.uid!, controller: true }] },
    spec: { containers: [], nodeName: `virtual-node-${i}` },
    status: { phase: ok ? 'Running' : 'Pending', conditions: [{ type: 'Ready', status: ok ? 'True' : 'False' }] },
    ...extra,
  });
  return [...Array.from({ length: ready }, (_x, i) => mk(i, true)), ...Array.from({ length: notReady }, (_x, i) => mk(i, false))];
}

const input = (d: ModuleDeployment, replicaSets: V1ReplicaSet[], p: V1Pod[], now = NOW, bases: PlanInput['bases'] = []): PlanInput => ({ md: d, group: 'koupleless.io', replicaSets, pods: p, bases, now });
const scales = (actions: readonly MdAction[]) => actions.filter((a) => a.kind === 'scaleReplicaSet').map((a) => (a.kind === 'scaleReplicaSet' ? `${a.name.split('-')[0]}:${a.replicas}` : ''));
const reasons = (actions: readonly MdAction[]) => actions.filter((a) => a.kind === 'event').map((a) => (a.kind === 'event' ? a.reason : ''));

test('planBatchReplicas: each upgrade policy by its table', () => {
  const c = { target: 6, goal: 4, prevGoal: 2, newReady: 3, newSpec: 2, oldSpec: 4, oldPods: 4 };
  const cases: Array<[Parameters<typeof planBatchReplicas>[0], Partial<typeof c>, { newReplicas: number; oldReplicas: number }]> = [
    ['install_then_uninstall', {}, { newReplicas: 4, oldReplicas: 3 }],
    ['install_then_uninstall', { newReady: 4 }, { newReplicas: 4, oldReplicas: 2 }],
    ['scaleup_then_scaledown', {}, { newReplicas: 4, oldReplicas: 4 }],
    ['scaleup_then_scaledown', { newReady: 4 }, { newReplicas: 4, oldReplicas: 2 }],
    ['uninstall_then_install', {}, { newReplicas: 2, oldReplicas: 2 }],
    ['uninstall_then_install', { oldPods: 2 }, { newReplicas: 4, oldReplicas: 2 }],
  ];
  for (const [policy, over, want] of cases) assert.deepEqual(planBatchReplicas(policy, { ...c, ...over }), want, `${policy} ${JSON.stringify(over)}`);
});

test('a new ModuleDeployment creates revision 1 with the first batch and starts the release', () => {
  const plan = planModuleDeployment(input(md('1.0.0', 6, { batchCount: 3 }), [], []));
  const create = plan.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(create && create.kind === 'createReplicaSet');
  assert.equal(create.replicaSet.spec?.replicas, 2);
  assert.equal(create.replicaSet.metadata?.ownerReferences?.[0]?.controller, true);
  assert.deepEqual(create.replicaSet.spec?.template?.spec?.containers, [{ name: 'biz', image: 'https://x.invalid/biz-1.0.0.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }]);
  assert.equal(create.replicaSet.spec?.template?.metadata?.labels?.['module-controller.koupleless.io/component'], 'module');
  assert.deepEqual(reasons(plan.actions), ['ReleaseStarted', 'BatchStarted']);
  assert.deepEqual({ ...plan.status.releaseStatus, lastTransitionTime: undefined, revision: undefined }, { progress: 'Init', currentBatch: 1, realBatchCount: 3, originalDeltaReplicas: 6, batchProgress: '1/3', lastTransitionTime: undefined, revision: undefined, toReplicas: 6 });
  assert.equal(plan.status.selector, 'module-controller.koupleless.io/module-deployment=m');
  assert.equal(plan.status.observedGeneration, 3);
});

/** Runs the planner as the controller would, with the cluster following the plan. */
function release(os: OperationStrategy) {
  let d = md('1.0.0', 6, {}, undefined);
  const old = rs(d, '1.0.0', 6, 1);
  d = md('2.0.0', 6, os);
  const first = planModuleDeployment(input(d, [old], pods(old, 6)));
  return { d, old, first };
}

test('needConfirm: batch 1 done → WaitingForConfirmation; a confirmation moves exactly one batch; a stale confirmation does not count', () => {
  const { d, old, first } = release({ batchCount: 3, needConfirm: true });
  const created = first.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(created && created.kind === 'createReplicaSet');
  const neu = { ...created.replicaSet, metadata: { ...created.replicaSet.metadata, uid: 'rs-new' } };
  assert.equal(neu.spec?.replicas, 2);
  // Two new replicas Ready, two old ones gone: batch 1 is done.
  const old4 = { ...old, spec: { ...old.spec!, replicas: 4 } };
  const s1 = planModuleDeployment(input({ ...d, status: first.status }, [old4, neu], [...pods(old4, 4), ...pods(neu, 2)], NOW + 1000));
  assert.equal(s1.status.releaseStatus?.progress, 'WaitingForConfirmation');
  assert.equal(s1.status.releaseStatus?.currentBatch, 1);
  assert.deepEqual(reasons(s1.actions), ['BatchCompleted', 'WaitingForConfirmation']);
  assert.deepEqual(scales(s1.actions), []);
  // Waiting again: nothing changes, no new Events.
  const again = planModuleDeployment(input({ ...d, status: s1.status }, [old4, neu], [...pods(old4, 4), ...pods(neu, 2)], NOW + 2000));
  assert.deepEqual(again.actions, []);
  assert.equal(again.status.releaseStatus?.lastTransitionTime, s1.status.releaseStatus?.lastTransitionTime);
  // confirmBatchNum = 1 → batch 2 starts: the new revision goes to 4; old stays until new ones are Ready.
  const confirmed = { ...d, spec: { ...d.spec, confirmBatchNum: 1 }, status: s1.status };
  const s2 = planModuleDeployment(input(confirmed, [old4, neu], [...pods(old4, 4), ...pods(neu, 2)], NOW + 3000));
  assert.deepEqual(reasons(s2.actions), ['BatchConfirmed', 'BatchStarted']);
  assert.equal(s2.status.releaseStatus?.currentBatch, 2);
  assert.equal(s2.status.releaseStatus?.progress, 'Executing');
  assert.deepEqual(scales(s2.actions), ['m:4']);
  // A release started while confirmBatchNum was already 1 does not take that as batch 1's confirmation.
  const leftover = planModuleDeployment(input({ ...md('2.0.0', 6, { batchCount: 3, needConfirm: true }), spec: { ...d.spec, confirmBatchNum: 1 } }, [old], pods(old, 6)));
  assert.equal(leftover.status.releaseStatus?.staleConfirmBatchNum, 1);
  assert.deepEqual(leftover.actions.filter((a) => a.kind === 'resetConfirmBatchNum').map((a) => (a.kind === 'resetConfirmBatchNum' ? a.from : -1)), [1], 'the left-over value is reset to 0');
  const stale = planModuleDeployment(input({ ...confirmed, status: { ...s1.status, releaseStatus: { ...s1.status.releaseStatus!, staleConfirmBatchNum: 1 } } }, [old4, neu], [...pods(old4, 4), ...pods(neu, 2)]));
  assert.equal(stale.status.releaseStatus?.progress, 'WaitingForConfirmation');
  // Once the reset is seen (0), a later confirmBatchNum=1 confirms batch 1.
  const reset = planModuleDeployment(input({ ...d, spec: { ...d.spec, confirmBatchNum: 0 }, status: stale.status }, [old4, neu], [...pods(old4, 4), ...pods(neu, 2)]));
  assert.equal(reset.status.releaseStatus?.staleConfirmBatchNum, undefined);
  const now1 = planModuleDeployment(input({ ...confirmed, status: reset.status }, [old4, neu], [...pods(old4, 4), ...pods(neu, 2)]));
  assert.equal(now1.status.releaseStatus?.currentBatch, 2);
});

test('install_then_uninstall removes one old replica per new replica Ready (the ready count never drops)', () => {
  const { d, old, first } = release({ batchCount: 3 });
  const created = first.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(created && created.kind === 'createReplicaSet');
  const neu = { ...created.replicaSet, metadata: { ...created.replicaSet.metadata, uid: 'rs-new' } };
  const plan = planModuleDeployment(input({ ...d, status: first.status }, [old, neu], [...pods(old, 6), ...pods(neu, 1, 1)]));
  assert.deepEqual(scales(plan.actions), ['m:5']);
});

test('gray time: the next batch starts by itself after grayTimeBetweenBatchSeconds, with no confirmation', () => {
  const { d, old, first } = release({ batchCount: 2, grayTimeBetweenBatchSeconds: 60 });
  const created = first.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(created && created.kind === 'createReplicaSet');
  const neu = { ...created.replicaSet, metadata: { ...created.replicaSet.metadata, uid: 'rs-new' } };
  const old3 = { ...old, spec: { ...old.spec!, replicas: 3 } };
  const observed = [old3, neu];
  const p = [...pods(old3, 3), ...pods({ ...neu, spec: { ...neu.spec!, replicas: 3 } }, 3)];
  const paused = planModuleDeployment(input({ ...d, status: first.status }, observed, p, NOW));
  assert.equal(paused.status.releaseStatus?.progress, 'Paused');
  assert.equal(paused.status.releaseStatus?.nextReconcileTime, new Date(NOW + 60_000).toISOString());
  assert.equal(paused.requeueAfterMs, 60_000);
  const early = planModuleDeployment(input({ ...d, status: paused.status }, observed, p, NOW + 30_000));
  assert.equal(early.status.releaseStatus?.progress, 'Paused');
  assert.equal(early.requeueAfterMs, 30_000);
  const later = planModuleDeployment(input({ ...d, status: paused.status }, observed, p, NOW + 60_000));
  assert.equal(later.status.releaseStatus?.currentBatch, 2);
  assert.equal(later.status.releaseStatus?.progress, 'Executing');
  assert.deepEqual(scales(later.actions), ['m:6']);
});

test('useBeta: the first batch is exactly one replica', () => {
  const { first } = release({ batchCount: 2, useBeta: true });
  const created = first.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(created && created.kind === 'createReplicaSet');
  assert.equal(created.replicaSet.spec?.replicas, 1);
  assert.equal(first.status.releaseStatus?.realBatchCount, 3);
});

test('a failed replica stops the batch with ReplicaFailure and a Warning naming the base and why', () => {
  const { d, old, first } = release({ batchCount: 3 });
  const created = first.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(created && created.kind === 'createReplicaSet');
  const neu = { ...created.replicaSet, metadata: { ...created.replicaSet.metadata, uid: 'rs-new' } };
  const failed = pods(neu, 0, 1, {});
  failed[0]!.status!.containerStatuses = [{ name: 'biz', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ModuleInstallFailed', message: 'jar not found' } } }];
  const plan = planModuleDeployment(input({ ...d, status: first.status }, [old, neu], [...pods(old, 6), ...failed]));
  assert.equal(plan.status.releaseStatus?.progress, 'Paused');
  const cond = plan.status.conditions?.find((c) => c.type === 'ReplicaFailure');
  assert.equal(cond?.status, 'True');
  assert.match(cond!.message, /on virtual-node-0: ModuleInstallFailed: jar not found/);
  const warn = plan.actions.find((a) => a.kind === 'event' && a.type === 'Warning');
  assert.ok(warn && warn.kind === 'event' && warn.reason === 'BatchFailed' && /virtual-node-0/.test(warn.message));
  assert.deepEqual(scales(plan.actions), [], 'no old replica leaves for a failed new one');
});

test('completed: a one-batch scale (batchCount 1, the default) goes to the new count at once; going back to an old version reuses its ReplicaSet as the newest revision; history is trimmed', () => {
  const d1 = md('1.0.0', 2, {}, undefined, { revisionHistoryLimit: 1 });
  const r1 = rs(d1, '1.0.0', 0, 1);
  const r2 = rs(d1, '2.0.0', 0, 2);
  const r3 = rs(d1, '3.0.0', 2, 3);
  const d3 = md('3.0.0', 5, {}, undefined, { revisionHistoryLimit: 1 });
  const done = planModuleDeployment(input(d3, [r1, r2, r3], pods(r3, 2)));
  const completedStatus = { ...done.status, releaseStatus: { ...done.status.releaseStatus!, progress: 'Completed' as const } };
  const scaled = planModuleDeployment(input({ ...d3, status: completedStatus }, [r1, r2, r3], pods(r3, 2)));
  assert.deepEqual(scales(scaled.actions), ['m:5']);
  assert.deepEqual(scaled.actions.filter((a) => a.kind === 'deleteReplicaSet').map((a) => (a.kind === 'deleteReplicaSet' ? a.name : '')), [r1.metadata!.name]);
  const back = planModuleDeployment(input(md('1.0.0', 2, {}, completedStatus), [r1, r2, r3], pods(r3, 2)));
  assert.ok(!back.actions.some((a) => a.kind === 'createReplicaSet'), 'no new ReplicaSet');
  const upd = back.actions.find((a) => a.kind === 'updateReplicaSet');
  assert.ok(upd && upd.kind === 'updateReplicaSet' && upd.name === r1.metadata!.name);
  assert.equal(upd.replicaSet.metadata?.annotations?.['module-controller.koupleless.io/revision'], '4');
});

test('peer mode: one replica per Ready matching base', () => {
  // Peer mode: peer: true, replicas = the recorded peer count (moduledeployment/peer-mode.ts).
  const d0 = md('1.0.0', 3, {}, undefined, { peer: true });
  const d = { ...d0, metadata: { ...d0.metadata, annotations: { 'module-controller.koupleless.io/peer-replicas': '3' } } };
  const plan = planModuleDeployment(input(d, [], [], NOW, [{ name: 'a', ready: true }, { name: 'b', ready: true }, { name: 'c', ready: false }]));
  const create = plan.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(create && create.kind === 'createReplicaSet');
  assert.equal(create.replicaSet.spec?.replicas, 2);
  assert.equal(plan.status.ready, '0/2');
  // spec.replicas follows the Ready bases, so the scale subresource shows the peer count.
  const follow = plan.actions.find((a) => a.kind === 'setPeerReplicas');
  assert.ok(follow && follow.kind === 'setPeerReplicas');
  assert.deepEqual([follow.from, follow.recorded, follow.to], [3, '3', 2]);
});

test('kubectl scale on a peer-mode object (replicas differs from the recorded peer count): that many replicas, peer set to false, an Event says so', () => {
  const d0 = md('1.0.0', 1, {}, undefined, { peer: true });
  const d = { ...d0, metadata: { ...d0.metadata, annotations: { 'module-controller.koupleless.io/peer-replicas': '3' } } };
  const plan = planModuleDeployment(input(d, [], [], NOW, [{ name: 'a', ready: true }, { name: 'b', ready: true }, { name: 'c', ready: true }]));
  const create = plan.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(create && create.kind === 'createReplicaSet');
  assert.equal(create.replicaSet.spec?.replicas, 1);
  assert.equal(plan.status.ready, '0/1');
  const leave = plan.actions.find((a) => a.kind === 'leavePeerMode');
  assert.ok(leave && leave.kind === 'leavePeerMode');
  assert.equal(leave.replicas, 1);
  const ev = plan.actions.find((a) => a.kind === 'event' && a.reason === 'PeerModeLeft');
  assert.ok(ev && ev.kind === 'event');
  assert.match(ev.message, /spec\.replicas set to 1 \(kubectl scale or a patch\): 1 replica\(s\) instead of one per Ready base; peer set to false/);
});

test('a ModuleDeployment being deleted only reports Terminating (the garbage collector removes its ReplicaSets)', () => {
  const d = md('1.0.0', 2, {}, { releaseStatus: { progress: 'Completed', currentBatch: 1, realBatchCount: 1, originalDeltaReplicas: 2, batchProgress: '1/1', lastTransitionTime: '', revision: 'x' } });
  const plan = planModuleDeployment(input({ ...d, metadata: { ...d.metadata, deletionTimestamp: new Date() } }, [], []));
  assert.deepEqual(plan.actions, []);
  assert.equal(plan.status.releaseStatus?.progress, 'Terminating');
});

test('a ReplicaSet that cannot create its pods (e.g. denied at admission) is a replica failure too', () => {
  const { d, old, first } = release({ batchCount: 3 });
  const created = first.actions.find((a) => a.kind === 'createReplicaSet');
  assert.ok(created && created.kind === 'createReplicaSet');
  const neu: V1ReplicaSet = { ...created.replicaSet, metadata: { ...created.replicaSet.metadata, uid: 'rs-new' }, status: { replicas: 0, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'admission webhook denied the request' }] } };
  const plan = planModuleDeployment(input({ ...d, status: first.status }, [old, neu], pods(old, 6)));
  assert.match(plan.status.conditions!.find((c) => c.type === 'ReplicaFailure')!.message, /FailedCreate: admission webhook denied the request/);
});

/**
 * A scale on a completed release, with the cluster following every plan at once (each ReplicaSet
 * scale becomes that many Ready pods on the next observation).
 */
function scaleRun(from: number, os: OperationStrategy) {
  const d0 = md('1.0.0', from, os);
  const r0 = rs(d0, '1.0.0', from, 1);
  const settled = planModuleDeployment(input(d0, [r0], pods(r0, from)));
  assert.equal(settled.status.releaseStatus?.progress, 'Completed');
  let status = settled.status;
  let replicas = from;
  let confirm = 0;
  let to = from;
  const step = (now = NOW) => {
    const d = { ...md('1.0.0', to, os, status), spec: { ...md('1.0.0', to, os).spec, confirmBatchNum: confirm } };
    const r = { ...r0, spec: { ...r0.spec!, replicas } };
    const plan = planModuleDeployment(input(d, [r], pods(r, replicas), now));
    for (const a of plan.actions) if (a.kind === 'scaleReplicaSet') replicas = a.replicas;
    status = plan.status;
    return plan;
  };
  return {
    step,
    scaleTo: (n: number) => { to = n; },
    confirm: (k: number) => { confirm = k; },
    replicas: () => replicas,
  };
}

test('scale 2 → 6 with batchCount 2 and needConfirm: batch 1 to 4, WaitingForConfirmation, the confirmation → 6, Completed', () => {
  const s = scaleRun(2, { batchCount: 2, needConfirm: true });
  s.scaleTo(6);
  const start = s.step();
  assert.deepEqual(scales(start.actions), ['m:4'], 'the first batch adds 2 replicas, not 4');
  assert.deepEqual(reasons(start.actions), ['ScaleStarted', 'BatchStarted']);
  assert.deepEqual(
    { ...start.status.releaseStatus, lastTransitionTime: undefined, revision: undefined },
    { progress: 'Executing', currentBatch: 1, realBatchCount: 2, originalDeltaReplicas: 4, batchProgress: '1/2', fromReplicas: 2, toReplicas: 6, lastTransitionTime: undefined, revision: undefined },
  );
  const waiting = s.step(NOW + 1000);
  assert.equal(waiting.status.releaseStatus?.progress, 'WaitingForConfirmation');
  assert.deepEqual(reasons(waiting.actions), ['BatchCompleted', 'WaitingForConfirmation']);
  assert.equal(s.replicas(), 4);
  assert.deepEqual(waiting.status.conditions?.find((c) => c.type === 'Available')?.status, 'True', 'a scale-up paused at 4 of 6 keeps the 2 it had: available');
  assert.equal(waiting.status.ready, '4/6');
  // Nothing moves without the confirmation.
  const again = s.step(NOW + 2000);
  assert.deepEqual(again.actions, []);
  assert.equal(s.replicas(), 4);
  s.confirm(1);
  const confirmed = s.step(NOW + 3000);
  assert.deepEqual(reasons(confirmed.actions), ['BatchConfirmed', 'BatchStarted']);
  assert.deepEqual(scales(confirmed.actions), ['m:6']);
  assert.equal(confirmed.status.releaseStatus?.currentBatch, 2);
  const done = s.step(NOW + 4000);
  assert.equal(done.status.releaseStatus?.progress, 'Completed');
  assert.deepEqual(reasons(done.actions), ['BatchCompleted', 'ScaleCompleted']);
  assert.equal(done.status.conditions?.find((c) => c.type === 'Progressing')?.message, 'scaled to 6 replica(s)');
  // Settled: a completed scale plans nothing more.
  assert.deepEqual(s.step(NOW + 5000).actions, []);
});

test('scale down 6 → 2 in batches: each batch removes its pods and waits until they have left their bases', () => {
  const s = scaleRun(6, { batchCount: 2, needConfirm: true });
  s.scaleTo(2);
  assert.deepEqual(scales(s.step().actions), ['m:4']);
  assert.equal(s.step().status.releaseStatus?.progress, 'WaitingForConfirmation');
  s.confirm(1);
  assert.deepEqual(scales(s.step().actions), ['m:2']);
  assert.equal(s.step().status.releaseStatus?.progress, 'Completed');
  assert.equal(s.replicas(), 2);
  // A batch whose removed pods are still terminating on their bases is not done yet.
  const d0 = md('1.0.0', 6, { batchCount: 2, needConfirm: true });
  const r6 = rs(d0, '1.0.0', 6, 1);
  const settled = planModuleDeployment(input(d0, [r6], pods(r6, 6)));
  const started = planModuleDeployment(input({ ...md('1.0.0', 2, { batchCount: 2, needConfirm: true }), status: settled.status }, [r6], pods(r6, 6)));
  const r4 = { ...r6, spec: { ...r6.spec!, replicas: 4 } };
  const leaving = [...pods(r4, 4), ...pods(r4, 2).map((p, i) => ({ ...p, metadata: { ...p.metadata, name: `gone-${i}`, deletionTimestamp: new Date(NOW) } }))];
  const busy = planModuleDeployment(input({ ...md('1.0.0', 2, { batchCount: 2, needConfirm: true }), status: started.status }, [r4], leaving));
  assert.equal(busy.status.releaseStatus?.progress, 'Executing');
  assert.deepEqual(busy.actions, []);
});

test('a scale pauses for the gray time and continues by itself', () => {
  const s = scaleRun(2, { batchCount: 2, grayTimeBetweenBatchSeconds: 30 });
  s.scaleTo(6);
  assert.deepEqual(scales(s.step(NOW).actions), ['m:4']);
  const paused = s.step(NOW + 1000);
  assert.equal(paused.status.releaseStatus?.progress, 'Paused');
  assert.equal(paused.requeueAfterMs, 30_000);
  assert.equal(s.step(NOW + 10_000).requeueAfterMs, 21_000);
  assert.equal(s.replicas(), 4);
  assert.deepEqual(scales(s.step(NOW + 31_000).actions), ['m:6']);
  assert.equal(s.step(NOW + 32_000).status.releaseStatus?.progress, 'Completed');
});

test('useBeta on a scale: the first batch adds exactly one replica', () => {
  const s = scaleRun(2, { batchCount: 2, useBeta: true, needConfirm: true });
  s.scaleTo(7);
  const start = s.step();
  assert.deepEqual(scales(start.actions), ['m:3']);
  assert.equal(start.status.releaseStatus?.realBatchCount, 3);
  s.step();
  s.confirm(1);
  assert.deepEqual(scales(s.step().actions), ['m:5']);
});

test('a new count during a scale starts a new scale from where that one is; during a release it is the release\'s target', () => {
  const s = scaleRun(2, { batchCount: 2, needConfirm: true });
  s.scaleTo(6);
  s.step();
  s.step(); // batch 1 done at 4, waiting
  s.scaleTo(10);
  const restarted = s.step();
  assert.deepEqual(reasons(restarted.actions), ['ScaleStarted', 'BatchStarted']);
  assert.equal(restarted.status.releaseStatus?.fromReplicas, 4);
  assert.deepEqual(scales(restarted.actions), ['m:7']);
  // During a release the new count is the release's new target, not a scale.
  const { d, old, first } = release({ batchCount: 3, needConfirm: true });
  const bigger = planModuleDeployment(input({ ...d, spec: { ...d.spec, replicas: 9 }, status: first.status }, [old], pods(old, 6)));
  assert.ok(!reasons(bigger.actions).includes('ScaleStarted'));
  assert.equal(bigger.status.releaseStatus?.fromReplicas, undefined);
  assert.equal(bigger.status.releaseStatus?.toReplicas, 9);
});

test('peer mode is not batched: a base joining is applied at once', () => {
  const os: OperationStrategy = { batchCount: 2, needConfirm: true };
  const d0 = md('1.0.0', 2, os, undefined, { peer: true });
  const d = { ...d0, metadata: { ...d0.metadata, annotations: { 'module-controller.koupleless.io/peer-replicas': '2' } } };
  const r = rs(d, '1.0.0', 2, 1);
  const two = [{ name: 'a', ready: true }, { name: 'b', ready: true }];
  const settled = planModuleDeployment(input(d, [r], pods(r, 2), NOW, two));
  assert.equal(settled.status.releaseStatus?.progress, 'Completed');
  const joined = planModuleDeployment(input({ ...d, status: settled.status }, [r], pods(r, 2), NOW, [...two, { name: 'c', ready: true }, { name: 'e', ready: true }]));
  assert.deepEqual(scales(joined.actions), ['m:4']);
  assert.ok(!reasons(joined.actions).includes('ScaleStarted'));
  assert.equal(joined.status.releaseStatus?.progress, 'Completed');
});
