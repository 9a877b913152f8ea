/**
 * The kube-scheduler extender wire format (k8s.io/kube-scheduler/extender/v1, types.go). The Go
 * structs have no json tags, so the scheduler sends and expects the Go field names: `Pod`, `Nodes`
 * (a NodeList, when nodeCacheCapable is false), `NodeNames` (when it is true); it reads back
 * `Nodes`/`NodeNames`, `FailedNodes`, `FailedAndUnresolvableNodes`, `Error`, and for prioritize a
 * list of `{Host, Score}`. Go's decoder matches keys case-insensitively, so we read the same way
 * (hand-written extenders often send `pod`, `nodenames`), and always answer in the Go casing.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { subListOf } from './sub-list.ts';

export interface ExtenderArgs {
  readonly pod: V1Pod;
  /** Present when the scheduler is nodeCacheCapable (names only). */
  readonly nodeNames: readonly string[] | undefined;
  /** Present when the scheduler sends full Node objects. */
  readonly nodes: readonly V1Node[] | undefined;
}

export type ArgsParse = { readonly kind: 'ok'; readonly args: ExtenderArgs } | { readonly kind: 'invalid'; readonly error: string };

export interface ExtenderFilterResult {
  Nodes: { metadata: Record<string, never>; items: V1Node[] } | null;
  NodeNames: string[] | null;
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}

export interface HostPriority {
  Host: string;
  Score: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go encoding/json key matching: the exact name first, then any case-insensitive match. */
export function pickField(obj: Record<string, unknown>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/**
 * Name lists already found valid: node-list-cache.ts hands the scheduler's recurring list back as
 * the same (never written) array, so thousands of names are checked once, not per request.
 */
const checkedLists = new WeakSet<readonly unknown[]>();

export function parseExtenderArgs(body: unknown): ArgsParse {
  if (!isObject(body)) return { kind: 'invalid', error: 'the request body must be a JSON object (ExtenderArgs with Pod and NodeNames or Nodes)' };
  const pod = pickField(body, 'Pod');
  if (!isObject(pod)) return { kind: 'invalid', error: 'ExtenderArgs.Pod is missing or not an object' };
  if (pod['spec'] !== undefined && !isObject(pod['spec'])) return { kind: 'invalid', error: 'ExtenderArgs.Pod.spec is not an object' };
  const rawNames = pickField(body, 'NodeNames');
  const rawNodes = pickField(body, 'Nodes');
  let nodeNames: string[] | undefined;
  if (rawNames !== undefined && rawNames !== null) {
    if (!Array.isArray(rawNames)) return { kind: 'invalid', error: 'ExtenderArgs.NodeNames must be a list of node names' };
    // A part of a checked list (a filter answer's feasible names, sub-list.ts) holds only checked names.
    const part = subListOf(rawNames);
    if (!checkedLists.has(rawNames) && !(part && checkedLists.has(part.parent))) {
      const bad = rawNames.findIndex((n) => typeof n !== 'string' || n === '');
      if (bad >= 0) return { kind: 'invalid', error: `ExtenderArgs.NodeNames[${bad}] is not a node name` };
      checkedLists.add(rawNames);
    }
    nodeNames = rawNames as string[];
  }
  let nodes: V1Node[] | undefined;
  if (rawNodes !== undefined && rawNodes !== null) {
    const items = isObject(rawNodes) ? (pickField(rawNodes, 'items') ?? []) : undefined;
    // An empty NodeList from Go has `"items": null`.
    if (!Array.isArray(items)) return { kind: 'invalid', error: 'ExtenderArgs.Nodes must be a NodeList ({"items": [...]})' };
    const list: unknown[] = items;
    for (let i = 0; i < list.length; i++) {
      const n = list[i];
      const name = isObject(n) && isObject(n['metadata']) ? n['metadata']['name'] : undefined;
      if (typeof name !== 'string' || name === '') return { kind: 'invalid', error: `ExtenderArgs.Nodes.items[${i}] has no metadata.name` };
    }
    nodes = list as V1Node[];
  }
  if (!nodeNames && !nodes) return { kind: 'invalid', error: 'ExtenderArgs has neither NodeNames nor Nodes' };
  return { kind: 'ok', args: { pod: pod as V1Pod, nodeNames, nodes } };
}

/** A filter answer that rejects the request as a whole; the scheduler reports `Error` on the pod. */
export function toFilterError(error: string): ExtenderFilterResult {
  return { Nodes: null, NodeNames: null, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: error };
}
