/**
 * Batch arithmetic of a release (v1's rules, docs/module-deployment.md "Batches"): how many batches,
 * and how many replicas of the new revision each batch ends with. Pure.
 */

export interface BatchStrategy {
  readonly batchCount: number;
  readonly useBeta: boolean;
}

/**
 * Batches for moving `delta` replicas: at most `batchCount` (fewer when there are fewer replicas
 * than batches, at least 1); with `useBeta` and at least two replicas the first batch is a beta
 * batch of one replica followed by up to `batchCount` batches for the rest.
 */
export function toBatchCount(delta: number, s: BatchStrategy): number {
  const count = Math.max(1, Math.floor(s.batchCount));
  if (delta <= 0) return 1;
  if (s.useBeta && delta >= 2) return 1 + Math.min(count, delta - 1);
  return Math.min(count, delta);
}

/** Replicas of the delta moved after batch `k` of `batches` (0 for k = 0; `delta` for the last). */
export function toMovedAfterBatch(k: number, batches: number, delta: number, useBeta: boolean): number {
  if (k <= 0 || delta <= 0) return 0;
  if (k >= batches) return delta;
  if (useBeta && delta >= 2 && batches >= 2) {
    if (k === 1) return 1;
    return Math.min(delta, 1 + Math.ceil(((delta - 1) * (k - 1)) / (batches - 1)));
  }
  return Math.min(delta, Math.ceil((delta * k) / batches));
}

/**
 * Replicas after batch `k` of a scale from `from` to `to` replicas (same revision): the same batch
 * sizes as a release of |to − from| replicas, added for a scale-up, removed for a scale-down.
 */
export function toScaledAfterBatch(k: number, batches: number, from: number, to: number, useBeta: boolean): number {
  const moved = toMovedAfterBatch(k, batches, Math.abs(to - from), useBeta);
  return to >= from ? from + moved : from - moved;
}
