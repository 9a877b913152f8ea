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
 */

export interface SubList {
  /** The list this one was taken from. */
  readonly parent: readonly string[];
  /** For each name, its position in `parent` (ascending: the scheduler keeps the order). */
  readonly positions: Int32Array;
}

const subLists = new WeakMap<readonly string[], SubList>();

/** The names of `parent` at `positions`, remembered as a part of it (kept as long as the new list lives). */
export function takeSubList(parent: readonly string[], positions: Int32Array): readonly string[] {
  const names = new Array<string>(positions.length);
  for (let i = 0; i < positions.length; i++) names[i] = parent[positions[i]!]!;
  subLists.set(names, { parent, positions });
  return names;
}

/** Where a list came from, when it is a part of a known one. */
export function subListOf(list: readonly string[]): SubList | undefined {
  return subLists.get(list);
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
