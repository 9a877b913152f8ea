// The `module-controller` entry point as a user runs it: a child process, real argv and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';

const MAIN = new URL('../../cli/main.ts', import.meta.url).pathname;
const run = async (...args: string[]) => {
  try {
    const r = await promisify(execFile)(process.execPath, [MAIN, ...args], { env: {} });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('version, --version and -v print the package version and the Node.js running it', async () => {
  for (const arg of ['version', '--version', '-v']) {
    const r = await run(arg);
    assert.equal(r.code, 0, arg);
    assert.equal(r.stdout, `module-controller ${VERSION} (node ${process.version})\n`, arg);
  }
});

test('--help lists the commands and version; no command is a usage error; an unknown one says so', async () => {
  const help = await run('--help');
  assert.equal(help.code, 0);
  for (const c of ['webhook', 'extender', 'bridge', 'base-sim', 'broker', 'sandbox', 'version']) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'));
  assert.equal((await run()).code, 2);
  const unknown = await run('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});

test('bad configuration exits 2 before anything starts: a URL of an unknown scheme, a duration without a unit', async () => {
  const url = await run('bridge', '--mqtt-url', 'nonsense://');
  assert.equal(url.code, 2);
  assert.match(url.stderr, /--mqtt-url: "nonsense:\/\/" has scheme nonsense:\/\/, which is not accepted; use mqtt:\/\/, mqtts:\/\//);
  const duration = await run('extender', '--placement-ttl', '30');
  assert.equal(duration.code, 2);
  assert.match(duration.stderr, /--placement-ttl: "30" has no unit; give one of ms, s, m, h/);
});

test('cli/main.ts is executable in the checkout and in git (npm would flip it otherwise)', () => {
  assert.ok((statSync(MAIN).mode & 0o111) !== 0, 'executable bit');
  assert.ok(readFileSync(MAIN, 'utf8').startsWith('#!/usr/bin/env node\n'));
});
