import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS, SERVICE_ANNOTATIONS } from '../../../core/names.ts';
import { SERVICE_BIZ_NAME_LABEL, SERVICE_MANAGED_BY_LABEL, SERVICE_MANAGED_BY_VALUE } from '../../../core/service-names.ts';
import type { ModuleWorkload, WorkloadKind } from '../../../bridge/services/module-workload.ts';
import { planModuleService, planServices, toRequestedKeys, toServiceKey, type ServicePlan } from '../../../bridge/services/plan-services.ts';

const NS = 'shop';
const config = { defaultType: 'NodePort' as const };

function workload(o: { name?: string; kind?: WorkloadKind; uid?: string; age?: string; modules?: string[]; annotations?: Record<string, string>; labels?: Record<string, string>; namespace?: string } = {}): ModuleWorkload {
  const kind = o.kind ?? 'Deployment';
  return {
    apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1',
    kind,
    namespace: o.namespace ?? NS,
    name: o.name ?? 'provider',
    uid: o.uid ?? `uid-${o.name ?? 'provider'}`,
    creationTimestamp: o.age ?? '2024-01-01T00:00:00Z',
    templateLabels: o.labels ?? { [MODULE_COMPONENT_LABEL]: 'module' },
    templateAnnotations: o.annotations ?? { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '8080' },
    containers: (o.modules ?? ['provider']).map((name) => ({ name, image: `http://repo/${name}-1.0.0-ark-biz.jar`, env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] })),
  };
}

function service(o: { bizName?: string; managed?: boolean; port?: number; targetPort?: number; type?: string; owners?: string[]; selector?: Record<string, string>; uid?: string; deleting?: boolean; nodePort?: number } = {}): V1Service {
  const bizName = o.bizName ?? 'provider';
  return {
    metadata: {
      name: `${bizName}-service`,
      namespace: NS,
      uid: o.uid ?? 'svc-uid',
      resourceVersion: '42',
      labels: o.managed === false ? { app: 'mine' } : { [SERVICE_MANAGED_BY_LABEL]: SERVICE_MANAGED_BY_VALUE, [SERVICE_BIZ_NAME_LABEL]: bizName },
      ownerReferences: (o.owners ?? ['provider']).map((n) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name: n, uid: `uid-${n}` })),
      ...(o.deleting ? { deletionTimestamp: new Date('2024-01-02T00:00:00Z') } : {}),
    },
    spec: {
      type: o.type ?? 'NodePort',
      clusterIP: '10.0.0.7',
      selector: o.selector ?? { [`module.koupleless.io/${bizName}`]: 'true' },
      ports: [{ name: 'http', protocol: 'TCP', port: o.port ?? 8080, targetPort: o.targetPort ?? 8080, nodePort: o.nodePort ?? 31000 }],
    },
  };
}

const key = { namespace: NS, bizName: 'provider' };
const summary = (p: ServicePlan) => ({
  actions: p.actions.map((a) => a.kind),
  warnings: p.warnings.map((w) => w.code),
});

const cases: Array<{ name: string; workloads: ModuleWorkload[]; services: V1Service[]; want: { actions: string[]; warnings: string[] } }> = [
  { name: 'one Deployment asks, no Service yet → create', workloads: [workload()], services: [], want: { actions: ['create'], warnings: [] } },
  { name: 'Service already as desired → nothing', workloads: [workload()], services: [service()], want: { actions: [], warnings: [] } },
  { name: 'API-server defaults (clusterIP, nodePort) are not drift', workloads: [workload()], services: [service({ nodePort: 30001 })], want: { actions: [], warnings: [] } },
  { name: 'port changed → update', workloads: [workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '9090' } })], services: [service()], want: { actions: ['update'], warnings: [] } },
  { name: 'type changed → update', workloads: [workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '8080', [SERVICE_ANNOTATIONS.type]: 'ClusterIP' } })], services: [service()], want: { actions: ['update'], warnings: [] } },
  { name: 'selector edited by hand → update', workloads: [workload()], services: [service({ selector: { app: 'x' } })], want: { actions: ['update'], warnings: [] } },
  { name: 'a second owner appeared → update', workloads: [workload(), workload({ name: 'provider-b', kind: 'StatefulSet' })], services: [service()], want: { actions: ['update'], warnings: [] } },
  { name: 'one of two owners gone → update', workloads: [workload()], services: [service({ owners: ['provider', 'provider-old'] })], want: { actions: ['update'], warnings: [] } },
  { name: 'annotation removed → delete', workloads: [workload({ annotations: {} })], services: [service()], want: { actions: ['delete'], warnings: [] } },
  { name: 'enabled "false" → delete', workloads: [workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'false', [SERVICE_ANNOTATIONS.port]: '8080' } })], services: [service()], want: { actions: ['delete'], warnings: [] } },
  { name: 'no workload left → delete', workloads: [], services: [service()], want: { actions: ['delete'], warnings: [] } },
  { name: 'not a module pod template → no Service', workloads: [workload({ labels: { app: 'web' } })], services: [], want: { actions: [], warnings: [] } },
  { name: 'alias module label counts', workloads: [workload({ labels: { [MODULE_COMPONENT_LABEL_ALIAS]: 'module' } })], services: [], want: { actions: ['create'], warnings: [] } },
  { name: 'someone else\'s Service with the name is never touched', workloads: [workload()], services: [service({ managed: false, port: 1 })], want: { actions: [], warnings: ['NotManaged'] } },
  { name: 'someone else\'s Service is not deleted either', workloads: [], services: [service({ managed: false })], want: { actions: [], warnings: [] } },
  { name: 'invalid annotations keep the existing Service', workloads: [workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: 'http' } })], services: [service()], want: { actions: [], warnings: ['InvalidAnnotations'] } },
  { name: 'invalid annotations create nothing', workloads: [workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'yes' } })], services: [], want: { actions: [], warnings: ['InvalidAnnotations'] } },
  { name: 'conflicting ports → oldest wins, loser warned', workloads: [workload({ name: 'young', age: '2024-05-01T00:00:00Z', annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '9000' } }), workload({ name: 'old', age: '2024-01-01T00:00:00Z' })], services: [], want: { actions: ['create'], warnings: ['PortConflict'] } },
  { name: 'same request from two workloads → no conflict', workloads: [workload({ name: 'a' }), workload({ name: 'b', kind: 'Pod' })], services: [], want: { actions: ['create'], warnings: [] } },
  { name: 'Service being deleted → wait for it', workloads: [workload()], services: [service({ deleting: true, port: 1 })], want: { actions: [], warnings: [] } },
  { name: 'other namespace does not ask here', workloads: [workload({ namespace: 'elsewhere' })], services: [service()], want: { actions: ['delete'], warnings: [] } },
];

for (const c of cases) {
  test(`planModuleService: ${c.name}`, () => {
    assert.deepEqual(summary(planModuleService(key, c.workloads, c.services, config)), c.want);
  });
}

test('a bizName whose Service name would be invalid gets a warning, not a create', () => {
  const long = `a${'b'.repeat(55)}`;
  const plan = planModuleService({ namespace: NS, bizName: long }, [workload({ modules: [long] })], [], config);
  assert.deepEqual(summary(plan), { actions: [], warnings: ['InvalidServiceName'] });
  const digit = planModuleService({ namespace: NS, bizName: '1biz' }, [workload({ modules: ['1biz'] })], [], config);
  assert.deepEqual(summary(digit), { actions: [], warnings: ['InvalidServiceName'] });
});

test('create: the seed\'s Service shape, owned by every asker, oldest first', () => {
  const plan = planModuleService(key, [workload({ name: 'b', kind: 'Pod', age: '2024-03-01T00:00:00Z' }), workload({ name: 'a', age: '2024-02-01T00:00:00Z' })], [], config);
  const action = plan.actions[0];
  assert.equal(action?.kind, 'create');
  if (action?.kind !== 'create') return;
  assert.deepEqual(action.service.metadata?.labels, { [SERVICE_MANAGED_BY_LABEL]: SERVICE_MANAGED_BY_VALUE, [SERVICE_BIZ_NAME_LABEL]: 'provider' });
  assert.equal(action.service.metadata?.name, 'provider-service');
  assert.deepEqual(action.service.spec, {
    type: 'NodePort',
    selector: { 'module.koupleless.io/provider': 'true' },
    ports: [{ name: 'http', protocol: 'TCP', port: 8080, targetPort: 8080 }],
  });
  assert.deepEqual(action.service.metadata?.ownerReferences, [
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'a', uid: 'uid-a' },
    { apiVersion: 'v1', kind: 'Pod', name: 'b', uid: 'uid-b' },
  ]);
  assert.match(action.reasons.join(' '), /Deployment\/a, Pod\/b/);
});

test('defaults: port 8080 when only enabled, targetPort = port, configured default type', () => {
  const plan = planModuleService(key, [workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true' } })], [], { defaultType: 'ClusterIP' });
  const a = plan.actions[0];
  assert.ok(a?.kind === 'create');
  assert.equal(a.service.spec?.type, 'ClusterIP');
  assert.deepEqual(a.service.spec?.ports?.[0], { name: 'http', protocol: 'TCP', port: 8080, targetPort: 8080 });
  const explicit = planModuleService(key, [workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '80', [SERVICE_ANNOTATIONS.targetPort]: '8081', [SERVICE_ANNOTATIONS.type]: 'LoadBalancer' } })], [], config).actions[0];
  assert.ok(explicit?.kind === 'create');
  assert.equal(explicit.service.spec?.type, 'LoadBalancer');
  assert.deepEqual(explicit.service.spec?.ports?.[0], { name: 'http', protocol: 'TCP', port: 80, targetPort: 8081 });
});

test('conflict: the oldest asker wins whatever the input order, and the loser is named', () => {
  const young = workload({ name: 'young', age: '2024-05-01T00:00:00Z', annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '9000' } });
  const old = workload({ name: 'old', age: '2024-01-01T00:00:00Z' });
  for (const order of [[young, old], [old, young]]) {
    const plan = planModuleService(key, order, [], config);
    const a = plan.actions[0];
    assert.ok(a?.kind === 'create');
    assert.equal(a.service.spec?.ports?.[0]?.port, 8080);
    assert.equal(a.owners.length, 2, 'the loser still owns the Service');
    assert.equal(plan.warnings[0]?.workload?.name, 'young');
    assert.match(plan.warnings[0]?.message ?? '', /oldest asker Deployment\/old/);
  }
});

test('conflict with equal timestamps is decided by kind and name, not input order', () => {
  const a = workload({ name: 'a', annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '1111' } });
  const b = workload({ name: 'b', annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '2222' } });
  const ports = [[a, b], [b, a]].map((ws) => {
    const act = planModuleService(key, ws, [], config).actions[0];
    return act?.kind === 'create' ? act.service.spec?.ports?.[0]?.port : undefined;
  });
  assert.deepEqual(ports, [1111, 1111]);
});

test('update keeps the allocated nodePort, clusterIP and resourceVersion; ClusterIP drops the nodePort', () => {
  const live = service({ owners: ['provider', 'gone'], nodePort: 31234 });
  const a = planModuleService(key, [workload()], [live], config).actions[0];
  assert.ok(a?.kind === 'update');
  assert.equal(a.service.metadata?.resourceVersion, '42');
  assert.equal(a.service.spec?.clusterIP, '10.0.0.7');
  assert.equal(a.service.spec?.ports?.[0]?.nodePort, 31234);
  assert.deepEqual(a.service.metadata?.ownerReferences?.map((o) => o.name), ['provider']);
  assert.match(a.reasons[0] ?? '', /owners/);
  const toClusterIp = planModuleService(key, [workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'true', [SERVICE_ANNOTATIONS.port]: '8080', [SERVICE_ANNOTATIONS.type]: 'ClusterIP' } })], [live], config).actions[0];
  assert.ok(toClusterIp?.kind === 'update');
  assert.equal(toClusterIp.service.spec?.type, 'ClusterIP');
  assert.equal(toClusterIp.service.spec?.ports?.[0]?.nodePort, undefined);
});

test('delete carries the uid precondition and notifies the owners that still exist', () => {
  const a = planModuleService(key, [workload({ annotations: {} }), workload({ name: 'unrelated', modules: ['other'] })], [service({ uid: 'u-1' })], config).actions[0];
  assert.ok(a?.kind === 'delete');
  assert.equal(a.uid, 'u-1');
  assert.equal(a.name, 'provider-service');
  assert.deepEqual(a.notify.map((w) => w.name), ['provider']);
  assert.match(a.reasons[0] ?? '', /no module workload in shop asks/);
});

test('toRequestedKeys: every module container, only when asked, invalid asks included', () => {
  assert.deepEqual(toRequestedKeys(workload({ modules: ['a', 'b'] })), [{ namespace: NS, bizName: 'a' }, { namespace: NS, bizName: 'b' }]);
  assert.deepEqual(toRequestedKeys(workload({ annotations: {} })), []);
  assert.deepEqual(toRequestedKeys(workload({ annotations: { [SERVICE_ANNOTATIONS.port]: '80' } })), []);
  assert.deepEqual(toRequestedKeys(workload({ annotations: { [SERVICE_ANNOTATIONS.enabled]: 'maybe' } })), [{ namespace: NS, bizName: 'provider' }]);
  assert.deepEqual(toRequestedKeys(workload({ labels: {} })), []);
  assert.deepEqual(toRequestedKeys(workload({ modules: ['Bad_Name'] })), []);
});

test('toServiceKey: only managed Services map back to a key', () => {
  assert.deepEqual(toServiceKey(service()), key);
  assert.equal(toServiceKey(service({ managed: false })), undefined);
});

test('planServices plans every key: asks, managed Services, across namespaces, sorted', () => {
  const plan = planServices(
    [workload({ modules: ['b-mod', 'a-mod'] }), workload({ name: 'x', namespace: 'other', modules: ['a-mod'] })],
    [service({ bizName: 'stale' }), service({ bizName: 'a-mod', owners: ['provider'] })],
    config,
  );
  assert.deepEqual(plan.actions.map((a) => `${a.kind} ${a.key.namespace}/${a.key.bizName}`), [
    'create other/a-mod',
    'create shop/b-mod',
    'delete shop/stale',
  ]);
});
