// `npm start` as a user runs it, then the terminal closes: the sandbox gets SIGHUP and must stop
// everything it started, the detached control-plane processes (etcd, kube-apiserver, …) included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ControlPlaneState } from '../../sandbox/control-plane.ts';

const MAIN = path.resolve(import.meta.dirname, '../../cli/main.ts');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('SIGHUP (the terminal closed) stops the sandbox and every process it started; the banner names every address; logs stay in <dir>/logs', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-sandbox-'));
  const sandboxDir = path.join(dir, 'sb');
  const child = spawn(process.execPath, [MAIN, 'sandbox', '--dir', sandboxDir, '--bases', '1', '--mqtt-port', '0', '--service-log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const up = await Promise.race([
      new Promise<boolean>((resolve) => {
        const check = setInterval(() => {
          if (output.includes('Ctrl-C (or closing this terminal) stops everything.')) {
            clearInterval(check);
            resolve(true);
          }
        }, 200);
      }),
      exited.then(() => false),
    ]);
    assert.ok(up, `the sandbox came up:\n${output}`);
    const banner = output.slice(output.indexOf('module-controller sandbox is up.'));
    t.diagnostic(banner.split('\n').slice(0, 9).join(' | '));
    for (const name of ['kube-apiserver', 'webhook', 'extender', 'bridge', 'module-scheduler', 'MQTT broker']) assert.match(banner, new RegExp(`^ {2}${name} +(https?|mqtt)://127\\.0\\.0\\.1:\\d+`, 'm'), name);
    assert.match(banner, new RegExp(`export KUBECONFIG=${sandboxDir}/kubeconfig `));
    const state = JSON.parse(readFileSync(path.join(sandboxDir, 'state.json'), 'utf8')) as ControlPlaneState;
    const pids = Object.entries(state.pids);
    assert.ok(pids.length >= 4 && pids.every(([, pid]) => alive(pid)), 'etcd and the control plane run');

    child.kill('SIGHUP');
    const code = await exited;
    assert.equal(code, 0, `a clean stop:\n${output.slice(-2000)}`);
    assert.deepEqual(pids.filter(([, pid]) => alive(pid)).map(([name]) => name), [], 'nothing left running');
    // Every log under the folder the banner names.
    const logs = path.join(sandboxDir, 'logs');
    assert.ok(existsSync(path.join(logs, 'module-scheduler.log')));
    assert.deepEqual(readdirSync(sandboxDir).filter((f) => f.endsWith('.log')), [], 'no log outside logs/');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
