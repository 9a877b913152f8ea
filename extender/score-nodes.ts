/**
 * The extender's scores (0..MaxExtenderPriority = 10, k8s.io/kube-scheduler/extender/v1): scatter,
 * or stacking for pods labelled `module-controller.koupleless.io/scheduling-policy: stacking`.
 *
 *   10      the single best node (see "one winner" below)
 *   9..5    no replica of this module (no pod with the same bizName, any version), fewer modules higher
 *   4..0    already has a replica, fewer modules higher
 *
 * Within a band, nodes are ranked densely by module count (fewest = top of the band, each further
 * distinct count one lower, floored at the band's bottom). Stacking reverses the count order only
 * (most modules = top of the band: fill the busiest bases first, keep empty ones free); a base
 * without a replica of the module still beats one with a replica, in both policies.
 *
 * One winner: the kube-scheduler adds `score × weight × 10` to its plugins' sums and picks
 * randomly among equal totals. Giving exactly one node 10 (ties broken by a stable hash of the
 * module name and node name, so different modules start on different bases) and shipping a weight
 * whose single point outweighs every plugin (see docs/extender.md) means the node the extender
 * ranks first *is* the node the scheduler binds, which is what lets the extender remember its
 * placement before the bind is visible (placement-memory.ts).
 */
import { hasReplica, type ModuleProbe, type NodeLoad } from './node-load.ts';
import { SCHEDULING_POLICY_LABEL, type SchedulingPolicy } from '../core/names.ts';

/** The pod's scheduling policy label; anything but `stacking` is scatter. */
export function toSchedulingPolicy(labels: Readonly<Record<string, string>> | undefined): SchedulingPolicy {
  return labels?.[SCHEDULING_POLICY_LABEL] === 'stacking' ? 'stacking' : 'scatter';
}

export const MAX_EXTENDER_PRIORITY = 10;
const NO_REPLICA_TOP = 9;
const REPLICA_TOP = 4;
const BAND_DEPTH = 4;

/** FNV-1a, 32 bit: a stable, cheap tie-breaker (not for security). `seed` continues an earlier hash. */
export function hashText(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Scores every host, aligned with `hosts` (and `nodes`, whose loads are their modules without the
 * pod itself). `tieKey` names the workload (e.g. the bizNames joined) so replicas of one module
 * agree on the tie order while other modules get a different one. Linear in the hosts, without
 * sorting: module counts are small whole numbers, so the dense rank of every (band, count) comes
 * from a table indexed by count; the tie hash is computed only for the hosts tied at the top.
 * Scores are 0..10, so they fit a byte array (no array of thousands of slots per request).
 */
export function scoreNodes(probe: ModuleProbe, tieKey: string, hosts: readonly string[], nodes: ReadonlyArray<{ readonly load: NodeLoad }>, policy: SchedulingPolicy = 'scatter'): Uint8Array {
  return rankNodes(probe, tieKey, hosts, nodes, policy).scores;
}

/**
 * scoreNodes, and the index of the one node it gave 10 (-1 when there are no hosts): the same
 * index pickBest finds in the scores, without another pass over thousands of them.
 */
export function rankNodes(probe: ModuleProbe, tieKey: string, hosts: readonly string[], nodes: ReadonlyArray<{ readonly load: NodeLoad }>, policy: SchedulingPolicy = 'scatter'): { readonly scores: Uint8Array; readonly best: number } {
  const n = hosts.length;
  const replica = new Uint8Array(n);
  const count = new Uint32Array(n);
  let maxCount = 0;
  // The fewest and most modules among the bases without a replica (band 0) and with one (band 1),
  // gathered in the same pass: the best base is in the lowest band present, at its fewest modules
  // (scatter) or its most (stacking).
  let min0 = Infinity;
  let max0 = -1;
  let min1 = Infinity;
  let max1 = -1;
  for (let i = 0; i < n; i++) {
    const load = nodes[i]!.load;
    const c = load.moduleCount;
    count[i] = c;
    if (c > maxCount) maxCount = c;
    if (hasReplica(probe, load)) {
      replica[i] = 1;
      if (c < min1) min1 = c;
      if (c > max1) max1 = c;
    } else {
      if (c < min0) min0 = c;
      if (c > max0) max0 = c;
    }
  }
  const bestReplica = max0 >= 0 ? 0 : 1;
  // Stacking ranks by "modules fewer than the fullest base" instead: the same dense ranking then
  // puts the fullest bases at the top of each band.
  const stacking = policy === 'stacking';
  if (stacking) for (let i = 0; i < n; i++) count[i] = maxCount - count[i]!;
  const bestCount = stacking ? maxCount - (bestReplica ? max1 : max0) : bestReplica ? min1 : min0;
  // score[band * width + count]: the band's top minus the count's dense rank among the band's counts.
  const width = maxCount + 1;
  const table = new Uint8Array(2 * width);
  for (let i = 0; i < n; i++) table[replica[i]! * width + count[i]!] = 1;
  for (let band = 0; band < 2; band++) {
    const top = band ? REPLICA_TOP : NO_REPLICA_TOP;
    let rank = 0;
    for (let c = 0; c < width; c++) {
      const at = band * width + c;
      if (table[at]) table[at] = top - Math.min(rank++, BAND_DEPTH);
      else table[at] = 0;
    }
  }
  const seed = hashText(`${tieKey}/`);
  let best = -1;
  let bestTie = 0;
  const scores = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = replica[i]!;
    const c = count[i]!;
    scores[i] = table[r * width + c]!;
    if (r === bestReplica && c === bestCount) {
      const tie = hashText(hosts[i]!, seed);
      if (best < 0 || tie < bestTie || (tie === bestTie && hosts[i]! < hosts[best]!)) {
        best = i;
        bestTie = tie;
      }
    }
  }
  if (best >= 0) scores[best] = MAX_EXTENDER_PRIORITY;
  return { scores, best };
}

/** Index of the highest score (the first on a tie, which scoreNodes never produces at the top); -1 when empty. */
export function pickBest(scores: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) if (best < 0 || scores[i]! > scores[best]!) best = i;
  return best;
}
