/**
 * The other extender replicas, read from the EndpointSlices of the extender's Service
 * (discovery.k8s.io/v1, label `kubernetes.io/service-name`): each serving endpoint address with
 * the slice's port, leaving out this replica (its pod is the endpoint's targetRef).
 *
 * Not only ready ones: a replica that is starting (informers not synced, so not ready — the
 * EndpointSlice controller then lists it with ready and serving false — and not yet sent scheduler
 * calls) still takes pushes, so it knows the placements in flight when it turns ready; one that is
 * not listening yet refuses at once and is marked down (peers.ts), which costs no wait. A
 * terminating replica is pushed to while it still serves.
 */
import type { V1EndpointSlice } from '@kubernetes/client-node';

export interface PeerEndpoint {
  /** `address:port` (IPv6 in brackets), the peer's identity in logs and state. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** The pod behind it, when the slice names one. */
  readonly podName: string | undefined;
}

export function toPeerEndpoints(slices: Iterable<V1EndpointSlice>, selfPodName: string | undefined): PeerEndpoint[] {
  const peers = new Map<string, PeerEndpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    // The extender's Service has one port; a slice without a port number has nothing to call.
    const port = slice.ports?.find((p) => typeof p.port === 'number' && (p.protocol ?? 'TCP') === 'TCP')?.port;
    if (port === undefined || port === null) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.terminating === true && ep.conditions.serving === false) continue;
      const podName = ep.targetRef?.kind === 'Pod' ? ep.targetRef.name : undefined;
      if (selfPodName !== undefined && podName === selfPodName) continue;
      const address = ep.addresses[0];
      if (!address) continue;
      const key = slice.addressType === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
      peers.set(key, { key, address, port, podName });
    }
  }
  return [...peers.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
