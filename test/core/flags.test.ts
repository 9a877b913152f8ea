import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAG_SPELLINGS, MQTT_URL_SCHEMES, parseDuration, parseFlags, toEnvName, toFlagName, toHelpText, toSpecFlagName, type FlagSpec } from '../../core/flags.ts';
import { COMMON_FLAGS } from '../../core/command.ts';
import { webhookCommand } from '../../webhook/command.ts';
import { extenderCommand } from '../../extender/command.ts';
import { bridgeCommand } from '../../bridge/command.ts';
import { brokerCommand } from '../../broker/command.ts';
import { baseSimCommand } from '../../base-sim/command.ts';
import { sandboxCommand } from '../../sandbox/command.ts';

const SPECS = {
  mqttUrl: { kind: 'string', description: 'Broker URL', default: 'mqtt://127.0.0.1:1883' },
  mqttPassword: { kind: 'string', description: 'Broker password' },
  count: { kind: 'int', description: 'How many', default: 1, min: 1, max: 10 },
  period: { kind: 'duration', description: 'Period', default: '10s', min: 100 },
  tls: { kind: 'bool', description: 'Use TLS', default: false },
  namespaces: { kind: 'list', description: 'Namespaces', default: [] },
  mode: { kind: 'string', description: 'Mode', default: 'a', choices: ['a', 'b'] },
} as const satisfies Record<string, FlagSpec>;

const ok = (argv: string[], env: Record<string, string> = {}) => {
  const r = parseFlags(SPECS, argv, env);
  assert.equal(r.kind, 'ok', r.kind === 'invalid' ? r.problems.join('; ') : r.kind);
  return (r as Extract<typeof r, { kind: 'ok' }>).values;
};
const problems = (argv: string[], env: Record<string, string> = {}) => {
  const r = parseFlags(SPECS, argv, env);
  assert.equal(r.kind, 'invalid');
  return (r as Extract<typeof r, { kind: 'invalid' }>).problems;
};

test('names: camelCase key → --kebab-flag and MC_SNAKE env', () => {
  assert.equal(toFlagName('mqttUrl'), 'mqtt-url');
  assert.equal(toFlagName('count'), 'count');
  assert.equal(toEnvName('mqttUrl'), 'MC_MQTT_URL');
  assert.equal(toEnvName('heartbeatPeriod'), 'MC_HEARTBEAT_PERIOD');
});

test('defaults, typed and frozen; a flag without default is undefined', () => {
  const v = ok([]);
  assert.deepEqual({ ...v }, { mqttUrl: 'mqtt://127.0.0.1:1883', mqttPassword: undefined, count: 1, period: 10_000, tls: false, namespaces: [], mode: 'a' });
  assert.ok(Object.isFrozen(v));
});

test('flag forms: --name value, --name=value, bare --bool, --bool=false', () => {
  const v = ok(['--mqtt-url', 'mqtt://b:1', '--count=3', '--tls', '--namespaces', 'a, b,,c', '--mode=b']);
  assert.equal(v.mqttUrl, 'mqtt://b:1');
  assert.equal(v.count, 3);
  assert.equal(v.tls, true);
  assert.deepEqual(v.namespaces, ['a', 'b', 'c']);
  assert.equal(v.mode, 'b');
  assert.equal(ok(['--tls=false']).tls, false);
  assert.equal(ok(['--tls', 'no']).tls, false);
  assert.equal(ok(['--tls', '--count', '2']).tls, true);
  assert.equal(ok(['--mqtt-password=a=b']).mqttPassword, 'a=b');
});

test('precedence: flag, then MC_* env, then default', () => {
  const env = { MC_MQTT_URL: 'mqtt://env:1', MC_COUNT: '5', MC_TLS: 'true', MC_PERIOD: '2s' };
  const fromEnv = ok([], env);
  assert.equal(fromEnv.mqttUrl, 'mqtt://env:1');
  assert.equal(fromEnv.count, 5);
  assert.equal(fromEnv.tls, true);
  assert.equal(fromEnv.period, 2000);
  const both = ok(['--mqtt-url', 'mqtt://flag:1', '--count', '7', '--tls=false'], env);
  assert.equal(both.mqttUrl, 'mqtt://flag:1');
  assert.equal(both.count, 7);
  assert.equal(both.tls, false);
  assert.equal(both.period, 2000);
});

test('every problem is reported at once, env ones named by their variable', () => {
  const p = problems(['--count', 'many', '--period', 'soon', '--tls=maybe', '--mode', 'c', '--nope', 'stray', '--mqtt-url'], { MC_NAMESPACES: 'x', MC_COUNT: '3' });
  assert.deepEqual(p, [
    'unknown flag --nope; see --help',
    'unexpected argument "stray"; flags look like --name value',
    '--mqtt-url needs a value',
    '--count: "many" is not a whole number',
    '--period: "soon" is not a duration; use a number with one of the units ms, s, m, h, e.g. 500ms, 30s, 5m, 1h',
    '--tls: "maybe" is not a boolean; use true or false',
    '--mode: "c" is not one of a, b',
  ]);
  assert.deepEqual(problems([], { MC_COUNT: 'x', MC_PERIOD: '1d' }), [
    '--count: "x" is not a whole number (from MC_COUNT)',
    '--period: "1d" is not a duration; use a number with one of the units ms, s, m, h, e.g. 500ms, 30s, 5m, 1h (from MC_PERIOD)',
  ]);
});

test('int bounds and whole numbers', () => {
  assert.deepEqual(problems(['--count', '0']), ['--count: 0 is below the minimum 1']);
  assert.deepEqual(problems(['--count', '11']), ['--count: 11 is above the maximum 10']);
  assert.deepEqual(problems(['--count', '1.5']), ['--count: "1.5" is not a whole number']);
  assert.deepEqual(problems(['--count', '']), ['--count: "" is not a whole number']);
  assert.equal(ok(['--count', '10']).count, 10);
});

test('durations: units, fractions, minimum; a bare number has no unit and is refused', () => {
  const cases: Array<[string, number | undefined]> = [
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['10', undefined],
    ['1.5s', 1500],
    [' 2s ', 2000],
    ['0', undefined],
    ['0s', 0],
    ['-1s', undefined],
    ['1d', undefined],
    ['s', undefined],
    ['', undefined],
    ['1 s', undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  assert.deepEqual(problems(['--period', '50ms']), ['--period: 50ms is below the minimum 100ms']);
  assert.deepEqual(problems(['--period', '30']), ['--period: "30" has no unit; give one of ms, s, m, h (e.g. 30s or 30ms)']);
  assert.deepEqual(problems([], { MC_PERIOD: '5' }), ['--period: "5" has no unit; give one of ms, s, m, h (e.g. 5s or 5ms) (from MC_PERIOD)']);
});

test('--help and -h win over everything else', () => {
  assert.deepEqual(parseFlags(SPECS, ['--count', 'x', '--help'], {}), { kind: 'help' });
  assert.deepEqual(parseFlags(SPECS, ['-h'], {}), { kind: 'help' });
});

test('help text lists every flag with its kind, default and env twin', () => {
  const help = toHelpText('demo', 'A demo command', SPECS);
  assert.ok(help.startsWith('Usage: module-controller demo [flags]\n\nA demo command\n\nFlags:\n'));
  const line = (flag: string) => help.split('\n').find((l) => l.trimStart().startsWith(flag)) ?? '';
  assert.match(line('--mqtt-url <string>'), /Broker URL \(default "mqtt:\/\/127\.0\.0\.1:1883"\) \[env MC_MQTT_URL\]$/);
  assert.match(line('--mqtt-password <string>'), /Broker password \[env MC_MQTT_PASSWORD\]$/);
  assert.match(line('--count <int>'), /How many \(default 1\) \[env MC_COUNT\]$/);
  assert.match(line('--period <duration>'), /\(default "10s"\) \[env MC_PERIOD\]$/);
  assert.match(line('--tls '), /Use TLS \(default false\) \[env MC_TLS\]$/);
  assert.match(line('--namespaces <list>'), /\(default ""\) \[env MC_NAMESPACES\]$/);
  assert.match(line('--help'), /Show this help/);
});

const RENAMED = {
  opsPort: { kind: 'int', description: 'Ops port', default: 8081, flag: 'ops-port', aliases: ['port'] },
  mqttEnv: { kind: 'string', description: 'Env', default: 'default', flag: 'env', aliases: ['mqtt-env'] },
  mqttUrl: { kind: 'string', description: 'Broker', default: 'embedded', url: { schemes: MQTT_URL_SCHEMES, literals: ['embedded'] } },
} as const satisfies Record<string, FlagSpec>;

test('aliases: the canonical name and the old spelling (and both env twins) set the same key; --help shows both', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => {
    const r = parseFlags(RENAMED, argv, env);
    assert.equal(r.kind, 'ok', JSON.stringify(r));
    return (r as { values: { opsPort: number; mqttEnv: string } }).values;
  };
  assert.equal(parse(['--ops-port', '9000']).opsPort, 9000);
  assert.equal(parse(['--port=9001']).opsPort, 9001);
  assert.equal(parse([], { MC_OPS_PORT: '9002' }).opsPort, 9002);
  assert.equal(parse([], { MC_PORT: '9003' }).opsPort, 9003);
  assert.equal(parse([], { MC_PORT: '9003', MC_OPS_PORT: '9004' }).opsPort, 9004, 'the canonical variable wins');
  assert.equal(parse(['--env', 'dev']).mqttEnv, 'dev');
  assert.equal(parse(['--mqtt-env', 'test']).mqttEnv, 'test');
  const bad = parseFlags(RENAMED, ['--port', 'x'], {});
  assert.deepEqual((bad as { problems: readonly string[] }).problems, ['--ops-port: "x" is not a whole number'], 'problems use the canonical name');
  const help = toHelpText('demo', 'A demo', RENAMED);
  assert.match(help, /--ops-port <int> +Ops port \(default 8081\) \(also --port\) \[env MC_OPS_PORT\]/);
  assert.match(help, /--env <string> +Env \(default "default"\) \(also --mqtt-env\) \[env MC_ENV\]/);
});

test('an alias never takes another key\'s own name or variable (the broker\'s --port is its MQTT port)', () => {
  const specs = { port: { kind: 'int', description: 'MQTT', default: 1883 }, opsPort: { kind: 'int', description: 'Ops', default: 8082, aliases: ['port'] } } as const satisfies Record<string, FlagSpec>;
  const r = parseFlags(specs, ['--port', '1884'], { MC_PORT: '1885' });
  assert.deepEqual({ ...(r as { values: object }).values }, { port: 1884, opsPort: 8082 });
  const e = parseFlags(specs, [], { MC_PORT: '1885' });
  assert.deepEqual({ ...(e as { values: object }).values }, { port: 1885, opsPort: 8082 });
});

test('URL flags: checked at start-up, naming the accepted schemes', () => {
  const problemsOf = (url: string) => (parseFlags(RENAMED, ['--mqtt-url', url], {}) as { problems?: readonly string[] }).problems;
  assert.equal(problemsOf('embedded'), undefined);
  assert.equal(problemsOf('mqtt://127.0.0.1:1883'), undefined);
  assert.equal(problemsOf('mqtts://broker.example:8883'), undefined);
  assert.equal(problemsOf('wss://broker.example/mqtt'), undefined);
  assert.deepEqual(problemsOf('nonsense://'), ['--mqtt-url: "nonsense://" has scheme nonsense://, which is not accepted; use mqtt://, mqtts://, tcp://, tls://, ssl://, ws://, wss:// or "embedded"']);
  assert.deepEqual(problemsOf('broker:1883'), ['--mqtt-url: "broker:1883" has scheme broker://, which is not accepted; use mqtt://, mqtts://, tcp://, tls://, ssl://, ws://, wss:// or "embedded"']);
  assert.deepEqual(problemsOf('127.0.0.1:1883'), ['--mqtt-url: "127.0.0.1:1883" is not a URL; use mqtt://, mqtts://, tcp://, tls://, ssl://, ws://, wss:// or "embedded"']);
  assert.deepEqual(problemsOf('mqtt://'), ['--mqtt-url: "mqtt://" has no host; e.g. mqtt://broker.example:1883']);
});

test('one flag name per meaning across every command (FLAG_SPELLINGS); every URL-like flag is checked', () => {
  const commands = [webhookCommand, extenderCommand, bridgeCommand, brokerCommand, baseSimCommand, sandboxCommand];
  for (const cmd of commands) {
    const specs = { ...COMMON_FLAGS, ...cmd.flags } as Record<string, FlagSpec>;
    for (const [key, spec] of Object.entries(specs)) {
      const name = toSpecFlagName(key, spec);
      // --port stays the main serving port (webhook, extender, broker's MQTT); an ops-only port is --ops-port.
      if (/^Port of \/healthz/.test(spec.description)) assert.equal(name, FLAG_SPELLINGS.opsPort.flag, `${cmd.name}: ${key}`);
      if (/env/i.test(key) && spec.kind === 'string') assert.equal(name, FLAG_SPELLINGS.env.flag, `${cmd.name}: ${key}`);
      if (/clientIdPrefix$/.test(key)) assert.equal(name, FLAG_SPELLINGS.mqttClientIdPrefix.flag, `${cmd.name}: ${key}`);
      for (const meaning of [FLAG_SPELLINGS.env, FLAG_SPELLINGS.mqttClientIdPrefix]) assert.ok(!(meaning.was as readonly string[]).includes(name), `${cmd.name}: --${name} is an old spelling`);
      if (/url$/i.test(key) && spec.kind === 'string') assert.ok(spec.url, `${cmd.name}: --${name} is a URL flag without a scheme check`);
    }
  }
  // The names the issue asked about.
  const help = (cmd: typeof bridgeCommand) => toHelpText(cmd.name, cmd.summary, { ...COMMON_FLAGS, ...cmd.flags });
  assert.match(help(bridgeCommand), /--ops-port <int>.*\(also --port\)/);
  assert.match(help(bridgeCommand), /--env <string>/);
  assert.match(help(bridgeCommand), /--mqtt-client-id-prefix <string>/);
  assert.match(help(baseSimCommand as never), /--env <string>.*\(also --mqtt-env\)/);
  assert.match(help(baseSimCommand as never), /--mqtt-client-id-prefix <string>.*\(also --client-id-prefix\)/);
  assert.match(help(brokerCommand as never), /--ops-port <int>/);
});

test('the real commands: --mqtt-url nonsense:// is refused by the bridge and base-sim, listing the accepted schemes', () => {
  for (const cmd of [bridgeCommand, baseSimCommand] as Array<{ name: string; flags: Record<string, FlagSpec> }>) {
    const r = parseFlags({ ...COMMON_FLAGS, ...cmd.flags }, ['--mqtt-url', 'nonsense://'], {});
    assert.equal(r.kind, 'invalid', cmd.name);
    assert.match((r as { problems: readonly string[] }).problems.join('\n'), /--mqtt-url: "nonsense:\/\/" has scheme nonsense:\/\/, which is not accepted; use mqtt:\/\/, mqtts:\/\//, cmd.name);
  }
});
