import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBatchInstallResponse, parseBizOperation, parseHealth, parseHeartbeat, parseModuleList, parseQueryBaseline } from '../../core/protocol.ts';
import { EMPTY_BASE_STATE, planBatchInstall, planInstall, planUninstall, type Behaviour } from '../../base-sim/base-state.ts';
import type { SimBaseInfo } from '../../base-sim/base-info.ts';
import {
  toBatchInstallMessage,
  toBizOperationMessage,
  toHealthMessage,
  toHeartbeatMessage,
  toQueryBaselineMessage,
  toSimpleBizListMessage,
} from '../../base-sim/messages.ts';
import * as ex from '../core/protocol-examples.ts';

// The base of the protocol examples.
const INFO: SimBaseInfo = {
  identity: '10.1.0.45',
  name: 'base',
  version: '1.0.0',
  clusterName: 'default',
  localIP: '10.1.0.45',
  localHostName: 'base-7d9f8c6b5-x2kq9',
};
const B: Behaviour = { failureRate: 0, switching: false, keepBroken: false, masterBizName: 'base' };
const never = () => 0.999;
const INSTALL = JSON.parse(ex.INSTALL) as Record<string, unknown>;

test('heartbeat is byte-for-byte the protocol example', () => {
  assert.equal(JSON.stringify(toHeartbeatMessage(INFO, 1727000000123)), ex.HEARTBEAT);
});

test('install reply is byte-for-byte the protocol example', () => {
  const plan = planInstall(EMPTY_BASE_STATE, INSTALL, 1727000004000, never, B);
  assert.equal(JSON.stringify(toBizOperationMessage('installBiz', INSTALL, plan.output, 1727000005000)), ex.INSTALL_REPLY);
});

test('failed install response is byte-for-byte the protocol example (REPEAT_BIZ)', () => {
  const first = planInstall(EMPTY_BASE_STATE, INSTALL, 0, never, B);
  const again = planInstall(first.state, INSTALL, 0, never, B);
  assert.equal(JSON.stringify(again.output), ex.FAILED_INSTALL_RESPONSE);
  const reply = JSON.parse(JSON.stringify(toBizOperationMessage('installBiz', INSTALL, again.output, 1))) as { data: Record<string, unknown> };
  assert.deepEqual(Object.keys(reply.data), ['command', 'bizName', 'bizVersion', 'response']);
});

test('module list is byte-for-byte the protocol example', () => {
  const { state } = planInstall(EMPTY_BASE_STATE, INSTALL, 1726999990000, never, B);
  assert.equal(JSON.stringify(toSimpleBizListMessage(state.modules, 1727000002000)), ex.SIMPLE_BIZ);
  assert.equal(JSON.stringify(toSimpleBizListMessage([], 5)), '{"publishTimestamp":5,"data":[]}');
});

test('round trip: every message parses back with core/protocol.ts', () => {
  const hb = parseHeartbeat(JSON.stringify(toHeartbeatMessage(INFO, 10)));
  assert.ok(hb.ok);
  assert.deepEqual(hb.value.data.baseMetadata, { identity: '10.1.0.45', name: 'base', version: '1.0.0', clusterName: 'default' });
  const goodbye = parseHeartbeat(JSON.stringify(toHeartbeatMessage(INFO, 10, 'deactivated')));
  assert.ok(goodbye.ok);
  assert.equal(goodbye.value.data.state, 'deactivated');

  const qb = parseQueryBaseline(JSON.stringify(toQueryBaselineMessage(INFO, 11)));
  assert.ok(qb.ok);
  assert.deepEqual(qb.value, { publishTimestamp: 11, data: { identity: '10.1.0.45', name: 'base', version: '1.0.0', clusterName: 'default' } });

  const installed = planInstall(EMPTY_BASE_STATE, INSTALL, 12, never, B);
  const list = parseModuleList('simpleBiz', JSON.stringify(toSimpleBizListMessage(installed.state.modules, 13)));
  assert.ok(list.ok);
  assert.deepEqual(list.value.data, [{ bizName: 'biz1', bizVersion: '0.0.1', state: 'ACTIVATED', reason: 'STARTED', message: 'Biz start succeed', changeTime: 12 }]);

  for (const plan of [installed, planInstall(installed.state, INSTALL, 14, never, B), planInstall(EMPTY_BASE_STATE, INSTALL, 14, () => 0, { ...B, failureRate: 1 })]) {
    const op = parseBizOperation(JSON.stringify(toBizOperationMessage('installBiz', INSTALL, plan.output, 15)));
    assert.ok(op.ok, plan.outcome);
    assert.equal(op.value.data.response.code, plan.outcome === 'SUCCESS' ? 'SUCCESS' : 'FAILED');
  }
  for (const [cmd, code] of [
    [{ bizName: 'biz1', bizVersion: '0.0.1' }, 'SUCCESS'],
    [{ bizName: 'nope', bizVersion: '1' }, 'FAILED'],
  ] as const) {
    const plan = planUninstall(installed.state, cmd, B);
    const op = parseBizOperation(JSON.stringify(toBizOperationMessage('uninstallBiz', cmd, plan.output, 16)));
    assert.ok(op.ok);
    assert.equal(op.value.data.command, 'uninstallBiz');
    assert.equal(op.value.data.response.code, code);
  }

  const batch = planBatchInstall(EMPTY_BASE_STATE, [INSTALL], 17, never, B);
  const br = parseBatchInstallResponse(JSON.stringify(toBatchInstallMessage(batch.output, 18)));
  assert.ok(br.ok);
  assert.equal(br.value.data.command, 'batchInstallBiz');
  assert.equal(br.value.data.response.code, 'SUCCESS');
});

test('bizOperation echoes only the name and version it received (fastjson drops nulls)', () => {
  const plan = planUninstall(EMPTY_BASE_STATE, {}, B);
  const msg = toBizOperationMessage('uninstallBiz', {}, plan.output, 1);
  assert.deepEqual(Object.keys(msg.data), ['command', 'response']);
  // Such a reply names no module, so the controller's parser rejects it.
  assert.equal(parseBizOperation(JSON.stringify(msg)).ok, false);
});

test('health: arklet keys and units, master biz state, figures that follow the modules', () => {
  const none = toHealthMessage(INFO, [], { masterBizState: 'ACTIVATED', startedAt: 1000 }, 61_000);
  const raw = none.data as { code: string; data: { healthData: Record<string, Record<string, unknown>> } };
  assert.equal(raw.code, 'SUCCESS');
  const hd = raw.data.healthData;
  assert.deepEqual(Object.keys(hd), ['masterBizInfo', 'jvm', 'cpu', 'bizListInfo', 'pluginListInfo']);
  assert.deepEqual(hd['masterBizInfo'], { bizName: 'base', bizVersion: '1.0.0', bizState: 'ACTIVATED', webContextPath: '/' });
  for (const key of ['java version', 'java max metaspace', 'java committed metaspace', 'java used metaspace', 'max heap memory(M)', 'run time(s)']) {
    assert.ok(key in hd['jvm']!, `jvm has "${key}"`);
  }
  assert.equal(hd['jvm']!['java max metaspace'], -1, '-1 = unlimited');
  assert.equal(hd['jvm']!['run time(s)'], 60);
  assert.ok('total used (%)' in hd['cpu']! && 'count' in hd['cpu']!);

  const parsed = parseHealth(JSON.stringify(none));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  assert.equal(parsed.value.data.masterBizInfo?.bizState, 'ACTIVATED');
  const withTwo = planBatchInstall(EMPTY_BASE_STATE, [INSTALL, { ...INSTALL, bizName: 'biz2', bizUrl: 'https://x.invalid/biz2.jar' }], 0, never, B).state.modules;
  const more = parseHealth(JSON.stringify(toHealthMessage(INFO, withTwo, { masterBizState: 'ACTIVATED', startedAt: 0 }, 0)));
  assert.ok(more.ok);
  assert.equal(more.value.data.jvm['java used metaspace']! - parsed.value.data.jvm['java used metaspace']!, 2 * 5 * 1024 * 1024);

  const sick = parseHealth(JSON.stringify(toHealthMessage(INFO, [], { masterBizState: 'DEACTIVATED', startedAt: 0 }, 0)));
  assert.ok(sick.ok);
  assert.equal(sick.value.data.masterBizInfo?.bizState, 'DEACTIVATED');
});
