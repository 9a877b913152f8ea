// The thin API client against a local HTTPS server: one kept TLS connection for many requests, auth
// headers and client certificates, query strings, API errors with code and body, a kept socket the
// server closed while idle, the rate limiter, request timeouts, and watch streams split across chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createCa, issueCert } from '../../core/pki.ts';
import type { KubeConnection } from '../../core/kube-connection.ts';
import { createKubeHttp, createLineSplitter, KubeApiError, PARTIAL_METADATA_ACCEPT, PATCH, toApiErrorMessage, toQueryString } from '../../core/kube-http.ts';

const now = new Date();
const ca = createCa('test-ca', 3_600_000, now);
const serverCert = issueCert(ca, { commonName: '127.0.0.1', ips: ['127.0.0.1'], validForMs: 3_600_000, usage: 'server', now });
const clientCert = issueCert(ca, { commonName: 'bridge', validForMs: 3_600_000, usage: 'client', now });

interface Seen { sockets: number; requests: Array<{ method: string; url: string; auth: string; cn: string; type: string; accept: string; body: string }> }
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

type Protocol = 'h2' | 'http/1.1';

async function startServer(protocol: Protocol, handler: Handler) {
  const seen: Seen = { sockets: 0, requests: [] };
  const tlsOpts = { key: serverCert.keyPem, cert: serverCert.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization ?? '', cn: String((req.socket as TLSSocket).getPeerCertificate()?.subject?.CN ?? ''), type: req.headers['content-type'] ?? '', accept: req.headers.accept ?? '', body });
      handler(req, res, body);
    });
  };
  // The HTTP/2 server's compatibility API hands the same (req, res) shapes to the handlers.
  const server = protocol === 'h2' ? http2.createSecureServer({ ...tlsOpts, allowHTTP1: false }, onRequest as never) : https.createServer(tlsOpts, onRequest);
  server.on('secureConnection', () => seen.sockets++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const conn: KubeConnection = { server: `https://127.0.0.1:${port}`, tls: { ca: Buffer.from(ca.certPem), cert: Buffer.from(clientCert.certPem), key: Buffer.from(clientCert.keyPem), rejectUnauthorized: true }, headers: async () => ({ Authorization: 'Bearer t0k' }), source: 'test' };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (x: http2.ServerHttp2Session) => sessions.add(x));
  const close = () => new Promise<void>((r) => {
    if (server instanceof https.Server) server.closeAllConnections();
    for (const x of sessions) x.destroy();
    server.close(() => r());
  });
  // Stops reading every server-side socket (a frozen peer), and lets them go on again.
  const sockets = new Set<import('node:net').Socket>();
  server.on('secureConnection', (x: import('node:net').Socket) => sockets.add(x));
  const pauseAll = () => sockets.forEach((x) => x.pause());
  const resumeAll = () => sockets.forEach((x) => x.resume());
  return { seen, conn, server, close, pauseAll, resumeAll };
}

const json = (res: http.ServerResponse, status: number, obj: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(obj));
};

test('query strings leave undefined out; error messages carry the Status message', () => {
  assert.equal(toQueryString(undefined), '');
  assert.equal(toQueryString({ labelSelector: 'a=b,c', limit: 5, watch: true, x: undefined }), '?labelSelector=a%3Db%2Cc&limit=5&watch=true');
  assert.equal(toApiErrorMessage('GET', '/p', 404, '{"kind":"Status","message":"pods \\"x\\" not found"}'), 'GET /p: HTTP 404: pods "x" not found');
  assert.equal(toApiErrorMessage('GET', '/p', 502, 'bad gateway'), 'GET /p: HTTP 502: bad gateway');
});

test('lines are split across chunks, empty lines dropped, the rest kept', () => {
  const s = createLineSplitter();
  assert.deepEqual(s.push('{"a":'), []);
  assert.deepEqual(s.push('1}\n{"b":2}\n\n{"c"'), ['{"a":1}', '{"b":2}']);
  assert.equal(s.rest(), '{"c"');
  assert.deepEqual(s.push(':3}\n'), ['{"c":3}']);
  assert.equal(s.rest(), '');
});

for (const protocol of ['http/1.1', 'h2'] as const) {
  test(`${protocol}: many requests share one TLS connection, with auth, client certificate, body and patch type`, async (t) => {
    const srv = await startServer(protocol, (req, res, body) => {
      if (req.method === 'PATCH') return json(res, 200, { patched: JSON.parse(body) });
      // Chunked answer in two writes.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":"NodeList","items":[');
      res.end('{"metadata":{"name":"n1"}}]}');
    });
    t.after(srv.close);
    const kube = createKubeHttp(srv.conn, { protocol });
    t.after(() => kube.destroy());
    for (let i = 0; i < 20; i++) {
      const list = await kube.request<{ items: Array<{ metadata: { name: string } }> }>({ method: 'GET', path: '/api/v1/nodes', query: { labelSelector: 'a=b' } });
      assert.equal(list.items[0]!.metadata.name, 'n1');
    }
    const when = new Date('2026-12-02T03:00:00.123Z');
    const patched = await kube.request<{ patched: unknown }>({ method: 'PATCH', path: '/api/v1/nodes/n1/status', body: { status: { t: when } }, contentType: PATCH.merge });
    assert.deepEqual(patched.patched, { status: { t: '2026-12-02T03:00:00.123Z' } });
    assert.equal(srv.seen.sockets, 1);
    assert.equal(kube.connectionsOpened(), 1);
    assert.equal(srv.seen.requests[0]!.url, '/api/v1/nodes?labelSelector=a%3Db');
    assert.ok(srv.seen.requests.every((r) => r.auth === 'Bearer t0k' && r.cn === 'bridge'));
    assert.equal(srv.seen.requests.at(-1)!.type, 'application/merge-patch+json');
    assert.equal(srv.seen.requests.at(-1)!.accept, 'application/json');
    await kube.request({ method: 'PATCH', path: '/api/v1/namespaces/d/pods/p/status', body: {}, contentType: PATCH.strategic, accept: PARTIAL_METADATA_ACCEPT });
    assert.equal(srv.seen.requests.at(-1)!.accept, PARTIAL_METADATA_ACCEPT);
  });

  test(`${protocol}: API errors reject with code and body; an empty answer is undefined`, async (t) => {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: 'the object has been modified' };
    const srv = await startServer(protocol, (req, res) => {
      if (req.method === 'DELETE') {
        res.writeHead(200);
        return res.end();
      }
      json(res, 409, status);
    });
    t.after(srv.close);
    const kube = createKubeHttp(srv.conn, { protocol });
    t.after(() => kube.destroy());
    await assert.rejects(kube.request({ method: 'PUT', path: '/apis/coordination.k8s.io/v1/namespaces/d/leases/l', body: {} }), (err: unknown) => {
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.code, 409);
      assert.deepEqual(JSON.parse(err.body), status);
      assert.match(err.message, /PUT \/apis\/coordination.k8s.io\/v1\/namespaces\/d\/leases\/l: HTTP 409: the object has been modified/);
      return true;
    });
    assert.equal(await kube.request({ method: 'DELETE', path: '/x' }), undefined);
  });

  test(`${protocol}: an idempotent request on a kept socket the server closed goes again once; a POST does not`, async (t) => {
    let n = 0;
    const srv = await startServer(protocol, (_req, res) => {
      n++;
      // The second request's socket is destroyed without an answer (the server closed it as it was reused).
      if (n === 2 || n === 4) return protocol === 'h2' ? void (res as unknown as http2.Http2ServerResponse).stream.session?.destroy() : res.socket?.destroy();
      json(res, 200, { n });
    });
    t.after(srv.close);
    const kube = createKubeHttp(srv.conn, { protocol });
    t.after(() => kube.destroy());
    assert.deepEqual(await kube.request({ method: 'GET', path: '/a' }), { n: 1 });
    assert.deepEqual(await kube.request({ method: 'GET', path: '/a' }), { n: 3 }, 'retried on a new connection');
    await assert.rejects(kube.request({ method: 'POST', path: '/a', body: {} }), /socket hang up|ECONNRESET|ERR_HTTP2|stream|session/i);
  });

  test(`${protocol}: every request and watch waits for the rate limiter first`, async (t) => {
    const srv = await startServer(protocol, (_req, res) => json(res, 200, {}));
    t.after(srv.close);
    let waits = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const kube = createKubeHttp(srv.conn, { protocol, limiter: { wait: () => (waits++, gate), reserve: () => 0 } });
    t.after(() => kube.destroy());
    const p = kube.request({ method: 'GET', path: '/a' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(srv.seen.requests.length, 0, 'held by the limiter');
    release();
    await p;
    assert.equal(waits, 1);
  });

  test(`${protocol}: a request without an answer times out`, async (t) => {
    const srv = await startServer(protocol, () => undefined);
    t.after(srv.close);
    const kube = createKubeHttp(srv.conn, { protocol, requestTimeoutMs: 100 });
    t.after(() => kube.destroy());
    await assert.rejects(kube.request({ method: 'GET', path: '/slow' }), /GET \/slow: no answer from the API server within 100 ms/);
  });

  test(`${protocol}: a watch streams events split across chunks, ends cleanly, and aborts`, async (t) => {
    const streams: http.ServerResponse[] = [];
    const srv = await startServer(protocol, (req, res) => {
      if (req.url?.includes('denied')) return json(res, 403, { kind: 'Status', message: 'forbidden' });
      res.writeHead(200, { 'content-type': 'application/json' });
      if (protocol === 'http/1.1') res.flushHeaders();
      streams.push(res);
    });
    t.after(srv.close);
    const kube = createKubeHttp(srv.conn, { protocol, idleSocketMs: 100 });
    t.after(() => kube.destroy());
    const events: Array<[string, unknown]> = [];
    let done: unknown = 'not yet';
    const handle = await kube.watch('/api/v1/pods', { resourceVersion: '5', allowWatchBookmarks: true }, (type, obj) => events.push([type, obj]), (err) => (done = err));
    assert.match(srv.seen.requests[0]!.url, /^\/api\/v1\/pods\?resourceVersion=5&allowWatchBookmarks=true&watch=true$/);
    const s = streams[0]!;
    s.write('{"type":"ADDED","object":{"metadata":{"name":"p1","resourceVersion":"6"}}}\n{"type":"MOD');
    // Quiet for longer than the idle-socket timeout: a watch is not idle.
    await new Promise((r) => setTimeout(r, 250));
    s.write('IFIED","object":{"metadata":{"name":"p1","resourceVersion":"7"}}}\n');
    s.end('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events.map(([type]) => type), ['ADDED', 'MODIFIED', 'BOOKMARK']);
    assert.equal(done, undefined, 'ended by the server: onDone without an error');

    let aborted: unknown = 'not yet';
    const h2 = await kube.watch('/api/v1/pods', {}, () => undefined, (err) => (aborted = err));
    h2.abort();
    assert.equal(aborted, undefined);
    handle.abort();

    await assert.rejects(kube.watch('/api/v1/denied', {}, () => undefined, () => assert.fail('onDone is not called for a refused watch')), (err: unknown) => err instanceof KubeApiError && err.code === 403);
  });

  test(`${protocol}: a watch whose stream breaks or carries garbage ends with an error`, async (t) => {
    const streams: http.ServerResponse[] = [];
    const srv = await startServer(protocol, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('\n');
      streams.push(res);
    });
    t.after(srv.close);
    const kube = createKubeHttp(srv.conn, { protocol });
    t.after(() => kube.destroy());
    const ended = (fn: (d: (e?: unknown) => void) => Promise<unknown>) => new Promise<unknown>((resolve) => void fn(resolve));
    const broken = ended((d) => kube.watch('/w1', {}, () => undefined, d));
    await new Promise((r) => setTimeout(r, 50));
    // The whole connection drops (for HTTP/2 its streams then end as if cleanly; the client must tell).
    if (protocol === 'h2') (streams[0] as unknown as http2.Http2ServerResponse).stream.session?.destroy();
    else streams[0]!.socket!.destroy();
    assert.ok((await broken) instanceof Error);
    if (protocol === 'h2') {
      const reset = ended((d) => kube.watch('/w0', {}, () => undefined, d));
      await new Promise((r) => setTimeout(r, 50));
      (streams.at(-1) as unknown as http2.Http2ServerResponse).stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      assert.match(String(await reset), /reset the HTTP\/2 stream|ERR_HTTP2_STREAM_ERROR|Stream closed with error code/);
    }
    const garbage = ended((d) => kube.watch('/w2', {}, () => undefined, d));
    await new Promise((r) => setTimeout(r, 50));
    streams.at(-1)!.write('not json\n');
    assert.match(String(await garbage), /a watch event could not be parsed/);
  });

}

test('a server without HTTP/2 is spoken to over HTTP/1.1 from the first request on', async (t) => {
  const srv = await startServer('http/1.1', (_req, res) => json(res, 200, { ok: true }));
  t.after(srv.close);
  const kube = createKubeHttp(srv.conn);
  t.after(() => kube.destroy());
  assert.equal(kube.protocol(), 'h2');
  assert.deepEqual(await kube.request({ method: 'POST', path: '/a', body: {} }), { ok: true }, 'even a POST: nothing was sent before the refusal');
  assert.equal(kube.protocol(), 'http/1.1');
  for (let i = 0; i < 5; i++) await kube.request({ method: 'GET', path: '/a' });
  assert.equal(srv.seen.requests.length, 6);
});

test('h2: many requests in parallel go over one connection', async (t) => {
  const srv = await startServer('h2', (_req, res) => setTimeout(() => json(res, 200, { ok: true }), 20));
  t.after(srv.close);
  const kube = createKubeHttp(srv.conn);
  t.after(() => kube.destroy());
  await Promise.all(Array.from({ length: 100 }, () => kube.request({ method: 'GET', path: '/a' })));
  assert.equal(kube.connectionsOpened(), 1);
  assert.equal(srv.seen.sockets, 1);
});

test('h2: a connection whose pings go unanswered is closed, failing what waits on it', async (t) => {
  // A peer that finishes the TLS handshake for h2 and then reads nothing and answers nothing.
  const tls = await import('node:tls');
  const silent = tls.createServer({ key: serverCert.keyPem, cert: serverCert.certPem, ALPNProtocols: ['h2'] }, (socket) => socket.on('data', () => undefined));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => silent.close(() => r())));
  const conn: KubeConnection = { server: `https://127.0.0.1:${(silent.address() as AddressInfo).port}`, tls: { ca: Buffer.from(ca.certPem), rejectUnauthorized: true }, headers: async () => ({}), source: 'test' };
  const kube = createKubeHttp(conn, { pingMs: 50, requestTimeoutMs: 10_000 });
  t.after(() => kube.destroy());
  const started = Date.now();
  await assert.rejects(kube.request({ method: 'GET', path: '/a' }), /did not answer an HTTP\/2 ping|closed|stream/i);
  assert.ok(Date.now() - started < 5_000, 'failed by the ping check, long before the request timeout');
  const opened = kube.connectionsOpened();
  assert.ok(opened >= 1);
  await assert.rejects(kube.request({ method: 'GET', path: '/a' }));
  assert.ok(kube.connectionsOpened() > opened, 'the next request opened a new connection');
});
