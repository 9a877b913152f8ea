/**
 * Shares assumed placements between extender replicas, so the placement memory does not depend on
 * which replica a scheduler call lands on (docs/extender.md "Several replicas").
 *
 * With two replicas behind the Service, replica 1 of a Deployment may be scored by one extender
 * and replica 2, a moment later and before the bind is visible, by the other: without the first
 * one's assumption both pick the same base (the tie order is the same everywhere). So an answer
 * that assumes a placement is sent only after every other replica has taken it: one small POST
 * `/assumed-placements` per peer, in parallel, on kept-alive connections over the extender's own
 * HTTP(S) — with --tls-client-ca-file, presenting the serving certificate as the client
 * certificate and checking the peer's against that CA. The scheduler can only start the next pod
 * once it has our answer, so the next call finds the assumption on whichever replica it lands.
 *
 * A peer that does not answer must not stall scheduling: each push waits at most `timeoutMs`; a
 * peer that failed or timed out is marked down (logged once, counted, gauged) and no longer waited
 * for — the next pushes go to it without waiting, one at a time, and the first that succeeds marks
 * it up again. While a peer is down, calls it answers may miss assumptions made elsewhere (the
 * behaviour of a single replica's memory, bounded by the few milliseconds until binds show up).
 */
import http from 'node:http';
import https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Logger } from '../core/logger.ts';
import { toErrorFields } from '../core/errors.ts';
import type { ExtenderMetrics } from './metrics.ts';
import type { PeerEndpoint } from './peer-endpoints.ts';
import { toPeerPlacementsBody, type PeerPlacement } from './peer-placements.ts';

export const PEER_PATH = '/assumed-placements';

/** How the pushes authenticate, when the extender serves HTTPS. */
export interface PeerTls {
  /** This replica's serving certificate and key, presented as the client certificate. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Checks the peer's certificate (the client CA: the chart's CA signs both); without it the peer is not verified. */
  readonly ca?: string | Buffer | undefined;
  /** The name the peers' certificate carries (the Service's DNS name): peers are called by pod IP. */
  readonly serverName: string;
}

export interface PeerPushOptions {
  readonly logger: Logger;
  readonly metrics: Pick<ExtenderMetrics, 'peerPushes' | 'peerWaitSeconds' | 'peers'>;
  readonly timeoutMs: number;
  readonly tls?: PeerTls | undefined;
  /**
   * Where to connect for an endpoint: its address and port. Tests map the documentation
   * addresses they write into EndpointSlices (which refuse loopback addresses) to loopback ports.
   */
  readonly dial?: ((endpoint: PeerEndpoint) => { readonly host: string; readonly port: number }) | undefined;
}

type Outcome = 'ok' | 'error' | 'timeout';

interface PeerState {
  readonly endpoint: PeerEndpoint;
  up: boolean;
  /** A push to a down peer is under way (only one at a time). */
  probing: boolean;
}

export class PeerPush {
  readonly #logger: Logger;
  readonly #metrics: PeerPushOptions['metrics'];
  readonly #timeoutMs: number;
  readonly #dial: (endpoint: PeerEndpoint) => { readonly host: string; readonly port: number };
  #tls: PeerTls | undefined;
  #agent: http.Agent;
  #peers = new Map<string, PeerState>();

  constructor(opts: PeerPushOptions) {
    this.#logger = opts.logger;
    this.#metrics = opts.metrics;
    this.#timeoutMs = opts.timeoutMs;
    this.#dial = opts.dial ?? ((e) => ({ host: e.address, port: e.port }));
    this.#tls = opts.tls;
    this.#agent = this.#makeAgent();
    this.#gauge();
  }

  /** The peers now (from the EndpointSlices); known ones keep their state. */
  setPeers(endpoints: readonly PeerEndpoint[]): void {
    const next = new Map<string, PeerState>();
    for (const endpoint of endpoints) next.set(endpoint.key, this.#peers.get(endpoint.key) ?? { endpoint, up: true, probing: false });
    const joined = [...next.keys()].filter((k) => !this.#peers.has(k));
    const left = [...this.#peers.keys()].filter((k) => !next.has(k));
    this.#peers = next;
    if (joined.length > 0 || left.length > 0) this.#logger.info({ joined, left, peers: [...next.keys()] }, 'extender peers changed');
    this.#gauge();
  }

  /** New certificate, key or CA (rotation): new connections use them. */
  setTls(tls: PeerTls): void {
    this.#tls = tls;
    const old = this.#agent;
    this.#agent = this.#makeAgent();
    old.destroy();
  }

  get peers(): ReadonlyArray<{ readonly key: string; readonly up: boolean }> {
    return [...this.#peers.values()].map((p) => ({ key: p.endpoint.key, up: p.up }));
  }

  /** Resolves once every peer that is up has taken the placement, or failed, or `timeoutMs` passed; never rejects. */
  async push(placement: PeerPlacement): Promise<void> {
    if (this.#peers.size === 0) return;
    const end = this.#metrics.peerWaitSeconds.startTimer();
    const body = toPeerPlacementsBody([placement]);
    const waits: Array<Promise<unknown>> = [];
    for (const peer of this.#peers.values()) {
      if (peer.up) waits.push(this.#pushTo(peer, body));
      else if (!peer.probing) {
        // Not waited for: the answer goes out now; a success brings the peer back.
        peer.probing = true;
        void this.#pushTo(peer, body).finally(() => (peer.probing = false));
      } else this.#metrics.peerPushes.inc({ outcome: 'skipped' });
    }
    await Promise.all(waits);
    end();
  }

  close(): void {
    this.#agent.destroy();
  }

  async #pushTo(peer: PeerState, body: string): Promise<void> {
    const { outcome, why } = await this.#send(peer.endpoint, body);
    this.#metrics.peerPushes.inc({ outcome });
    if (this.#peers.get(peer.endpoint.key) !== peer) return;
    if (outcome === 'ok' && !peer.up) {
      peer.up = true;
      this.#logger.info({ peer: peer.endpoint.key, pod: peer.endpoint.podName }, 'extender peer reachable again; assumed placements are shared with it');
      this.#gauge();
    } else if (outcome !== 'ok' && peer.up) {
      peer.up = false;
      this.#logger.warn({ peer: peer.endpoint.key, pod: peer.endpoint.podName, outcome, why }, 'extender peer did not take an assumed placement; answers no longer wait for it until it answers again');
      this.#gauge();
    }
  }

  #send(peer: PeerEndpoint, body: string): Promise<{ outcome: Outcome; why?: string }> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: Outcome, why?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(why === undefined ? { outcome } : { outcome, why });
      };
      const request = this.#tls ? https.request : http.request;
      let req: http.ClientRequest;
      try {
        const { host, port } = this.#dial(peer);
        req = request({
          host,
          port,
          method: 'POST',
          path: PEER_PATH,
          agent: this.#agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        }, (res) => {
          res.resume();
          res.once('end', () => finish(res.statusCode === 204 || res.statusCode === 200 ? 'ok' : 'error', `HTTP ${res.statusCode}`));
          res.once('error', (err) => finish('error', toErrorFields(err).message));
        });
      } catch (err) {
        // A push never fails the answer it was made for.
        resolve({ outcome: 'error', why: toErrorFields(err).message });
        return;
      }
      const timer = setTimeout(() => {
        finish('timeout', `no answer within ${this.#timeoutMs} ms`);
        req.destroy();
      }, this.#timeoutMs);
      req.once('error', (err) => finish('error', toErrorFields(err).message));
      req.end(body);
    });
  }

  #makeAgent(): http.Agent {
    const tls = this.#tls;
    if (!tls) return new http.Agent({ keepAlive: true, maxSockets: 8 });
    const serverName = tls.serverName;
    return new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca ? { ca: tls.ca } : {}),
      rejectUnauthorized: tls.ca !== undefined,
      servername: serverName,
      // Peers are called by pod IP; their certificate names the Service.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(serverName, cert),
    });
  }

  #gauge(): void {
    let up = 0;
    for (const p of this.#peers.values()) if (p.up) up++;
    this.#metrics.peers.set({ state: 'up' }, up);
    this.#metrics.peers.set({ state: 'down' }, this.#peers.size - up);
  }
}
