/**
 * The benchmark's scheduler side, run as its own process (its own event loop, heap and collector)
 * so the extender's process does only the extender's work, as with a real kube-scheduler: POST
 * /filter, then /prioritize with the feasible nodes, over one keep-alive loopback connection.
 *
 * A minimal HTTP/1.1 client on a raw socket: each request's bytes (head and body) are built once,
 * and an answer counts as received when its last byte (by content-length) has arrived. Answers are
 * not parsed: decoding them is the scheduler's cost, in Go. Node's own http client was tried first
 * and its garbage (streams, parsers, header objects, old-space collections in this thread) showed
 * up as milliseconds of round trip that neither the extender nor a Go scheduler would spend.
 */
import net from 'node:net';

export interface ClientJob {
  /** `pair`: filter then prioritize; `healthz`: GET /healthz, the loopback HTTP floor. */
  readonly kind: 'pair' | 'healthz';
  readonly port: number;
  readonly filterBody: string;
  readonly prioritizeBody: string;
  readonly iterations: number;
  readonly warmup: number;
}

export interface ClientTimings {
  /** Milliseconds per filter+prioritize pair, and per filter alone. */
  readonly both: number[];
  readonly filter: number[];
}

// The job comes as JSON on stdin, the timings go back as JSON on stdout.
const input: Buffer[] = [];
for await (const chunk of process.stdin) input.push(chunk as Buffer);
const job = JSON.parse(Buffer.concat(input).toString('utf8')) as ClientJob;

function toRequest(method: string, path: string, body: string | undefined): Buffer {
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body, 'utf8');
  const head = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${job.port}`, 'Accept-Encoding: gzip', 'User-Agent: extender-bench'];
  if (body !== undefined) head.push('Content-Type: application/json', `Content-Length: ${bytes.length}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), bytes]);
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** One connection, one request at a time: write, then wait for the whole answer. */
class Connection {
  readonly #socket: net.Socket;
  #head: Buffer | undefined;
  #remaining = -1;
  #done: ((err?: Error) => void) | undefined;

  private constructor(port: number, connected: () => void) {
    // Reads land in one reused buffer (`onread`): no new memory per chunk, so this thread's
    // collector stays out of the timings.
    const buffer = Buffer.allocUnsafe(256 * 1024);
    const onread = {
      buffer,
      callback: (n: number) => {
        this.#read(buffer.subarray(0, n));
        return true;
      },
    };
    const socket = net.connect({ port, host: '127.0.0.1', onread }, connected);
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('error', (err) => this.#finish(err));
    socket.on('close', () => this.#finish(new Error('the extender closed the connection')));
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const c: Connection = new Connection(port, () => resolve(c));
      c.#socket.once('error', reject);
    });
  }

  send(request: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#head = undefined;
      this.#remaining = -1;
      this.#done = (err) => (err ? reject(err) : resolve());
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#done = undefined;
    this.#socket.destroy();
  }

  #finish(err?: Error): void {
    const done = this.#done;
    this.#done = undefined;
    done?.(err);
  }

  #read(chunk: Buffer): void {
    let body = chunk;
    if (this.#remaining < 0) {
      // Still in the head: it is small, so joining its pieces costs nothing (copied: the read buffer is reused).
      const head = Buffer.concat(this.#head ? [this.#head, chunk] : [chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        this.#head = head;
        return;
      }
      const text = head.toString('latin1', 0, end);
      const status = Number(text.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      if (status !== 200 || !length) {
        this.#finish(new Error(`unexpected answer: ${text.split('\r\n', 1)[0]}${length ? '' : ' (no content-length)'}`));
        return;
      }
      this.#remaining = Number(length[1]);
      body = head.subarray(end + HEAD_END.length);
    }
    this.#remaining -= body.length;
    if (this.#remaining <= 0) this.#finish();
  }
}

const connection = await Connection.open(job.port);
const first = job.kind === 'pair' ? toRequest('POST', '/filter', job.filterBody) : toRequest('GET', '/healthz', undefined);
const second = toRequest('POST', '/prioritize', job.prioritizeBody);
const timings: ClientTimings = { both: [], filter: [] };
for (let i = 0; i < job.warmup + job.iterations; i++) {
  const t0 = performance.now();
  await connection.send(first);
  const t1 = performance.now();
  if (job.kind === 'pair') await connection.send(second);
  const t2 = performance.now();
  if (i >= job.warmup) {
    timings.both.push(t2 - t0);
    timings.filter.push(t1 - t0);
  }
}
connection.close();
process.stdout.write(JSON.stringify(timings));
