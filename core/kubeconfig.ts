/** Loads a kubeconfig from a file, or the in-cluster service account when no file is given. */
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { ControllerError } from './errors.ts';
import { createKeepAliveHttpLibrary, type KeepAliveHttpLibrary } from './keep-alive-http.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import type { WatchFn } from './watch-cache.ts';

type AgentFactory = (cluster: k8s.Cluster | null, options: https.AgentOptions) => http.Agent;

/**
 * @kubernetes/client-node builds a new https.Agent (and so a new TLS context and a full handshake) for
 * every request: that was most of the bridge's CPU at 1,000 bases. Reuse one agent per distinct set of
 * TLS options, with its TLS context built once and its session cache kept, so connections resume TLS
 * sessions. These agents do not keep connections alive: watches go through node-fetch 2 (inside
 * client-node), which misreads a reused keep-alive socket's chunked response as "Premature close".
 * Proxies keep the library's own agents.
 *
 * The API clients made from `kc` (makeApiClient) send through keep-alive-http.ts instead, on Node's
 * own HTTP client with a keep-alive twin of the agent chosen here: every request reuses an open
 * connection to the API server.
 */
export function withSharedAgents(kc: k8s.KubeConfig): k8s.KubeConfig {
  withKeepAliveClients(kc);
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  // Looked up on every request: compared field by field (PEM buffers with memcmp) rather than through
  // a key string, which cost a JSON.stringify of every certificate and key per request.
  const agents: Array<{ readonly id: readonly unknown[]; readonly agent: http.Agent }> = [];
  target.createAgent = (cluster, options) => {
    if (cluster?.proxyUrl) return original(cluster, options);
    const id = [cluster?.server, cluster?.skipTLSVerify, options.ca, options.cert, options.key, options.rejectUnauthorized];
    const found = agents.find((e) => e.id.every((v, i) => isSameOption(v, id[i])));
    if (found) return found.agent;
    const agent = cluster?.server?.startsWith('http:')
      ? new http.Agent()
      : new https.Agent({ ...options, secureContext: tls.createSecureContext({ ca: options.ca, cert: options.cert, key: options.key }), maxCachedSessions: 100 });
    agents.push({ id, agent });
    return agent;
  };
  return kc;
}

/** Equality of one TLS option (string, Buffer, or a list of them, as https.AgentOptions allow). */
function isSameOption(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => isSameOption(x, b[i]));
  const bytes = (v: unknown) => (Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : undefined);
  const x = bytes(a);
  const y = bytes(b);
  return x !== undefined && y !== undefined && x.equals(y);
}

const KEEP_ALIVE = Symbol('keepAliveClients');

/**
 * API clients made by `kc.makeApiClient` send through one keep-alive HTTP library (as the library's
 * own makeApiClient does, with `httpApi` added); authentication still runs per request through
 * `kc.applySecurityAuthentication`. Idempotent: a KubeConfig is set up once.
 */
export function withKeepAliveClients(kc: k8s.KubeConfig): k8s.KubeConfig {
  const target = kc as unknown as { makeApiClient: k8s.KubeConfig['makeApiClient']; [KEEP_ALIVE]?: KeepAliveHttpLibrary };
  if (target[KEEP_ALIVE]) return kc;
  const httpApi = createKeepAliveHttpLibrary();
  target[KEEP_ALIVE] = httpApi;
  target.makeApiClient = ((apiClientType: new (config: k8s.Configuration) => k8s.ApiType) => {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new ControllerError('CONFIG_INVALID', 'kubeconfig has no current cluster; set current-context or pass --kubeconfig <file>');
    return new apiClientType(k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: { default: kc }, httpApi }));
  }) as k8s.KubeConfig['makeApiClient'];
  return kc;
}

/** The keep-alive library under `kc`'s API clients (undefined before withKeepAliveClients); for tests and metrics. */
export function keepAliveLibraryOf(kc: k8s.KubeConfig): KeepAliveHttpLibrary | undefined {
  return (kc as unknown as { [KEEP_ALIVE]?: KeepAliveHttpLibrary })[KEEP_ALIVE];
}

/**
 * Every request made through `kc` first waits for `limiter` (client-go applies its QPS/burst limit
 * to every request of a rest client, watches included). @kubernetes/client-node 1.4 has no
 * per-client middleware: the generated API clients call `applySecurityAuthentication` before each
 * request and Watch (and exec/log/attach) call `applyToHTTPSOptions`, so both are wrapped here.
 *
 * (The bridge no longer comes through here: it limits its core/kube-http.ts client the same way and
 * gives its Lease traffic a second client without the limit, bridge/command.ts.)
 */
export function withRateLimit(kc: k8s.KubeConfig, limiter: RateLimiter): k8s.KubeConfig {
  const target = kc as unknown as {
    applySecurityAuthentication(context: { getUrl(): string }): Promise<void>;
    applyToHTTPSOptions(opts: unknown): Promise<void>;
  };
  const auth = target.applySecurityAuthentication.bind(kc);
  const https = target.applyToHTTPSOptions.bind(kc);
  target.applySecurityAuthentication = async (context) => {
    await limiter.wait();
    await auth(context);
  };
  target.applyToHTTPSOptions = async (opts) => {
    await limiter.wait();
    await https(opts);
  };
  return kc;
}

export interface KubeApiLimits {
  /** Sustained requests per second (0 = no limit). */
  readonly qps: number;
  readonly burst: number;
}

export function loadKubeConfig(file: string | undefined, limits?: KubeApiLimits): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromCluster();
  } catch (err) {
    throw new ControllerError('CONFIG_INVALID', `cannot load kubeconfig ${file ?? '(in-cluster)'}: ${(err as Error).message}; pass --kubeconfig <file>`, { cause: err });
  }
  if (!kc.getCurrentCluster()) {
    throw new ControllerError('CONFIG_INVALID', `kubeconfig ${file ?? '(in-cluster)'} has no current cluster; pass --kubeconfig <file> or run inside a cluster`);
  }
  withSharedAgents(kc);
  return limits ? withRateLimit(kc, createRateLimiter(limits)) : kc;
}

/**
 * core/watch-cache.ts's watch over client-node's Watch on `kc` (its shared agents and rate limit),
 * for the components that keep client-node (extender, module-deployment controller).
 */
export function watchVia(kc: k8s.KubeConfig): WatchFn {
  const watcher = new k8s.Watch(kc);
  return (path, query, onEvent, onDone) => watcher.watch(path, query, onEvent, onDone);
}
