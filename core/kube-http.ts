/**
 * A thin JSON client for the Kubernetes API over node:http(s) with kept-alive connections: requests
 * and watches, nothing generated. The bridge talks to the API server only through this (plus the
 * facades in core/kube-apis.ts), so its process never loads @kubernetes/client-node: no typed
 * mapping of every answer (ObjectSerializer), no Observable middleware, no node-fetch watch streams.
 *
 * - HTTP/2 on https: (as client-go): one connection per client, each request and watch a stream on
 *   it, one TLS handshake and one socket's buffers instead of one per request in flight; pinged while
 *   in use so a dead connection is noticed. Servers without HTTP/2 get kept-alive HTTP/1.1 sockets.
 * - A rate limiter (client-go's QPS/burst, core/rate-limiter.ts) is waited for before every request
 *   and every watch, as client-go's rest client does.
 * - An idempotent request whose connection went away before the server took it (a reused socket
 *   closed, a GOAWAY) goes again once on a new connection (Go's net/http does the same; RFC 9110 §9.2.2).
 * - A request (not a watch) that gets no byte for `requestTimeoutMs` is abandoned with an error.
 * - A status ≥ 300 rejects with KubeApiError: `code` is the HTTP status, `body` the answer's text
 *   (the fields callers checked on client-node's ApiException).
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { KubeConnection } from './kube-connection.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** Sockets per API server at most: above the requests the bridge keeps in flight (32 workers × a few writes, Leases, Events, watches). */
export const MAX_SOCKETS = 256;
/** Idle sockets are closed after this (below the API server's and load balancers' idle timeouts). */
export const IDLE_SOCKET_MS = 30_000;
/** A request that receives nothing for this long is abandoned (client-go leaves it to the caller's context; a hung request must not hold a worker forever). */
export const REQUEST_TIMEOUT_MS = 60_000;
/** HTTP/2: a session in use is pinged this often, and closed when a ping is not answered by the next one (client-go: ReadIdleTimeout 30 s, PingTimeout 15 s). */
export const PING_MS = 15_000;
/** HTTP/2 flow-control windows the client grants the API server: per stream, and for the whole connection. */
export const H2_STREAM_WINDOW = 4 * 2 ** 20;
export const H2_CONNECTION_WINDOW = 64 * 2 ** 20;

export const PATCH = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;
export type PatchType = (typeof PATCH)[keyof typeof PATCH];

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export class KubeApiError extends Error {
  /** The HTTP status. */
  readonly code: number;
  /** The answer's text (a metav1.Status as JSON, usually). */
  readonly body: string;
  constructor(code: number, body: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
  }
}

export type QueryValue = string | number | boolean | undefined;

export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Already encoded, e.g. /api/v1/namespaces/default/pods/x/status. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Sent as JSON (Dates become ISO strings). */
  readonly body?: unknown;
  /** Default application/json; patches name their patch type. */
  readonly contentType?: string;
  /** Default application/json; e.g. PARTIAL_METADATA_ACCEPT for an answer of metadata only. */
  readonly accept?: string;
}

/**
 * Asks for the answer as a meta.k8s.io/v1 PartialObjectMetadata (the object's metadata only, as
 * client-go's metadata client does), or as the full object where the server cannot: a status patch
 * then brings back the pod's metadata (managedFields included) to parse, without its spec and status.
 */
export const PARTIAL_METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- watch objects are whatever kind the path lists
export type WatchEventHandler = (type: string, object: any) => void;

export interface KubeHttp {
  /** The parsed JSON answer (undefined for an empty one); rejects with KubeApiError on a status ≥ 300. */
  request<T>(req: KubeRequest): Promise<T>;
  /**
   * A watch (`watch=true` is added), shaped like client-node's Watch.watch: resolves with an abort
   * handle once the server accepted it (200), rejects when it could not be established (onDone is not
   * called then); otherwise `onDone` is called once when it ends — without an error when the server
   * ended it, with one when the stream failed or an event could not be parsed, with none after abort().
   */
  watch(path: string, query: Readonly<Record<string, QueryValue>>, onEvent: WatchEventHandler, onDone: (err?: unknown) => void): Promise<{ abort(): void }>;
  /** New connections opened so far (every other request reused one). */
  connectionsOpened(): number;
  /** The protocol requests go over now. */
  protocol(): 'h2' | 'http/1.1';
  /** Closes every kept socket. */
  destroy(): void;
}

export interface KubeHttpOptions {
  readonly limiter?: RateLimiter | undefined;
  readonly requestTimeoutMs?: number;
  /** Idle kept sockets are closed after this (default IDLE_SOCKET_MS). */
  readonly idleSocketMs?: number;
  readonly userAgent?: string;
  /** Default on https: HTTP/2 (falls back to HTTP/1.1 when the server offers no HTTP/2); 'http/1.1' forces kept-alive HTTP/1.1 connections. */
  readonly protocol?: 'h2' | 'http/1.1';
  /** HTTP/2: how often a session in use is pinged; no answer by the next ping closes it (default PING_MS). */
  readonly pingMs?: number;
}

/** The query string for a request (`undefined` values left out), with its leading `?` or empty. */
export function toQueryString(query: Readonly<Record<string, QueryValue>> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** A readable message for a failed answer: the Status message when the body is one. */
export function toApiErrorMessage(method: string, path: string, status: number, body: string): string {
  let detail = '';
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed?.message === 'string') detail = parsed.message;
  } catch {
    detail = body.slice(0, 200);
  }
  return `${method} ${path}: HTTP ${status}${detail ? `: ${detail}` : ''}`;
}

/**
 * Splits a watch stream into complete lines: `push(chunk)` returns the lines it completed and keeps
 * the rest for the next chunk. Pure apart from that remainder.
 */
export function createLineSplitter(): { push(chunk: string): string[]; rest(): string } {
  let pending = '';
  return {
    push(chunk) {
      const text = pending + chunk;
      const lines: string[] = [];
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        if (nl > start) lines.push(text.slice(start, nl));
        start = nl + 1;
      }
      pending = text.slice(start);
      return lines;
    },
    rest: () => pending,
  };
}

/** A response being read: its status and its body stream (HTTP/1.1 IncomingMessage or an HTTP/2 stream). */
interface Opened {
  readonly status: number;
  readonly body: Readable;
  /** Stops reading and drops the request (its socket or stream). */
  cancel(): void;
  /** After the body closed: why it did not end cleanly (an HTTP/2 stream reset, an HTTP/1.1 body cut short), else undefined. */
  failure(): Error | undefined;
}

/** Errors that say the server never took the request (a kept connection closed under it, a GOAWAY): an idempotent request may go again. */
function isUnsent(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION' || code === 'ERR_HTTP2_STREAM_CANCEL' || code === 'ERR_HTTP2_SESSION_ERROR' || (code === 'ERR_HTTP2_STREAM_ERROR' && /REFUSED_STREAM/.test(String((err as Error).message)));
}

/** The TLS handshake failed because the server speaks no HTTP/2 (ALPN): use HTTP/1.1 from then on. */
function isNoH2(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string }; message?: string } | undefined;
  return e?.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' || e?.cause?.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' || /no application protocol/.test(String(e?.message ?? ''));
}

export function createKubeHttp(conn: KubeConnection, opts: KubeHttpOptions = {}): KubeHttp {
  const isHttps = conn.server.startsWith('https:');
  const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: 64, timeout: opts.idleSocketMs ?? IDLE_SOCKET_MS };
  const tlsOptions = conn.tls ?? { rejectUnauthorized: true };
  let agent: http.Agent | undefined;
  const h1Agent = () => (agent ??= isHttps ? new https.Agent({ ...agentOptions, ...tlsOptions, maxCachedSessions: 100 }) : new http.Agent(agentOptions));
  const transport = isHttps ? https : http;
  const timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const userAgent = opts.userAgent ?? 'module-controller';
  const pingMs = opts.pingMs ?? PING_MS;
  // HTTP/2 (one connection, every request a stream on it, as client-go talks to the API server) on https:, unless asked otherwise.
  let useH2 = isHttps && opts.protocol !== 'http/1.1';
  let opened = 0;
  let destroyed = false;

  let session: http2.ClientHttp2Session | undefined;
  let streams = 0;
  const h2Session = (): http2.ClientHttp2Session => {
    if (session && !session.closed && !session.destroyed) return session;
    const s = http2.connect(conn.server, { ...tlsOptions, settings: { enablePush: false, initialWindowSize: H2_STREAM_WINDOW } });
    // HTTP/2's default windows (64 KiB per stream and for the whole connection) would make every
    // watch and answer on this one connection wait for window updates: open them wide (Go's
    // transport: 4 MiB per stream, 1 GiB per connection). The bridge reads everything at once.
    s.once('connect', () => s.setLocalWindowSize(H2_CONNECTION_WINDOW));
    opened++;
    session = s;
    const forget = () => {
      if (session === s) session = undefined;
    };
    // Stream errors carry the failure to their requests; the session's own error only retires it.
    s.on('error', forget);
    s.on('goaway', forget);
    // A dead connection under a single session would stall everything: ping it while in use (client-go's HTTP/2 health check).
    let awaiting = false;
    const pinger = setInterval(() => {
      if (streams === 0 || s.destroyed) return;
      if (awaiting) return void s.destroy(Object.assign(new Error(`the API server ${conn.server} did not answer an HTTP/2 ping within ${pingMs} ms`), { code: 'ECONNRESET' }));
      awaiting = true;
      s.ping((err) => {
        awaiting = false;
        if (err && !s.destroyed) s.destroy(err);
      });
    }, pingMs);
    pinger.unref();
    s.on('close', () => {
      clearInterval(pinger);
      forget();
    });
    s.unref();
    return s;
  };

  const prepare = async (contentType: string | undefined, bodyText: string | undefined, accept = 'application/json'): Promise<Record<string, string | number>> => {
    await opts.limiter?.wait();
    const headers: Record<string, string | number> = { ...(await conn.headers()), accept, 'user-agent': userAgent };
    if (bodyText !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(bodyText);
    }
    return headers;
  };

  /** Sends a request and resolves once its response head has arrived. `timed`: give up after timeoutMs without a byte. */
  const openOnce = (method: string, pathQuery: string, headers: Record<string, string | number>, bodyText: string | undefined, timed: boolean): Promise<Opened> =>
    new Promise((resolve, reject) => {
      if (destroyed) return reject(new Error(`${method} ${pathQuery}: the API client was closed`));
      const timeoutError = () => Object.assign(new Error(`${method} ${pathQuery.split('?')[0]}: no answer from the API server within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
      if (useH2) {
        const s = h2Session();
        let stream: http2.ClientHttp2Stream;
        try {
          stream = s.request({ ':method': method, ':path': pathQuery, ...headers }, { endStream: bodyText === undefined });
        } catch (err) {
          return reject(err);
        }
        if (streams++ === 0) s.ref();
        let done = false;
        stream.once('close', () => {
          if (done) return;
          done = true;
          if (--streams === 0 && !s.destroyed) s.unref();
        });
        if (timed) stream.setTimeout(timeoutMs, () => stream.destroy(timeoutError()));
        let responded = false;
        // A dropped connection ends its streams as if the server had ended them: only the session's state tells.
        const reset = () =>
          stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR
            ? Object.assign(new Error(`${method} ${pathQuery.split('?')[0]}: the API server reset the HTTP/2 stream (code ${stream.rstCode})`), { code: 'ERR_HTTP2_STREAM_CANCEL' })
            : s.destroyed || s.closed
              ? Object.assign(new Error(`${method} ${pathQuery.split('?')[0]}: the connection to the API server closed mid-answer`), { code: 'ECONNRESET' })
              : undefined;
        stream.once('response', (h) => {
          responded = true;
          resolve({ status: Number(h[':status'] ?? 0), body: stream, cancel: () => stream.close(http2.constants.NGHTTP2_CANCEL), failure: reset });
        });
        stream.on('error', (err) => {
          if (!responded) reject(err);
        });
        // A stream closed before its answer (the session went away, a GOAWAY) may not say so with an error.
        stream.once('close', () => {
          if (!responded) reject(reset() ?? Object.assign(new Error(`${method} ${pathQuery.split('?')[0]}: the HTTP/2 stream closed before an answer`), { code: 'ERR_HTTP2_STREAM_CANCEL' }));
        });
        if (bodyText !== undefined) stream.end(bodyText);
        return;
      }
      const req = transport.request(conn.server + pathQuery, { method, headers, agent: h1Agent() }, (res) =>
        resolve({ status: res.statusCode ?? 0, body: res, cancel: () => req.destroy(), failure: () => (res.complete ? undefined : new Error(`${method} ${pathQuery.split('?')[0]}: the connection closed mid-answer`)) }),
      );
      req.once('socket', () => {
        if (!req.reusedSocket) opened++;
      });
      if (timed) req.setTimeout(timeoutMs, () => req.destroy(timeoutError()));
      req.on('error', (err: NodeJS.ErrnoException) => reject(req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') ? err : Object.assign(err, { fresh: true })));
      req.end(bodyText);
    });

  /** openOnce, again once where the server never took it: after an HTTP/2 refusal (then on HTTP/1.1), or for an idempotent request on a connection that went away. */
  const open = async (method: string, pathQuery: string, headers: Record<string, string | number>, bodyText: string | undefined, timed: boolean): Promise<Opened> => {
    try {
      return await openOnce(method, pathQuery, headers, bodyText, timed);
    } catch (err) {
      if (useH2 && isNoH2(err)) {
        useH2 = false;
        return openOnce(method, pathQuery, headers, bodyText, timed);
      }
      if (IDEMPOTENT.has(method) && isUnsent(err) && !(err as { fresh?: boolean }).fresh) return openOnce(method, pathQuery, headers, bodyText, timed);
      throw err;
    }
  };

  const readAll = (o: Opened): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      o.body.on('data', (c: Buffer) => chunks.push(c));
      o.body.on('error', reject);
      o.body.on('close', () => {
        const failed = o.failure();
        if (failed) reject(failed);
        else resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      });
    });

  return {
    async request<T>(r: KubeRequest): Promise<T> {
      const bodyText = r.body === undefined ? undefined : JSON.stringify(r.body);
      const headers = await prepare(r.contentType, bodyText, r.accept);
      const o = await open(r.method, r.path + toQueryString(r.query), headers, bodyText, true);
      const text = await readAll(o);
      if (o.status < 200 || o.status >= 300) throw new KubeApiError(o.status, text, toApiErrorMessage(r.method, r.path, o.status, text));
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },

    async watch(path, query, onEvent, onDone) {
      const headers = await prepare(undefined, undefined);
      const o = await open('GET', path + toQueryString({ ...query, watch: true }), headers, undefined, false);
      if (o.status !== 200) {
        const text = await readAll(o);
        throw new KubeApiError(o.status, text, toApiErrorMessage('GET', path, o.status, text));
      }
      let ended = false;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        onDone(err);
      };
      o.body.setEncoding('utf8');
      const lines = createLineSplitter();
      o.body.on('data', (chunk: string) => {
        if (ended) return;
        for (const line of lines.push(chunk)) {
          let event: { type?: unknown; object?: unknown };
          try {
            event = JSON.parse(line) as typeof event;
          } catch (err) {
            end(new Error(`GET ${path}: a watch event could not be parsed (${(err as Error).message})`));
            o.cancel();
            return;
          }
          try {
            onEvent(String(event.type), event.object);
          } catch {
            // The consumer's failure is its own (watch-cache logs it); the stream goes on.
          }
          if (ended) return;
        }
      });
      let complete = false;
      o.body.on('error', (err: unknown) => end(err));
      o.body.on('end', () => (complete = true));
      o.body.on('close', () => end(o.failure() ?? (complete ? undefined : new Error(`GET ${path}: the connection closed mid-watch`))));
      return {
        abort: () => {
          if (ended) return;
          ended = true;
          o.cancel();
          onDone();
        },
      };
    },

    connectionsOpened: () => opened,
    protocol: () => (useH2 ? 'h2' : 'http/1.1'),
    destroy: () => {
      destroyed = true;
      agent?.destroy();
      session?.destroy();
    },
  };
}
