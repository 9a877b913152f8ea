/**
 * A token bucket for client-side API rate limiting, with client-go's semantics (its
 * tokenBucketRateLimiter over golang.org/x/time/rate): `burst` requests may go at once, then
 * `qps` per second; a caller over the limit *waits* (it is not refused), callers are served in the
 * order they asked, and an idle bucket refills to `burst`, never beyond.
 */
import { ControllerError } from './errors.ts';

export interface RateLimiter {
  /** Resolves when the caller may send its request. */
  wait(): Promise<void>;
  /** Takes a token now and returns how long the caller must wait for it (ms); exposed for tests. */
  reserve(): number;
}

export interface RateLimitOptions {
  /** Sustained requests per second; 0 turns limiting off. */
  readonly qps: number;
  readonly burst: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

function realSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function createRateLimiter(o: RateLimitOptions): RateLimiter {
  if (!(o.qps >= 0) || !Number.isFinite(o.qps)) throw new ControllerError('CONFIG_INVALID', `--kube-api-qps must be 0 (no limit) or a positive number, got ${o.qps}`);
  if (o.qps > 0 && !(o.burst >= 1)) throw new ControllerError('CONFIG_INVALID', `--kube-api-burst must be at least 1, got ${o.burst}; set it to about twice --kube-api-qps`);
  if (o.qps === 0) return { wait: () => Promise.resolve(), reserve: () => 0 };
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? realSleep;
  const perMs = o.qps / 1000;
  // Tokens may go negative: each caller reserves the next token and waits until it has accrued,
  // which serves waiters in order without a queue.
  let tokens = o.burst;
  let last = now();
  const reserve = () => {
    const t = now();
    tokens = Math.min(o.burst, tokens + (t - last) * perMs);
    last = t;
    tokens -= 1;
    return tokens >= 0 ? 0 : -tokens / perMs;
  };
  return {
    reserve,
    wait: () => {
      const ms = reserve();
      return ms > 0 ? sleep(ms) : Promise.resolve();
    },
  };
}
