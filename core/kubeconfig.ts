/** Loads a kubeconfig from a file, or the in-cluster service account when no file is given. */
import https from 'node:https';
import http from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { ControllerError } from './errors.ts';

type AgentFactory = (cluster: k8s.Cluster | null, options: https.AgentOptions) => http.Agent;

/**
 * @kubernetes/client-node builds a new https.Agent for every request, so every API call pays a TLS
 * handshake (it was most of the bridge's CPU at 1,000 bases). Reuse one keep-alive agent per distinct
 * set of TLS options; proxies keep the library's own agents.
 */
export function withKeepAliveAgents(kc: k8s.KubeConfig): k8s.KubeConfig {
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, http.Agent>();
  target.createAgent = (cluster, options) => {
    if (cluster?.proxyUrl) return original(cluster, options);
    const key = JSON.stringify([cluster?.server, cluster?.skipTLSVerify, String(options.ca ?? ''), String(options.cert ?? ''), String(options.key ?? ''), options.rejectUnauthorized]);
    let agent = agents.get(key);
    if (!agent) {
      const keepAlive = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 32, maxFreeSockets: 8 };
      agent = cluster?.server?.startsWith('http:') ? new http.Agent({ ...keepAlive }) : new https.Agent({ ...options, ...keepAlive });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}

export function loadKubeConfig(file: string | undefined): k8s.KubeConfig {
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
  return withKeepAliveAgents(kc);
}
