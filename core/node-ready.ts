/**
 * Is a node Ready, and if not, why? Read from the `Ready` condition the way `kubectl get nodes`
 * does: only status "True" is Ready; "False" and "Unknown" (set by the node lifecycle controller when
 * heartbeats stop) are not, and neither is a node that has not reported a Ready condition yet.
 */

export interface NodeConditionLike {
  readonly type?: string | undefined;
  readonly status?: string | undefined;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
}

export type NodeReadiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

const READY: NodeReadiness = Object.freeze({ ready: true });

export function readNodeReadiness(status: { readonly conditions?: readonly NodeConditionLike[] | undefined } | undefined): NodeReadiness {
  let ready: NodeConditionLike | undefined;
  for (const c of status?.conditions ?? []) {
    if (c.type === 'Ready') {
      ready = c;
      break;
    }
  }
  if (!ready) return { ready: false, reason: 'it has not reported a Ready condition yet' };
  if (ready.status === 'True') return READY;
  const why = ready.reason ? ` (${ready.reason})` : '';
  return { ready: false, reason: `Ready is ${ready.status ?? 'unset'}${why}` };
}
