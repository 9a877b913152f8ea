/**
 * The benchmark's scheduler side, run in a worker thread (its own event loop and core) so the
 * extender's thread does only the extender's work, as with a real kube-scheduler process: POST
 * /filter, then /prioritize with the feasible nodes, over one keep-alive loopback connection.
 * Answers are read but not parsed (decoding them is the scheduler's cost).
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

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

const job = workerData as ClientJob;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(path: string, body: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: '127.0.0.1', port: job.port, path, method: body === undefined ? 'GET' : 'POST', agent, headers }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const timings: ClientTimings = { both: [], filter: [] };
for (let i = 0; i < job.warmup + job.iterations; i++) {
  const t0 = performance.now();
  await (job.kind === 'pair' ? post('/filter', job.filterBody) : post('/healthz', undefined));
  const t1 = performance.now();
  if (job.kind === 'pair') await post('/prioritize', job.prioritizeBody);
  const t2 = performance.now();
  if (i >= job.warmup) {
    timings.both.push(t2 - t0);
    timings.filter.push(t1 - t0);
  }
}
agent.destroy();
parentPort!.postMessage(timings);
