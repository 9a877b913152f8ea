/**
 * UNIT-TEST DOUBLE of the coordination.k8s.io Lease object store — not an API server. It keeps
 * Leases by name (one namespace) with the API server's optimistic concurrency (create of an existing object → 409; replace
 * whose metadata.resourceVersion is not the current one → 409; read of a missing object → 404) and
 * serialises through JSON as the wire does. Each replica gets its own client whose calls take virtual
 * time (a read or write happens at a random point inside its latency, so replicas interleave) and
 * can list by label selector (`k=v,k2=v2` equality only) and delete (with a resourceVersion precondition);
 * which can be cut off: 'down' rejects (connection refused), 'hang' never answers (a black hole).
 * The real API is exercised by test/integration/bridge.test.ts.
 */
import type * as k8s from '@kubernetes/client-node';
import type { LeaseApi } from '../../bridge/leader-election.ts';
import type { ShardLeaseApi } from '../../bridge/shard-ownership.ts';
import type { VirtualTime } from '../support/virtual-time.ts';

export type LinkState = 'up' | 'down' | 'hang';

function apiError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class LeaseStoreDouble {
  private readonly stored = new Map<string, string>();
  private rv = 0;
  /** Every committed write, in order. */
  readonly writes: Array<{ at: number; by: string; name: string; spec: k8s.V1LeaseSpec | undefined }> = [];
  /** Every call made, by replica and verb (list/read/create/replace/delete). */
  readonly calls: Array<{ at: number; by: string; verb: string }> = [];
  /** Makes the next calls of `verb` fail with this HTTP status (once per entry). */
  readonly failNext: Array<{ verb: string; code: number }> = [];
  /** Makes the next calls of `verb` take this long (once per entry) instead of the random latency. */
  readonly slowNext: Array<{ verb: string; ms: number }> = [];
  private readonly vt: VirtualTime;
  private readonly random: () => number;
  private readonly maxLatencyMs: number;

  constructor(vt: VirtualTime, opts: { random?: () => number; maxLatencyMs?: number } = {}) {
    this.vt = vt;
    this.random = opts.random ?? (() => 0.5);
    this.maxLatencyMs = opts.maxLatencyMs ?? 0;
  }

  /** The stored Lease `name`; without a name, the first one stored (single-Lease tests). */
  current(name?: string): k8s.V1Lease | undefined {
    const raw = name === undefined ? this.stored.values().next().value : this.stored.get(name);
    return raw === undefined ? undefined : (JSON.parse(raw) as k8s.V1Lease);
  }

  names(): string[] {
    return [...this.stored.keys()].sort();
  }

  /** Writes a Lease as someone outside the replicas would (an admin, another controller). */
  put(body: k8s.V1Lease): void {
    const obj = JSON.parse(JSON.stringify(body)) as k8s.V1Lease;
    obj.metadata = { ...obj.metadata, resourceVersion: String(++this.rv) };
    this.stored.set(obj.metadata.name!, JSON.stringify(obj));
  }

  remove(name: string): void {
    this.stored.delete(name);
  }

  /** A client for one replica; `link()` is asked at the start of every call. */
  clientFor(who: string, link: () => LinkState = () => 'up'): LeaseApi & ShardLeaseApi {
    const call = async <R>(verb: string, op: () => R): Promise<R> => {
      this.calls.push({ at: this.vt.now, by: who, verb });
      const state = link();
      if (state === 'hang') return new Promise<R>(() => {});
      const slow = this.slowNext.findIndex((x) => x.verb === verb);
      const total = slow >= 0 ? this.slowNext.splice(slow, 1)[0]!.ms : this.random() * this.maxLatencyMs;
      const before = this.random() * total;
      await this.vt.sleep(before);
      if (state === 'down') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const failure = this.failNext.findIndex((f) => f.verb === verb);
      if (failure >= 0) throw apiError(this.failNext.splice(failure, 1)[0]!.code, `injected ${verb} failure`);
      const result = op();
      await this.vt.sleep(total - before);
      return result;
    };
    const commit = (body: k8s.V1Lease): k8s.V1Lease => {
      const obj = JSON.parse(JSON.stringify(body)) as k8s.V1Lease;
      obj.metadata = { ...obj.metadata, resourceVersion: String(++this.rv) };
      const name = obj.metadata.name ?? '';
      this.stored.set(name, JSON.stringify(obj));
      this.writes.push({ at: this.vt.now, by: who, name, spec: obj.spec });
      return JSON.parse(this.stored.get(name)!) as k8s.V1Lease;
    };
    const matches = (l: k8s.V1Lease, selector: string | undefined) =>
      (selector ?? '').split(',').filter((x) => x !== '').every((term) => {
        const [k, v] = term.split('=');
        return l.metadata?.labels?.[k!] === v;
      });
    const api = {
      readNamespacedLease: (req: { name: string }) =>
        call('read', () => {
          const cur = this.stored.get(req.name);
          if (cur === undefined) throw apiError(404, 'leases not found');
          return JSON.parse(cur) as k8s.V1Lease;
        }),
      listNamespacedLease: (req: { labelSelector?: string }) =>
        call('list', () => ({
          metadata: { resourceVersion: String(this.rv) },
          items: [...this.stored.values()].map((x) => JSON.parse(x) as k8s.V1Lease).filter((l) => matches(l, req.labelSelector)),
        })),
      createNamespacedLease: (req: { body: k8s.V1Lease }) =>
        call('create', () => {
          if (this.stored.has(req.body.metadata?.name ?? '')) throw apiError(409, 'leases already exists');
          return commit(req.body);
        }),
      replaceNamespacedLease: (req: { name: string; body: k8s.V1Lease }) =>
        call('replace', () => {
          const cur = this.current(req.name);
          if (!cur) throw apiError(404, 'leases not found');
          if (req.body.metadata?.resourceVersion !== cur.metadata?.resourceVersion) throw apiError(409, 'the object has been modified');
          return commit(req.body);
        }),
      deleteNamespacedLease: (req: { name: string; body?: k8s.V1DeleteOptions }) =>
        call('delete', () => {
          const cur = this.current(req.name);
          if (!cur) throw apiError(404, 'leases not found');
          const rv = req.body?.preconditions?.resourceVersion;
          if (rv !== undefined && rv !== cur.metadata?.resourceVersion) throw apiError(409, 'precondition failed');
          this.stored.delete(req.name);
          return { status: 'Success' };
        }),
    };
    return api as unknown as LeaseApi & ShardLeaseApi;
  }
}
