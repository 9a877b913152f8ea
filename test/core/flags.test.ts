import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseFlags, toEnvName, toFlagName, toHelpText, type FlagSpec } from '../../core/flags.ts';

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
    '--period: "soon" is not a duration; use e.g. 500ms, 30s, 5m',
    '--tls: "maybe" is not a boolean; use true or false',
    '--mode: "c" is not one of a, b',
  ]);
  assert.deepEqual(problems([], { MC_COUNT: 'x', MC_PERIOD: '1d' }), [
    '--count: "x" is not a whole number (from MC_COUNT)',
    '--period: "1d" is not a duration; use e.g. 500ms, 30s, 5m (from MC_PERIOD)',
  ]);
});

test('int bounds and whole numbers', () => {
  assert.deepEqual(problems(['--count', '0']), ['--count: 0 is below the minimum 1']);
  assert.deepEqual(problems(['--count', '11']), ['--count: 11 is above the maximum 10']);
  assert.deepEqual(problems(['--count', '1.5']), ['--count: "1.5" is not a whole number']);
  assert.deepEqual(problems(['--count', '']), ['--count: "" is not a whole number']);
  assert.equal(ok(['--count', '10']).count, 10);
});

test('durations: units, bare seconds, fractions, minimum', () => {
  const cases: Array<[string, number | undefined]> = [
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['10', 10_000],
    ['1.5s', 1500],
    [' 2s ', 2000],
    ['0', 0],
    ['-1s', undefined],
    ['1d', undefined],
    ['s', undefined],
    ['', undefined],
    ['1 s', undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  assert.deepEqual(problems(['--period', '50ms']), ['--period: 50ms is below the minimum 100ms']);
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
