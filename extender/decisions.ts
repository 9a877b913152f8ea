/**
 * One extender request → one answer, over the snapshot: which candidates (names or Node objects,
 * whichever the scheduler sent) pass, with a reason for every one that does not; and the scores.
 * Pure apart from reading the view; the caller applies the assumed placement and the metrics.
 * Arrays stay aligned with the scheduler's list (no per-node sets or maps): this runs for
 * thousands of nodes per call.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { ExtenderArgs, ExtenderFilterResult, HostPriority } from './extender-args.ts';
import { filterNodes, toPodToPlace, type Candidate, type FilterConfig, type Rejection, type PodToPlace } from './filter-nodes.ts';
import { pickBest, scoreNodes } from './score-nodes.ts';
import { toModuleRefs, type ExtenderView, type NodeView } from './snapshot.ts';
import { toNodeFacts } from './node-facts.ts';
import type { ModuleRef } from './node-load.ts';

export interface Assumption {
  readonly podUid: string;
  readonly nodeName: string;
  readonly modules: readonly ModuleRef[];
}

export interface FilterPlan {
  readonly result: ExtenderFilterResult;
  /** The candidates' names and verdicts (undefined = fits), aligned. */
  readonly names: readonly string[];
  readonly rejections: ReadonlyArray<Rejection | undefined>;
  /** Where the pod will go when exactly one node is left (the scheduler then skips scoring). */
  readonly assumed: Assumption | undefined;
}

export interface PrioritizePlan {
  readonly result: HostPriority[];
  /** The node ranked first: the one the shipped weight makes the scheduler bind. */
  readonly assumed: Assumption | undefined;
}

export function toPlace(pod: V1Pod): PodToPlace {
  return toPodToPlace(pod.spec, toModuleRefs(pod));
}

/** Replicas of one module share a tie order; other modules get another one. */
export function toTieKey(pod: V1Pod, place: PodToPlace): string {
  if (place.probe.modules.length > 0) return place.probe.modules.map((m) => m.bizName).sort().join(',');
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.generateName ?? pod.metadata?.name ?? ''}`;
}

function toHostNames(args: ExtenderArgs): readonly string[] {
  return args.nodeNames ?? (args.nodes ?? []).map((n) => n.metadata!.name!);
}

function toCandidates(args: ExtenderArgs, names: readonly string[], views: readonly NodeView[]): readonly Candidate[] {
  // In cache mode the snapshot's views are the candidates themselves: no allocation per node.
  if (!args.nodes) return views;
  // Node objects in the request are what the scheduler saw a moment ago: prefer them to the cache.
  const sent = new Map<string, V1Node>(args.nodes.map((n) => [n.metadata!.name!, n]));
  return views.map((v) => {
    const node = sent.get(v.name);
    return node ? { name: v.name, facts: toNodeFacts(node), load: v.load } : v;
  });
}

export function planFilter(args: ExtenderArgs, view: ExtenderView, config: FilterConfig): FilterPlan {
  const place = toPlace(args.pod);
  const uid = args.pod.metadata?.uid;
  const names = toHostNames(args);
  const rejections = filterNodes(place, toCandidates(args, names, view.readAll(names, uid)), config);
  const passedNames: string[] = [];
  const failed: Record<string, string> = {};
  const unresolvable: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) {
    const r = rejections[i];
    if (!r) passedNames.push(names[i]!);
    else if (r.resolvable) failed[names[i]!] = r.message;
    else unresolvable[names[i]!] = r.message;
  }
  // Answer in the mode(s) the scheduler asked in, and only with names it sent.
  let items: V1Node[] | undefined;
  if (args.nodes && !args.nodeNames) items = args.nodes.filter((_n, i) => !rejections[i]);
  else if (args.nodes) {
    const passed = new Set(passedNames);
    items = args.nodes.filter((n) => passed.has(n.metadata!.name!));
  }
  const result: ExtenderFilterResult = {
    Nodes: items ? { metadata: {}, items } : null,
    NodeNames: args.nodeNames ? passedNames : null,
    FailedNodes: failed,
    FailedAndUnresolvableNodes: unresolvable,
    Error: '',
  };
  const only = passedNames.length === 1 ? passedNames[0] : undefined;
  return { result, names, rejections, assumed: uid && only ? { podUid: uid, nodeName: only, modules: place.probe.modules } : undefined };
}

export function planPrioritize(args: ExtenderArgs, view: ExtenderView): PrioritizePlan {
  const place = toPlace(args.pod);
  const uid = args.pod.metadata?.uid;
  const hosts = toHostNames(args);
  const scores = scoreNodes(place.probe, toTieKey(args.pod, place), hosts, view.readAll(hosts, uid).map((v) => v.load));
  const result = new Array<HostPriority>(hosts.length);
  for (let i = 0; i < hosts.length; i++) result[i] = { Host: hosts[i]!, Score: scores[i]! };
  const best = pickBest(scores);
  return { result, assumed: uid && best >= 0 ? { podUid: uid, nodeName: hosts[best]!, modules: place.probe.modules } : undefined };
}
