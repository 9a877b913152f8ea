/**
 * Placements the extender assumed but has not seen bound yet.
 *
 * The extender only sees /filter and /prioritize, never the bind. The scheduler binds
 * asynchronously and starts the next pod at once, so replica 2 of a Deployment is filtered before
 * the informer shows replica 1 bound; without memory both would pick the same empty base. So:
 * when /prioritize ranks a node first (the shipped weight makes the scheduler follow that
 * ranking), or /filter leaves exactly one node (the scheduler then skips scoring and takes it),
 * the extender assumes the pod goes there. The assumption ends when the informer shows the pod
 * bound (to whichever node: the API server is the truth), deleted or finished, or after a TTL in
 * case the scheduling cycle failed after our answer.
 *
 * Bounded: anyone who can reach /prioritize can make the extender assume placements for invented
 * pod UIDs, so at most `maxEntries` are kept (the oldest goes first; a real scheduler assumes a
 * few hundred per TTL), and expired ones are swept on a timer of their own (startSweeping), not
 * only when something reads them.
 */
import type { ModuleRef } from './node-load.ts';

export interface AssumedPlacement {
  readonly podUid: string;
  readonly nodeName: string;
  readonly modules: readonly ModuleRef[];
  readonly expiresAt: number;
}

/** The timer functions the sweeper uses (injected so tests drive it without waiting). */
export interface SweepTimers {
  setInterval(fn: () => void, ms: number): { unref?(): unknown };
  clearInterval(handle: unknown): void;
}

export const DEFAULT_MAX_ASSUMED = 10_000;

export interface PlacementMemoryOptions {
  /** Most assumptions kept; the oldest is dropped for a new one beyond it. */
  readonly maxEntries?: number;
  /** Called with how many assumptions were dropped for the bound (a metric). */
  readonly onEvict?: (count: number) => void;
}

export class PlacementMemory {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #onEvict: ((count: number) => void) | undefined;
  // Insertion order is assumption order (assume() deletes first): the first key is the oldest.
  readonly #byPod = new Map<string, AssumedPlacement>();
  readonly #byNode = new Map<string, Map<string, AssumedPlacement>>();

  constructor(ttlMs: number, now: () => number, options: PlacementMemoryOptions = {}) {
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_MAX_ASSUMED);
    this.#onEvict = options.onEvict;
  }

  /** Replaces any earlier assumption for the pod (a retry may choose another node); `ttlMs` (a peer's remaining TTL) never exceeds the memory's own. */
  assume(podUid: string, nodeName: string, modules: readonly ModuleRef[], ttlMs = this.#ttlMs): void {
    this.forget(podUid);
    if (this.#byPod.size >= this.#maxEntries) {
      // Expired ones first; only a memory full of live assumptions loses its oldest.
      this.sweep();
      let evicted = 0;
      for (const oldest of this.#byPod.keys()) {
        if (this.#byPod.size < this.#maxEntries) break;
        this.forget(oldest);
        evicted++;
      }
      if (evicted > 0) this.#onEvict?.(evicted);
    }
    const p: AssumedPlacement = { podUid, nodeName, modules, expiresAt: this.#now() + Math.min(ttlMs, this.#ttlMs) };
    this.#byPod.set(podUid, p);
    let onNode = this.#byNode.get(nodeName);
    if (!onNode) this.#byNode.set(nodeName, (onNode = new Map()));
    onNode.set(podUid, p);
  }

  /** The TTL a new assumption gets. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  forget(podUid: string): void {
    const p = this.#byPod.get(podUid);
    if (!p) return;
    this.#byPod.delete(podUid);
    const onNode = this.#byNode.get(p.nodeName);
    onNode?.delete(podUid);
    if (onNode?.size === 0) this.#byNode.delete(p.nodeName);
  }

  /** Nodes with any assumption, live or not yet swept. */
  nodeNames(): string[] {
    return [...this.#byNode.keys()];
  }

  /** Live assumptions on a node (expired ones are dropped on the way). */
  on(nodeName: string): AssumedPlacement[] {
    const onNode = this.#byNode.get(nodeName);
    if (!onNode) return [];
    const now = this.#now();
    const live: AssumedPlacement[] = [];
    for (const p of [...onNode.values()]) {
      if (p.expiresAt <= now) this.forget(p.podUid);
      else live.push(p);
    }
    return live;
  }

  get(podUid: string): AssumedPlacement | undefined {
    const p = this.#byPod.get(podUid);
    if (p && p.expiresAt <= this.#now()) {
      this.forget(podUid);
      return undefined;
    }
    return p;
  }

  /** Drops every expired assumption; returns how many remain. */
  sweep(): number {
    const now = this.#now();
    for (const p of [...this.#byPod.values()]) if (p.expiresAt <= now) this.forget(p.podUid);
    return this.#byPod.size;
  }

  get size(): number {
    return this.#byPod.size;
  }

  /** Sweeps every `intervalMs` until the returned stop is called; the timer never keeps the process alive. */
  startSweeping(intervalMs: number, timers: SweepTimers = globalThis): () => void {
    const handle = timers.setInterval(() => this.sweep(), intervalMs);
    handle.unref?.();
    return () => timers.clearInterval(handle);
  }
}
