/**
 * Compiles what the package ships into dist/ (tsconfig.build.json) and copies the non-TypeScript
 * files the services read at run time. Run by `npm run build` and by `npm pack` (prepack).
 *   node scripts/build-dist.ts
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** Files read next to their module at run time (relative to the root, copied to the same place under dist/). */
export const BUILD_ASSETS = ['extender/module-scheduler-config.yaml'] as const;
/** The executables (package.json "bin"). */
export const BUILD_BINS = ['cli/main.js', 'cli/base-sim.js'] as const;

export function buildDist(): void {
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  for (const asset of BUILD_ASSETS) {
    if (existsSync(path.join(DIST, path.dirname(asset)))) copyFileSync(path.join(ROOT, asset), path.join(DIST, asset));
  }
  for (const bin of BUILD_BINS) chmodSync(path.join(DIST, bin), 0o755);
  if (readdirSync(DIST).includes('test') || readdirSync(DIST).includes('bench')) throw new Error('dist/ must not contain test/ or bench/: a production module imports the dev harness');
}

if (import.meta.url === `file://${process.argv[1]}`) buildDist();
