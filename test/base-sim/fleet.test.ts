// The fleet library and the CLI command against the in-process Aedes broker (fast; the full
// protocol conversation against Aedes and Mosquitto is in test/integration/base-sim.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../../core/flags.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { parseBizOperation, parseHeartbeat } from '../../core/protocol.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../sandbox/embedded-broker.ts';
import { baseSimCommand } from '../../base-sim/command.ts';
import { checkFleetOptions, startFleet } from '../../base-sim/fleet.ts';
import { createRandom } from '../../base-sim/random.ts';
import { startTestController } from './test-controller.ts';

let broker: EmbeddedBroker;
let secured: EmbeddedBroker;
before(async () => {
  broker = await startEmbeddedBroker();
  secured = await startEmbeddedBroker({ username: 'arklet', password: 's3cret' });
});
after(async () => {
  await broker.close();
  await secured.close();
});

test('checkFleetOptions reports every problem at once', () => {
  assert.deepEqual(checkFleetOptions({ url: 'mqtt://x' }), []);
  assert.deepEqual(checkFleetOptions({ url: 'mqtt://x', count: 0, firstIndex: -1, ipPrefix: '10.0.0', identityPrefix: 'a/b', failureRate: 2 }), [
    'count must be a whole number ≥ 1, not 0',
    'first index must be a whole number ≥ 0, not -1',
    'identity prefix "a/b" may only hold letters, digits, \'.\', \'_\' and \'-\' (it becomes an MQTT topic segment)',
    'failure rate must be between 0 and 1, not 2',
  ]);
  assert.deepEqual(checkFleetOptions({ url: 'mqtt://x', count: 250, firstIndex: 5, ipPrefix: '10.0.0' }), [
    'IP prefix "10.0.0" has room for 254 bases, not 255; use a shorter prefix',
  ]);
});

test('startFleet refuses invalid options with CONFIG_INVALID before connecting', async () => {
  await assert.rejects(startFleet({ url: broker.url, count: 0 }), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && /count must be/.test(err.message));
});

test('defaults: identities are the IPs, firstIndex shifts them, get() finds a base', async () => {
  const fleet = await startFleet({ url: broker.url, env: 'fleet-defaults', count: 2, firstIndex: 10, installLatencyMs: 0 });
  try {
    assert.deepEqual(fleet.bases.map((b) => b.identity), ['127.1.0.11', '127.1.0.12']);
    assert.equal(fleet.get('127.1.0.12'), fleet.bases[1]);
    assert.equal(fleet.get('nope'), undefined);
    assert.ok(fleet.bases.every((b) => b.isConnected()));
  } finally {
    await fleet.stop();
  }
  assert.ok(fleet.bases.every((b) => !b.isConnected()));
});

test('clockOffsetMs: a base whose clock is 10 minutes fast stamps its heartbeats 10 minutes ahead; bad offsets are refused', async () => {
  assert.deepEqual(checkFleetOptions({ url: 'mqtt://x', clockOffsetMs: Number.NaN }), ['clock offset must be a finite number of milliseconds, not NaN']);
  const env = `skew${Math.random().toString(36).slice(2, 6)}`;
  const ctl = await startTestController(broker.url, env);
  const fleet = await startFleet({ url: broker.url, env, identityPrefix: 's-', clockOffsetMs: 600_000, now: () => 1_000_000, installLatencyMs: 0 });
  try {
    const m = await ctl.waitFor('heart', (x) => x.kind === 'heart');
    const hb = parseHeartbeat(m.text);
    assert.ok(hb.ok);
    assert.equal(hb.value.publishTimestamp, 1_600_000);
  } finally {
    await fleet.stop();
    await ctl.close();
  }
});

test('credentials: right ones connect, wrong ones fail with MQTT_UNAVAILABLE and the broker reason', async () => {
  const ok = await startFleet({ url: secured.url, username: 'arklet', password: 's3cret', env: 'auth' });
  await ok.stop();
  await assert.rejects(
    startFleet({ url: secured.url, username: 'arklet', password: 'wrong', env: 'auth', connectTimeoutMs: 1500 }),
    (err: Error & { code?: string }) => err.code === 'MQTT_UNAVAILABLE' && /could not connect/.test(err.message) && /(Not authorized|Bad username)/i.test(err.message),
  );
});

test('an unreachable broker fails with MQTT_UNAVAILABLE within the connect timeout', async () => {
  const t0 = Date.now();
  await assert.rejects(startFleet({ url: 'mqtt://127.0.0.1:1', connectTimeoutMs: 800 }), (err: Error & { code?: string }) => err.code === 'MQTT_UNAVAILABLE');
  assert.ok(Date.now() - t0 < 5000);
});

test('the failure rate and a seeded random source fail installs reproducibly over MQTT', async () => {
  const run = async (seed: number) => {
    const env = `fail${seed}${Math.random().toString(36).slice(2, 6)}`;
    const ctl = await startTestController(broker.url, env);
    const fleet = await startFleet({ url: broker.url, env, identityPrefix: 'f-', failureRate: 0.5, random: createRandom(seed), installLatencyMs: 0 });
    try {
      const codes: string[] = [];
      for (let i = 0; i < 12; i++) {
        const mark = ctl.mark();
        await ctl.send('f-0', 'installBiz', { bizName: `m${i}`, bizVersion: '1', bizUrl: `file:///m${i}.jar` });
        const m = await ctl.waitFor('bizOperation', (x) => x.kind === 'bizOperation', { after: mark });
        const op = parseBizOperation(m.text);
        assert.ok(op.ok);
        codes.push(op.value.data.response.code);
      }
      return codes;
    } finally {
      await fleet.stop();
      await ctl.close();
    }
  };
  const a = await run(1);
  assert.deepEqual(await run(1), a);
  assert.ok(a.includes('FAILED') && a.includes('SUCCESS'), a.join(','));
});

test('module-controller base-sim: flags become a fleet that stops on the signal', async () => {
  const env = `cmd${Math.random().toString(36).slice(2, 6)}`;
  const ctl = await startTestController(broker.url, env);
  const parsed = parseFlags(baseSimCommand.flags, ['--mqtt-url', broker.url, '--mqtt-env', env, '--count', '3', '--base-name', 'shop', '--ip-prefix', '10.9.9', '--heartbeat-period', '200ms'], {});
  assert.equal(parsed.kind, 'ok');
  const aborter = new AbortController();
  const running = baseSimCommand.run((parsed as Extract<typeof parsed, { kind: 'ok' }>).values, {
    logger: createSilentLogger(),
    registry: createRegistry(false),
    signal: aborter.signal,
    env: {},
    out: () => undefined,
  });
  try {
    const ids = new Set<string>();
    for (let i = 0; i < 100 && ids.size < 3; i++) {
      for (const m of ctl.all((x) => x.kind === 'heart')) {
        const hb = parseHeartbeat(m.text);
        if (hb.ok && hb.value.data.baseMetadata.name === 'shop') ids.add(hb.value.data.localIP);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual([...ids].sort(), ['10.9.9.1', '10.9.9.2', '10.9.9.3']);
  } finally {
    aborter.abort();
    await running;
    await ctl.close();
  }
  const after = ctl.mark();
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(ctl.all(() => true, after).length, 0, 'stopped bases send nothing');
});

test('base-sim flags: defaults and validation', () => {
  const d = parseFlags(baseSimCommand.flags, [], {});
  assert.equal(d.kind, 'ok');
  const v = (d as Extract<typeof d, { kind: 'ok' }>).values;
  assert.equal(v.mqttUrl, 'mqtt://127.0.0.1:1883');
  assert.equal(v.mqttEnv, 'default');
  assert.equal(v.heartbeatPeriod, 10_000);
  assert.equal(v.installLatency, 1_000);
  assert.equal(v.moduleSwitching, false);
  const bad = parseFlags(baseSimCommand.flags, ['--count', '0', '--failure-percent', '101', '--master-biz-state', 'GREEN'], {});
  assert.equal(bad.kind, 'invalid');
  assert.equal((bad as Extract<typeof bad, { kind: 'invalid' }>).problems.length, 3);
});
