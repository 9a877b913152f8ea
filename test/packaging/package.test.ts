// `npm pack` gives a package that installs and runs outside the checkout: packed here (prepack
// compiles dist/), installed into a temporary project with npm ci --offline (its lockfile is made
// from ours, so every dependency comes from the local npm cache by integrity: no network), and its
// bins run from there. Type stripping is refused under node_modules, so this is what proves the
// compiled build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

interface Lock { packages: Record<string, { dev?: boolean } & Record<string, unknown>> }
interface PackResult { filename: string; files: Array<{ path: string }> }

/** npm itself on this Node (PATH first): no EBADENGINE from an older system node. */
function npm(args: string[], cwd: string) {
  const env = { PATH: `${path.dirname(process.execPath)}${path.delimiter}/usr/local/bin${path.delimiter}/usr/bin${path.delimiter}/bin`, HOME: os.homedir(), npm_config_update_notifier: 'false' };
  return exec('npm', args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
}

async function run(bin: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [bin, ...args], { cwd, env: {} });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('npm pack → install offline in an empty project → module-controller and base-sim run', { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-pack-'));
  try {
    const packed = await npm(['pack', '--json', '--pack-destination', dir], ROOT);
    assert.doesNotMatch(packed.stderr, /EBADENGINE/);
    const [result] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as PackResult[];
    const files = result!.files.map((f) => f.path).sort();
    t.diagnostic(`${files.length} files in ${result!.filename}`);
    // Production files only: the compiled services, package.json, README.
    for (const f of files) assert.match(f, /^(dist\/.+\.(js|yaml)|package\.json|README\.md)$/, f);
    for (const f of ['dist/cli/main.js', 'dist/cli/base-sim.js', 'dist/webhook/command.js', 'dist/extender/command.js', 'dist/bridge/command.js', 'dist/broker/command.js', 'dist/base-sim/command.js', 'dist/moduledeployment/command.js']) assert.ok(files.includes(f), f);
    assert.ok(!files.some((f) => /^dist\/(test|bench)\/|^dist\/sandbox\/command\.js$/.test(f)), 'no test, bench or sandbox harness');

    // The temporary project's lockfile: ours (production entries) plus the tarball.
    const tarball = path.join(dir, result!.filename);
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string> };
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    const packages: Lock['packages'] = {
      '': { name: 'try-module-controller', version: '1.0.0', dependencies: { 'module-controller': `file:${tarball}` } },
      'node_modules/module-controller': { version: pkg.version, resolved: `file:${tarball}`, integrity, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
    };
    for (const [key, entry] of Object.entries(lock.packages)) if (key.startsWith('node_modules/') && !entry.dev) packages[key] = entry;
    const project = path.join(dir, 'project');
    await exec('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'try-module-controller', version: '1.0.0', private: true, dependencies: { 'module-controller': `file:${tarball}` } }));
    writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify({ name: 'try-module-controller', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
    const installed = await npm(['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], project);
    assert.doesNotMatch(installed.stderr, /EBADENGINE/, 'engines accepts this Node');

    const bin = (name: string) => realpathSync(path.join(project, 'node_modules', '.bin', name));
    assert.ok(bin('module-controller').startsWith(realpathSync(path.join(project, 'node_modules', 'module-controller'))), 'runs from node_modules, not the checkout');
    const help = await run(bin('module-controller'), ['--help'], project);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: module-controller <command> \[flags\]/);
    assert.equal((await run(bin('module-controller'), ['version'], project)).stdout, `module-controller ${pkg.version} (node ${process.version})\n`);
    for (const cmd of ['webhook', 'extender', 'bridge', 'broker', 'base-sim', 'module-deployment']) {
      const r = await run(bin('module-controller'), [cmd, '--help'], project);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: module-controller ${cmd} \\[flags\\]`), cmd);
      if (cmd === 'module-deployment') assert.match(r.stdout, /--ops-port .*\(also --port\)/, 'the ops port flag and its older spelling');
    }
    const sim = await run(bin('base-sim'), ['--help'], project);
    assert.equal(sim.code, 0, sim.stderr);
    assert.match(sim.stdout, /^Usage: module-controller base-sim \[flags\]/);
    const sandbox = await run(bin('module-controller'), ['sandbox'], project);
    assert.equal(sandbox.code, 2);
    assert.match(sandbox.stderr, /the sandbox is part of the source checkout/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engines: the current LTS lines, Node 24 and 26', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; bin: Record<string, string>; files: string[] };
  assert.equal(pkg.engines.node, '^24 || ^26');
  assert.deepEqual(pkg.bin, { 'module-controller': 'dist/cli/main.js', 'base-sim': 'dist/cli/base-sim.js' });
  assert.deepEqual(pkg.files, ['dist/']);
});
