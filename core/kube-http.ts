/**
 * A thin JSON client for the Kubernetes API over node:http(s) with kept-alive connections: requests
 * and watches, nothing generated. The bridge talks to the API server only through this (plus the
 * facades in core/kube-apis.ts), so its process never loads @kubernetes/client-node: no typed
 * mapping of every answer (ObjectSerializer), no Observable middleware, no node-fetch watch streams.
 *
 * - One keep-alive agent per client: every request reuses an open connection (TLS handshake once).
 * - A rate limiter (client-go's QPS/burst, core/rate-limiter.ts) is waited for before every request
 *   and every watch, as client-go's rest client does.
 * - An idempotent request whose reused socket was closed by the server as it was sent goes again
 *   once on a new connection (Go's net/http does the same; RFC 9110 §9.2.2).
 * - A request (not a watch) that gets no byte for `requestTimeoutMs` is abandoned with an error.
 * - A status ≥ 300 rejects with KubeApiError: `code` is the HTTP status, `body` the answer's text
 *   (the fields callers checked on client-node's ApiException).
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConnection } from './kube-connection.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** Sockets per API server at most: above the requests the bridge keeps in flight (32 workers × a few writes, Leases, Events, watches). */
export const MAX_SOCKETS = 256;
/** Idle sockets are closed after this (below the API server's and load balancers' idle timeouts). */
export const IDLE_SOCKET_MS = 30_000;
/** A request that receives nothing for this long is abandoned (client-go leaves it to the caller's context; a hung request must not hold a worker forever). */
export const REQUEST_TIMEOUT_MS = 60_000;

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
}

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
  /** Closes every kept socket. */
  destroy(): void;
}

export interface KubeHttpOptions {
  readonly limiter?: RateLimiter | undefined;
  readonly requestTimeoutMs?: number;
  /** Idle kept sockets are closed after this (default IDLE_SOCKET_MS). */
  readonly idleSocketMs?: number;
  readonly userAgent?: string;
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

export function createKubeHttp(conn: KubeConnection, opts: KubeHttpOptions = {}): KubeHttp {
  const isHttps = conn.server.startsWith('https:');
  const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: 64, timeout: opts.idleSocketMs ?? IDLE_SOCKET_MS };
  const agent: http.Agent = isHttps ? new https.Agent({ ...agentOptions, ...(conn.tls ?? { rejectUnauthorized: true }), maxCachedSessions: 100 }) : new http.Agent(agentOptions);
  const transport = isHttps ? https : http;
  const timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const userAgent = opts.userAgent ?? 'module-controller';
  let opened = 0;

  const prepare = async (contentType: string | undefined, bodyText: string | undefined): Promise<Record<string, string | number>> => {
    await opts.limiter?.wait();
    const headers: Record<string, string | number> = { ...(await conn.headers()), Accept: 'application/json', 'User-Agent': userAgent };
    if (bodyText !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(bodyText);
    }
    return headers;
  };

  const countSocket = (req: http.ClientRequest) =>
    req.once('socket', () => {
      if (!req.reusedSocket) opened++;
    });

  const send = (method: string, url: string, headers: Record<string, string | number>, bodyText: string | undefined, retried: boolean): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8') }));
      });
      countSocket(req);
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`${method} ${new URL(url).pathname}: no answer from the API server within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!retried && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && IDEMPOTENT.has(method)) {
          send(method, url, headers, bodyText, true).then(resolve, reject);
          return;
        }
        reject(err);
      });
      req.end(bodyText);
    });

  return {
    async request<T>(r: KubeRequest): Promise<T> {
      const bodyText = r.body === undefined ? undefined : JSON.stringify(r.body);
      const headers = await prepare(r.contentType, bodyText);
      const { status, text } = await send(r.method, conn.server + r.path + toQueryString(r.query), headers, bodyText, false);
      if (status < 200 || status >= 300) throw new KubeApiError(status, text, toApiErrorMessage(r.method, r.path, status, text));
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },

    async watch(path, query, onEvent, onDone) {
      const headers = await prepare(undefined, undefined);
      const url = conn.server + path + toQueryString({ ...query, watch: true });
      return new Promise((resolve, reject) => {
        let established = false;
        let ended = false;
        const end = (err?: unknown) => {
          if (ended) return;
          ended = true;
          if (established) onDone(err);
          else reject(err ?? new Error(`GET ${path}: the watch ended before it was established`));
        };
        const req = transport.request(url, { method: 'GET', headers, agent }, (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', end);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              end(new KubeApiError(status, text, toApiErrorMessage('GET', path, status, text)));
            });
            return;
          }
          established = true;
          resolve({ abort: () => {
            if (ended) return;
            ended = true;
            req.destroy();
            onDone();
          } });
          res.setEncoding('utf8');
          const lines = createLineSplitter();
          res.on('data', (chunk: string) => {
            if (ended) return;
            for (const line of lines.push(chunk)) {
              let event: { type?: unknown; object?: unknown };
              try {
                event = JSON.parse(line) as typeof event;
              } catch (err) {
                end(new Error(`GET ${path}: a watch event could not be parsed (${(err as Error).message})`));
                req.destroy();
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
          res.on('error', (err) => end(err));
          res.on('end', () => end());
          res.on('close', () => end(new Error(`GET ${path}: the connection closed mid-watch`)));
        });
        countSocket(req);
        req.on('error', (err) => end(err));
        req.end();
      });
    },

    connectionsOpened: () => opened,
    destroy: () => agent.destroy(),
  };
}
