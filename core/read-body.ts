/**
 * Reads a request body into one Buffer, refusing more than `limit` bytes. A few lines instead of a
 * body-parser middleware: on the admission and extender hot paths the middleware chain cost more
 * than the decision itself (bench/webhook-mutate.ts, bench/extender.ts). Shared by the webhook and
 * the scheduler extender.
 */
import type { IncomingMessage } from 'node:http';
import type { Allocate } from './buffer-pool.ts';

export class BodyTooLargeError extends Error {
  readonly status = 413;
  constructor(limit: number) {
    super(`the request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Bodies up to this size with a declared length go into a reused buffer, sized before any byte
 * arrives; larger ones grow as their chunks come, so a client declaring a huge body and sending
 * nothing holds no memory for it.
 */
export const POOLED_BODY_LIMIT = 1024 * 1024;

/**
 * With `alloc` (a BufferPool's take) a body of declared length up to POOLED_BODY_LIMIT is copied
 * straight into a reused buffer instead of being joined from its chunks into a new one; the caller
 * gives it back when done.
 */
export function readBody(req: IncomingMessage, limit: number, alloc?: Allocate): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  if (alloc && Number.isSafeInteger(declared) && declared > 0 && declared <= POOLED_BODY_LIMIT) return readInto(req, alloc(declared), declared);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** The body of a request with a content-length, into `into` (HTTP framing guarantees at most `length` bytes). */
function readInto(req: IncomingMessage, into: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      const room = length - size;
      into.set(chunk.length <= room ? chunk : chunk.subarray(0, room), size);
      size += Math.min(chunk.length, room);
    });
    req.on('end', () => resolve(into.subarray(0, size)));
    req.on('error', reject);
  });
}
