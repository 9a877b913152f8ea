// The Dockerfile without a container runtime: its stages, its pinned base, what the runtime stage
// copies (production files only: the package's own file list), its user and labels, and that its
// build stage has every source the compiled build needs. test/packaging/package.test.ts runs the
// same dist/ installed the same way (npm ci --omit=dev), so the entry point's --help is proven there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; files: string[]; bin: Record<string, string>; devDependencies: Record<string, string> };

interface Instruction { readonly op: string; readonly args: string }
interface Stage { readonly from: string; readonly name: string | undefined; readonly lines: Instruction[] }

/** Instructions with continuation lines joined and comments dropped, split into stages. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of joined) {
    const [op, ...rest] = line.split(/\s+/);
    const rawArgs = rest.join(' ');
    if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rawArgs)!;
      stages.push({ from: m[1]!.replace(/\$\{(\w+)\}/g, (_s, n: string) => args.get(n) ?? ''), name: m[2], lines: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rawArgs.split('=');
      args.set(k!, v ?? '');
    } else stages.at(-1)?.lines.push({ op: op!, args: rawArgs });
  }
  return { args, stages };
}

const { stages } = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const build = stages.find((s) => s.name === 'build')!;
const runtime = stages.at(-1)!;

test('multi-stage, on a pinned Node base matching the Node the project tests with', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  assert.ok(build, 'a stage named build');
  const nodeVersion = pkg.devDependencies['node']!;
  for (const s of stages) assert.match(s.from, new RegExp(`^node:${nodeVersion.replaceAll('.', '\\.')}-[a-z]+-slim$`), `${s.from}: pinned to node ${nodeVersion}`);
});

test('the runtime stage copies production files only: package.json, the lockfile and the package\'s files', () => {
  const copies = runtime.lines.filter((l) => l.op === 'COPY' || l.op === 'ADD');
  assert.ok(copies.every((c) => c.op === 'COPY'), 'no ADD');
  const sources: string[] = [];
  for (const c of copies) {
    const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--chown') && !p.startsWith('--chmod'));
    assert.equal(parts[0], '--from=build', `runtime COPY from the build stage only: ${c.args}`);
    sources.push(...parts.slice(1, -1).map((p) => p.replace(/^\/src\//, '')));
  }
  const allowed = new Set(['package.json', 'package-lock.json', '.npmrc', ...pkg.files.map((f) => f.replace(/\/$/, ''))]);
  assert.deepEqual(sources.filter((s) => !allowed.has(s)), [], 'nothing but the package');
  for (const f of pkg.files) assert.ok(sources.includes(f.replace(/\/$/, '')), `${f} is in the image`);
  assert.ok(runtime.lines.some((l) => l.op === 'RUN' && /npm ci --omit=dev/.test(l.args)), 'production dependencies only');
});

test('runs as a non-root user, its entry point is the package\'s module-controller bin, with OCI labels', () => {
  const user = runtime.lines.filter((l) => l.op === 'USER').at(-1)?.args ?? '';
  assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, `numeric non-root user (runAsNonRoot can verify it): ${user}`);
  const entry = JSON.parse(runtime.lines.find((l) => l.op === 'ENTRYPOINT')!.args) as string[];
  assert.deepEqual(entry, ['node', `/app/${pkg.bin['module-controller']}`]);
  const labels = runtime.lines.filter((l) => l.op === 'LABEL').map((l) => l.args).join(' ');
  for (const key of ['title', 'description', 'version', 'licenses', 'source', 'revision']) assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key}=`), key);
  assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.licenses="${pkg.license}"`));
  assert.ok(runtime.lines.some((l) => l.op === 'ARG' && l.args === `VERSION=${pkg.version}`), 'the version label defaults to the package version');
});

test('the build stage has every source the compiled build reads, and builds it like npm pack', () => {
  const copied = build.lines.filter((l) => l.op === 'COPY').flatMap((l) => l.args.split(/\s+/).slice(0, -1)).map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const sources = execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--listFilesOnly'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.startsWith(ROOT) && !f.includes(`${path.sep}node_modules${path.sep}`))
    .map((f) => path.relative(ROOT, f));
  const missing = sources.filter((f) => !copied.some((c) => f === c || f.startsWith(`${c}/`)));
  assert.deepEqual(missing, [], 'sources the build needs but the build stage does not copy');
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'scripts/build-dist.ts']) assert.ok(copied.some((c) => c === f || f.startsWith(`${c}/`) || c === path.dirname(f)), f);
  assert.ok(build.lines.some((l) => l.op === 'RUN' && l.args === 'node scripts/build-dist.ts'));
  assert.ok(!copied.some((c) => /^(test|bench)(\/|$)/.test(c)), 'no tests or benchmarks, even in the build stage');
});
