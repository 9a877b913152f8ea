/**
 * Node lists that are a part of another list the extender already knows: the feasible names a
 * filter answer gave, which is exactly the list the scheduler sends to prioritize next
 * (kube-scheduler's findNodesThatPassExtenders hands the extender's feasible nodes on, in order,
 * and prioritizeNodes sends that list to the extender's prioritize verb).
 *
 * A Deployment scaling up makes a new feasible list for every replica (each bind removes one base),
 * and a new list had to be parsed, looked up node by node and encoded the slow way — most of the
 * replica path's time at 5,000 nodes (bench/extender.ts). Remembering which positions of the full
 * list it holds lets the node-list cache recognise its bytes, the snapshot take its entries by
 * position and the prioritize answer copy runs of the full list's pre-encoded bytes.
 *
 * The positions are kept as runs of consecutive positions, `[start, end)` pairs: a feasible list
 * of 4,900 out of 5,000 is a few hundred runs (each rejected node splits one), so everything that
 * walks it (the cache's comparison, the snapshot, the answer) does one step per run, and the runs
 * come straight from the filter's verdicts (filter-nodes.ts `Verdicts.fitRuns`).
 */

export interface SubList {
  /** The list this one was taken from. */
  readonly parent: readonly string[];
  /** Its positions in `parent` as ascending `[start, end)` runs (the scheduler keeps the order). */
  readonly runs: Int32Array;
}

const subLists = new WeakMap<readonly string[], SubList>();

/** The names of `parent` at `positions` (ascending), remembered as a part of it. */
export function takeSubList(parent: readonly string[], positions: Int32Array): readonly string[] {
  return takeRuns(parent, toRuns(positions));
}

/** The names of `parent` in the `[start, end)` runs, remembered as a part of it (kept as long as the new list lives). */
export function takeRuns(parent: readonly string[], runs: Int32Array): readonly string[] {
  const names = new Array<string>(runLength(runs));
  let k = 0;
  for (let r = 0; r < runs.length; r += 2) for (let i = runs[r]!; i < runs[r + 1]!; i++) names[k++] = parent[i]!;
  subLists.set(names, { parent, runs });
  return names;
}

/** Where a list came from, when it is a part of a known one. */
export function subListOf(list: readonly string[]): SubList | undefined {
  return subLists.get(list);
}

/** How many positions the runs hold. */
export function runLength(runs: Int32Array): number {
  let n = 0;
  for (let r = 0; r < runs.length; r += 2) n += runs[r + 1]! - runs[r]!;
  return n;
}

/** True when both hold the same runs (one memcmp). */
export function sameRuns(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Where position `p` of the parent is in the part the runs describe; -1 when the part leaves it out. One step per run. */
export function toPartIndex(runs: Int32Array, p: number): number {
  let k = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const a = runs[r]!;
    const b = runs[r + 1]!;
    if (p < a) return -1;
    if (p < b) return k + (p - a);
    k += b - a;
  }
  return -1;
}

/** Consecutive positions as [start, end) runs of the parent: few for a feasible list (each rejected node splits one). */
export function toRuns(positions: Int32Array): Int32Array {
  let runs = 0;
  for (let i = 0; i < positions.length; i++) if (i === 0 || positions[i] !== positions[i - 1]! + 1) runs++;
  const out = new Int32Array(2 * runs);
  let r = -1;
  for (let i = 0; i < positions.length; i++) {
    if (i === 0 || positions[i] !== positions[i - 1]! + 1) out[2 * ++r] = positions[i]!;
    out[2 * r + 1] = positions[i]! + 1;
  }
  return out;
}

/** The `[start, end)` runs of the indices below `length` where `keep` holds (a filter's feasible candidates). */
export function toRunsWhere(length: number, keep: (i: number) => boolean): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < length; ) {
    if (!keep(i)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < length && keep(j)) j++;
    out.push(i, j);
    i = j;
  }
  return Int32Array.from(out);
}
