/**
 * UNIT-TEST DOUBLE of the coordination.k8s.io Lease object store — not an API server. It keeps one
 * Lease with the API server's optimistic concurrency (create of an existing object → 409; replace
 * whose metadata.resourceVersion is not the current one → 409; read of a missing object → 404) and
 * serialises through JSON as the wire does. Each replica gets its own client whose calls take virtual
 * time (a read or write happens at a random point inside its latency, so replicas interleave) and
 * which can be cut off: 'down' rejects (connection refused), 'hang' never answers (a black hole).
 * The real API is exercised by test/integration/bridge.test.ts.
 */
import type * as k8s from '@kubernetes/client-node';
import type { LeaseApi } from '../../bridge/leader-election.ts';
import type { VirtualTime } from '../support/virtual-time.ts';

export type LinkState = 'up' | 'down' | 'hang';

function apiError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class LeaseStoreDouble {
  private stored: string | undefined;
  private rv = 0;
  /** Every committed write, in order. */
  readonly writes: Array<{ at: number; by: string; spec: k8s.V1LeaseSpec | undefined }> = [];
  private readonly vt: VirtualTime;
  private readonly random: () => number;
  private readonly maxLatencyMs: number;

  constructor(vt: VirtualTime, opts: { random?: () => number; maxLatencyMs?: number } = {}) {
    this.vt = vt;
    this.random = opts.random ?? (() => 0.5);
    this.maxLatencyMs = opts.maxLatencyMs ?? 0;
  }

  current(): k8s.V1Lease | undefined {
    return this.stored === undefined ? undefined : (JSON.parse(this.stored) as k8s.V1Lease);
  }

  /** A client for one replica; `link()` is asked at the start of every call. */
  clientFor(who: string, link: () => LinkState = () => 'up'): LeaseApi {
    const call = async <R>(op: () => R): Promise<R> => {
      const state = link();
      if (state === 'hang') return new Promise<R>(() => {});
      const total = this.random() * this.maxLatencyMs;
      const before = this.random() * total;
      await this.vt.sleep(before);
      if (state === 'down') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const result = op();
      await this.vt.sleep(total - before);
      return result;
    };
    const commit = (body: k8s.V1Lease): k8s.V1Lease => {
      const obj = JSON.parse(JSON.stringify(body)) as k8s.V1Lease;
      obj.metadata = { ...obj.metadata, resourceVersion: String(++this.rv) };
      this.stored = JSON.stringify(obj);
      this.writes.push({ at: this.vt.now, by: who, spec: obj.spec });
      return JSON.parse(this.stored) as k8s.V1Lease;
    };
    const api = {
      readNamespacedLease: () =>
        call(() => {
          if (this.stored === undefined) throw apiError(404, 'leases not found');
          return JSON.parse(this.stored) as k8s.V1Lease;
        }),
      createNamespacedLease: (req: { body: k8s.V1Lease }) =>
        call(() => {
          if (this.stored !== undefined) throw apiError(409, 'leases already exists');
          return commit(req.body);
        }),
      replaceNamespacedLease: (req: { body: k8s.V1Lease }) =>
        call(() => {
          const cur = this.current();
          if (!cur) throw apiError(404, 'leases not found');
          if (req.body.metadata?.resourceVersion !== cur.metadata?.resourceVersion) throw apiError(409, 'the object has been modified');
          return commit(req.body);
        }),
    };
    return api as unknown as LeaseApi;
  }
}
