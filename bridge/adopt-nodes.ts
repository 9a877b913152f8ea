/**
 * Adoption after a bridge restart or failover, as a pure plan: every virtual node found in the API
 * becomes a base record that starts from what the Node (and its Lease) say — the Ready condition and
 * the last time the bridge heard the base — never from "heard just now". So a dead base stays
 * NotReady, and its delete timer runs on from the recorded time.
 */
import type { V1Lease, V1Node } from '@kubernetes/client-node';
import { BASE_CLUSTER_LABEL, BASE_IDENTITY_ANNOTATION, BASE_LAST_HEARD_ANNOTATION, BASE_NAME_LABEL, BASE_VERSION_LABEL } from '../core/names.ts';
import type { BaseMetadata } from '../core/protocol.ts';
import type { BaseRecord } from './base-registry.ts';

export interface AdoptedBase {
  readonly identity: string;
  readonly metadata: BaseMetadata;
  readonly localIP: string;
  readonly hostName: string;
  readonly lastHeardAt: number;
  readonly adopted: NonNullable<BaseRecord['adopted']>;
  /** Where `lastHeardAt` came from, for the log. */
  readonly heardFrom: 'lease' | 'condition' | 'none';
}

function toTime(v: Date | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * `leases`: the node Leases by node name. The bridge writes the base's last receive time into its
 * node Lease (annotation `BASE_LAST_HEARD_ANNOTATION`) at every renewal; without it the Ready
 * condition's lastHeartbeatTime (the bridge's last status write, never later than the truth by
 * more than a status refresh) is used; with neither, the base counts as last heard `now - notReadyAfterMs`
 * — unknown, so it is Ready only while the Node said so and the bridge cannot hear yet.
 */
export function planAdoption(nodes: readonly V1Node[], leases: ReadonlyMap<string, V1Lease>, now: number, notReadyAfterMs: number): AdoptedBase[] {
  const out: AdoptedBase[] = [];
  for (const n of nodes) {
    const identity = n.metadata?.annotations?.[BASE_IDENTITY_ANNOTATION];
    if (!identity) continue;
    const labels = n.metadata?.labels ?? {};
    const addr = (type: string) => n.status?.addresses?.find((a) => a.type === type)?.address ?? '';
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    const fromLease = toTime(leases.get(n.metadata?.name ?? '')?.metadata?.annotations?.[BASE_LAST_HEARD_ANNOTATION]);
    const fromCondition = toTime(ready?.lastHeartbeatTime);
    const heard = fromLease ?? fromCondition;
    out.push({
      identity,
      metadata: { identity, name: labels[BASE_NAME_LABEL] ?? '', version: labels[BASE_VERSION_LABEL] ?? '', clusterName: labels[BASE_CLUSTER_LABEL] ?? '' },
      localIP: addr('InternalIP'),
      hostName: addr('Hostname'),
      // Never in the future: a skewed earlier replica's write must not make a base look fresher.
      lastHeardAt: Math.min(now, heard ?? now - notReadyAfterMs),
      adopted: {
        ready: ready?.status === 'True',
        reason: ready?.status === 'True' ? '' : (ready?.reason ?? 'BaseUnreachable'),
        message: ready?.message ?? '',
      },
      heardFrom: fromLease !== undefined ? 'lease' : fromCondition !== undefined ? 'condition' : 'none',
    });
  }
  return out;
}
