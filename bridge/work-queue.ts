/**
 * A keyed work queue in the style of client-go's workqueue: a key is queued at most once, never
 * processed by two workers at once (a key added while it runs is processed again afterwards), and
 * can be scheduled for later (`addAfter`). Reconcilers are level-based: the key names an object and
 * the handler reads the current state, so coalescing many events into one run loses nothing.
 *
 * A failed key backs off per item, base * 2^(failures-1) capped (client-go's
 * ItemExponentialFailureRateLimiter; success Forgets the count). Unlike client-go's plain Add, an
 * `add` during an error backoff does not cut it short: the key is already due at the backoff's end,
 * so a source that fires often (a heartbeat every few seconds) cannot turn the backoff into a retry
 * on every event against a failing API server. Non-error schedules (`addAfter`, requeueAfter) are
 * still pre-empted by `add`.
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
  /** Injected for tests; defaults to performance.now and the global timers. */
  readonly clock?: QueueClock;
}

export interface QueueClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_CLOCK: QueueClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, unknown>();
  private readonly dueAt = new Map<string, number>();
  /** Keys waiting out an error backoff: their timer is the only way back into the queue. */
  private readonly backingOff = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly clock: QueueClock;
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly reconcile: Reconcile;
  private readonly opts: WorkQueueOptions;

  constructor(reconcile: Reconcile, opts: WorkQueueOptions) {
    this.reconcile = reconcile;
    this.opts = opts;
    this.clock = opts.clock ?? REAL_CLOCK;
  }

  /** Queues the key now — unless it is waiting out an error backoff, at whose end it runs anyway. */
  add(key: string): void {
    if (this.stopped || this.backingOff.has(key)) return;
    this.cancelTimer(key);
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
    if (this.stopped || this.queued.has(key) || this.backingOff.has(key)) return;
    this.schedule(key, ms);
  }

  /** Keys waiting out an error backoff (for tests and metrics). */
  get backingOffCount(): number {
    return this.backingOff.size;
  }

  private schedule(key: string, ms: number): void {
    const due = this.clock.now() + Math.max(0, ms);
    const existing = this.dueAt.get(key);
    if (existing !== undefined && existing <= due) return;
    this.cancelTimer(key);
    const t = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.dueAt.delete(key);
      this.backingOff.delete(key);
      this.add(key);
    }, Math.max(0, ms));
    this.timers.set(key, t);
    this.dueAt.set(key, due);
  }

  private cancelTimer(key: string): void {
    if (!this.timers.has(key)) return;
    this.clock.clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.dueAt.delete(key);
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
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    this.dueAt.clear();
    this.backingOff.clear();
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
    const started = this.clock.now();
    let outcome: ReconcileOutcome;
    try {
      outcome = await this.reconcile(key);
    } catch (error) {
      outcome = { kind: 'error', error };
    }
    this.opts.onOutcome?.(key, outcome, this.clock.now() - started);
    this.running.delete(key);
    this.active--;
    if (outcome.kind === 'error') {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min((this.opts.backoffBaseMs ?? 500) * 2 ** (n - 1), this.opts.backoffMaxMs ?? 60_000);
      if (!this.stopped) {
        // The backoff replaces any other schedule of the key: it is due at the backoff's end.
        this.cancelTimer(key);
        this.backingOff.add(key);
        this.schedule(key, delay);
      }
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
