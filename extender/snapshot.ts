/**
 * The extender's view of the cluster: virtual nodes and the modules of the module pods bound to
 * them, fed by informers (informers.ts) through `applyNode`/`applyPod` (one writer), read by the
 * request handlers; plus the placements it assumed (placement-memory.ts). No I/O here, so tests
 * feed it objects directly.
 *
 * Reads are the hot path (every candidate of every request, thousands per call), so each node has
 * one entry holding its precomputed facts and the running sum of its modules: one map lookup and
 * no allocation per node, except for the few nodes with an assumption or the pod itself on them.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { isModulePodLabels } from '../core/names.ts';
import { parseModules } from '../core/module-spec.ts';
import { toPodWorkload } from '../core/pod-workload.ts';
import { EMPTY_LOAD, toNodeLoad, type ModuleRef, type NodeLoad } from './node-load.ts';
import { toNodeFacts, type NodeFacts } from './node-facts.ts';
import type { PlacementMemory } from './placement-memory.ts';
import { subListOf, toPartIndex } from './sub-list.ts';

export type ChangeVerb = 'add' | 'update' | 'delete';

export interface NodeView {
  readonly name: string;
  /** Undefined when the node is not a virtual node the informer has seen. */
  readonly facts: NodeFacts | undefined;
  readonly load: NodeLoad;
}

/** What the request handlers need; the snapshot implements it, tests may too. */
export interface ExtenderView {
  /** Undefined when the informers have synced; otherwise what is still missing. */
  notReadyReason(): string | undefined;
  /** Views aligned with `names`, leaving out the pod being scheduled (a retry must not count itself). */
  /** Valid until the next readAll of the same list (the snapshot reuses the array). */
  readAll(names: readonly string[], excludePodUid: string | undefined): readonly NodeView[];
  /** `ttlMs`: a peer's remaining TTL (capped at the view's own); omitted, the full TTL. */
  assume(placement: { readonly podUid: string; readonly nodeName: string; readonly modules: readonly ModuleRef[] }, ttlMs?: number): void;
}

export function toModuleRefs(pod: V1Pod): ModuleRef[] {
  const w = toPodWorkload(pod.metadata);
  const deleting = pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
  // Only what the hand-off rules can use: a pod without a workload that is not being deleted holds like an unknown one.
  const holder = w || deleting ? { workload: w?.workload, revision: w?.revision, deleting } : undefined;
  return parseModules(pod.spec?.containers).modules.map((m) => (holder ? { bizName: m.bizName, bizVersion: m.bizVersion, holder } : { bizName: m.bizName, bizVersion: m.bizVersion }));
}

/** A pod holds its modules on a base from the bind until it finishes; a terminating pod still holds them until the bridge uninstalls. */
function occupiesNode(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return Boolean(pod.spec?.nodeName) && phase !== 'Succeeded' && phase !== 'Failed' && isModulePodLabels(pod.metadata?.labels);
}

interface NodeEntry extends NodeView {
  readonly name: string;
  facts: NodeFacts | undefined;
  load: NodeLoad;
  pods: Map<string, readonly ModuleRef[]> | undefined;
}

/** A node list resolved against the snapshot's entries (valid while the set of entries is unchanged). */
class ResolvedList {
  readonly names: readonly string[];
  /** The entries, aligned with `names`; an unknown node has an entry of its own (no facts, no load) that the snapshot does not hold. */
  readonly entries: readonly NodeEntry[];
  readonly version: number;
  #index: Map<string, number[]> | undefined;
  #patched: NodeView[] | undefined;
  readonly #touched: number[] = [];
  /** For a part of another resolved list (sub-list.ts): that list and the runs of it this one holds. */
  readonly #part: { readonly parent: ResolvedList; readonly runs: Int32Array } | undefined;

  constructor(names: readonly string[], entries: readonly NodeEntry[], version: number, part?: { readonly parent: ResolvedList; readonly runs: Int32Array }) {
    this.names = names;
    this.entries = entries;
    this.version = version;
    this.#part = part;
  }

  /**
   * The views with the given nodes' views replaced: one array per list, patched in place (the
   * previous call's patches undone first), so a request allocates nothing per node. The array is
   * valid until the next read of the same list. Without nodes to replace, the entries themselves.
   */
  patch(names: readonly string[], viewOf: (name: string, index: number) => NodeView): readonly NodeView[] {
    if (names.length === 0 && this.#touched.length === 0) return this.entries;
    const out = (this.#patched ??= this.entries.slice());
    for (const i of this.#touched) out[i] = this.entries[i]!;
    this.#touched.length = 0;
    for (const name of names) {
      for (const i of this.indexOf(name)) {
        out[i] = viewOf(name, i);
        this.#touched.push(i);
      }
    }
    return out;
  }

  /**
   * Where a name is in the list (built on first use). A part of another list asks that one and maps
   * the positions through its runs: a Deployment's next replica brings a new feasible list while the
   * last replicas' placements are still assumed, and a map of thousands of names per new list had
   * cost more than scoring it.
   */
  indexOf(name: string): readonly number[] {
    if (this.#part) {
      const out: number[] = [];
      for (const p of this.#part.parent.indexOf(name)) {
        const k = toPartIndex(this.#part.runs, p);
        if (k >= 0) out.push(k);
      }
      return out;
    }
    if (!this.#index) {
      this.#index = new Map();
      for (let i = 0; i < this.names.length; i++) {
        const at = this.#index.get(this.names[i]!);
        if (at) at.push(i);
        else this.#index.set(this.names[i]!, [i]);
      }
    }
    return this.#index.get(name) ?? [];
  }
}

export class ClusterSnapshot implements ExtenderView {
  readonly #memory: PlacementMemory;
  readonly #entries = new Map<string, NodeEntry>();
  /** Pod UID → the informer sources that currently hold it (module pods come from two label selectors). */
  readonly #podSources = new Map<string, Set<string>>();
  readonly #podNode = new Map<string, string>();
  readonly #synced: Map<string, boolean>;
  /** Bumped whenever a node entry is created or dropped, which invalidates `#recent`. */
  #version = 0;
  /** The last node lists read (one per length: filter's full list, prioritize's feasible list). */
  #recent: ResolvedList[] = [];

  /** `sources` names every informer that must have listed before the snapshot is ready. */
  constructor(memory: PlacementMemory, sources: readonly string[]) {
    this.#memory = memory;
    this.#synced = new Map(sources.map((s) => [s, false]));
  }

  markSynced(source: string, synced: boolean): void {
    this.#synced.set(source, synced);
  }

  notReadyReason(): string | undefined {
    const missing = [...this.#synced].filter(([, ok]) => !ok).map(([s]) => s);
    return missing.length > 0 ? `informers not synced yet: ${missing.join(', ')}` : undefined;
  }

  applyNode(verb: ChangeVerb, node: V1Node): void {
    const name = node.metadata?.name;
    if (!name) return;
    if (verb === 'delete') {
      const e = this.#entries.get(name);
      if (!e) return;
      e.facts = undefined;
      this.#dropIfEmpty(name, e);
    } else {
      this.#entry(name).facts = toNodeFacts(node);
    }
  }

  applyPod(source: string, verb: ChangeVerb, pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let sources = this.#podSources.get(uid);
    if (verb === 'delete') {
      sources?.delete(source);
      if (!sources || sources.size === 0) {
        this.#podSources.delete(uid);
        this.#unindex(uid);
        this.#memory.forget(uid);
      }
      return;
    }
    if (!sources) this.#podSources.set(uid, (sources = new Set()));
    sources.add(source);
    const phase = pod.status?.phase;
    // The API server is the truth once it shows the bind (or the pod is done): drop the guess.
    if (pod.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') this.#memory.forget(uid);
    if (occupiesNode(pod)) this.#index(uid, pod.spec!.nodeName!, toModuleRefs(pod));
    else this.#unindex(uid);
  }

  readAll(names: readonly string[], excludePodUid: string | undefined): readonly NodeView[] {
    const excludeNode = excludePodUid === undefined ? undefined : this.#podNode.get(excludePodUid);
    const list = this.#resolve(names);
    // Entries are live (an update changes their facts and load in place), so the list's views stay
    // current; only the few nodes holding an assumption or the pod itself need a view of their own.
    const special = this.#memory.nodeNames();
    if (excludeNode !== undefined) special.push(excludeNode);
    return list.patch(special, (name, i) => this.#viewWithout(name, list.entries[i]!, excludePodUid));
  }

  /** The entries of a node list: the same array object as last time is known at once (node-list-cache.ts hands it back); an equal list is matched by position. */
  #resolve(names: readonly string[]): ResolvedList {
    const version = this.#version;
    const same = this.#recent.find((r) => r.version === version && r.names === names);
    if (same) return same;
    // A part of a list resolved a moment ago (prioritize's feasible list, sub-list.ts): its entries by position.
    const part = subListOf(names);
    const parent = part && this.#recent.find((r) => r.version === version && r.names === part.parent);
    const like = parent ? undefined : this.#recent.find((r) => r.version === version && r.names.length === names.length);
    const entries = new Array<NodeEntry>(names.length);
    if (parent && part) {
      // Run by run: a feasible list is a few hundred runs of the full list (sub-list.ts).
      const runs = part.runs;
      let k = 0;
      for (let r = 0; r < runs.length; r += 2) for (let j = runs[r]!; j < runs[r + 1]!; j++) entries[k++] = parent.entries[j]!;
    } else {
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        entries[i] = (like && like.names[i] === name ? like.entries[i] : this.#entries.get(name)) ?? { name, facts: undefined, load: EMPTY_LOAD, pods: undefined };
      }
    }
    const resolved = new ResolvedList(names, entries, version, parent && part ? { parent, runs: part.runs } : undefined);
    // One per length: the scheduler's full list and its feasible subset; a part keeps its parent
    // (the next replica's filter sends the full list again, and its feasible list has another length).
    this.#recent = parent ? [resolved, parent] : [resolved, ...this.#recent.filter((r) => r.names.length !== names.length)].slice(0, 2);
    return resolved;
  }

  /** A node's view with its assumed placements added and the pod being placed left out. */
  #viewWithout(name: string, e: NodeEntry, excludePodUid: string | undefined): NodeView {
    const pods: Array<readonly [string, readonly ModuleRef[]]> = e.pods ? [...e.pods] : [];
    for (const p of this.#memory.on(name)) pods.push([p.podUid, p.modules]);
    return { name, facts: e.facts, load: toNodeLoad(pods, excludePodUid) };
  }

  node(name: string): V1Node | undefined {
    return this.#entries.get(name)?.facts?.node;
  }

  nodeNames(): string[] {
    return [...this.#entries].filter(([, e]) => e.facts).map(([name]) => name);
  }

  loadOf(nodeName: string, excludePodUid: string | undefined): NodeLoad {
    return this.readAll([nodeName], excludePodUid)[0]!.load;
  }

  assume(p: { readonly podUid: string; readonly nodeName: string; readonly modules: readonly ModuleRef[] }, ttlMs?: number): void {
    // The API server is the truth: a pod the informer shows bound needs no guess (a peer's push may come late).
    if (this.#podNode.has(p.podUid) || (ttlMs !== undefined && ttlMs <= 0)) return;
    this.#memory.assume(p.podUid, p.nodeName, p.modules, ttlMs);
  }

  /** The TTL of a new assumption (what a peer is told is left of it). */
  get placementTtlMs(): number {
    return this.#memory.ttlMs;
  }

  get assumedCount(): number {
    return this.#memory.sweep();
  }

  #entry(name: string): NodeEntry {
    let e = this.#entries.get(name);
    if (!e) {
      this.#entries.set(name, (e = { name, facts: undefined, load: EMPTY_LOAD, pods: undefined }));
      this.#version++;
    }
    return e;
  }

  #dropIfEmpty(name: string, e: NodeEntry): void {
    if (!e.facts && !e.pods) {
      this.#entries.delete(name);
      this.#version++;
    }
  }

  #index(uid: string, nodeName: string, modules: readonly ModuleRef[]): void {
    const previous = this.#podNode.get(uid);
    if (previous !== undefined && previous !== nodeName) this.#unindex(uid);
    this.#podNode.set(uid, nodeName);
    const e = this.#entry(nodeName);
    e.pods ??= new Map();
    e.pods.set(uid, modules);
    e.load = toNodeLoad(e.pods, undefined);
  }

  #unindex(uid: string): void {
    const nodeName = this.#podNode.get(uid);
    if (nodeName === undefined) return;
    this.#podNode.delete(uid);
    const e = this.#entries.get(nodeName);
    if (!e?.pods) return;
    e.pods.delete(uid);
    if (e.pods.size === 0) {
      e.pods = undefined;
      e.load = EMPTY_LOAD;
      this.#dropIfEmpty(nodeName, e);
    } else {
      e.load = toNodeLoad(e.pods, undefined);
    }
  }
}
