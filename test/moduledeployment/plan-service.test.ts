import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planModuleService, toModuleService } from '../../moduledeployment/plan-service.ts';
import type { ModuleDeployment } from '../../moduledeployment/types.ts';

const md = (service?: object): ModuleDeployment => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { baseDeploymentName: 'b', template: { spec: { module: { name: 'provider', version: '1.0.2', url: 'http://x/p.jar' } } }, operationStrategy: service ? { serviceStrategy: service } : {} },
});

test('toModuleService: the seed\'s shape, owned by the ModuleDeployment', () => {
  const s = toModuleService(md({ enableModuleService: true, port: 8080, targetPort: 8080 }), 'koupleless.alipay.com')!;
  assert.equal(s.metadata?.name, 'provider-service');
  assert.equal(s.spec?.type, 'NodePort');
  assert.deepEqual(s.spec?.ports, [{ name: 'http', protocol: 'TCP', port: 8080, targetPort: 8080 }]);
  assert.deepEqual(s.spec?.selector, { 'module.koupleless.io/provider': 'true' });
  assert.deepEqual(s.metadata?.ownerReferences?.[0], { apiVersion: 'koupleless.alipay.com/v1alpha1', kind: 'ModuleDeployment', name: 'p', uid: 'u1', controller: true, blockOwnerDeletion: true });
  assert.equal(toModuleService(md({ enableModuleService: false, port: 8080 }), 'koupleless.io'), undefined);
  assert.equal(toModuleService(md({ enableModuleService: true, port: 9 }), 'koupleless.io')!.spec!.ports![0]!.targetPort, 9);
});

test('planModuleService: create, update on a changed strategy, delete when turned off or renamed', () => {
  const want = toModuleService(md({ enableModuleService: true, port: 8080 }), 'koupleless.io')!;
  assert.deepEqual(planModuleService(want, []).map((a) => a.kind), ['create']);
  assert.deepEqual(planModuleService(want, [want]), []);
  const changed = toModuleService(md({ enableModuleService: true, port: 9090 }), 'koupleless.io')!;
  assert.deepEqual(planModuleService(changed, [want]).map((a) => a.kind), ['update']);
  assert.deepEqual(planModuleService(undefined, [want]).map((a) => [a.kind, 'name' in a ? a.name : '']), [['delete', 'provider-service']]);
  const renamed = { ...want, metadata: { ...want.metadata, name: 'old-service' } };
  assert.deepEqual(planModuleService(want, [renamed]).map((a) => a.kind), ['delete', 'create']);
});
