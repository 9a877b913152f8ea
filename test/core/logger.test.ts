import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { spawn } from 'node:child_process';
import { BUFFERED_STDOUT, createLogger, toLogError } from '../../core/logger.ts';
import { ControllerError, toErrorFields } from '../../core/errors.ts';

function capture(level = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) {
        if (!l.trim()) continue;
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      cb();
    },
  });
  return { logger: createLogger(level, 'module-controller-test', stream), lines, raw };
}

test('levels are names, the component appears once, no pid/hostname', async () => {
  const { logger, lines } = capture();
  logger.info({ a: 1 }, 'hello');
  logger.warn('careful');
  logger.flush();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(lines.map((l) => l['level']), ['info', 'warn']);
  assert.deepEqual(Object.keys(lines[0]!).sort(), ['a', 'level', 'msg', 'name', 'time']);
  assert.equal(lines[0]!['name'], 'module-controller-test');
});

test('errors are logged with type, message, code, stack and cause; toErrorFields keeps its stack for the log', async () => {
  const { logger, lines } = capture();
  const cause = new Error('connection refused');
  const err = new ControllerError('KUBE_UNAVAILABLE', 'cannot list nodes', { cause });
  logger.error({ err }, 'direct');
  logger.error({ err: toErrorFields(err) }, 'as fields');
  logger.error(new TypeError('thrown'), 'as the object');
  await new Promise((r) => setImmediate(r));
  const [direct, fields, thrown] = lines.map((l) => l['err'] as Record<string, unknown>);
  assert.equal(direct!['type'], 'ControllerError');
  assert.equal(direct!['message'], 'cannot list nodes');
  assert.equal(direct!['code'], 'KUBE_UNAVAILABLE');
  assert.match(String(direct!['stack']), /^ControllerError: cannot list nodes\n {4}at /);
  assert.deepEqual((direct!['cause'] as Record<string, unknown>)['message'], 'connection refused');
  assert.deepEqual({ ...fields, stack: undefined }, { code: 'KUBE_UNAVAILABLE', message: 'cannot list nodes', cause: 'connection refused', stack: undefined });
  assert.match(String(fields!['stack']), /cannot list nodes\n {4}at /, 'not {"type":"Object","stack":""}');
  assert.equal(thrown!['type'], 'TypeError');
  assert.ok(!('type' in fields!), 'field objects are not relabelled "Object"');
});

test('toLogError: strings and plain values pass through; the cause chain is bounded', () => {
  assert.equal(toLogError('text'), 'text');
  assert.deepEqual(toLogError({ message: 'plain' }), { message: 'plain' });
  const loop = new Error('a');
  (loop as { cause?: unknown }).cause = loop;
  let depth = 0;
  for (let e = toLogError(loop) as { cause?: unknown } | undefined; e; e = e.cause as { cause?: unknown } | undefined) depth++;
  assert.equal(depth, 6);
});

test('a field named like one pino writes is renamed, never duplicated', async () => {
  const { logger, lines, raw: rawLines } = capture();
  logger.info({ name: 'biz1', level: 3, msg: 'x', time: 1, other: true }, 'fields');
  await new Promise((r) => setImmediate(r));
  const raw = rawLines[0]!;
  assert.deepEqual({ ...lines[0], time: undefined }, { level: 'info', time: undefined, name: 'module-controller-test', objectName: 'biz1', levelValue: 3, msgValue: 'x', timeValue: 1, other: true, msg: 'fields' });
  for (const key of ['name', 'level', 'time', 'msg']) assert.equal(raw.match(new RegExp(`"${key}":`, 'g'))?.length, 1, `${key} once in ${raw}`);
});

/** Runs a child Node process that logs through createLogger('info') to its stdout; resolves with what it wrote and when. */
function runLoggingChild(script: string): Promise<{ lines: Array<{ at: number; text: string }>; exitedAt: number }> {
  const here = new URL('../../core/logger.ts', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(here)};\n${script}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const t0 = Date.now();
  const lines: Array<{ at: number; text: string }> = [];
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const text of parts) lines.push({ at: Date.now() - t0, text });
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve({ lines, exitedAt: Date.now() - t0 }));
  });
}

test('stdout is batched, yet a lone line goes out long before the process ends, and lines logged just before exit are kept', async () => {
  assert.ok(BUFFERED_STDOUT.minLength > 0 && BUFFERED_STDOUT.periodicFlush > 0 && BUFFERED_STDOUT.periodicFlush <= 1_000);
  // One line, then 3 s alive: it must not wait for the buffer to fill or for the exit.
  const lone = await runLoggingChild(`const l = createLogger('info', 'lone'); l.info('first'); setTimeout(() => { l.info('second'); }, 3000);`);
  const first = lone.lines.find((l) => l.text.includes('"msg":"first"'));
  assert.ok(first, `the first line was written: ${JSON.stringify(lone.lines)}`);
  assert.ok(first.at < lone.exitedAt - 1_500, `written at ${first.at} ms, long before the exit at ${lone.exitedAt} ms`);
  assert.ok(lone.lines.some((l) => l.text.includes('"msg":"second"')), 'the line logged as the process ended was written');
  // Many lines and an immediate process.exit: every line is flushed synchronously on exit.
  const burst = await runLoggingChild(`const l = createLogger('info', 'burst'); for (let i = 0; i < 500; i++) l.info({ i }, 'line'); process.exit(0);`);
  assert.deepEqual(burst.lines.map((l) => (JSON.parse(l.text) as { i: number }).i), Array.from({ length: 500 }, (_, i) => i));
});
