import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../../core/flags.ts';
import { BRIDGE_FLAGS, toBridgeSettings, type BridgeFlagValues } from '../../bridge/config.ts';

function settings(argv: string[], env: Record<string, string> = {}) {
  const r = parseFlags(BRIDGE_FLAGS, argv, env);
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  return toBridgeSettings((r as { values: BridgeFlagValues }).values);
}

test('defaults', () => {
  assert.deepEqual(settings([]), {
    env: 'default',
    stack: 'java',
    notReadyAfterMs: 30_000,
    deleteAfterMs: 600_000,
    commandTimeoutMs: 30_000,
    retryBackoffBaseMs: 2_000,
    retryBackoffMaxMs: 120_000,
    maxModulesPerBase: 100,
    nodeCpu: '100',
    nodeMemory: '16Gi',
    maxMessageAgeMs: 0,
    healthPollMs: 10_000,
    moduleListPollMs: 15_000,
    nodeLeaseRenewMs: 10_000,
    maxClockSkewMs: 3_600_000,
    reconnectGraceMs: 15_000,
    installingStatusDelayMs: 1_000,
  });
});

test('deleteAfter is never below notReadyAfter', () => {
  const cases: Array<[string[], number, number]> = [
    [['--not-ready-after', '30s', '--delete-after', '10s'], 30_000, 30_000],
    [['--not-ready-after', '30s', '--delete-after', '30s'], 30_000, 30_000],
    [['--not-ready-after', '30s', '--delete-after', '31s'], 30_000, 31_000],
    [['--not-ready-after', '5m'], 300_000, 600_000],
    [['--not-ready-after', '20m'], 1_200_000, 1_200_000],
  ];
  for (const [argv, notReady, del] of cases) {
    const s = settings(argv);
    assert.equal(s.notReadyAfterMs, notReady, argv.join(' '));
    assert.equal(s.deleteAfterMs, del, argv.join(' '));
  }
});

test('env is lower-cased (topics are koupleless_<env> in lower case); stack is kept', () => {
  assert.equal(settings(['--env', 'DEV']).env, 'dev');
  assert.equal(settings([], { MC_ENV: 'Prod' }).env, 'prod');
  assert.equal(settings(['--stack', 'Java']).stack, 'Java');
});

test('durations and numbers map to the settings one to one', () => {
  const s = settings([
    '--command-timeout', '5s', '--retry-backoff-base', '500ms', '--retry-backoff-max', '1m', '--max-message-age', '10s',
    '--health-poll-period', '2s', '--module-list-period', '3s', '--node-lease-renew', '4s', '--max-modules-per-base', '7',
    '--node-cpu', '8', '--node-memory', '4Gi',
  ]);
  assert.equal(s.commandTimeoutMs, 5_000);
  assert.equal(s.retryBackoffBaseMs, 500);
  assert.equal(s.retryBackoffMaxMs, 60_000);
  assert.equal(s.maxMessageAgeMs, 10_000);
  assert.equal(s.healthPollMs, 2_000);
  assert.equal(s.moduleListPollMs, 3_000);
  assert.equal(s.nodeLeaseRenewMs, 4_000);
  assert.equal(s.maxModulesPerBase, 7);
  assert.equal(s.nodeCpu, '8');
  assert.equal(s.nodeMemory, '4Gi');
});

test('the settings are frozen', () => {
  const s = settings([]);
  assert.equal(Object.isFrozen(s), true);
  assert.throws(() => {
    (s as { env: string }).env = 'x';
  }, TypeError);
});

test('flag limits are enforced before settings exist', () => {
  const r = parseFlags(BRIDGE_FLAGS, ['--not-ready-after', '10ms', '--command-timeout', '1ms', '--concurrency', '0'], {});
  assert.equal(r.kind, 'invalid');
  assert.equal((r as { problems: readonly string[] }).problems.length, 3);
});
