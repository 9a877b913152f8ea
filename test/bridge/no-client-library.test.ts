// Issue 13: the bridge process never loads @kubernetes/client-node (its ~1,000 modules cost ~60 MiB
// of RSS). A child Node process records every module URL resolved while it imports the bridge's
// entry points; type-only imports are erased and so never resolved. Any runtime import of
// client-node anywhere in the bridge's import graph shows up here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const root = new URL('../../', import.meta.url);

const SCRIPT = `
import { registerHooks } from 'node:module';
const urls = [];
registerHooks({ resolve(specifier, context, nextResolve) { const r = nextResolve(specifier, context); urls.push(r.url); return r; } });
for (const m of process.argv.slice(1)) await import(m);
process.stdout.write(JSON.stringify(urls));
`;

test('importing the bridge command and the bridge loads no module of @kubernetes/client-node', async () => {
  const entries = ['bridge/command.ts', 'bridge/bridge.ts'].map((f) => new URL(f, root).href);
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT, ...entries], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  const urls = JSON.parse(stdout) as string[];
  assert.ok(urls.some((u) => u.endsWith('/bridge/bridge.ts')), 'the hook saw the bridge load');
  assert.ok(urls.some((u) => u.endsWith('/core/watch-cache.ts')), 'and what it imports');
  const offending = urls.filter((u) => u.includes('@kubernetes/client-node'));
  assert.deepEqual(offending, [], 'no module of @kubernetes/client-node is loaded');
  // The embedded broker (Aedes, node-forge for its self-managed TLS) is loaded only when a bridge starts one.
  const broker = urls.filter((u) => /node_modules\/(aedes|node-forge)\//.test(u) || u.endsWith('/broker/mqtt-broker.ts'));
  assert.deepEqual(broker, [], 'a bridge on an external broker loads no broker code');
});
