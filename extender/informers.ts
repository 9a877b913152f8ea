/**
 * The I/O edge that keeps the snapshot current: list+watch of virtual Nodes and of module pods in
 * all namespaces (one watch per module label, since a label selector cannot OR the upstream alias).
 */
import * as k8s from '@kubernetes/client-node';
import {
  MODULE_COMPONENT_LABEL,
  MODULE_COMPONENT_LABEL_ALIAS,
  MODULE_COMPONENT_VALUE,
  VNODE_COMPONENT_LABEL,
  VNODE_COMPONENT_VALUE,
} from '../core/names.ts';
import type { Logger } from '../core/logger.ts';
import { startWatchCache, type WatchFn } from '../core/watch-cache.ts';
import { watchVia } from '../core/kubeconfig.ts';
import type { ChangeVerb, ClusterSnapshot } from './snapshot.ts';

export const NODE_SOURCE = 'virtual nodes';
export const POD_SOURCES = [
  { name: `pods ${MODULE_COMPONENT_LABEL}`, selector: `${MODULE_COMPONENT_LABEL}=${MODULE_COMPONENT_VALUE}` },
  { name: `pods ${MODULE_COMPONENT_LABEL_ALIAS}`, selector: `${MODULE_COMPONENT_LABEL_ALIAS}=${MODULE_COMPONENT_VALUE}` },
] as const;
export const ALL_SOURCES: readonly string[] = [NODE_SOURCE, ...POD_SOURCES.map((s) => s.name)];

export interface ClusterWatch {
  /** Every informer has listed once. */
  isSynced(): boolean;
  /**
   * Every informer has relisted since its last watch error and is watching (core/watch-cache.ts):
   * until then the snapshot may lag the API server. The extender's answers do not depend on it.
   */
  isFresh(): boolean;
  stop(): Promise<void>;
}

interface WatchSpec<T extends k8s.KubernetesObject> {
  readonly source: string;
  readonly path: string;
  readonly selector: string;
  readonly list: (labelSelector: string) => Promise<k8s.KubernetesListObject<T>>;
  readonly apply: (verb: ChangeVerb, obj: T) => void;
}

/** One reflector (core/watch-cache.ts: relists with backoff after a watch error, synced only after a real list) feeding the snapshot. */
function startWatch<T extends k8s.KubernetesObject>(watch: WatchFn, snapshot: ClusterSnapshot, spec: WatchSpec<T>, logger: Logger) {
  const cache = startWatchCache<T>({
    watch,
    path: spec.path,
    list: () => spec.list(spec.selector),
    labelSelector: spec.selector,
    logger,
    onChange: (obj, verb) => spec.apply(verb, obj),
  });
  void cache.synced.then(() => {
    snapshot.markSynced(spec.source, true);
    logger.info({ source: spec.source }, 'informer synced');
  });
  return cache;
}

/** Starts the informers; `snapshot` must have been built with ALL_SOURCES. */
export function watchCluster(kc: k8s.KubeConfig, snapshot: ClusterSnapshot, logger: Logger): ClusterWatch {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const watch = watchVia(kc);
  const watches = [
    startWatch<k8s.V1Node>(watch, snapshot, {
      source: NODE_SOURCE,
      path: '/api/v1/nodes',
      selector: `${VNODE_COMPONENT_LABEL}=${VNODE_COMPONENT_VALUE}`,
      list: (labelSelector) => core.listNode({ labelSelector }),
      apply: (verb, node) => snapshot.applyNode(verb, node),
    }, logger),
    ...POD_SOURCES.map((s) =>
      startWatch<k8s.V1Pod>(watch, snapshot, {
        source: s.name,
        path: '/api/v1/pods',
        selector: s.selector,
        list: (labelSelector) => core.listPodForAllNamespaces({ labelSelector }),
        apply: (verb, pod) => snapshot.applyPod(s.name, verb, pod),
      }, logger),
    ),
  ];
  return {
    isSynced: () => watches.every((w) => w.isSynced()),
    isFresh: () => watches.every((w) => w.isFresh()),
    stop: async () => void (await Promise.all(watches.map((w) => w.stop()))),
  };
}
