/**
 * One extender request → one answer, over the snapshot: which candidates (names or Node objects,
 * whichever the scheduler sent) pass, with a reason for every one that does not; and the scores.
 * Pure apart from reading the view; the caller applies the assumed placement and the metrics.
 * Arrays stay aligned with the scheduler's list (no per-node sets or maps): this runs for
 * thousands of nodes per call.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { ExtenderArgs, ExtenderFilterResult, HostPriority } from './extender-args.ts';
import { filterNodes, toPodToPlace, type Candidate, type FilterConfig, type PodToPlace, type Verdicts } from './filter-nodes.ts';
import { rankNodes, toSchedulingPolicy } from './score-nodes.ts';
import { toModuleRefs, type ExtenderView, type NodeView } from './snapshot.ts';
import { toNodeFacts } from './node-facts.ts';
import type { ModuleRef } from './node-load.ts';
import { splitVerdicts } from './wire.ts';

export interface Assumption {
  readonly podUid: string;
  readonly nodeName: string;
  readonly modules: readonly ModuleRef[];
}

export interface FilterPlan {
  /** The names sent and each one's verdict (undefined = fits), aligned. */
  readonly names: readonly string[];
  readonly rejections: Verdicts;
  /** The Node objects the scheduler sent (nodeCacheCapable false), aligned with `names`. */
  readonly nodes: readonly V1Node[] | undefined;
  /** The scheduler sent names (nodeCacheCapable true): the answer lists names. */
  readonly answerNames: boolean;
  /** Where the pod will go when exactly one node is left (the scheduler then skips scoring). */
  readonly assumed: Assumption | undefined;
}

export interface PrioritizePlan {
  /** The hosts sent and their scores, aligned. */
  readonly hosts: readonly string[];
  readonly scores: Uint8Array;
  /** The node ranked first: the one the shipped weight makes the scheduler bind. */
  readonly assumed: Assumption | undefined;
}

export function toPlace(pod: V1Pod): PodToPlace {
  return toPodToPlace(pod.spec, toModuleRefs(pod), pod.metadata?.namespace);
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
  const views = view.readAll(names, uid);
  const rejections = filterNodes(place, toCandidates(args, names, views), config);
  let only: string | undefined;
  if (rejections.fitCount === 1) for (let i = 0; i < names.length && only === undefined; i++) if (rejections.fits(i)) only = names[i];
  const assumed = uid && only !== undefined ? { podUid: uid, nodeName: only, modules: place.probe.modules } : undefined;
  return { names, rejections, nodes: args.nodes, answerNames: args.nodeNames !== undefined, assumed };
}

/** The filter answer as the wire's object: in the mode(s) the scheduler asked in, and only with names it sent. */
export function toFilterResult(plan: FilterPlan): ExtenderFilterResult {
  const { rejections } = plan;
  const { feasible: passedNames, failed, unresolvable } = splitVerdicts(plan);
  let items: V1Node[] | undefined;
  if (plan.nodes && !plan.answerNames) items = plan.nodes.filter((_n, i) => rejections.fits(i));
  else if (plan.nodes) {
    const passed = new Set(passedNames);
    items = plan.nodes.filter((n) => passed.has(n.metadata!.name!));
  }
  return {
    Nodes: items ? { metadata: {}, items } : null,
    NodeNames: plan.answerNames ? passedNames : null,
    FailedNodes: failed,
    FailedAndUnresolvableNodes: unresolvable,
    Error: '',
  };
}

export function planPrioritize(args: ExtenderArgs, view: ExtenderView): PrioritizePlan {
  const place = toPlace(args.pod);
  const uid = args.pod.metadata?.uid;
  const hosts = toHostNames(args);
  const views = view.readAll(hosts, uid);
  const { scores, best } = rankNodes(place.probe, toTieKey(args.pod, place), hosts, views, toSchedulingPolicy(args.pod.metadata?.labels));
  return { hosts, scores, assumed: uid && best >= 0 ? { podUid: uid, nodeName: hosts[best]!, modules: place.probe.modules } : undefined };
}

/** The prioritize answer as the wire's objects (tests and debug logs; the server encodes from the plan directly). */
export function toHostPriorities(plan: PrioritizePlan): HostPriority[] {
  return plan.hosts.map((Host, i) => ({ Host, Score: plan.scores[i]! }));
}
