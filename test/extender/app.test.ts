import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { createExtenderApp } from '../../extender/app.ts';
import { createExtenderMetrics } from '../../extender/metrics.ts';
import { ClusterSnapshot } from '../../extender/snapshot.ts';
import { PlacementMemory } from '../../extender/placement-memory.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { toNode, toPod } from './fixtures.ts';

function createApp(opts: { synced?: boolean; maxBodyBytes?: number } = {}) {
  const snapshot = new ClusterSnapshot(new PlacementMemory(30_000, Date.now), ['informers']);
  if (opts.synced !== false) snapshot.markSynced('informers', true);
  for (const n of ['virtual-node-a', 'virtual-node-b', 'virtual-node-c']) snapshot.applyNode('add', toNode(n));
  snapshot.applyNode('add', toNode('virtual-node-old', { baseVersion: '0.9.0' }));
  const registry = createRegistry(false);
  const metrics = createExtenderMetrics(registry, () => snapshot.assumedCount);
  const app = createExtenderApp({ view: snapshot, config: { maxModulesPerBase: 100 }, logger: createSilentLogger(), registry, metrics, maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024 });
  return { app, snapshot };
}

// What kube-scheduler's json.Marshal(ExtenderArgs) produces (Go field names, the unused one null).
const cacheArgs = (pod = toPod(), names = ['virtual-node-a', 'virtual-node-b', 'virtual-node-old', 'real-node']) => ({ Pod: pod, Nodes: null, NodeNames: names });
const fullArgs = (pod = toPod()) => ({ Pod: pod, Nodes: { metadata: {}, items: [toNode('virtual-node-a'), toNode('virtual-node-old', { baseVersion: '0.9.0' })] }, NodeNames: null });

test('POST /filter, nodeCacheCapable: answers in the Go casing with reasons', async () => {
  const { app } = createApp();
  const res = await request(app).post('/filter').send(cacheArgs()).expect(200).expect('content-type', /json/);
  assert.deepEqual(Object.keys(res.body).sort(), ['Error', 'FailedAndUnresolvableNodes', 'FailedNodes', 'NodeNames', 'Nodes']);
  assert.deepEqual(res.body.NodeNames, ['virtual-node-a', 'virtual-node-b']);
  assert.equal(res.body.Nodes, null);
  assert.deepEqual(res.body.FailedNodes, {});
  assert.match(res.body.FailedAndUnresolvableNodes['virtual-node-old'], /base does not match the module: needs base\.koupleless\.io\/version=1\.0\.0/);
  assert.match(res.body.FailedAndUnresolvableNodes['real-node'], /not a Koupleless virtual node/);
  assert.equal(res.body.Error, '');
});

test('POST /filter, full Node objects: answers the NodeList', async () => {
  const { app } = createApp();
  const res = await request(app).post('/filter').send(fullArgs()).expect(200);
  assert.equal(res.body.NodeNames, null);
  assert.deepEqual(res.body.Nodes.items.map((n: { metadata: { name: string } }) => n.metadata.name), ['virtual-node-a']);
  assert.deepEqual(res.body.Nodes.items[0].metadata.labels, toNode('virtual-node-a').metadata!.labels);
  assert.ok(res.body.FailedAndUnresolvableNodes['virtual-node-old']);
});

test('lower-case field names and a non-JSON content type are accepted', async () => {
  const { app } = createApp();
  const res = await request(app).post('/filter').set('content-type', 'text/plain').send(JSON.stringify({ pod: toPod(), nodenames: ['virtual-node-c'] })).expect(200);
  assert.deepEqual(res.body.NodeNames, ['virtual-node-c']);
});

test('POST /prioritize: [{Host, Score}] for exactly the names sent', async () => {
  const { app } = createApp();
  const res = await request(app).post('/prioritize').send(cacheArgs(toPod(), ['virtual-node-b', 'virtual-node-a'])).expect(200);
  assert.equal(res.body.length, 2);
  assert.deepEqual(res.body.map((h: { Host: string }) => h.Host), ['virtual-node-b', 'virtual-node-a']);
  for (const h of res.body) assert.deepEqual(Object.keys(h).sort(), ['Host', 'Score']);
  assert.deepEqual(res.body.map((h: { Score: number }) => h.Score).sort((x: number, y: number) => x - y), [9, 10]);
  const full = await request(app).post('/prioritize').send(fullArgs()).expect(200);
  assert.deepEqual(full.body.map((h: { Host: string }) => h.Host), ['virtual-node-a', 'virtual-node-old']);
});

test('back-to-back replicas over HTTP spread, before any bind is visible', async () => {
  const { app } = createApp();
  const names = ['virtual-node-a', 'virtual-node-b', 'virtual-node-c'];
  const chosen: string[] = [];
  for (let i = 0; i < 4; i++) {
    const pod = toPod({ uid: `replica-${i}` });
    const f = await request(app).post('/filter').send(cacheArgs(pod, names)).expect(200);
    const feasible: string[] = f.body.NodeNames;
    if (feasible.length === 0) {
      assert.equal(i, 3);
      assert.deepEqual(Object.values(f.body.FailedNodes), Array(3).fill('base already runs module demo:1.0.0'));
      continue;
    }
    if (feasible.length === 1) chosen.push(feasible[0]!);
    else {
      const p = await request(app).post('/prioritize').send(cacheArgs(pod, feasible)).expect(200);
      chosen.push([...p.body].sort((x: { Score: number }, y: { Score: number }) => y.Score - x.Score)[0].Host);
    }
  }
  assert.deepEqual([...chosen].sort(), names);
});

test('malformed requests always get a well-formed answer with Error', async () => {
  const { app } = createApp();
  const bad = await request(app).post('/filter').set('content-type', 'application/json').send('{"Pod": ').expect(200);
  assert.deepEqual(Object.keys(bad.body).sort(), ['Error', 'FailedAndUnresolvableNodes', 'FailedNodes', 'NodeNames', 'Nodes']);
  assert.match(bad.body.Error, /^EXTENDER_BAD_REQUEST: the body is not valid ExtenderArgs JSON/);
  for (const body of [{}, { Pod: toPod() }, { Pod: toPod(), NodeNames: [1] }, [], 'null']) {
    const r = await request(app).post('/filter').set('content-type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body)).expect(200);
    assert.match(r.body.Error, /^EXTENDER_BAD_REQUEST: /, JSON.stringify(body));
    assert.equal(r.body.NodeNames, null);
  }
  const empty = await request(app).post('/filter').expect(200);
  assert.match(empty.body.Error, /EXTENDER_BAD_REQUEST/);
  const p = await request(app).post('/prioritize').send({ Pod: toPod() }).expect(400);
  assert.match(p.body.Error, /neither NodeNames nor Nodes/);
  const pj = await request(app).post('/prioritize').set('content-type', 'application/json').send('nope').expect(400);
  assert.match(pj.body.Error, /EXTENDER_BAD_REQUEST/);
});

test('a body over the limit is refused with Error, not a crash', async () => {
  const { app } = createApp({ maxBodyBytes: 2048 });
  const res = await request(app).post('/filter').send(cacheArgs(toPod(), Array.from({ length: 500 }, (_, i) => `n${i}`))).expect(200);
  assert.match(res.body.Error, /^EXTENDER_BAD_REQUEST: the request body is larger than the extender's limit of 2048 bytes \(--max-request-mb\)/);
});

test('before the informers sync: /readyz 503, filter answers Error, prioritize 503', async () => {
  const { app, snapshot } = createApp({ synced: false });
  await request(app).get('/healthz').expect(200);
  const ready = await request(app).get('/readyz').expect(503);
  assert.match(ready.text, /informers not synced/);
  const f = await request(app).post('/filter').send(cacheArgs()).expect(200);
  assert.match(f.body.Error, /module extender is starting/);
  await request(app).post('/prioritize').send(cacheArgs()).expect(503);
  snapshot.markSynced('informers', true);
  await request(app).get('/readyz').expect(200);
});

test('/metrics has per-verb latency and decisions by reason', async () => {
  const { app } = createApp();
  await request(app).post('/filter').send(cacheArgs()).expect(200);
  await request(app).post('/prioritize').send(cacheArgs()).expect(200);
  await request(app).post('/filter').send({}).expect(200);
  const m = await request(app).get('/metrics').expect(200);
  assert.match(m.text, /module_controller_extender_request_duration_seconds_count\{verb="filter",outcome="ok"\} 1/);
  assert.match(m.text, /module_controller_extender_request_duration_seconds_count\{verb="prioritize",outcome="ok"\} 1/);
  assert.match(m.text, /module_controller_extender_request_duration_seconds_count\{verb="filter",outcome="bad_request"\} 1/);
  assert.match(m.text, /module_controller_extender_node_decisions_total\{reason="fits"\} 2/);
  assert.match(m.text, /module_controller_extender_node_decisions_total\{reason="labels-mismatch"\} 1/);
  assert.match(m.text, /module_controller_extender_node_decisions_total\{reason="not-virtual-node"\} 1/);
  assert.match(m.text, /module_controller_extender_assumed_placements 1/);
});

test('garbage inside a well-formed ExtenderArgs still gets a well-formed answer', async () => {
  const { app } = createApp();
  const weird = [
    { metadata: { uid: 'w1' }, spec: { containers: 'not-a-list' } },
    { metadata: 7, spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: 5 } } } } },
    { spec: { nodeSelector: 'x', affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: 'x' }] } } } } },
  ];
  for (const pod of weird) {
    const f = await request(app).post('/filter').send({ Pod: pod, NodeNames: ['virtual-node-a'] }).expect(200);
    assert.deepEqual(Object.keys(f.body).sort(), ['Error', 'FailedAndUnresolvableNodes', 'FailedNodes', 'NodeNames', 'Nodes'], JSON.stringify(pod));
    if (f.body.Error === '') assert.ok(Array.isArray(f.body.NodeNames));
    else assert.match(f.body.Error, /^(EXTENDER_BAD_REQUEST|INTERNAL): /);
    const p = await request(app).post('/prioritize').send({ Pod: pod, NodeNames: ['virtual-node-a'] });
    assert.ok(p.status === 200 ? Array.isArray(p.body) : typeof p.body.Error === 'string', JSON.stringify(pod));
  }
});

test('the scheduler verbs take a query or a trailing slash; other methods and paths go to the ops routes', async () => {
  const { app } = createApp();
  const f = await request(app).post('/filter/?timeout=5s').send(cacheArgs()).expect(200);
  assert.deepEqual(f.body.NodeNames, ['virtual-node-a', 'virtual-node-b']);
  assert.equal(f.headers['content-length'], String(Buffer.byteLength(f.text)));
  const p = await request(app).post('/prioritize?x=1').send(cacheArgs(toPod(), ['virtual-node-a'])).expect(200);
  assert.deepEqual(p.body, [{ Host: 'virtual-node-a', Score: 10 }]);
  await request(app).get('/filter').expect(404);
  await request(app).post('/constructor').send({}).expect(404);
  await request(app).post('/__proto__').send({}).expect(404);
});

test('a prioritize body over the limit gets 413 with Error', async () => {
  const { app } = createApp({ maxBodyBytes: 2048 });
  const res = await request(app).post('/prioritize').send(cacheArgs(toPod(), Array.from({ length: 500 }, (_, i) => `n${i}`))).expect(413);
  assert.match(res.body.Error, /^EXTENDER_BAD_REQUEST: the request body is larger than the extender's limit of 2048 bytes \(--max-request-mb\)\. With nodeCacheCapable: true a request at 10,000 nodes is about 0\.5 MiB/);
});

test('a compressed body is read like express.json read it; an unknown encoding is a bad request', async () => {
  const { app } = createApp();
  const gz = gzipSync(JSON.stringify(cacheArgs()));
  const res = await request(app).post('/filter').set('content-type', 'application/octet-stream').set('content-encoding', 'gzip').send(gz).expect(200);
  assert.equal(res.body.Error, '');
  assert.deepEqual(res.body.NodeNames, ['virtual-node-a', 'virtual-node-b']);
  const odd = await request(app).post('/filter').set('content-encoding', 'zstd-ish').send(JSON.stringify(cacheArgs())).expect(200);
  assert.match(odd.body.Error, /^EXTENDER_BAD_REQUEST: .*content-encoding zstd-ish/);
  const { app: small } = createApp({ maxBodyBytes: 2048 });
  const bomb = await request(small).post('/filter').set('content-type', 'application/octet-stream').set('content-encoding', 'gzip').send(gzipSync(JSON.stringify(cacheArgs(toPod(), Array.from({ length: 500 }, (_, i) => `n${i}`))))).expect(200);
  assert.ok(gzipSync(JSON.stringify(cacheArgs(toPod(), Array.from({ length: 500 }, (_, i) => `n${i}`)))).length < 2048, 'small on the wire');
  assert.match(bomb.body.Error, /^EXTENDER_BAD_REQUEST: the request body is larger than the extender's limit of 2048 bytes \(--max-request-mb\).* once decompressed$/);
  const broken = await request(app).post('/filter').set('content-type', 'application/octet-stream').set('content-encoding', 'gzip').send(Buffer.from('not gzip')).expect(200);
  assert.match(broken.body.Error, /^EXTENDER_BAD_REQUEST: the gzip body could not be decompressed/);
});

test('call after call with reused lists and buffers, every answer is the plan for that moment', async () => {
  const { app, snapshot } = createApp();
  const names = Array.from({ length: 40 }, (_, i) => `virtual-node-${i}`);
  for (const n of names) snapshot.applyNode('add', toNode(n, { ready: n.endsWith('7') ? 'False' : 'True' }));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const post = async (path: string, body: unknown, chunked = false) => {
    const text = JSON.stringify(body);
    return new Promise<string>((resolve, reject) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (!chunked) headers['content-length'] = Buffer.byteLength(text);
      const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      });
      req.on('error', reject);
      // Chunked: the body arrives in pieces without a declared length.
      if (chunked) for (let i = 0; i < text.length; i += 100) req.write(text.slice(i, i + 100));
      req.end(chunked ? undefined : text);
    });
  };
  try {
    for (let round = 0; round < 12; round++) {
      const pod = toPod({ uid: `pod-${round}`, name: `demo-${round}`, modules: [{ bizName: round % 3 ? 'demo' : 'other', bizVersion: '1.0.0' }] });
      const filtered = JSON.parse(await post('/filter', { Pod: pod, Nodes: null, NodeNames: names }, round % 4 === 3)) as { NodeNames: string[]; FailedNodes: Record<string, string> };
      const expectedFeasible = names.filter((n) => !n.endsWith('7') && !(round > 0 && snapshot.loadOf(n, pod.metadata!.uid).modules.some((m) => m.bizName === (round % 3 ? 'demo' : 'other'))));
      assert.deepEqual(filtered.NodeNames, expectedFeasible, `round ${round}`);
      assert.deepEqual(Object.keys(filtered.FailedNodes).sort(), names.filter((n) => !expectedFeasible.includes(n)).sort());
      const scores = JSON.parse(await post('/prioritize', { Pod: pod, Nodes: null, NodeNames: filtered.NodeNames })) as Array<{ Host: string; Score: number }>;
      assert.deepEqual(scores.map((h) => h.Host), filtered.NodeNames);
      const top = scores.reduce((a, b) => (b.Score > a.Score ? b : a));
      assert.equal(top.Score, 10);
      // The scheduler binds where the extender ranked first; the informer shows it a moment later.
      snapshot.applyPod('informers', 'add', { ...pod, spec: { ...pod.spec!, nodeName: top.Host } });
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('prioritize after filter, names mode: the feasible list the filter answered is recognised, the answer as from a fresh app', async () => {
  const { app, snapshot } = createApp();
  // Sent only the prioritize requests: it never remembered a feasible list.
  const other = createApp();
  for (const [i, uid] of ['r1', 'r2', 'r3'].entries()) {
    const pod = toPod({ uid, name: uid, modules: [{ bizName: 'web', bizVersion: '1.0.0' }] });
    const names = ['virtual-node-a', 'virtual-node-b', 'virtual-node-old', 'virtual-node-c', 'real-node'];
    const filtered = await request(app).post('/filter').send(cacheArgs(pod, names)).expect(200);
    const scored = await request(app).post('/prioritize').send(cacheArgs(pod, filtered.body.NodeNames)).expect(200);
    const expected = await request(other.app).post('/prioritize').send(cacheArgs(pod, filtered.body.NodeNames)).expect(200);
    assert.deepEqual(scored.body, expected.body, `replica ${i}`);
    const best = (scored.body as Array<{ Host: string; Score: number }>).find((h) => h.Score === 10)!.Host;
    const bound = { ...pod, spec: { ...pod.spec!, nodeName: best } };
    snapshot.applyPod('informers', 'add', bound);
    other.snapshot.applyPod('informers', 'add', bound);
  }
});

test('POST /assumed-placements: a peer\'s placements count like our own; a bad push gets 400 and changes nothing', async () => {
  const { app, snapshot } = createApp();
  const placements = [{ podUid: 'peer-1', nodeName: 'virtual-node-a', modules: [{ bizName: 'demo', bizVersion: '1.0.0' }], ttlMs: 30_000 }];
  await request(app).post('/assumed-placements').send({ placements }).expect(204);
  assert.equal(snapshot.assumedCount, 1);
  const filtered = await request(app).post('/filter').send(cacheArgs(toPod(), ['virtual-node-a', 'virtual-node-b'])).expect(200);
  assert.deepEqual(filtered.body.NodeNames, ['virtual-node-b']);
  assert.match(filtered.body.FailedNodes['virtual-node-a'], /already runs module demo:1\.0\.0/);
  // One node left: the filter assumed this pod there too.
  assert.equal(snapshot.assumedCount, 2);
  const bad = await request(app).post('/assumed-placements').send({ placements: [{ ...placements[0], podUid: 'peer-2', nodeName: '' }] }).expect(400);
  assert.match(bad.body.Error, /^EXTENDER_BAD_REQUEST: placements\[0\]\.nodeName must be a node name/);
  await request(app).post('/assumed-placements').set('content-type', 'application/json').send('{not json').expect(400);
  await request(app).post('/assumed-placements').send({ placements: [{ ...placements[0], podUid: 'x'.repeat(300 * 1024) }] }).expect(413);
  assert.equal(snapshot.assumedCount, 2);
});
