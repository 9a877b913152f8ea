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
import { EMPTY_LOAD, toNodeLoad, type ModuleRef, type NodeLoad } from './node-load.ts';
import { toNodeFacts, type NodeFacts } from './node-facts.ts';
import type { PlacementMemory } from './placement-memory.ts';
import { toNodeWire, type NodeWire } from './wire.ts';

export type ChangeVerb = 'add' | 'update' | 'delete';

export interface NodeView {
  readonly name: string;
  /** Undefined when the node is not a virtual node the informer has seen. */
  readonly facts: NodeFacts | undefined;
  readonly load: NodeLoad;
  /** The name's JSON pieces, encoded once per node for the answers (wire.ts); undefined for names the snapshot does not hold. */
  readonly wire: NodeWire | undefined;
}

/** What the request handlers need; the snapshot implements it, tests may too. */
export interface ExtenderView {
  /** Undefined when the informers have synced; otherwise what is still missing. */
  notReadyReason(): string | undefined;
  /** Views aligned with `names`, leaving out the pod being scheduled (a retry must not count itself). */
  readAll(names: readonly string[], excludePodUid: string | undefined): NodeView[];
  assume(placement: { readonly podUid: string; readonly nodeName: string; readonly modules: readonly ModuleRef[] }): void;
}

export function toModuleRefs(pod: V1Pod): ModuleRef[] {
  return parseModules(pod.spec?.containers).modules.map((m) => ({ bizName: m.bizName, bizVersion: m.bizVersion }));
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
  #recent: Array<{ readonly names: readonly string[]; readonly entries: ReadonlyArray<NodeEntry | undefined>; readonly version: number }> = [];

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

  readAll(names: readonly string[], excludePodUid: string | undefined): NodeView[] {
    const excludeNode = excludePodUid === undefined ? undefined : this.#podNode.get(excludePodUid);
    const memory = this.#memory;
    // Usually a handful of nodes carry assumptions: compare names with those few instead of
    // hashing every name of the request for a map lookup.
    const assumedOn = memory.nodeNames();
    const assumedSet = assumedOn.length > 16 ? new Set(assumedOn) : undefined;
    // The scheduler sends the same node list, in the same order, call after call: comparing names
    // by position with the last list of that length is cheaper than thousands of map lookups.
    const recent = this.#recent.find((r) => r.version === this.#version && r.names.length === names.length);
    const entries = new Array<NodeEntry | undefined>(names.length);
    const views = new Array<NodeView>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const e = recent && recent.names[i] === name ? recent.entries[i] : this.#entries.get(name);
      entries[i] = e;
      const assumed = assumedOn.length > 0 && (assumedSet ? assumedSet.has(name) : assumedOn.includes(name));
      if (name !== excludeNode && !assumed) {
        views[i] = e ?? { name, facts: undefined, load: EMPTY_LOAD, wire: undefined };
        continue;
      }
      const pods: Array<readonly [string, readonly ModuleRef[]]> = e?.pods ? [...e.pods] : [];
      for (const p of memory.on(name)) pods.push([p.podUid, p.modules]);
      views[i] = { name, facts: e?.facts, load: toNodeLoad(pods, excludePodUid), wire: e?.wire };
    }
    this.#recent = [{ names, entries, version: this.#version }, ...this.#recent.filter((r) => r.names.length !== names.length)].slice(0, 2);
    return views;
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

  assume(p: { readonly podUid: string; readonly nodeName: string; readonly modules: readonly ModuleRef[] }): void {
    this.#memory.assume(p.podUid, p.nodeName, p.modules);
  }

  get assumedCount(): number {
    return this.#memory.sweep();
  }

  #entry(name: string): NodeEntry {
    let e = this.#entries.get(name);
    if (!e) {
      this.#entries.set(name, (e = { name, facts: undefined, load: EMPTY_LOAD, pods: undefined, wire: toNodeWire(name) }));
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
