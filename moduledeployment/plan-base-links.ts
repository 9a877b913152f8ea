/**
 * Which bases a ModuleDeployment's `baseDeploymentName` means (docs/module-deployment.md "Which
 * bases"). A base running as a pod in this cluster is found through that Deployment: the pods its
 * selector picks, whose IP is a virtual node's InternalIP (the base reports its pod IP as localIP).
 * Such nodes get the visible label `module-controller.koupleless.io/base-deployment: <name>`; the
 * ReplicaSets' node affinity matches that label OR `base.koupleless.io/name: <name>` (bases outside
 * the cluster). Pure.
 */
import type { V1Deployment, V1LabelSelector, V1Node, V1Pod } from '@kubernetes/client-node';
import { matchLabelRequirement } from '../core/node-selector.ts';
import { BASE_DEPLOYMENT_LABEL, BASE_NAME_LABEL, isVirtualNodeLabels } from '../core/names.ts';
import { readNodeReadiness } from '../core/node-ready.ts';
import type { BaseView } from './plan-module-deployment.ts';

export function matchLabelSelector(selector: V1LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  // An empty or missing selector selects nothing here (a Deployment always has a non-empty one).
  const ml = Object.entries(selector?.matchLabels ?? {});
  const me = selector?.matchExpressions ?? [];
  if (ml.length === 0 && me.length === 0) return false;
  const have = labels ?? {};
  return ml.every(([k, v]) => have[k] === v) && me.every((e) => matchLabelRequirement({ key: e.key, operator: e.operator, values: e.values ?? [] }, have));
}

function internalIps(node: V1Node): string[] {
  return (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
}

export interface LinkPatch {
  readonly node: string;
  /** The label value to set, or null to remove the label. */
  readonly value: string | null;
  readonly why: string;
}

/**
 * The link label every virtual node should carry: for each referenced base Deployment, the nodes
 * whose InternalIP is the IP of one of its live pods. A node claimed by two Deployments gets the
 * first by name (a base pod belongs to one Deployment; two claiming it is a misconfiguration).
 */
export function planBaseLinks(baseDeployments: readonly V1Deployment[], pods: readonly V1Pod[], nodes: readonly V1Node[]): { desired: Map<string, string>; patches: LinkPatch[] } {
  const ipToDeployment = new Map<string, string>();
  for (const d of [...baseDeployments].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
    const ns = d.metadata?.namespace;
    for (const p of pods) {
      if (p.metadata?.namespace !== ns || p.metadata?.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      if (!matchLabelSelector(d.spec?.selector, p.metadata?.labels)) continue;
      const ips = [p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)].filter((x): x is string => !!x);
      for (const ip of ips) if (!ipToDeployment.has(ip)) ipToDeployment.set(ip, d.metadata!.name!);
    }
  }
  const desired = new Map<string, string>();
  const patches: LinkPatch[] = [];
  for (const n of nodes) {
    if (!isVirtualNodeLabels(n.metadata?.labels)) continue;
    const name = n.metadata!.name!;
    const ip = internalIps(n).find((x) => ipToDeployment.has(x));
    const want = ip ? ipToDeployment.get(ip)! : undefined;
    if (want) desired.set(name, want);
    const have = n.metadata?.labels?.[BASE_DEPLOYMENT_LABEL];
    if (want && have !== want) patches.push({ node: name, value: want, why: `InternalIP ${ip} is a pod of Deployment ${want}` });
    else if (!want && have !== undefined) patches.push({ node: name, value: null, why: `no pod of a base Deployment has this node's IP any more` });
  }
  return { desired, patches };
}

/** The virtual nodes a ModuleDeployment may use, with their readiness (cordoned nodes are not Ready for this). */
export function toMatchingBases(baseDeploymentName: string, nodes: readonly V1Node[], links: ReadonlyMap<string, string>): BaseView[] {
  const out: BaseView[] = [];
  for (const n of nodes) {
    if (!isVirtualNodeLabels(n.metadata?.labels)) continue;
    const name = n.metadata!.name!;
    if (links.get(name) !== baseDeploymentName && n.metadata?.labels?.[BASE_NAME_LABEL] !== baseDeploymentName) continue;
    out.push({ name, ready: readNodeReadiness(n.status).ready && !n.spec?.unschedulable });
  }
  return out;
}
