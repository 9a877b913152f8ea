import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLargeError, POOLED_BODY_LIMIT, readBody } from '../../core/read-body.ts';
import { BufferPool } from '../../core/buffer-pool.ts';

/** A real server that reads each body with readBody and answers what it read (or the error). */
async function withServer(limit: number, alloc: ((size: number) => Buffer) | undefined, run: (port: number) => Promise<void>): Promise<void> {
  const server = http.createServer((req, res) => {
    readBody(req, limit, alloc).then(
      (body) => res.end(JSON.stringify({ length: body.length, text: body.toString('utf8') })),
      (err: Error) => res.writeHead(err instanceof BodyTooLargeError ? 413 : 400).end(err.message),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await run((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

function send(port: number, body: string, opts: { chunked?: boolean; declare?: number } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, number> = {};
    if (!opts.chunked) headers['content-length'] = opts.declare ?? Buffer.byteLength(body);
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    if (opts.chunked) for (let i = 0; i < body.length; i += 1000) req.write(body.slice(i, i + 1000));
    req.end(opts.chunked ? undefined : body);
  });
}

test('a declared body is read into a pooled buffer; chunked and large ones are joined from their chunks', async () => {
  const pool = new BufferPool();
  const sizes: number[] = [];
  const alloc = (size: number) => {
    sizes.push(size);
    return pool.take(size);
  };
  const body = `{"text":"${'ü'.repeat(30_000)}"}`;
  await withServer(8 * 1024 * 1024, alloc, async (port) => {
    const declared = JSON.parse((await send(port, body)).text) as { length: number; text: string };
    assert.equal(declared.text, body);
    assert.equal(declared.length, Buffer.byteLength(body));
    assert.deepEqual(sizes, [Buffer.byteLength(body)], 'one buffer of the declared size');
    const chunked = JSON.parse((await send(port, body, { chunked: true })).text) as { text: string };
    assert.equal(chunked.text, body);
    const large = 'x'.repeat(POOLED_BODY_LIMIT + 10);
    const big = JSON.parse((await send(port, large)).text) as { length: number };
    assert.equal(big.length, large.length);
    assert.equal(sizes.length, 1, 'no buffer is taken for chunked bodies or bodies above the pooled limit');
  });
});

test('a body over the limit is refused, declared or not', async () => {
  await withServer(1000, (size) => Buffer.allocUnsafe(size), async (port) => {
    const declared = await send(port, 'x'.repeat(2000));
    assert.equal(declared.status, 413);
    const chunked = await send(port, 'x'.repeat(5000), { chunked: true });
    assert.equal(chunked.status, 413);
    assert.match(chunked.text, /larger than 1000 bytes/);
  });
});
