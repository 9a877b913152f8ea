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
 */
import type { ModuleRef } from './node-load.ts';

export interface AssumedPlacement {
  readonly podUid: string;
  readonly nodeName: string;
  readonly modules: readonly ModuleRef[];
  readonly expiresAt: number;
}

export class PlacementMemory {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #byPod = new Map<string, AssumedPlacement>();
  readonly #byNode = new Map<string, Map<string, AssumedPlacement>>();

  constructor(ttlMs: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** Replaces any earlier assumption for the pod (a retry may choose another node). */
  assume(podUid: string, nodeName: string, modules: readonly ModuleRef[]): void {
    this.forget(podUid);
    const p: AssumedPlacement = { podUid, nodeName, modules, expiresAt: this.#now() + this.#ttlMs };
    this.#byPod.set(podUid, p);
    let onNode = this.#byNode.get(nodeName);
    if (!onNode) this.#byNode.set(nodeName, (onNode = new Map()));
    onNode.set(podUid, p);
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
}
