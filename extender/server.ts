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
import { PlacementMemory, type SweepTimers } from './placement-memory.ts';
import type { BaseTenancy } from '../core/base-tenancy.ts';
import { toLatestExpiry } from '../core/cert-expiry.ts';
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
  /** Serve HTTPS with this context (cert, key; `ca` too when client certificates are required). */
  readonly tls?: SecureContextOptions;
  /**
   * Require a client certificate signed by `tls.ca` on /filter and /prioritize (the scheduler's
   * extender tlsConfig certFile/keyFile). Probes and /metrics stay open: kubelet probes send none.
   */
  readonly requireClientCert?: boolean;
  /** Most assumed placements kept (placement-memory.ts). */
  readonly maxAssumedPlacements?: number;
  readonly tenancy?: BaseTenancy;
  readonly now?: () => number;
  /** The placement sweeper's timer (tests inject one). */
  readonly sweepTimers?: SweepTimers;
}

export interface ExtenderServer {
  readonly port: number;
  readonly snapshot: ClusterSnapshot;
  /** Swaps the serving certificate (HTTPS only). */
  setTls(tls: SecureContextOptions): void;
  close(): Promise<void>;
}

export async function startExtenderServer(opts: ExtenderServerOptions): Promise<ExtenderServer> {
  const memory = new PlacementMemory(opts.placementTtlMs, opts.now ?? Date.now, {
    ...(opts.maxAssumedPlacements !== undefined ? { maxEntries: opts.maxAssumedPlacements } : {}),
    onEvict: (n) => metrics.assumedEvicted.inc(n),
  });
  const snapshot = new ClusterSnapshot(memory, ALL_SOURCES);
  const metrics = createExtenderMetrics(opts.registry, () => snapshot.assumedCount);
  const app = createExtenderApp({
    view: snapshot,
    config: { maxModulesPerBase: opts.maxModulesPerBase, ...(opts.tenancy ? { tenancy: opts.tenancy } : {}) },
    logger: opts.logger,
    registry: opts.registry,
    metrics,
    maxBodyBytes: opts.maxBodyBytes,
    requireClientCert: opts.requireClientCert === true,
  });
  const watch = watchCluster(opts.kc, snapshot, opts.logger);
  const observeTls = (t: SecureContextOptions | undefined) => {
    const serving = typeof t?.cert === 'string' || Buffer.isBuffer(t?.cert) ? toLatestExpiry(t.cert) : undefined;
    const clientCa = typeof t?.ca === 'string' || Buffer.isBuffer(t?.ca) ? toLatestExpiry(t.ca) : undefined;
    if (serving) metrics.certExpiry.labels('serving').set(serving.getTime() / 1000);
    if (clientCa) metrics.certExpiry.labels('client-ca').set(clientCa.getTime() / 1000);
  };
  observeTls(opts.tls);
  // Expired assumptions go on their own clock (a TTL's worth at most late), not only when read.
  const stopSweeping = memory.startSweeping(Math.min(opts.placementTtlMs, 10_000), opts.sweepTimers);
  // requestCert without rejectUnauthorized: the handshake asks every client for a certificate, the
  // app refuses the extender verbs to those without a valid one, and probes still get through.
  const tls = opts.tls ? { ...opts.tls, ...(opts.requireClientCert ? { requestCert: true, rejectUnauthorized: false } : {}) } : undefined;
  let server;
  try {
    server = await listen(app, { port: opts.port, host: opts.host, ...(tls ? { tls } : {}) });
  } catch (err) {
    stopSweeping();
    await watch.stop();
    throw err;
  }
  const listening = server;
  return {
    port: listening.port,
    snapshot,
    setTls: (tls) => {
      (listening.server as HttpsServer).setSecureContext(tls);
      observeTls(tls);
    },
    async close() {
      stopSweeping();
      await listening.close();
      await watch.stop();
    },
  };
}
