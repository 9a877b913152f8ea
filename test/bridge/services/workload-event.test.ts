import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toWorkloadEvent } from '../../../bridge/services/workload-event.ts';
import { toActionEvents, toHttpStatus } from '../../../bridge/services/apply-service-action.ts';
import { planModuleService } from '../../../bridge/services/plan-services.ts';
import type { ModuleWorkload } from '../../../bridge/services/module-workload.ts';

const workload: ModuleWorkload = {
  apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'provider', uid: 'u1', creationTimestamp: undefined,
  templateLabels: { 'module-controller.koupleless.io/component': 'module' },
  templateAnnotations: { 'module-controller.koupleless.io/service-enabled': 'true', 'module-controller.koupleless.io/service-port': '8080' },
  containers: [{ name: 'provider' }],
};

test('toWorkloadEvent: a core/v1 Event on the workload', () => {
  const now = new Date('2024-01-25T10:00:00Z');
  const e = toWorkloadEvent({ workload, type: 'Normal', reason: 'ServiceCreated', message: 'm', now });
  assert.deepEqual(e.involvedObject, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'provider', namespace: 'ns', uid: 'u1' });
  assert.equal(e.metadata.generateName, 'provider.');
  assert.equal(e.metadata.namespace, 'ns');
  assert.equal(e.reason, 'ServiceCreated');
  assert.equal(e.firstTimestamp, now);
  assert.equal(e.count, 1);
  const long = toWorkloadEvent({ workload: { ...workload, name: 'x'.repeat(253) }, type: 'Warning', reason: 'PortConflict', message: 'y'.repeat(5000), now });
  assert.ok((long.metadata.generateName ?? '').length <= 201);
  assert.equal(long.message?.length, 1024);
});

test('toActionEvents: created and deleted Services are told to the workloads', () => {
  const create = planModuleService({ namespace: 'ns', bizName: 'provider' }, [workload], [], { defaultType: 'NodePort' }).actions[0]!;
  const [created] = toActionEvents(create);
  assert.equal(created?.reason, 'ServiceCreated');
  assert.equal(created?.workload.name, 'provider');
  assert.match(created?.message ?? '', /Created Service provider-service \(NodePort, port 8080 -> 8080\) for module provider/);
  const live = { ...(create.kind === 'create' ? create.service : {}), metadata: { ...(create.kind === 'create' ? create.service.metadata : {}), uid: 's' } };
  const del = planModuleService({ namespace: 'ns', bizName: 'provider' }, [{ ...workload, templateAnnotations: {} }], [live], { defaultType: 'NodePort' }).actions[0]!;
  const [deleted] = toActionEvents(del);
  assert.equal(deleted?.reason, 'ServiceDeleted');
  assert.match(deleted?.message ?? '', /Deleted Service provider-service: no module workload/);
});

test('toHttpStatus reads ApiException codes only', () => {
  assert.equal(toHttpStatus({ code: 409 }), 409);
  assert.equal(toHttpStatus(new Error('x')), undefined);
  assert.equal(toHttpStatus(null), undefined);
});
