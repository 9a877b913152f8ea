/**
 * A keyed work queue in the style of client-go's workqueue: a key is queued at most once, never
 * processed by two workers at once (a key added while it runs is processed again afterwards), and
 * can be scheduled for later (`addAfter`). Reconcilers are level-based: the key names an object and
 * the handler reads the current state, so coalescing many events into one run loses nothing.
 */

export type Reconcile = (key: string) => Promise<ReconcileOutcome>;

/** One outcome switch drives both the requeue and the metrics. */
export type ReconcileOutcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeueAfter'; readonly ms: number }
  | { readonly kind: 'error'; readonly error: unknown };

export interface WorkQueueOptions {
  readonly concurrency: number;
  /** Backoff for keys whose reconcile failed: base * 2^failures, capped. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly onOutcome?: (key: string, outcome: ReconcileOutcome, ms: number) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly dueAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly reconcile: Reconcile;
  private readonly opts: WorkQueueOptions;

  constructor(reconcile: Reconcile, opts: WorkQueueOptions) {
    this.reconcile = reconcile;
    this.opts = opts;
  }

  add(key: string): void {
    if (this.stopped) return;
    const t = this.timers.get(key);
    if (t) {
      clearTimeout(t);
      this.timers.delete(key);
      this.dueAt.delete(key);
    }
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Schedules a key; the soonest schedule (or an immediate add) wins, as in client-go. */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.queued.has(key)) return;
    const due = Date.now() + Math.max(0, ms);
    const existing = this.dueAt.get(key);
    if (existing !== undefined && existing <= due) return;
    clearTimeout(this.timers.get(key));
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.dueAt.delete(key);
      this.add(key);
    }, Math.max(0, ms));
    t.unref();
    this.timers.set(key, t);
    this.dueAt.set(key, due);
  }

  get length(): number {
    return this.queue.length + this.active;
  }

  /** Resolves when nothing is queued or running (timers may still be pending). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.dueAt.clear();
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      this.active++;
      void this.runOne(key);
    }
  }

  private async runOne(key: string): Promise<void> {
    const started = performance.now();
    let outcome: ReconcileOutcome;
    try {
      outcome = await this.reconcile(key);
    } catch (error) {
      outcome = { kind: 'error', error };
    }
    this.opts.onOutcome?.(key, outcome, performance.now() - started);
    this.running.delete(key);
    this.active--;
    if (outcome.kind === 'error') {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min((this.opts.backoffBaseMs ?? 500) * 2 ** (n - 1), this.opts.backoffMaxMs ?? 60_000);
      this.addAfter(key, delay);
    } else {
      this.failures.delete(key);
      if (outcome.kind === 'requeueAfter') this.addAfter(key, outcome.ms);
    }
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
    if (this.queue.length === 0 && this.active === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
