// scripts/build-control-plane.sh's guards, through its --check path (no download, no compile): the
// Go version is checked up front with a message that says what is needed, and a second build waits
// for the first's lock. A fake `go` on a PATH of our own stands in for the toolchain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/build-control-plane.sh');

function sandbox(goVersion: string | undefined) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-build-cp-'));
  const bin = path.join(dir, 'bin');
  const cache = path.join(dir, 'cache');
  if (goVersion !== undefined) {
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'go'), `#!/bin/sh\nif [ "$1 $2" = "env GOVERSION" ]; then echo ${goVersion}; exit 0; fi\necho "fake go: $*" >&2; exit 3\n`);
    chmodSync(path.join(bin, 'go'), 0o755);
  }
  const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, XDG_CACHE_HOME: cache };
  return { dir, cache, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

test('no Go: refused up front, saying which version is needed and where to get it', async () => {
  const s = sandbox(undefined);
  try {
    const r = await run(['--check'], s.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: Go 1\.24 or newer is needed to build the control plane \(k8s-v1\.34\.\d+-etcd-v3\.6\.\d+-b\d+\); no 'go' on PATH/);
    assert.ok(!existsSync(path.join(s.cache, 'module-controller')), 'nothing created before the check');
  } finally {
    s.cleanup();
  }
});

test('an old Go: refused up front, naming the version found', async () => {
  const s = sandbox('go1.22.7');
  try {
    const r = await run(['--check'], s.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Go 1\.24 or newer is needed .*; found go1\.22\.7 at .*\/bin\/go\. Install a newer Go/);
  } finally {
    s.cleanup();
  }
});

test('a new enough Go passes; a second build waits for the first one\'s lock', async () => {
  const s = sandbox('go1.25.3');
  try {
    const first = await run(['--check'], s.env);
    assert.equal(first.code, 0, first.stderr);
    const lock = /lock (\S+)/.exec(first.stderr)?.[1];
    assert.ok(lock, first.stderr);
    // Hold the lock like a running build, then release it: the check must wait, then go on.
    let released = false;
    const holder = spawn('flock', [lock!, 'sleep', '2'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const waiting = run(['--check'], s.env);
    holder.on('exit', () => (released = true));
    const second = await waiting;
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /another build of the control plane is running \(lock .*\); waiting for it/);
    assert.ok(released, 'it went on only after the holder let go');
  } finally {
    s.cleanup();
  }
});
