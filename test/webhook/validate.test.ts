import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY, type AdmissionPolicy } from '../../webhook/policy.ts';
import { toDenialMessage, validate } from '../../webhook/validate.ts';
import { moduleContainer, podTemplate, replicaSetPod, workload, type Json } from './fixtures.ts';

const noVersion = { ...moduleContainer('biz1'), env: [] };
const KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const;

interface Case {
  readonly name: string;
  readonly object: unknown;
  readonly module?: boolean;
  readonly problems?: readonly string[];
  /** Substrings each expected warning contains, in order; omitted = not checked. */
  readonly warnings?: readonly string[];
}

const cases: Case[] = [
  {
    name: 'valid module Deployment',
    object: workload('Deployment', podTemplate({ labels: { 'base.koupleless.io/name': 'base1' } })),
    module: true,
    problems: [],
    warnings: [],
  },
  ...KINDS.map((kind): Case => ({
    name: `${kind}: missing BIZ_VERSION is found in the pod template`,
    object: workload(kind, podTemplate({ containers: [noVersion] })),
    module: true,
    problems: ['container "biz1": env BIZ_VERSION is missing; set it to the module version from pom.xml'],
  })),
  {
    name: 'non-module Deployment: nothing checked',
    object: workload('Deployment', podTemplate({ labels: { 'module-controller.koupleless.io/component': 'web' }, containers: [{ name: 'nginx', image: 'nginx:1.27' }] })),
    module: false,
    problems: [],
    warnings: [],
  },
  {
    name: 'alias label on a bare pod',
    object: (() => {
      const p = replicaSetPod({ containers: [{ name: 'BIZ', image: 'nginx' }] });
      delete p.metadata!.labels!['module-controller.koupleless.io/component'];
      p.metadata!.labels!['virtual-kubelet.koupleless.io/component'] = 'module';
      return p;
    })(),
    module: true,
    problems: [
      'container "BIZ": name "BIZ" is not a valid bizName; use lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters (the artifactId in pom.xml)',
      'container "BIZ": image "nginx" is not a jar URL; set it to the module jar URL (http://, https:// or file://, ending in .jar)',
      'container "BIZ": env BIZ_VERSION is missing; set it to the module version from pom.xml',
    ],
  },
  {
    name: 'every problem of every container, duplicates and valueFrom included',
    object: workload('Deployment', podTemplate({
      labels: { 'base.koupleless.io/name': 'base1' },
      containers: [
        moduleContainer('biz1'),
        { ...moduleContainer('biz1'), env: [{ name: 'BIZ_VERSION', valueFrom: { configMapKeyRef: { name: 'v', key: 'v' } } }] },
        moduleContainer('biz2', '1.0.0', 'https://repo.example.com/biz2.war'),
        { ...moduleContainer('biz3'), env: [{ name: 'BIZ_VERSION', value: 'bad version!' }] },
      ],
    })),
    module: true,
    problems: [
      'container "biz1": env BIZ_VERSION uses valueFrom; give it a literal value (the module version from pom.xml)',
      'container "biz1": bizName "biz1" is used by two containers; each module may appear once per pod',
      'container "biz2": image "https://repo.example.com/biz2.war" is not a jar URL; set it to the module jar URL (http://, https:// or file://, ending in .jar)',
      'container "biz3": env BIZ_VERSION "bad version!" is not a valid version; use letters, digits, \'.\', \'_\', \'+\' and \'-\' (e.g. 1.0.0 or 0.0.1-SNAPSHOT)',
    ],
  },
  {
    name: 'service annotations: bad enabled, ports out of range, unknown type',
    object: workload('Deployment', podTemplate({
      labels: { 'base.koupleless.io/name': 'base1' },
      annotations: {
        'module-controller.koupleless.io/service-enabled': 'yes',
        'module-controller.koupleless.io/service-port': '0',
        'module-controller.koupleless.io/service-target-port': '70000',
        'module-controller.koupleless.io/service-type': 'ExternalName',
      },
    })),
    module: true,
    problems: [
      'annotation module-controller.koupleless.io/service-enabled "yes" is not a boolean; use "true" or "false"',
      'annotation module-controller.koupleless.io/service-port "0" is not a port; use a whole number from 1 to 65535',
      'annotation module-controller.koupleless.io/service-target-port "70000" is not a port; use a whole number from 1 to 65535',
      'annotation module-controller.koupleless.io/service-type "ExternalName" is not a Service type; use one of ClusterIP, NodePort, LoadBalancer',
    ],
  },
  {
    name: 'good service annotations pass',
    object: workload('StatefulSet', podTemplate({
      labels: { 'base.koupleless.io/name': 'base1' },
      annotations: { 'module-controller.koupleless.io/service-enabled': 'true', 'module-controller.koupleless.io/service-port': '8080', 'module-controller.koupleless.io/service-type': 'NodePort' },
    })),
    problems: [],
    warnings: [],
  },
  {
    name: 'warnings: no base named, foreign scheduler, nodeName, init containers, evicting toleration, idle service annotations, version not in jar',
    object: workload('Deployment', podTemplate({
      annotations: { 'module-controller.koupleless.io/service-port': '8080' },
      containers: [moduleContainer('biz1', '0.0.2', 'https://repo.example.com/biz1-0.0.1-ark-biz.jar')],
      spec: {
        schedulerName: 'my-scheduler',
        nodeName: 'virtual-node-a',
        initContainers: [{ name: 'init', image: 'busybox' }],
        tolerations: [{ key: 'schedule.koupleless.io/virtual-node', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }],
      },
    })),
    problems: [],
    warnings: [
      'no base is named: the modules may be installed on any base of stack "java"',
      'schedulerName "my-scheduler" is not the module scheduler "module-scheduler"',
      'nodeName "virtual-node-a" is set',
      'init containers are not run on bases',
      'tolerationSeconds 60',
      'service-enabled is not "true"',
      'container "biz1": BIZ_VERSION "0.0.2" does not appear in the jar name "biz1-0.0.1-ark-biz.jar"',
    ],
  },
  {
    name: 'warning: label and annotation disagree on the base version; base named through affinity counts',
    object: workload('Deployment', podTemplate({
      labels: { 'base.koupleless.io/version': '1.0.0' },
      annotations: { 'base.koupleless.io/version': '2.0.0' },
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'base.koupleless.io/name', operator: 'In', values: ['base1'] }] }] } } } },
    })),
    problems: [],
    warnings: ['label base.koupleless.io/version="1.0.0" and annotation base.koupleless.io/version="2.0.0" differ; the label is used'],
  },
  { name: 'garbage object: not a module', object: 'hello', module: false, problems: [] },
  { name: 'unknown kind: not a module', object: { kind: 'ConfigMap', metadata: { labels: { 'module-controller.koupleless.io/component': 'module' } } }, module: false, problems: [] },
];

for (const c of cases) {
  test(`validate: ${c.name}`, () => {
    const v = validate(c.object, DEFAULT_POLICY, { namespace: 'demo' });
    if (c.module !== undefined) assert.equal(v.module, c.module);
    if (c.problems) assert.deepEqual(v.problems, c.problems);
    if (c.warnings) {
      assert.equal(v.warnings.length, c.warnings.length, `warnings: ${JSON.stringify(v.warnings)}`);
      c.warnings.forEach((w, i) => assert.ok(v.warnings[i]!.includes(w), `warning ${i} "${v.warnings[i]}" should contain "${w}"`));
    }
  });
}

test('validate: the workload is named, with a generateName pod shown as prefix*', () => {
  assert.equal(validate(workload('CronJob', podTemplate()), DEFAULT_POLICY).workload, 'CronJob "demo/biz1"');
  const pod = replicaSetPod() as unknown as Json;
  delete (pod['metadata'] as Json)['namespace'];
  assert.equal(validate(pod, DEFAULT_POLICY, { namespace: 'ns1' }).workload, 'Pod "ns1/biz1-6b9f7c8d5-*"');
});

test('toDenialMessage: one problem on one line, several as a list', () => {
  const one = validate(workload('Deployment', podTemplate({ containers: [noVersion] })), DEFAULT_POLICY);
  assert.equal(toDenialMessage(one), 'Deployment "demo/biz1": container "biz1": env BIZ_VERSION is missing; set it to the module version from pom.xml');
  const two = validate(workload('Deployment', podTemplate({ containers: [noVersion, { ...moduleContainer('biz2'), image: 'x' }] })), DEFAULT_POLICY);
  assert.equal(
    toDenialMessage(two),
    'Deployment "demo/biz1" has 2 problems:\n- container "biz1": env BIZ_VERSION is missing; set it to the module version from pom.xml\n- container "biz2": image "x" is not a jar URL; set it to the module jar URL (http://, https:// or file://, ending in .jar)',
  );
});

const strictPolicy: AdmissionPolicy = {
  ...DEFAULT_POLICY,
  jarUrls: { schemes: ['https'], prefixes: ['https://repo.example.com/'] },
  tenancy: new Map([['base-a', ['team-a']], ['base-b', ['team-a', 'team-b']]]),
};

test('validate: the jar URL policy refuses a scheme or location it does not allow, naming the container and what is allowed', () => {
  const v = validate(
    workload('Deployment', podTemplate({
      labels: { 'base.koupleless.io/name': 'base-c' },
      containers: [moduleContainer('biz1'), moduleContainer('biz2', '1.0.0', 'file:///opt/biz2-1.0.0.jar'), moduleContainer('biz3', '1.0.0', 'https://evil.test/biz3-1.0.0.jar')],
    })),
    strictPolicy,
    { namespace: 'team-c' },
  );
  assert.deepEqual(v.problems, [
    'container "biz2": image "file:///opt/biz2-1.0.0.jar" uses file://, which this cluster does not allow; allowed schemes: https (webhook flag --allowed-jar-url-schemes)',
    'container "biz3": image "https://evil.test/biz3-1.0.0.jar" is not under an allowed jar location; allowed prefixes: https://repo.example.com/ (webhook flag --allowed-jar-url-prefixes)',
  ]);
  // The default policy: https and http only.
  const file = validate(workload('Deployment', podTemplate({ containers: [moduleContainer('biz2', '1.0.0', 'file:///opt/biz2-1.0.0.jar')] })), DEFAULT_POLICY);
  assert.match(file.problems.join('\n'), /uses file:\/\/, which this cluster does not allow; allowed schemes: https, http/);
});

test('validate: tenancy refuses a module whose bases are all reserved for other namespaces', () => {
  const onA = workload('Deployment', podTemplate({ labels: { 'base.koupleless.io/name': 'base-a' } }));
  assert.deepEqual(validate(onA, strictPolicy, { namespace: 'team-a' }).problems, []);
  assert.deepEqual(validate(onA, strictPolicy, { namespace: 'team-b' }).problems, [
    'base "base-a" is reserved for namespaces team-a: namespace "team-b" may not run modules there; ask the cluster admin to add it to --base-tenants, or name a base of your own',
  ]);
  // Named through upstream-style affinity on vnode.koupleless.io/name: the same.
  const upstream = workload('Deployment', podTemplate({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'vnode.koupleless.io/name', operator: 'In', values: ['base-a', 'base-b'] }] }] } } } } }));
  assert.deepEqual(validate(upstream, strictPolicy, { namespace: 'team-b' }).problems, []);
  assert.match(validate(upstream, strictPolicy, { namespace: 'team-b' }).warnings.join('\n'), /base "base-a" is reserved for namespaces team-a: the modules will only be placed on base-b/);
  assert.match(validate(upstream, strictPolicy, { namespace: 'team-c' }).problems.join('\n'), /base "base-a" is reserved for namespaces team-a; base "base-b" is reserved for namespaces team-a, team-b: namespace "team-c" may not/);
  // No base named: any base may do; the extender keeps the pod off reserved ones.
  assert.deepEqual(validate(workload('Deployment', podTemplate()), strictPolicy, { namespace: 'team-c' }).problems, []);
});

test('validate: a base named on vnode.koupleless.io/name (quick-start manifests) silences "no base is named"', () => {
  const upstream = workload('Deployment', podTemplate({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'vnode.koupleless.io/name', operator: 'In', values: ['base'] }] }] } } } } }));
  assert.deepEqual(validate(upstream, DEFAULT_POLICY).warnings, []);
  const bare = validate(workload('Deployment', podTemplate()), DEFAULT_POLICY).warnings;
  assert.deepEqual(bare, ['no base is named: the modules may be installed on any base of stack "java"; set the label base.koupleless.io/name: <base name> on the pod template (or require base.koupleless.io/name or vnode.koupleless.io/name in its node affinity)']);
});
