/**
 * `npm test`'s runner: starts one real control plane and one Mosquitto for the whole run, then runs
 * every test file with node's test runner (files serially, because integration tests share
 * cluster-scoped objects such as Nodes), then stops what it started.
 *   --unit   only the unit tests (no control plane, no Mosquitto)
 *   [files]  only these test files
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startControlPlane } from '../sandbox/control-plane.ts';
import { startMosquitto } from '../test/support/mosquitto.ts';

function listTests(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listTests(p));
    else if (entry.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const explicit = args.filter((a) => !a.startsWith('--'));
const all = explicit.length > 0 ? explicit : listTests('test');
const files = unitOnly ? all.filter((f) => !f.includes(`${path.sep}integration${path.sep}`)) : all;
const needsCluster = files.some((f) => f.includes(`${path.sep}integration${path.sep}`));
const t0 = Date.now();
const phase = (what: string) => process.stderr.write(`[test ${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}\n`);

const env: Record<string, string | undefined> = { ...process.env };
const cleanups: Array<() => Promise<void> | void> = [];
let code = 1;
try {
  if (needsCluster) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-test-cp-'));
    phase('starting the local control plane (first run builds it from source)');
    const cp = await startControlPlane({ dir, nodeMonitorGracePeriod: '20s', log: (l) => phase(l) });
    cleanups.push(async () => { await cp.stop(); rmSync(dir, { recursive: true, force: true }); });
    env['MC_TEST_CONTROL_PLANE'] = path.join(dir, 'state.json');
    try {
      const mq = await startMosquitto();
      cleanups.push(() => mq.stop());
      env['MC_TEST_MOSQUITTO_URL'] = mq.url;
      phase(`mosquitto at ${mq.url}`);
    } catch (err) {
      if (process.env['CI']) throw err;
      phase(`mosquitto unavailable (${(err as Error).message}); tests that need it will skip`);
    }
  }
  phase(`running ${files.length} test files`);
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit', env });
    child.on('exit', (c) => resolve(c ?? 1));
  });
} catch (err) {
  process.stderr.write(`test setup failed: ${(err as Error).message}\n`);
} finally {
  for (const c of cleanups.reverse()) await c();
  phase(`done (exit ${code})`);
}
process.exitCode = code;
