/**
 * The benchmark's extender: the real app over HTTP on a loopback port, in its own process started
 * with the shipped runtime options (extender/runtime.ts), its snapshot holding the benchmark's
 * cluster (extender-fixture.ts) instead of informers. Driven over IPC by bench/extender.ts:
 * `{ nodes, peerPort? }` → `{ port }` (with `peerPort`, every assumption is pushed to the benchmark
 * extender there before the answer, as replicas do: extender/peer-push.ts); `'times'` → the server time of every request since the last ask (ms,
 * from the request's arrival to the last byte of the answer handed to the socket: body read,
 * decode, decide, encode), by path.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExtenderApp } from '../extender/app.ts';
import { createExtenderMetrics } from '../extender/metrics.ts';
import { createSilentLogger } from '../core/logger.ts';
import { createRegistry } from '../core/ops-routes.ts';
import { benchSnapshot } from './extender-fixture.ts';
import { PeerPush } from '../extender/peer-push.ts';
import type { Assumption } from '../extender/decisions.ts';

export interface ServerTimes {
  readonly filter: number[];
  readonly prioritize: number[];
}

let times: ServerTimes = { filter: [], prioritize: [] };

process.on('message', (msg: { nodes: number; peerPort?: number } | 'times') => {
  if (msg === 'times') {
    process.send!(times);
    times = { filter: [], prioritize: [] };
    return;
  }
  const snapshot = benchSnapshot(msg.nodes);
  const registry = createRegistry(false);
  const metrics = createExtenderMetrics(registry, () => 0);
  // With a peer (another benchmark extender): every assumption is pushed to it before the answer, as replicas do.
  const push = msg.peerPort === undefined ? undefined : new PeerPush({ logger: createSilentLogger(), metrics, timeoutMs: 50 });
  push?.setPeers([{ key: `127.0.0.1:${msg.peerPort}`, address: '127.0.0.1', port: msg.peerPort!, podName: 'peer' }]);
  const app = createExtenderApp({
    view: snapshot,
    config: { maxModulesPerBase: 100 },
    logger: createSilentLogger(),
    registry,
    metrics,
    maxBodyBytes: 256 * 1024 * 1024,
    ...(push ? { share: (a: Assumption) => push.push({ ...a, ttlMs: 30_000 }) } : {}),
  });
  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    const list = req.url === '/filter' ? times.filter : req.url === '/prioritize' ? times.prioritize : undefined;
    res.on('finish', () => list?.push(performance.now() - t0));
    app(req, res);
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
});
process.on('disconnect', () => process.exit(0));
