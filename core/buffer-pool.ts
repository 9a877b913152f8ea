/**
 * Large buffers reused from request to request (request bodies, extender answers).
 *
 * A fresh buffer of a few hundred kilobytes per request costs twice: fresh pages from the kernel,
 * and memory outside the JavaScript heap that only a full (mark-compact) collection gives back;
 * at hundreds of requests per second V8 then runs one every few hundred milliseconds, marking the
 * whole heap on a second core (bench/extender.ts, docs/extender.md). A buffer comes back only when
 * its user says it is done with it (`give`); one never given back is simply left to the GC.
 */

/** A Buffer of at least `size` bytes; the caller uses a prefix of it. */
export type Allocate = (size: number) => Buffer;

export class BufferPool {
  readonly #free: Buffer[] = [];
  /** The memory `take` allocated: only that comes back (a slice of Node's shared pool must never be handed out twice). */
  readonly #ours = new WeakSet<ArrayBufferLike>();
  readonly #keep: number;
  readonly #largest: number;

  /** Keeps at most `keep` idle buffers, none larger than `largest` bytes. */
  constructor(keep = 4, largest = 16 * 1024 * 1024) {
    this.#keep = keep;
    this.#largest = largest;
  }

  readonly take: Allocate = (size) => {
    const i = this.#free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.#free.splice(i, 1)[0]!;
    // Whole ArrayBuffers (not slices of Node's shared pool), rounded up so sizes that grow a little still fit.
    const fresh = Buffer.allocUnsafeSlow(Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(Math.max(1, size)))));
    this.#ours.add(fresh.buffer);
    return fresh;
  };

  /** Returns the memory behind a buffer from `take` (any view of it will do). */
  give(used: Buffer): void {
    const whole = used.buffer;
    if (!this.#ours.has(whole) || whole.byteLength > this.#largest || this.#free.length >= this.#keep) return;
    if (this.#free.some((b) => b.buffer === whole)) return;
    this.#free.push(Buffer.from(whole, 0, whole.byteLength));
  }

  get idle(): number {
    return this.#free.length;
  }
}
