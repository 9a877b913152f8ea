/**
 * Load benchmark for the webhook's /mutate over HTTPS keep-alive, next to a bare Node HTTPS JSON
 * echo of the same payload (the reference), in the same run. Each server runs in its own process
 * (one JS thread = one core); the load generator runs here, a minimal HTTP/1.1-over-TLS client so
 * the client is not the bottleneck. Loopback only; bounded in time (about 45 s by default).
 *
 *   node bench/webhook-mutate.ts [--seconds 4] [--rates 1000,2500,5000|none] [--connections 16] [--rounds 1]
 *
 * Fixed-rate phases are open loop: requests are released on schedule whatever the server does;
 * latency is from writing the request to reading the whole response. When every connection is busy,
 * released requests wait in the client (the "waited" column: the server is saturated). The max
 * phase is closed loop. "per core" = throughput ÷ the server process's CPU share, the cost that
 * does not depend on how busy the rest of the machine is.
 */
import { fork, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import os from 'node:os';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSilentLogger } from '../core/logger.ts';
import { createRegistry } from '../core/ops-routes.ts';
import { listen } from '../core/http-server.ts';
import { createCa, issueCert, type KeyPair } from '../core/pki.ts';
import { createWebhookApp } from '../webhook/app.ts';
import { DEFAULT_POLICY } from '../webhook/policy.ts';
import { moduleContainer, replicaSetPod, review } from '../test/webhook/fixtures.ts';

type Target = 'mutate' | 'echo';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** A realistic module pod: two modules, base labels, the defaults the API server adds. */
function payload(): string {
  const pod = replicaSetPod({ labels: { 'base.koupleless.io/name': 'base1', 'base.koupleless.io/version': '1.0.0' }, containers: [moduleContainer('biz1', '0.0.1-SNAPSHOT'), moduleContainer('biz2', '1.2.3')] });
  return JSON.stringify(review(pod));
}

// ---------- server side (child process) ----------

async function serve(kind: Target, pair: KeyPair): Promise<void> {
  const tlsOpts = { cert: pair.certPem, key: pair.keyPem };
  let port: number;
  if (kind === 'mutate') {
    const app = createWebhookApp({ policy: DEFAULT_POLICY, registry: createRegistry(false), logger: createSilentLogger() });
    port = (await listen(app, { port: 0, host: '127.0.0.1', tls: tlsOpts, keepAliveTimeoutMs: 120_000 })).port;
  } else {
    const server = https.createServer(tlsOpts, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as import('node:net').AddressInfo).port;
  }
  let mark = process.cpuUsage();
  process.on('message', (m: string) => {
    if (m === 'cpu-start') mark = process.cpuUsage();
    if (m === 'cpu-stop') {
      const u = process.cpuUsage(mark);
      process.send!({ cpuMs: (u.user + u.system) / 1000 });
    }
  });
  process.send!({ port });
}

// ---------- client side ----------

interface Conn {
  socket: tls.TLSSocket;
  busy: boolean;
  buf: Buffer;
  startedAt: number;
  onDone?: (ok: boolean) => void;
}

function connect(port: number, ca: string, request: Buffer): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => resolve(conn));
    socket.setNoDelay(true);
    const conn: Conn = { socket, busy: false, buf: Buffer.alloc(0), startedAt: 0 };
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      conn.buf = conn.buf.length === 0 ? d : Buffer.concat([conn.buf, d]);
      const end = conn.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = conn.buf.subarray(0, end).toString('latin1');
      const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (conn.buf.length < end + 4 + len) return;
      const ok = head.startsWith('HTTP/1.1 200');
      conn.buf = conn.buf.subarray(end + 4 + len);
      conn.busy = false;
      const done = conn.onDone;
      conn.onDone = undefined;
      done?.(ok);
    });
    void request;
  });
}

function send(conn: Conn, request: Buffer, onDone: (ok: boolean) => void): void {
  conn.busy = true;
  conn.onDone = onDone;
  conn.socket.write(request);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface PhaseResult {
  readonly target: Target;
  readonly phase: string;
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly serverCpu: number;
  /** Requests that found every connection busy when released (the server is not keeping up). */
  readonly waited: number;
}

async function runPhase(target: Target, child: ChildProcess, conns: Conn[], request: Buffer, seconds: number, rate: number | 'max'): Promise<PhaseResult> {
  const latencies: number[] = [];
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let waited = 0;
  const cpu = new Promise<number>((resolve) => child.once('message', (m: { cpuMs: number }) => resolve(m.cpuMs)));
  child.send('cpu-start');
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const finish = (writtenAt: number) => (ok: boolean) => {
    completed += 1;
    if (!ok) errors += 1;
    latencies.push(performance.now() - writtenAt);
  };
  if (rate === 'max') {
    const loop = (c: Conn) => {
      if (performance.now() >= deadline) return;
      sent += 1;
      const at = performance.now();
      send(c, request, (ok) => {
        finish(at)(ok);
        loop(c);
      });
    };
    conns.forEach(loop);
  } else {
    // Requests released on schedule and not yet written; `blocked` once they found every connection busy.
    const released: Array<{ blocked: boolean }> = [];
    const pump = () => {
      for (const c of conns) {
        if (released.length === 0) return;
        if (c.busy) continue;
        if (released.shift()!.blocked) waited += 1;
        const at = performance.now();
        send(c, request, (ok) => {
          finish(at)(ok);
          pump();
        });
      }
      for (const r of released) r.blocked = true;
    };
    while (performance.now() < deadline) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; sent < due; sent++) released.push({ blocked: false });
      pump();
      await sleep(1);
    }
  }
  while (performance.now() < deadline) await sleep(10);
  const elapsed = (performance.now() - t0) / 1000;
  const drainBy = performance.now() + 5_000;
  while (completed < sent && performance.now() < drainBy) await sleep(5);
  child.send('cpu-stop');
  const cpuMs = await cpu;
  const sorted = Float64Array.from(latencies).sort();
  return {
    target,
    phase: rate === 'max' ? 'max' : `${rate}/s`,
    sent,
    completed,
    errors,
    throughput: completed / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    serverCpu: cpuMs / ((performance.now() - t0) || 1),
    waited,
  };
}

async function bench(target: Target, pair: KeyPair, caPem: string, body: string, opts: { seconds: number; rates: number[]; connections: number }): Promise<PhaseResult[]> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', target, '--pair', JSON.stringify(pair)], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m));
      child.once('exit', (code) => reject(new Error(`${target} server exited with ${code}`)));
    });
    const request = Buffer.from(`POST /${target === 'mutate' ? 'mutate' : 'echo'} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const conns = await Promise.all(Array.from({ length: opts.connections }, () => connect(port, caPem, request)));
    await runPhase(target, child, conns, request, 1, 'max'); // warm-up (JIT, TLS sessions)
    const out: PhaseResult[] = [];
    for (const rate of opts.rates) out.push(await runPhase(target, child, conns, request, opts.seconds, rate));
    out.push(await runPhase(target, child, conns, request, opts.seconds, 'max'));
    for (const c of conns) c.socket.destroy();
    return out;
  } finally {
    child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '4'));
  const rates = arg('rates', '1000,2500,5000').split(',').filter((r) => r && r !== 'none').map(Number);
  const connections = Number(arg('connections', '16'));
  const now = new Date();
  const ca = createCa('bench-ca', 3_600_000, now);
  const pair = issueCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ips: ['127.0.0.1'], validForMs: 3_600_000, usage: 'server', now });
  const body = payload();
  const cpus = os.cpus();
  process.stdout.write(`machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}\n`);
  process.stdout.write(`payload: module-pod AdmissionReview, ${Buffer.byteLength(body)} bytes; ${connections} keep-alive TLS connections; ${seconds} s per phase\n\n`);
  // Alternate the targets (echo, mutate, echo, mutate…) so a change in machine load hits both alike.
  const rounds = Number(arg('rounds', '1'));
  const results: PhaseResult[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const target of ['echo', 'mutate'] as const) results.push(...(await bench(target, pair, ca.certPem, body, { seconds, rates, connections })));
  }
  const rows = results.map((r) => `${r.target.padEnd(7)} ${r.phase.padEnd(8)} ${r.throughput.toFixed(0).padStart(7)}/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  max ${r.max.toFixed(1).padStart(6)} ms  server CPU ${(r.serverCpu * 100).toFixed(0).padStart(3)}%  per core ${(r.throughput / Math.max(r.serverCpu, 0.01)).toFixed(0).padStart(6)}/s  waited ${r.waited}  errors ${r.errors}${r.completed < r.sent ? `  unanswered ${r.sent - r.completed}` : ''}`);
  process.stdout.write(`target  phase    throughput   latency (write → response)\n${rows.join('\n')}\n\n`);
  // Best round per target: other load on the machine only ever makes a round slower.
  const max = (t: Target) => results.filter((r) => r.target === t && r.phase === 'max').sort((a, b) => b.throughput - a.throughput)[0]!;
  const perCore = (r: PhaseResult) => r.throughput / Math.max(r.serverCpu, 0.01);
  process.stdout.write(`mutate max ${max('mutate').throughput.toFixed(0)}/s = ${(max('mutate').throughput / max('echo').throughput).toFixed(2)}× echo (${max('echo').throughput.toFixed(0)}/s); per core of server CPU: mutate ${perCore(max('mutate')).toFixed(0)}/s, echo ${perCore(max('echo')).toFixed(0)}/s\n`);
  const at1000 = results.filter((r) => r.target === 'mutate' && r.phase === '1000/s').sort((a, b) => a.p99 - b.p99)[0];
  if (at1000) process.stdout.write(`mutate p99 at 1000/s: ${at1000.p99.toFixed(2)} ms\n`);
}

if (process.argv.includes('--serve')) {
  const pair = JSON.parse(arg('pair', '{}')) as KeyPair;
  await serve(arg('serve', 'mutate') as Target, pair);
} else {
  await main();
}
