// Keeps the error catalogue honest: every code thrown exists, every catalogued code is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ControllerError, ERROR_CODES, toErrorFields } from '../../core/errors.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SKIP = new Set(['node_modules', 'test', '.git', '.cluster', 'charts', 'coverage']);

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (SKIP.has(entry)) continue;
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listSources(p));
    else if (entry.endsWith('.ts')) out.push(p);
  }
  return out;
}

const sources = listSources(ROOT).map((file) => ({ file: path.relative(ROOT, file), text: readFileSync(file, 'utf8') }));

/**
 * Codes catalogued for parts that have not landed yet. Shrink it as they land: a listed code that is
 * used is reported (not failed, so parallel work does not break the suite); delete the set when empty.
 */
const NOT_YET_USED = new Set<string>();

test('the scan sees the source tree', () => {
  assert.ok(sources.some((s) => s.file === path.join('core', 'errors.ts')));
  assert.ok(sources.length > 10, `only ${sources.length} source files found`);
});

test('every code thrown with new ControllerError(...) is in ERROR_CODES', () => {
  const thrown = new Map<string, string>();
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/new ControllerError\(\s*['"`]([^'"`]+)['"`]/g)) thrown.set(m[1]!, file);
  }
  assert.ok(thrown.size > 0, 'no ControllerError found: the pattern is stale');
  for (const [code, file] of thrown) assert.ok(code in ERROR_CODES, `${file} throws unknown code ${code}`);
});

test('every ERROR_CODES entry is used somewhere outside the catalogue', (t) => {
  const elsewhere = sources.filter((s) => s.file !== path.join('core', 'errors.ts'));
  const used = (code: string) => elsewhere.some((s) => new RegExp(`\\b${code}\\b`).test(s.text));
  const unused = Object.keys(ERROR_CODES).filter((code) => !used(code) && !NOT_YET_USED.has(code));
  assert.deepEqual(unused, [], `catalogued but never used: ${unused.join(', ')}`);
  const nowUsed = [...NOT_YET_USED].filter(used);
  if (nowUsed.length > 0) t.diagnostic(`now used, remove from NOT_YET_USED in test/core/errors.test.ts: ${nowUsed.join(', ')}`);
  for (const code of NOT_YET_USED) assert.ok(code in ERROR_CODES, `NOT_YET_USED names unknown code ${code}`);
});

test('every code has a description', () => {
  for (const [code, text] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[A-Z][A-Z_]+$/);
    assert.ok(text.length > 0, code);
  }
});

test('toErrorFields: code, message and cause, never a serialised Error', () => {
  const cause = new Error('connection refused');
  assert.deepEqual(toErrorFields(new ControllerError('MQTT_UNAVAILABLE', 'broker down', { cause })), {
    code: 'MQTT_UNAVAILABLE',
    message: 'broker down',
    cause: 'connection refused',
  });
  assert.deepEqual(toErrorFields(new ControllerError('INTERNAL', 'x')), { code: 'INTERNAL', message: 'x' });
  assert.deepEqual(toErrorFields(new TypeError('bad')), { code: 'INTERNAL', message: 'bad' });
  assert.deepEqual(toErrorFields('text'), { code: 'INTERNAL', message: 'text' });
  const err = new ControllerError('CONFIG_INVALID', 'y');
  assert.equal(err.name, 'ControllerError');
  assert.ok(err instanceof Error);
});
