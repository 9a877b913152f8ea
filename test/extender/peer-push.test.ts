import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PeerPush, PEER_PATH } from '../../extender/peer-push.ts';
import { createExtenderMetrics } from '../../extender/metrics.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import type { PeerEndpoint } from '../../extender/peer-endpoints.ts';

const placement = { podUid: 'u1', nodeName: 'virtual-node-1', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }], ttlMs: 30_000 };
const endpoint = (port: number): PeerEndpoint => ({ key: `127.0.0.1:${port}`, address: '127.0.0.1', port, podName: `ext-${port}` });

async function serve(handler: http.RequestListener, port = 0): Promise<http.Server & { port: number }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

async function stop(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

function create(timeoutMs = 5_000) {
  const registry = createRegistry(false);
  const metrics = createExtenderMetrics(registry, () => 0);
  return { push: new PeerPush({ logger: createSilentLogger(), metrics, timeoutMs }), registry };
}

test('a push reaches every peer before it resolves, as the placement body', async () => {
  const bodies: string[] = [];
  const handler: http.RequestListener = (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      assert.equal(req.url, PEER_PATH);
      bodies.push(body);
      res.writeHead(204).end();
    });
  };
  const a = await serve(handler);
  const b = await serve(handler);
  const { push, registry } = create();
  try {
    await push.push(placement);
    assert.equal(bodies.length, 0, 'no peers yet: nothing sent');
    push.setPeers([endpoint(a.port), endpoint(b.port)]);
    await push.push(placement);
    assert.equal(bodies.length, 2, 'both peers had it when the push resolved');
    assert.deepEqual(JSON.parse(bodies[0]!), { placements: [placement] });
    assert.deepEqual(push.peers.map((p) => p.up), [true, true]);
    assert.match(await registry.metrics(), /module_controller_extender_peer_pushes_total\{outcome="ok"\} 2/);
  } finally {
    push.close();
    await stop(a);
    await stop(b);
  }
});

test('a peer that refuses is marked down, no longer waited for, and up again once it answers', async () => {
  const gone = await serve(() => undefined);
  const port = gone.port;
  await stop(gone);
  const { push, registry } = create();
  push.setPeers([endpoint(port)]);
  await push.push(placement);
  assert.deepEqual(push.peers.map((p) => p.up), [false]);
  const metrics = await registry.metrics();
  assert.match(metrics, /module_controller_extender_peer_pushes_total\{outcome="error"\} 1/);
  assert.match(metrics, /module_controller_extender_peers\{state="down"\} 1/);
  // Back on the same port: the next push goes out without being waited for, and its success brings the peer back.
  let got = 0;
  let answered!: () => void;
  const seen = new Promise<void>((resolve) => (answered = resolve));
  const back = await serve((_req, res) => {
    got++;
    res.writeHead(204).end();
    answered();
  }, port);
  try {
    await push.push(placement);
    await seen;
    await new Promise((r) => setImmediate(r));
    assert.equal(got, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(push.peers.map((p) => p.up), [true]);
    assert.match(await registry.metrics(), /module_controller_extender_peers\{state="up"\} 1/);
  } finally {
    push.close();
    await stop(back);
  }
});

test('a peer that never answers: the push ends at the timeout, the peer is down, and later pushes do not wait for it', async () => {
  const hung: http.ServerResponse[] = [];
  const slow = await serve((_req, res) => void hung.push(res));
  const { push, registry } = create(50);
  try {
    push.setPeers([endpoint(slow.port)]);
    await push.push(placement);
    assert.deepEqual(push.peers.map((p) => p.up), [false]);
    assert.match(await registry.metrics(), /module_controller_extender_peer_pushes_total\{outcome="timeout"\} 1/);
    // Resolves although the peer still answers nothing; one probe at a time, the rest skipped.
    await push.push(placement);
    await push.push(placement);
    assert.match(await registry.metrics(), /module_controller_extender_peer_pushes_total\{outcome="skipped"\} 1/);
    // A peer that left is forgotten.
    push.setPeers([]);
    assert.deepEqual(push.peers, []);
  } finally {
    push.close();
    for (const res of hung) res.destroy();
    await stop(slow);
  }
});
