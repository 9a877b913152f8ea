// Production code never imports the dev harness: the broker the services run lives in broker/, and
// sandbox/ builds on it, never the other way round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PRODUCTION = ['broker', 'bridge', 'webhook', 'extender', 'core'];
const HARNESS = /from\s+['"](?:\.\.?\/)+(?:sandbox|base-sim|bench|test)\//;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : e.endsWith('.ts') ? [p] : [];
  });
}

test('broker, bridge, webhook, extender and core import nothing from sandbox/, base-sim/, bench/ or test/', () => {
  const files = PRODUCTION.flatMap((d) => sources(path.join(ROOT, d)));
  assert.ok(files.length > 20);
  const offenders = files.filter((f) => HARNESS.test(readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
  assert.deepEqual(offenders, []);
});

test('the sandbox\'s broker is the shipped one', () => {
  assert.match(readFileSync(path.join(ROOT, 'sandbox/embedded-broker.ts'), 'utf8'), /from '\.\.\/broker\/mqtt-broker\.ts'/);
});
