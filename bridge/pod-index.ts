/**
 * Module pods from the API, found by either module label (the label and its upstream alias cannot be
 * OR-ed in one selector, so two reflectors feed one view), looked up by node name.
 *
 * The view is an index by node kept up to date from the caches' change callbacks (deduplicated by
 * uid: a pod with both labels is in both caches), so `podsOnNode` costs O(pods on that node). The
 * module reconciler asks for it on every pass and before every command; rebuilding a map of every
 * module pod for each call was O(all pods) and the largest part of the bridge's CPU at 1,000 pods.
 */
import type * as k8s from '@kubernetes/client-node';
import type { CoreApi } from '../core/kube-apis.ts';
import { MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS, MODULE_COMPONENT_VALUE } from '../core/names.ts';
import type { Logger } from '../core/logger.ts';
import { startWatchCache, type WatchCache, type WatchFn } from '../core/watch-cache.ts';
import { toSlimPod } from './slim-objects.ts';

export interface PodIndex {
  podsOnNode(nodeName: string): k8s.V1Pod[];
  all(): k8s.V1Pod[];
  isSynced(): boolean;
  /** Every underlying cache listed since its last watch error (see WatchCache.isFresh). */
  isFresh(): boolean;
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** The identity of a pod across caches: its uid (a pod recreated under its name is another pod). */
export function toPodIdentity(pod: k8s.V1Pod): string {
  return pod.metadata?.uid ?? `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Pods by node name, one entry per pod identity; `set(id, undefined)` removes it. */
export class PodsByNode {
  private readonly byNode = new Map<string, Map<string, k8s.V1Pod>>();
  private readonly nodeOf = new Map<string, string>();

  set(id: string, pod: k8s.V1Pod | undefined): void {
    const was = this.nodeOf.get(id);
    const node = pod ? (pod.spec?.nodeName ?? '') : undefined;
    if (was !== undefined && was !== node) {
      const m = this.byNode.get(was);
      m?.delete(id);
      if (m?.size === 0) this.byNode.delete(was);
      this.nodeOf.delete(id);
    }
    if (!pod || node === undefined) return;
    let m = this.byNode.get(node);
    if (!m) this.byNode.set(node, (m = new Map()));
    m.set(id, pod);
    this.nodeOf.set(id, node);
  }

  onNode(nodeName: string): k8s.V1Pod[] {
    const m = this.byNode.get(nodeName);
    return m ? [...m.values()] : [];
  }

  all(): k8s.V1Pod[] {
    return [...this.byNode.values()].flatMap((m) => [...m.values()]);
  }

  get size(): number {
    return this.nodeOf.size;
  }
}

/**
 * The pod's current state after `from` reported `obj`: the reported object unless it was a delete,
 * else the same pod (by uid) as another cache still holds it (it lost one label, kept the other).
 */
export function toCurrentPod(obj: k8s.V1Pod, verb: 'add' | 'update' | 'delete', others: ReadonlyArray<Pick<WatchCache<k8s.V1Pod>, 'get'>>): k8s.V1Pod | undefined {
  if (verb !== 'delete') return obj;
  const id = toPodIdentity(obj);
  for (const c of others) {
    const p = c.get(obj.metadata?.name ?? '', obj.metadata?.namespace);
    if (p && toPodIdentity(p) === id) return p;
  }
  return undefined;
}

/** `api`: the pod list and watch to use (the bridge's KubeHttp through core/kube-apis.ts). */
export function startPodIndex(api: { readonly core: Pick<CoreApi, 'listPodForAllNamespaces'>; readonly watch: WatchFn }, logger: Logger, onChange: (pod: k8s.V1Pod) => void): PodIndex {
  const { core, watch } = api;
  const view = new PodsByNode();
  const caches: WatchCache<k8s.V1Pod>[] = [];
  for (const label of [MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS]) {
    const labelSelector = `${label}=${MODULE_COMPONENT_VALUE}`;
    const self: WatchCache<k8s.V1Pod> = startWatchCache<k8s.V1Pod>({
      watch,
      path: '/api/v1/pods',
      list: () => core.listPodForAllNamespaces({ labelSelector }),
      labelSelector,
      logger,
      transform: toSlimPod,
      onChange: (pod, verb) => {
        view.set(toPodIdentity(pod), toCurrentPod(pod, verb, caches.filter((c) => c !== self)));
        onChange(pod);
      },
    });
    caches.push(self);
  }
  return {
    podsOnNode: (nodeName) => view.onNode(nodeName),
    all: () => view.all(),
    isSynced: () => caches.every((c) => c.isSynced()),
    isFresh: () => caches.every((c) => c.isFresh()),
    synced: Promise.all(caches.map((c) => c.synced)).then(() => undefined),
    stop: async () => {
      await Promise.all(caches.map((c) => c.stop()));
    },
  };
}
