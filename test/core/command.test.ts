import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineCommand, runCommand } from '../../core/command.ts';

const seen: unknown[] = [];
const demo = defineCommand({
  name: 'demo',
  summary: 'A demo command.',
  flags: { port: { kind: 'int', description: 'Port', default: 8080, min: 1, max: 65535 }, wait: { kind: 'duration', description: 'Wait', default: '5s' } },
  run: async (config) => {
    seen.push(config);
  },
});
const failing = defineCommand({ name: 'boom', summary: 'Fails.', flags: {}, run: () => Promise.reject(new Error('kaboom')) });

function io(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { argv, env, stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

test('--help prints the usage with every flag, its default and env twin, and exits 0', async () => {
  const h = io(['--help']);
  assert.equal(await runCommand(demo, h.io), 0);
  const text = h.out.join('');
  assert.match(text, /Usage: module-controller demo \[flags\]/);
  assert.match(text, /--port <int>\s+Port \(default 8080\) \[env MC_PORT\]/);
  assert.match(text, /--log-level/);
});

test('every configuration problem is reported at once, with exit code 2 and no run', async () => {
  seen.length = 0;
  const h = io(['--port', '0', '--nope'], { MC_WAIT: 'later' });
  assert.equal(await runCommand(demo, h.io), 2);
  const text = h.err.join('');
  assert.match(text, /CONFIG_INVALID/);
  assert.match(text, /unknown flag --nope/);
  assert.match(text, /--port: 0 is below the minimum 1/);
  assert.match(text, /--wait: "later" is not a duration.*\(from MC_WAIT\)/);
  assert.equal(seen.length, 0);
});

test('a valid configuration runs the command with typed, frozen values', async () => {
  seen.length = 0;
  const h = io(['--port=9000', '--log-level', 'silent'], { MC_WAIT: '250ms' });
  assert.equal(await runCommand(demo, h.io), 0);
  const config = seen[0] as { port: number; wait: number };
  assert.equal(config.port, 9000);
  assert.equal(config.wait, 250);
  assert.ok(Object.isFrozen(config));
});

test('a failing command exits 1 with its message', async () => {
  const h = io(['--log-level', 'silent']);
  assert.equal(await runCommand(failing, h.io), 1);
  assert.match(h.err.join(''), /module-controller boom: kaboom/);
});
