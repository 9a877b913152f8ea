/**
 * The I/O edge that keeps the peer list current: list+watch of the extender Service's
 * EndpointSlices (label kubernetes.io/service-name) in its namespace, each change turned into the
 * peer list (peer-endpoints.ts) and handed to the pusher.
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../core/logger.ts';
import { startWatchCache } from '../core/watch-cache.ts';
import { watchVia } from '../core/kubeconfig.ts';
import { toPeerEndpoints } from './peer-endpoints.ts';
import type { PeerPush } from './peer-push.ts';

/** The label the EndpointSlice controller puts on a Service's slices (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function watchPeers(kc: k8s.KubeConfig, peers: { readonly namespace: string; readonly service: string; readonly podName?: string | undefined }, push: PeerPush, logger: Logger): { stop(): Promise<void> } {
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const labelSelector = `${SERVICE_NAME_LABEL}=${peers.service}`;
  const cache = startWatchCache<k8s.V1EndpointSlice>({
    watch: watchVia(kc),
    path: `/apis/discovery.k8s.io/v1/namespaces/${peers.namespace}/endpointslices`,
    list: () => discovery.listNamespacedEndpointSlice({ namespace: peers.namespace, labelSelector }),
    labelSelector,
    logger,
    onChange: () => push.setPeers(toPeerEndpoints(cache.list(), peers.podName)),
  });
  void cache.synced.then(() => push.setPeers(toPeerEndpoints(cache.list(), peers.podName)));
  return { stop: () => cache.stop() };
}
