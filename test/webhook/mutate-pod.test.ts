import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { mutateDaemonSet, mutatePod } from '../../webhook/mutate-pod.ts';
import { DEFAULT_POLICY, type AdmissionPolicy } from '../../webhook/policy.ts';
import { deepFreeze, moduleContainer, podTemplate, replicaSetPod, workload } from './fixtures.ts';

const VNODE_TOLERATION = { key: 'schedule.koupleless.io/virtual-node', operator: 'Equal', value: 'True', effect: 'NoExecute' };
const DEFAULT_TOLERATIONS = replicaSetPod().spec!.tolerations!;
const stackIn = (v = 'java') => ({ key: 'base.koupleless.io/stack', operator: 'In', values: [v] });
const nameIn = (v: string) => ({ key: 'base.koupleless.io/name', operator: 'In', values: [v] });
const versionIn = (v: string) => ({ key: 'base.koupleless.io/version', operator: 'In', values: [v] });
const required = (v: V1Pod) => v.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;

interface Case {
  readonly name: string;
  readonly pod: V1Pod;
  readonly policy?: Partial<AdmissionPolicy>;
  readonly check: (out: V1Pod, changes: readonly string[]) => void;
}

const cases: Case[] = [
  {
    name: 'ReplicaSet pod (generateName, no name): toleration, stack affinity, module label, scheduler',
    pod: replicaSetPod(),
    check: (out, changes) => {
      assert.deepEqual(out.spec!.tolerations, [...DEFAULT_TOLERATIONS, VNODE_TOLERATION]);
      assert.deepEqual(required(out), [{ matchExpressions: [stackIn()] }]);
      assert.equal(out.metadata!.labels!['module.koupleless.io/biz1'], 'true');
      assert.equal(out.spec!.schedulerName, 'module-scheduler');
      assert.equal(out.metadata!.name, undefined);
      assert.equal(out.metadata!.generateName, 'biz1-6b9f7c8d5-');
      assert.equal(changes.length, 4);
    },
  },
  {
    name: 'non-module pod is returned untouched (same object)',
    pod: replicaSetPod({ labels: { 'module-controller.koupleless.io/component': 'base' } }),
    check: (out, changes) => {
      assert.deepEqual(changes, []);
      assert.deepEqual(out.spec!.tolerations, DEFAULT_TOLERATIONS);
      assert.equal(out.spec!.schedulerName, 'default-scheduler');
    },
  },
  {
    name: 'alias label virtual-kubelet.koupleless.io/component: module is a module pod',
    pod: (() => {
      const p = replicaSetPod();
      delete p.metadata!.labels!['module-controller.koupleless.io/component'];
      p.metadata!.labels!['virtual-kubelet.koupleless.io/component'] = 'module';
      return p;
    })(),
    check: (out) => {
      assert.equal(out.spec!.schedulerName, 'module-scheduler');
      assert.equal(out.metadata!.labels!['module.koupleless.io/biz1'], 'true');
    },
  },
  {
    name: 'base name/version from labels, stack from annotation',
    pod: replicaSetPod({ labels: { 'base.koupleless.io/name': 'base1', 'base.koupleless.io/version': '1.0.0' }, annotations: { 'base.koupleless.io/stack': 'go' } }),
    check: (out) => assert.deepEqual(required(out), [{ matchExpressions: [stackIn('go'), nameIn('base1'), versionIn('1.0.0')] }]),
  },
  {
    name: 'label wins over a differing annotation',
    pod: replicaSetPod({ labels: { 'base.koupleless.io/version': '2.0.0' }, annotations: { 'base.koupleless.io/version': '1.0.0' } }),
    check: (out) => assert.deepEqual(required(out), [{ matchExpressions: [stackIn(), versionIn('2.0.0')] }]),
  },
  {
    name: 'configured defaults fill name and version; an empty stack default adds no stack term',
    pod: replicaSetPod(),
    policy: { stack: '', baseName: 'base-default', baseVersion: '9.9.9' },
    check: (out) => assert.deepEqual(required(out), [{ matchExpressions: [nameIn('base-default'), versionIn('9.9.9')] }]),
  },
  {
    name: 'no requirement at all: no affinity is added',
    pod: replicaSetPod(),
    policy: { stack: '' },
    check: (out) => assert.equal(out.spec!.affinity, undefined),
  },
  {
    name: 'user terms: merged into every term, a key the user constrains is neither duplicated nor widened',
    pod: replicaSetPod({
      labels: { 'base.koupleless.io/version': '1.0.0', 'base.koupleless.io/name': 'base1' },
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'base.koupleless.io/version', operator: 'In', values: ['1.0.0'] }, { key: 'zone', operator: 'In', values: ['a'] }] },
                { matchExpressions: [{ key: 'base.koupleless.io/stack', operator: 'Exists' }] },
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['virtual-node-x'] }] },
              ],
            },
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }],
          },
        },
      },
    }),
    check: (out) => {
      assert.deepEqual(required(out), [
        { matchExpressions: [{ key: 'base.koupleless.io/version', operator: 'In', values: ['1.0.0'] }, { key: 'zone', operator: 'In', values: ['a'] }, stackIn(), nameIn('base1')] },
        { matchExpressions: [{ key: 'base.koupleless.io/stack', operator: 'Exists' }, nameIn('base1'), versionIn('1.0.0')] },
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['virtual-node-x'] }], matchExpressions: [stackIn(), nameIn('base1'), versionIn('1.0.0')] },
      ]);
      assert.equal(out.spec!.affinity!.nodeAffinity!.preferredDuringSchedulingIgnoredDuringExecution!.length, 1);
    },
  },
  {
    name: 'a user stricter version term is kept as written even when the label names another version',
    pod: replicaSetPod({
      labels: { 'base.koupleless.io/version': '2.0.0' },
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'base.koupleless.io/version', operator: 'In', values: ['1.0.0'] }] }] } } } },
    }),
    check: (out) => assert.deepEqual(required(out), [{ matchExpressions: [{ key: 'base.koupleless.io/version', operator: 'In', values: ['1.0.0'] }, stackIn()] }]),
  },
  {
    name: 'nodeSelector keys are the user\'s: no affinity term for them',
    pod: replicaSetPod({ spec: { nodeSelector: { 'base.koupleless.io/stack': 'java' } } }),
    check: (out) => assert.equal(out.spec!.affinity, undefined),
  },
  {
    name: 'an existing toleration of the taint (Exists on the key) is not duplicated',
    pod: replicaSetPod({ spec: { tolerations: [{ key: 'schedule.koupleless.io/virtual-node', operator: 'Exists' }] } }),
    check: (out) => assert.deepEqual(out.spec!.tolerations, [{ key: 'schedule.koupleless.io/virtual-node', operator: 'Exists' }]),
  },
  {
    name: 'a tolerate-everything toleration is enough',
    pod: replicaSetPod({ spec: { tolerations: [{ operator: 'Exists' }] } }),
    check: (out) => assert.deepEqual(out.spec!.tolerations, [{ operator: 'Exists' }]),
  },
  {
    name: 'a toleration of the key for another effect does not count',
    pod: replicaSetPod({ spec: { tolerations: [{ key: 'schedule.koupleless.io/virtual-node', operator: 'Exists', effect: 'NoSchedule' }] } }),
    check: (out) => assert.deepEqual(out.spec!.tolerations, [{ key: 'schedule.koupleless.io/virtual-node', operator: 'Exists', effect: 'NoSchedule' }, VNODE_TOLERATION]),
  },
  {
    name: 'a toleration of the key with another value does not count',
    pod: replicaSetPod({ spec: { tolerations: [{ key: 'schedule.koupleless.io/virtual-node', operator: 'Equal', value: 'False' }] } }),
    check: (out) => assert.equal(out.spec!.tolerations!.length, 2),
  },
  {
    name: 'no tolerations at all: the list is created',
    pod: replicaSetPod({ spec: { tolerations: undefined } }),
    check: (out) => assert.deepEqual(out.spec!.tolerations, [VNODE_TOLERATION]),
  },
  {
    name: 'an explicit schedulerName is kept',
    pod: replicaSetPod({ spec: { schedulerName: 'my-scheduler' } }),
    check: (out) => assert.equal(out.spec!.schedulerName, 'my-scheduler'),
  },
  {
    name: 'an empty configured scheduler leaves default-scheduler alone',
    pod: replicaSetPod(),
    policy: { schedulerName: '' },
    check: (out) => assert.equal(out.spec!.schedulerName, 'default-scheduler'),
  },
  {
    name: 'one label per module container; an invalid bizName gets none; an existing "false" is set to "true"',
    pod: replicaSetPod({
      labels: { 'module.koupleless.io/biz2': 'false' },
      containers: [moduleContainer('biz1'), moduleContainer('biz2'), moduleContainer('Not_Valid')],
    }),
    check: (out) => {
      const moduleLabels = Object.entries(out.metadata!.labels!).filter(([k]) => k.startsWith('module.koupleless.io/'));
      assert.deepEqual(Object.fromEntries(moduleLabels), { 'module.koupleless.io/biz1': 'true', 'module.koupleless.io/biz2': 'true' });
    },
  },
  {
    name: 'a pod with no labels map besides the module label keeps working (labels created)',
    pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', labels: { 'module-controller.koupleless.io/component': 'module' } }, spec: { containers: [moduleContainer('biz9') as never] } },
    check: (out) => {
      assert.equal(out.metadata!.labels!['module.koupleless.io/biz9'], 'true');
      assert.equal(out.spec!.schedulerName, 'module-scheduler');
    },
  },
];

for (const c of cases) {
  test(`mutatePod: ${c.name}`, () => {
    const input = deepFreeze(structuredClone(c.pod));
    const policy = { ...DEFAULT_POLICY, ...c.policy };
    const { object, changes } = mutatePod(input, policy);
    c.check(object, changes);
    // Idempotent: a second pass (webhook reinvocation, both label webhooks) changes nothing.
    const again = mutatePod(deepFreeze(structuredClone(object)), policy);
    assert.deepEqual(again.changes, []);
  });
}

test('mutatePod: nothing changed returns the very input object', () => {
  const pod = replicaSetPod({ labels: {}, spec: {} });
  const first = mutatePod(pod, DEFAULT_POLICY).object;
  const second = mutatePod(first, DEFAULT_POLICY);
  assert.equal(second.object, first);
});

test('mutateDaemonSet: the template of a module DaemonSet gets toleration, affinity, labels, scheduler', () => {
  const ds = deepFreeze(workload('DaemonSet', podTemplate({ labels: { 'base.koupleless.io/name': 'base1' } }))) as V1DaemonSet;
  const { object, changes } = mutateDaemonSet(ds, DEFAULT_POLICY);
  const t = object.spec!.template;
  assert.deepEqual(t.spec!.tolerations, [VNODE_TOLERATION]);
  assert.deepEqual(t.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms, [{ matchExpressions: [stackIn(), nameIn('base1')] }]);
  assert.equal(t.metadata!.labels!['module.koupleless.io/biz1'], 'true');
  assert.equal(t.spec!.schedulerName, 'module-scheduler');
  assert.ok(changes.every((c) => c.startsWith('template ')));
  assert.deepEqual(object.spec!.selector, ds.spec!.selector);
});

test('mutateDaemonSet: a non-module DaemonSet is untouched', () => {
  const ds = workload('DaemonSet', podTemplate({ labels: { 'module-controller.koupleless.io/component': 'other' } })) as V1DaemonSet;
  const { object, changes } = mutateDaemonSet(ds, DEFAULT_POLICY);
  assert.equal(object, ds);
  assert.deepEqual(changes, []);
});

test('upstream twins: a term on vnode.koupleless.io/name or a vnode.* pod label counts as the base name', () => {
  const policy: AdmissionPolicy = { ...DEFAULT_POLICY, baseName: 'default-base', baseVersion: '9.9.9' };
  const vnodeName = { key: 'vnode.koupleless.io/name', operator: 'In', values: ['koupleless-sample'] };
  const vnodeVersion = { key: 'vnode.koupleless.io/version', operator: 'In', values: ['1.0.0'] };
  const quickStart = replicaSetPod({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [stackIn(), vnodeVersion, vnodeName] }] } } } } });
  const out = mutatePod(deepFreeze(quickStart), policy).object;
  assert.deepEqual(required(out), [{ matchExpressions: [stackIn(), vnodeVersion, vnodeName] }], 'no default name or version term beside the upstream ones');
  const labelled = mutatePod(deepFreeze(replicaSetPod({ labels: { 'vnode.koupleless.io/name': 'b1', 'vnode.koupleless.io/version': '2.0.0' } })), policy).object;
  assert.deepEqual(required(labelled), [{ matchExpressions: [stackIn(), nameIn('b1'), versionIn('2.0.0')] }], 'written on the base.* keys, from the vnode.* labels');
  const selected = mutatePod(deepFreeze(replicaSetPod({ spec: { nodeSelector: { 'vnode.koupleless.io/name': 'b2' } } })), policy).object;
  assert.deepEqual(required(selected), [{ matchExpressions: [stackIn(), versionIn('9.9.9')] }], 'the nodeSelector names the base');
});
