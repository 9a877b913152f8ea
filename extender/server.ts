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
import { PeerPush, type PeerPushOptions, type PeerTls } from './peer-push.ts';
import { watchPeers } from './peer-watch.ts';
import type { Assumption } from './decisions.ts';

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
  /** Share assumed placements with the other replicas of this Service (peer-push.ts); unset: this replica's memory is its own. */
  readonly peers?: ExtenderPeersOptions;
}

export interface ExtenderPeersOptions {
  /** The extender's Service: its EndpointSlices list the replicas. */
  readonly namespace: string;
  readonly service: string;
  /** This replica's pod, left out of the peers. */
  readonly podName?: string | undefined;
  /** Longest an answer waits for a peer. */
  readonly timeoutMs: number;
  /** Where to connect for an endpoint (tests: documentation addresses → loopback ports); default its address and port. */
  readonly dial?: PeerPushOptions['dial'];
}

export interface ExtenderServer {
  readonly port: number;
  readonly snapshot: ClusterSnapshot;
  /** The other replicas and whether each is up (empty without `peers`). */
  peers(): ReadonlyArray<{ readonly key: string; readonly up: boolean }>;
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
  const toPeerTls = (t: SecureContextOptions | undefined): PeerTls | undefined =>
    t?.cert && t.key && opts.peers ? { cert: t.cert as string | Buffer, key: t.key as string | Buffer, ca: opts.requireClientCert ? (t.ca as string | Buffer | undefined) : undefined, serverName: `${opts.peers.service}.${opts.peers.namespace}.svc` } : undefined;
  const push = opts.peers ? new PeerPush({ logger: opts.logger, metrics, timeoutMs: opts.peers.timeoutMs, tls: toPeerTls(opts.tls), dial: opts.peers.dial }) : undefined;
  const app = createExtenderApp({
    view: snapshot,
    config: { maxModulesPerBase: opts.maxModulesPerBase, ...(opts.tenancy ? { tenancy: opts.tenancy } : {}) },
    logger: opts.logger,
    registry: opts.registry,
    metrics,
    maxBodyBytes: opts.maxBodyBytes,
    requireClientCert: opts.requireClientCert === true,
    ...(push ? { share: (a: Assumption) => push.push({ ...a, ttlMs: opts.placementTtlMs }) } : {}),
  });
  const watch = watchCluster(opts.kc, snapshot, opts.logger);
  const peerWatch = push && opts.peers ? watchPeers(opts.kc, opts.peers, push, opts.logger) : undefined;
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
    await peerWatch?.stop();
    push?.close();
    throw err;
  }
  const listening = server;
  return {
    port: listening.port,
    snapshot,
    peers: () => push?.peers ?? [],
    setTls: (tls) => {
      (listening.server as HttpsServer).setSecureContext(tls);
      observeTls(tls);
      const peerTls = toPeerTls(tls);
      if (peerTls) push?.setTls(peerTls);
    },
    async close() {
      stopSweeping();
      await listening.close();
      await watch.stop();
      await peerWatch?.stop();
      push?.close();
    },
  };
}
