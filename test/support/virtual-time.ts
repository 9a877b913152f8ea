/**
 * A virtual clock and timer queue for unit tests of loops that take `now()` and `sleep(ms)` as
 * dependencies: time moves only when the test runs it, in timer order, and every promise chain a
 * timer starts is settled before the next timer fires. Deterministic, and no test waits in real time.
 */
export class VirtualTime {
  now = 0;
  private seq = 0;
  private readonly timers: Array<{ at: number; seq: number; resolve: () => void }> = [];

  /** Resolves after `ms` of virtual time. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, resolve });
    });

  /** Lets every pending promise chain run (they only wait on virtual timers, never on real I/O). */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Fires the timers due up to `until` in order; `onStep` runs after each one has settled. */
  async runUntil(until: number, onStep?: (now: number) => void): Promise<void> {
    await this.settle();
    onStep?.(this.now);
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.timers.shift();
      this.now = next.at;
      next.resolve();
      await this.settle();
      onStep?.(this.now);
    }
    this.now = until;
    onStep?.(this.now);
  }

  runFor(ms: number, onStep?: (now: number) => void): Promise<void> {
    return this.runUntil(this.now + ms, onStep);
  }
}
