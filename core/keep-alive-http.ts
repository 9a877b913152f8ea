/**
 * The HTTP library under every generated Kubernetes API client (@kubernetes/client-node 1.4's
 * `HttpLibrary`: `send(RequestContext) → Observable<ResponseContext>`), on node:http(s) with
 * keep-alive connections.
 *
 * The library's default sends through node-fetch 2, which misreads a reused keep-alive socket's
 * chunked response as "Premature close"; so the shared agents (kubeconfig.ts) had keep-alive off and
 * every API request paid a new TCP connection and TLS handshake (session resumption at best). Here
 * requests go through Node's own client, which reuses sockets correctly. Authentication is untouched:
 * the client still calls the KubeConfig's `applySecurityAuthentication` before each request (client
 * certs, bearer tokens and their refresh, the rate limiter wrapped around it), and the agent it picks
 * there decides the TLS options; this library only swaps that agent for a keep-alive twin built
 * with the same options. Watches keep their own path (node-fetch, no keep-alive).
 */
import http from 'node:http';
import https from 'node:https';
import * as k8s from '@kubernetes/client-node';

/**
 * Sockets per API server at most. Above the requests the bridge keeps in flight (32 workers × 4 writes,
 * Lease renewals, Events): a request that queued for a socket behind a burst of status writes could
 * make a leader's Lease renewal miss its deadline. (client-go multiplexes all over one HTTP/2 connection.)
 */
export const MAX_SOCKETS = 256;
/** Idle sockets are closed after this (below the API server's and load balancers' idle timeouts). */
export const IDLE_SOCKET_MS = 30_000;

/** Methods a request may be resent with after the server closed a reused idle socket (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

type AnyAgent = http.Agent | https.Agent;

export interface KeepAliveHttpLibrary {
  send(request: k8s.RequestContext): k8s.Observable<k8s.ResponseContext>;
  /** New connections opened so far (every other request reused one). */
  connectionsOpened(): number;
  /** Closes every kept socket (tests; a stopping process). */
  destroy(): void;
}

export function createKeepAliveHttpLibrary(): KeepAliveHttpLibrary {
  const twins = new WeakMap<AnyAgent, AnyAgent>();
  const made = new Set<AnyAgent>();
  let opened = 0;
  const fallback = { http: new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS }), https: new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS }) };
  made.add(fallback.http).add(fallback.https);

  /** The keep-alive twin of the agent the KubeConfig chose (same TLS options); other agents (proxies) as they are. */
  const toAgent = (agent: AnyAgent | undefined, isHttps: boolean): AnyAgent => {
    if (!agent) return isHttps ? fallback.https : fallback.http;
    if (agent.constructor !== https.Agent && agent.constructor !== http.Agent) return agent;
    let twin = twins.get(agent);
    if (!twin) {
      const options = (agent as AnyAgent & { options?: https.AgentOptions }).options ?? {};
      const o = { ...options, keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: 64, timeout: IDLE_SOCKET_MS };
      twin = agent instanceof https.Agent ? new https.Agent(o) : new http.Agent(o);
      twins.set(agent, twin);
      made.add(twin);
    }
    return twin;
  };

  const once = (request: k8s.RequestContext, url: URL, retried: boolean): Promise<k8s.ResponseContext> =>
    new Promise((resolve, reject) => {
      const isHttps = url.protocol === 'https:';
      const method = request.getHttpMethod().toString();
      const raw = request.getBody();
      const body = raw === undefined ? undefined : typeof raw === 'string' ? raw : raw instanceof URLSearchParams ? raw.toString() : undefined;
      if (raw !== undefined && body === undefined) return reject(new Error(`${method} ${url.pathname}: multipart request bodies are not supported by the keep-alive HTTP library`));
      const headers: Record<string, string | number> = { ...request.getHeaders() };
      if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
      const signal = request.getSignal();
      const req = (isHttps ? https : http).request(url, { method, headers, agent: toAgent(request.getAgent(), isHttps), ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const data = Buffer.concat(chunks);
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve(new k8s.ResponseContext(res.statusCode ?? 0, out, { text: () => Promise.resolve(data.toString('utf8')), binary: () => Promise.resolve(data) }));
        });
      });
      req.once('socket', () => {
        if (!req.reusedSocket) opened++;
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The server closed a kept socket just as it was reused: nothing of ours was processed,
        // so an idempotent request goes again once on a new connection (Go's net/http does too).
        if (!retried && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && IDEMPOTENT.has(method)) {
          once(request, url, true).then(resolve, reject);
          return;
        }
        reject(err);
      });
      req.end(body);
    });

  return {
    send: (request) => k8s.wrapHttpLibrary({ send: (r: k8s.RequestContext) => once(r, new URL(r.getUrl()), false) }).send(request),
    connectionsOpened: () => opened,
    destroy: () => {
      for (const a of made) a.destroy();
    },
  };
}
