/**
 * The running extender: informers → snapshot → app → listening server. Used by the `extender`
 * command, and by the integration test and benchmark (in-process, on 127.0.0.1 port 0).
 */
import type { Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { listen } from '../core/http-server.ts';
import { createExtenderApp } from './app.ts';
import { createExtenderMetrics } from './metrics.ts';
import { PlacementMemory } from './placement-memory.ts';
import { ClusterSnapshot } from './snapshot.ts';
import { ALL_SOURCES, watchCluster } from './informers.ts';

export interface ExtenderServerOptions {
  readonly kc: k8s.KubeConfig;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly port: number;
  readonly host: string;
  readonly maxModulesPerBase: number;
  readonly placementTtlMs: number;
  readonly maxBodyBytes: number;
  readonly tls?: SecureContextOptions;
  readonly now?: () => number;
}

export interface ExtenderServer {
  readonly port: number;
  readonly snapshot: ClusterSnapshot;
  /** Swaps the serving certificate (HTTPS only). */
  setTls(tls: SecureContextOptions): void;
  close(): Promise<void>;
}

export async function startExtenderServer(opts: ExtenderServerOptions): Promise<ExtenderServer> {
  const snapshot = new ClusterSnapshot(new PlacementMemory(opts.placementTtlMs, opts.now ?? Date.now), ALL_SOURCES);
  const metrics = createExtenderMetrics(opts.registry, () => snapshot.assumedCount);
  const app = createExtenderApp({
    view: snapshot,
    config: { maxModulesPerBase: opts.maxModulesPerBase },
    logger: opts.logger,
    registry: opts.registry,
    metrics,
    maxBodyBytes: opts.maxBodyBytes,
  });
  const watch = watchCluster(opts.kc, snapshot, opts.logger);
  let server;
  try {
    server = await listen(app, { port: opts.port, host: opts.host, ...(opts.tls ? { tls: opts.tls } : {}) });
  } catch (err) {
    await watch.stop();
    throw err;
  }
  const listening = server;
  return {
    port: listening.port,
    snapshot,
    setTls: (tls) => (listening.server as HttpsServer).setSecureContext(tls),
    async close() {
      await listening.close();
      await watch.stop();
    },
  };
}
