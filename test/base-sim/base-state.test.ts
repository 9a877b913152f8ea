import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY_BASE_STATE,
  ELAPSED_SPACE_BYTES,
  planBatchInstall,
  planInstall,
  planUninstall,
  parseJarVersion,
  type BaseState,
  type Behaviour,
  type BizCommand,
  type PlanOutcome,
} from '../../base-sim/base-state.ts';
import { createRandom } from '../../base-sim/random.ts';

const B: Behaviour = { failureRate: 0, switching: false, keepBroken: false, masterBizName: 'base' };
const NOW = 1_727_000_000_000;
const never = () => 0.999;
const url = (name: string, version: string) => `https://repo.invalid/${name}-${version}-ark-biz.jar`;
const biz = (bizName: string, bizVersion: string, extra: Partial<BizCommand> = {}): BizCommand => ({ bizName, bizVersion, bizUrl: url(bizName, bizVersion), ...extra });
const states = (s: BaseState) => s.modules.map((m) => `${m.bizName}:${m.bizVersion}=${m.state}`);

function installAll(cmds: BizCommand[], b: Behaviour = B): BaseState {
  let s = EMPTY_BASE_STATE;
  for (const c of cmds) s = planInstall(s, c, NOW, never, b).state;
  return s;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

test('planInstall: table of outcomes and resulting module states', () => {
  const cases: Array<{ name: string; before: BizCommand[]; b?: Partial<Behaviour>; cmd: BizCommand; outcome: PlanOutcome; after: string[]; bizState?: string }> = [
    { name: 'first install is ACTIVATED', before: [], cmd: biz('biz1', '0.0.1'), outcome: 'SUCCESS', after: ['biz1:0.0.1=ACTIVATED'], bizState: 'ACTIVATED' },
    { name: 'same name:version again is REPEAT_BIZ', before: [biz('biz1', '0.0.1')], cmd: biz('biz1', '0.0.1'), outcome: 'REPEAT_BIZ', after: ['biz1:0.0.1=ACTIVATED'] },
    {
      name: 'v2 while v1 is active stays DEACTIVATED without switching',
      before: [biz('biz1', '1')],
      cmd: biz('biz1', '2'),
      outcome: 'SUCCESS',
      after: ['biz1:1=ACTIVATED', 'biz1:2=DEACTIVATED'],
      bizState: 'DEACTIVATED',
    },
    {
      name: 'v2 while v1 is active switches with module switching',
      before: [biz('biz1', '1')],
      b: { switching: true },
      cmd: biz('biz1', '2'),
      outcome: 'SUCCESS',
      after: ['biz1:1=DEACTIVATED', 'biz1:2=ACTIVATED'],
      bizState: 'ACTIVATED',
    },
    {
      name: 'uninstallThenInstall replaces every other version',
      before: [biz('biz1', '1'), biz('biz1', '2'), biz('other', '1')],
      cmd: biz('biz1', '3', { installStrategy: 'uninstallThenInstall' }),
      outcome: 'SUCCESS',
      after: ['other:1=ACTIVATED', 'biz1:3=ACTIVATED'],
      bizState: 'ACTIVATED',
    },
    {
      name: 'uninstallThenInstall of the installed version reinstalls it',
      before: [biz('biz1', '1')],
      cmd: biz('biz1', '1', { installStrategy: 'uninstallThenInstall' }),
      outcome: 'SUCCESS',
      after: ['biz1:1=ACTIVATED'],
    },
    { name: 'other module names do not interfere', before: [biz('a', '1')], cmd: biz('b', '1'), outcome: 'SUCCESS', after: ['a:1=ACTIVATED', 'b:1=ACTIVATED'] },
    { name: 'blank bizUrl is INVALID', before: [], cmd: { bizName: 'biz1', bizVersion: '1', bizUrl: '  ' }, outcome: 'INVALID', after: [] },
    { name: 'missing bizUrl is INVALID', before: [], cmd: { bizName: 'biz1', bizVersion: '1' }, outcome: 'INVALID', after: [] },
    { name: 'name without version is INVALID', before: [], cmd: { bizName: 'biz1', bizUrl: url('biz1', '1') }, outcome: 'INVALID', after: [] },
    { name: 'neither name nor version is INVALID', before: [], cmd: { bizUrl: url('biz1', '1') }, outcome: 'INVALID', after: [] },
    { name: 'non-string fields are INVALID', before: [], cmd: { bizName: 1, bizVersion: true, bizUrl: url('x', '1') }, outcome: 'INVALID', after: [] },
  ];
  for (const c of cases) {
    const before = deepFreeze(installAll(c.before));
    const plan = planInstall(before, c.cmd, NOW, never, { ...B, ...c.b });
    assert.equal(plan.outcome, c.outcome, c.name);
    assert.deepEqual(states(plan.state), c.after, c.name);
    if (c.bizState) {
      const data = plan.output.data as { bizInfos: Array<{ bizState: string }> };
      assert.equal(data.bizInfos[0]?.bizState, c.bizState, `${c.name}: bizInfos`);
    }
    if (c.outcome !== 'SUCCESS') assert.equal(plan.output.code, 'FAILED', `${c.name}: Output code`);
  }
});

test('planInstall: exact Output of SUCCESS, REPEAT_BIZ and validation failures', () => {
  const ok = planInstall(EMPTY_BASE_STATE, biz('biz1', '0.0.1'), NOW, never, B);
  assert.deepEqual(ok.output, {
    code: 'SUCCESS',
    data: {
      code: 'SUCCESS',
      message: 'Install Biz: biz1:0.0.1 success',
      bizInfos: [{ bizName: 'biz1', bizVersion: '0.0.1', bizState: 'ACTIVATED' }],
      elapsedSpace: ELAPSED_SPACE_BYTES,
    },
  });
  assert.equal('message' in ok.output, false, 'fastjson leaves out a null Output message');
  const repeat = planInstall(ok.state, biz('biz1', '0.0.1'), NOW, never, B);
  assert.deepEqual(repeat.output, {
    code: 'FAILED',
    message: 'install biz not success!',
    data: { code: 'REPEAT_BIZ', message: 'Biz: biz1:0.0.1 has been installed or registered.' },
  });
  const blank = planInstall(EMPTY_BASE_STATE, { bizName: 'biz1', bizVersion: '1', bizUrl: '' }, NOW, never, B);
  assert.equal(blank.output.message, 'bizUrl should not be blank');
  const data = blank.output.data as { code: string; message: string };
  assert.equal(data.code, 'FAILED');
  assert.match(data.message, /^com\.alipay\.sofa\.koupleless\.arklet\.core\.common\.exception\.CommandValidationException: bizUrl should not be blank\n\tat /);
  assert.equal(planInstall(EMPTY_BASE_STATE, { bizName: 'b', bizUrl: 'x' }, NOW, never, B).output.message, 'bizName and bizVersion should be both blank or both not blank.');
});

test('planInstall: state records tell the story (created, started, switched)', () => {
  const v1 = planInstall(EMPTY_BASE_STATE, biz('biz1', '1'), NOW, never, B).state;
  assert.deepEqual(v1.modules[0]?.stateRecords, [
    { changeTime: NOW, state: 'RESOLVED', reason: 'CREATED', message: 'Biz created' },
    { changeTime: NOW, state: 'ACTIVATED', reason: 'STARTED', message: 'Biz start succeed' },
  ]);
  const v2 = planInstall(v1, biz('biz1', '2'), NOW + 5, never, { ...B, switching: true }).state;
  assert.deepEqual(v2.modules[0]?.stateRecords.at(-1), { changeTime: NOW + 5, state: 'DEACTIVATED', reason: 'SWITCHED', message: 'Biz switched to biz1:2' });
  assert.equal(v2.modules[0]?.bizUrl, url('biz1', '1'));
});

test('planInstall: the failure rate decides with the injected random source', () => {
  const b = { ...B, failureRate: 0.5 };
  const failed = planInstall(EMPTY_BASE_STATE, biz('biz1', '1'), NOW, () => 0.49, b);
  assert.equal(failed.outcome, 'FAILED');
  assert.deepEqual(failed.state.modules, [], 'a failed start is auto-uninstalled');
  assert.equal(failed.output.code, 'FAILED');
  assert.equal(failed.output.message, 'java.lang.IllegalStateException: Start biz biz1:1 failed (simulated by base-sim)');
  assert.match((failed.output.data as { message: string }).message, /^com\.alipay\.sofa\.koupleless\.arklet\.core\.common\.exception\.ArkletRuntimeException: /);
  assert.equal(planInstall(EMPTY_BASE_STATE, biz('biz1', '1'), NOW, () => 0.5, b).outcome, 'SUCCESS');
  assert.equal(planInstall(EMPTY_BASE_STATE, biz('biz1', '1'), NOW, () => 0, B).outcome, 'SUCCESS', 'rate 0 never fails');
  assert.equal(planInstall(EMPTY_BASE_STATE, biz('biz1', '1'), NOW, () => 0.999, { ...B, failureRate: 1 }).outcome, 'FAILED', 'rate 1 always fails');
});

test('planInstall: a seeded failure rate is reproducible and close to the rate', () => {
  const run = (seed: number) => {
    const random = createRandom(seed);
    return Array.from({ length: 1000 }, (_, i) => planInstall(EMPTY_BASE_STATE, biz(`m${i}`, '1'), NOW, random, { ...B, failureRate: 0.3 }).outcome);
  };
  const a = run(42);
  assert.deepEqual(run(42), a, 'same seed, same outcomes');
  assert.notDeepEqual(run(43), a, 'another seed, other outcomes');
  const failures = a.filter((o) => o === 'FAILED').length;
  assert.ok(failures > 240 && failures < 360, `${failures} failures of 1000 at 30%`);
});

test('planInstall: keepBroken leaves a BROKEN module that blocks a retry of the same version', () => {
  const b = { ...B, failureRate: 1, keepBroken: true };
  const broken = planInstall(EMPTY_BASE_STATE, biz('biz1', '1'), NOW, never, b);
  assert.deepEqual(states(broken.state), ['biz1:1=BROKEN']);
  assert.equal(broken.state.modules[0]?.stateRecords.at(-1)?.reason, 'INSTALL_FAILED');
  assert.equal(planInstall(broken.state, biz('biz1', '1'), NOW, never, { ...b, failureRate: 0 }).outcome, 'REPEAT_BIZ');
});

test('planUninstall: SUCCESS, NOT_FOUND_BIZ, master biz and validation', () => {
  const s = deepFreeze(installAll([biz('biz1', '1'), biz('biz1', '2')]));
  const ok = planUninstall(s, { bizName: 'biz1', bizVersion: '1' }, B);
  assert.equal(ok.outcome, 'SUCCESS');
  assert.deepEqual(states(ok.state), ['biz1:2=DEACTIVATED'], 'the other version is not activated by itself');
  assert.deepEqual(ok.output, { code: 'SUCCESS', data: { code: 'SUCCESS', message: 'Uninstall biz: biz1:1 success.' } });
  const missing = planUninstall(s, { bizName: 'biz1', bizVersion: '9' }, B);
  assert.equal(missing.outcome, 'NOT_FOUND_BIZ');
  assert.equal(missing.state, s);
  assert.deepEqual(missing.output, { code: 'FAILED', message: 'uninstall biz not success!', data: { code: 'NOT_FOUND_BIZ', message: 'Uninstall biz: biz1:9 not found.' } });
  const master = planUninstall(s, { bizName: 'base', bizVersion: '1.0.0' }, B);
  assert.equal(master.outcome, 'FAILED');
  assert.deepEqual(master.output.data, { code: 'FAILED', message: 'Master biz must not be uninstalled.' });
  assert.equal(planUninstall(s, { bizVersion: '1' }, B).output.message, 'bizName should not be blank');
  assert.equal(planUninstall(s, { bizName: 'biz1', bizVersion: ' ' }, B).output.message, 'bizVersion should not be blank');
  assert.equal(planUninstall(s, {}, B).outcome, 'INVALID');
});

test('planBatchInstall: a baseline installs everything and reports per jar URL', () => {
  const plan = planBatchInstall(EMPTY_BASE_STATE, [biz('a', '1'), biz('b', '1')], NOW, never, B);
  assert.equal(plan.outcome, 'SUCCESS');
  assert.deepEqual(states(plan.state), ['a:1=ACTIVATED', 'b:1=ACTIVATED']);
  assert.deepEqual(plan.output, {
    code: 'SUCCESS',
    data: {
      code: 'SUCCESS',
      message: 'batch install success',
      bizUrlToResponse: {
        [url('a', '1')]: { code: 'SUCCESS', message: 'Install Biz: a:1 success', bizInfos: [{ bizName: 'a', bizVersion: '1', bizState: 'ACTIVATED' }] },
        [url('b', '1')]: { code: 'SUCCESS', message: 'Install Biz: b:1 success', bizInfos: [{ bizName: 'b', bizVersion: '1', bizState: 'ACTIVATED' }] },
      },
      elapsedSpace: 2 * ELAPSED_SPACE_BYTES,
    },
  });
  const empty = planBatchInstall(EMPTY_BASE_STATE, [], NOW, never, B);
  assert.equal(empty.outcome, 'SUCCESS');
});

test('planBatchInstall: one non-SUCCESS entry fails the batch, the others are still installed', () => {
  const before = installAll([biz('a', '1')]);
  const plan = planBatchInstall(before, [biz('a', '1'), biz('b', '1')], NOW, never, B);
  assert.equal(plan.outcome, 'FAILED');
  assert.deepEqual(states(plan.state), ['a:1=ACTIVATED', 'b:1=ACTIVATED']);
  assert.equal(plan.output.message, 'install biz not success!');
  const data = plan.output.data as { code: string; message: string; bizUrlToResponse: Record<string, { code: string }> };
  assert.equal(data.code, 'FAILED');
  assert.equal(data.message, 'batch install failed');
  assert.equal(data.bizUrlToResponse[url('a', '1')]?.code, 'REPEAT_BIZ');
  const thrown = planBatchInstall(EMPTY_BASE_STATE, [biz('c', '1')], NOW, () => 0, { ...B, failureRate: 0.5 });
  assert.match((thrown.output.data as { bizUrlToResponse: Record<string, { message: string }> }).bizUrlToResponse[url('c', '1')]?.message ?? '', /^internal exception: /);
});

test('planBatchInstall: an invalid entry or a non-list installs nothing', () => {
  for (const list of [[biz('a', '1'), { bizName: 'b', bizVersion: '1' }], [biz('a', '1'), 'x'], {}, 'x', null]) {
    const plan = planBatchInstall(EMPTY_BASE_STATE, list, NOW, never, B);
    assert.equal(plan.outcome, 'INVALID', JSON.stringify(list));
    assert.equal(plan.state, EMPTY_BASE_STATE);
    assert.equal(plan.output.code, 'FAILED');
  }
});

test('arklet defaults: a DEACTIVATED version stays DEACTIVATED after the active one is uninstalled', () => {
  const both = installAll([biz('biz1', '1'), biz('biz1', '2')]);
  assert.deepEqual(states(both), ['biz1:1=ACTIVATED', 'biz1:2=DEACTIVATED']);
  const after = planUninstall(both, { bizName: 'biz1', bizVersion: '1' }, B);
  assert.equal(after.outcome, 'SUCCESS');
  assert.deepEqual(states(after.state), ['biz1:2=DEACTIVATED'], 'no auto-activation without switching');
  // Only arklet's uninstallThenInstall (every version of the name removed first) activates it.
  const fixed = planInstall(after.state, biz('biz1', '2', { installStrategy: 'uninstallThenInstall' }), NOW, never, B);
  assert.deepEqual(states(fixed.state), ['biz1:2=ACTIVATED']);
  // An unknown strategy is arklet's installOnly: REPEAT_BIZ for the listed version.
  assert.equal(planInstall(after.state, biz('biz1', '2', { installStrategy: 'bogus' }), NOW, never, B).outcome, 'REPEAT_BIZ');
});

test('parseJarVersion reads <bizName>-<version>-ark-biz.jar, else undefined', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['biz1', 'https://repo.invalid/biz1-1.0.0-SNAPSHOT-ark-biz.jar', '1.0.0-SNAPSHOT'],
    ['biz1', 'file:///tmp/jars/biz1-2.1.0.RELEASE-ark-biz.jar', '2.1.0.RELEASE'],
    ['biz1', 'https://repo.invalid/biz1-ark-biz.jar', undefined],
    ['biz1', 'https://repo.invalid/other-1.0.0-ark-biz.jar', undefined],
    ['biz1', 'https://repo.invalid/biz1-1.0.0.jar', undefined],
    ['biz1', 'not a url/biz1-3-ark-biz.jar', '3'],
  ];
  for (const [name, u, want] of cases) assert.equal(parseJarVersion(name, u), want, u);
});

test('reportJarVersion: the base lists the jar\'s own version, answers for it, and REPEAT_BIZ names it', () => {
  const jb: Behaviour = { ...B, reportJarVersion: true };
  const cmd = { bizName: 'biz1', bizVersion: '1.0.0', bizUrl: 'https://repo.invalid/biz1-1.0.0-SNAPSHOT-ark-biz.jar' };
  const first = planInstall(EMPTY_BASE_STATE, cmd, NOW, never, jb);
  assert.equal(first.outcome, 'SUCCESS');
  assert.deepEqual(states(first.state), ['biz1:1.0.0-SNAPSHOT=ACTIVATED']);
  const data = first.output.data as { bizInfos: Array<{ bizVersion: string }>; message: string };
  assert.equal(data.bizInfos[0]?.bizVersion, '1.0.0-SNAPSHOT');
  assert.equal(data.message, 'Install Biz: biz1:1.0.0-SNAPSHOT success');
  const again = planInstall(first.state, cmd, NOW, never, jb);
  assert.equal(again.outcome, 'REPEAT_BIZ');
  assert.equal((again.output.data as { message: string }).message, 'Biz: biz1:1.0.0-SNAPSHOT has been installed or registered.');
  // Uninstalling the commanded version finds nothing; the jar's version is what the base knows.
  assert.equal(planUninstall(first.state, { bizName: 'biz1', bizVersion: '1.0.0' }, jb).outcome, 'NOT_FOUND_BIZ');
  assert.equal(planUninstall(first.state, { bizName: 'biz1', bizVersion: '1.0.0-SNAPSHOT' }, jb).outcome, 'SUCCESS');
  // A file name without the pattern falls back to the commanded version; off, the commanded version.
  assert.deepEqual(states(planInstall(EMPTY_BASE_STATE, { ...cmd, bizUrl: 'https://repo.invalid/app.jar' }, NOW, never, jb).state), ['biz1:1.0.0=ACTIVATED']);
  assert.deepEqual(states(planInstall(EMPTY_BASE_STATE, cmd, NOW, never, B).state), ['biz1:1.0.0=ACTIVATED']);
});
