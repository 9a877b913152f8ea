/**
 * Module pods from the API, found by either module label (the label and its upstream alias cannot be
 * OR-ed in one selector, so two reflectors feed one view), looked up by node name.
 */
import * as k8s from '@kubernetes/client-node';
import { MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS, MODULE_COMPONENT_VALUE } from '../core/names.ts';
import type { Logger } from '../core/logger.ts';
import { startWatchCache, type WatchCache } from '../core/watch-cache.ts';
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

export function startPodIndex(kc: k8s.KubeConfig, logger: Logger, onChange: (pod: k8s.V1Pod) => void): PodIndex {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const caches: WatchCache<k8s.V1Pod>[] = [MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS].map((label) => {
    const labelSelector = `${label}=${MODULE_COMPONENT_VALUE}`;
    return startWatchCache<k8s.V1Pod>({
      kc,
      path: '/api/v1/pods',
      list: () => core.listPodForAllNamespaces({ labelSelector }),
      labelSelector,
      logger,
      transform: toSlimPod,
      onChange,
    });
  });
  const all = () => {
    const seen = new Map<string, k8s.V1Pod>();
    for (const c of caches) for (const p of c.list()) seen.set(p.metadata?.uid ?? `${p.metadata?.namespace}/${p.metadata?.name}`, p);
    return [...seen.values()];
  };
  return {
    podsOnNode: (nodeName) => all().filter((p) => p.spec?.nodeName === nodeName),
    all,
    isSynced: () => caches.every((c) => c.isSynced()),
    isFresh: () => caches.every((c) => c.isFresh()),
    synced: Promise.all(caches.map((c) => c.synced)).then(() => undefined),
    stop: async () => {
      await Promise.all(caches.map((c) => c.stop()));
    },
  };
}
