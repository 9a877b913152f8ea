/** What the release planner reads from a module pod: terminating, Ready, or failed and why. Pure. */
import type { V1Pod } from '@kubernetes/client-node';

// The bridge's pod-status reasons that mean the module will not become Ready by itself
// (core/module-status.ts: failed = true).
const FAILED_REASONS = new Set(['ModuleInstallFailed', 'ModuleBroken', 'ModuleStopped']);

export function isTerminating(p: V1Pod): boolean {
  return !!p.metadata?.deletionTimestamp;
}

export function isPodReady(p: V1Pod): boolean {
  return !isTerminating(p) && p.status?.phase === 'Running' && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** `"<pod> on <base>: <reason>: <message>"` when the pod failed or cannot be scheduled. */
export function toPodFailure(p: V1Pod): string | undefined {
  const where = `${p.metadata?.name ?? '?'} on ${p.spec?.nodeName ?? 'no base'}`;
  for (const cs of p.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w?.reason && FAILED_REASONS.has(w.reason)) return `${where}: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
    const t = cs.state?.terminated;
    if (t) return `${where}: ${t.reason ?? 'Terminated'}${t.message ? `: ${t.message}` : ''}`;
  }
  const sched = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable') return `${where}: Unschedulable${sched.message ? `: ${sched.message}` : ''}`;
  return undefined;
}
