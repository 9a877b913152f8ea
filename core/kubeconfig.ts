/** Loads a kubeconfig from a file, or the in-cluster service account when no file is given. */
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { ControllerError } from './errors.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';

type AgentFactory = (cluster: k8s.Cluster | null, options: https.AgentOptions) => http.Agent;

/**
 * @kubernetes/client-node builds a new https.Agent (and so a new TLS context and a full handshake) for
 * every request: that was most of the bridge's CPU at 1,000 bases. Reuse one agent per distinct set of
 * TLS options, with its TLS context built once and its session cache kept, so connections resume TLS
 * sessions. Connections are not kept alive: node-fetch 2 (under client-node) misreads a reused
 * keep-alive socket's chunked response as "Premature close". Proxies keep the library's own agents.
 */
export function withSharedAgents(kc: k8s.KubeConfig): k8s.KubeConfig {
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, http.Agent>();
  target.createAgent = (cluster, options) => {
    if (cluster?.proxyUrl) return original(cluster, options);
    const key = JSON.stringify([cluster?.server, cluster?.skipTLSVerify, String(options.ca ?? ''), String(options.cert ?? ''), String(options.key ?? ''), options.rejectUnauthorized]);
    let agent = agents.get(key);
    if (!agent) {
      agent = cluster?.server?.startsWith('http:')
        ? new http.Agent()
        : new https.Agent({ ...options, secureContext: tls.createSecureContext({ ca: options.ca, cert: options.cert, key: options.key }), maxCachedSessions: 100 });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}

/**
 * Every request made through `kc` first waits for `limiter` (client-go applies its QPS/burst limit
 * to every request of a rest client, watches included). @kubernetes/client-node 1.4 has no
 * per-client middleware: the generated API clients call `applySecurityAuthentication` before each
 * request and Watch (and exec/log/attach) call `applyToHTTPSOptions`, so both are wrapped here.
 */
export function withRateLimit(kc: k8s.KubeConfig, limiter: RateLimiter): k8s.KubeConfig {
  const target = kc as unknown as {
    applySecurityAuthentication(context: unknown): Promise<void>;
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
