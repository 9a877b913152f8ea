/**
 * The I/O edge that keeps the snapshot current: list+watch of virtual Nodes and of module pods in
 * all namespaces (one watch per module label, since a label selector cannot OR the upstream alias).
 *
 * @kubernetes/client-node's informer does not restart itself after an error, and its `start()`
 * resolves even when the first list failed (it reports the failure to the error callbacks), so
 * "synced" is only set when our own list function has succeeded and the watch is open.
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
import { toErrorFields } from '../core/errors.ts';
import type { ChangeVerb, ClusterSnapshot } from './snapshot.ts';

export const NODE_SOURCE = 'virtual nodes';
export const POD_SOURCES = [
  { name: `pods ${MODULE_COMPONENT_LABEL}`, selector: `${MODULE_COMPONENT_LABEL}=${MODULE_COMPONENT_VALUE}` },
  { name: `pods ${MODULE_COMPONENT_LABEL_ALIAS}`, selector: `${MODULE_COMPONENT_LABEL_ALIAS}=${MODULE_COMPONENT_VALUE}` },
] as const;
export const ALL_SOURCES: readonly string[] = [NODE_SOURCE, ...POD_SOURCES.map((s) => s.name)];

export interface ClusterWatch {
  stop(): Promise<void>;
}

interface WatchSpec<T extends k8s.KubernetesObject> {
  readonly source: string;
  readonly path: string;
  readonly selector: string;
  readonly list: (labelSelector: string) => Promise<k8s.KubernetesListObject<T>>;
  readonly apply: (verb: ChangeVerb, obj: T) => void;
}

function startWatch<T extends k8s.KubernetesObject>(kc: k8s.KubeConfig, snapshot: ClusterSnapshot, spec: WatchSpec<T>, logger: Logger) {
  let listed = false;
  let stopped = false;
  let failures = 0;
  const informer = k8s.makeInformer<T>(
    kc,
    spec.path,
    async () => {
      const list = await spec.list(spec.selector);
      listed = true;
      return list;
    },
    spec.selector,
  );
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (obj: T) => spec.apply(verb, obj));
  const start = () => {
    informer
      .start()
      .then(() => {
        if (stopped || !listed) return;
        failures = 0;
        snapshot.markSynced(spec.source, true);
        logger.info({ source: spec.source }, 'informer synced');
      })
      .catch(restart);
  };
  const restart = (err?: unknown) => {
    if (stopped) return;
    failures++;
    const delayMs = Math.min(500 * 2 ** Math.min(failures, 6), 30_000);
    logger.warn({ source: spec.source, err: toErrorFields(err), retryInMs: delayMs }, 'watch failed; restarting');
    setTimeout(() => {
      if (!stopped) start();
    }, delayMs).unref();
  };
  informer.on('error', restart);
  start();
  return {
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}

/** Starts the informers; `snapshot` must have been built with ALL_SOURCES. */
export function watchCluster(kc: k8s.KubeConfig, snapshot: ClusterSnapshot, logger: Logger): ClusterWatch {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const watches = [
    startWatch<k8s.V1Node>(kc, snapshot, {
      source: NODE_SOURCE,
      path: '/api/v1/nodes',
      selector: `${VNODE_COMPONENT_LABEL}=${VNODE_COMPONENT_VALUE}`,
      list: (labelSelector) => core.listNode({ labelSelector }),
      apply: (verb, node) => snapshot.applyNode(verb, node),
    }, logger),
    ...POD_SOURCES.map((s) =>
      startWatch<k8s.V1Pod>(kc, snapshot, {
        source: s.name,
        path: '/api/v1/pods',
        selector: s.selector,
        list: (labelSelector) => core.listPodForAllNamespaces({ labelSelector }),
        apply: (verb, pod) => snapshot.applyPod(s.name, verb, pod),
      }, logger),
    ),
  ];
  return { stop: async () => void (await Promise.all(watches.map((w) => w.stop()))) };
}
