/**
 * Does a node satisfy a pod's hard placement rules (`spec.nodeSelector` AND the required node
 * affinity)? The same semantics as the kube-scheduler's NodeAffinity plugin
 * (k8s.io/component-helpers/scheduling/corev1/nodeaffinity): terms are ORed, the expressions and
 * fields inside one term are ANDed, an empty term matches nothing, NotIn/DoesNotExist match a
 * missing label, Gt/Lt compare one integer. Returns a human reason when the node does not fit, so
 * the extender can tell users *which* base label is wrong.
 */
import type { V1NodeSelectorRequirement, V1NodeSelectorTerm } from '@kubernetes/client-node';

/** The parts of a pod spec that constrain node labels. */
export interface NodeConstraintsLike {
  readonly nodeSelector?: Readonly<Record<string, string>> | undefined;
  readonly affinity?:
    | { readonly nodeAffinity?: { readonly requiredDuringSchedulingIgnoredDuringExecution?: { readonly nodeSelectorTerms?: readonly V1NodeSelectorTerm[] } } }
    | undefined;
}

type Labels = Readonly<Record<string, string>>;

const INT_RE = /^[+-]?\d+$/;

function has(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

/** One `matchExpressions` entry against node labels. */
export function matchLabelRequirement(req: V1NodeSelectorRequirement, labels: Labels): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has(labels, req.key) && values.includes(labels[req.key]!);
    case 'NotIn':
      return !has(labels, req.key) || !values.includes(labels[req.key]!);
    case 'Exists':
      return has(labels, req.key);
    case 'DoesNotExist':
      return !has(labels, req.key);
    case 'Gt':
    case 'Lt': {
      if (!has(labels, req.key) || values.length !== 1) return false;
      const have = labels[req.key]!;
      const want = values[0]!;
      if (!INT_RE.test(have) || !INT_RE.test(want)) return false;
      return req.operator === 'Gt' ? BigInt(have) > BigInt(want) : BigInt(have) < BigInt(want);
    }
    default:
      return false;
  }
}

/** One `matchFields` entry: only `metadata.name` with In/NotIn exists in Kubernetes. */
export function matchFieldRequirement(req: V1NodeSelectorRequirement, nodeName: string): boolean {
  if (req.key !== 'metadata.name') return false;
  const values = req.values ?? [];
  if (req.operator === 'In') return values.includes(nodeName);
  if (req.operator === 'NotIn') return !values.includes(nodeName);
  return false;
}

export function toRequirementText(req: V1NodeSelectorRequirement): string {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'Exists':
      return `${req.key} to exist`;
    case 'DoesNotExist':
      return `no ${req.key}`;
    case 'Gt':
      return `${req.key} > ${values.join(',')}`;
    case 'Lt':
      return `${req.key} < ${values.join(',')}`;
    case 'In':
      return values.length === 1 ? `${req.key}=${values[0]}` : `${req.key} in (${values.join(', ')})`;
    case 'NotIn':
      return `${req.key} not in (${values.join(', ')})`;
    default:
      return `${req.key} ${req.operator} (${values.join(', ')})`;
  }
}

function toHaveText(key: string, labels: Labels): string {
  return has(labels, key) ? `base has ${key}=${labels[key]}` : `base has no ${key} label`;
}

/** Why one term does not match, or undefined when it does. */
export function checkNodeSelectorTerm(term: V1NodeSelectorTerm, labels: Labels, nodeName: string): string | undefined {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return 'an empty node selector term matches no node';
  for (const e of exprs) {
    if (!matchLabelRequirement(e, labels)) return `needs ${toRequirementText(e)}, ${toHaveText(e.key, labels)}`;
  }
  for (const f of fields) {
    if (!matchFieldRequirement(f, nodeName)) return `needs ${toRequirementText(f)}, node is ${nodeName}`;
  }
  return undefined;
}

export type NodeConstraintsCheck = (labels: Labels | undefined, nodeName: string) => string | undefined;

/**
 * Compiles the pod's nodeSelector and required node affinity once, for checking many nodes (the
 * extender checks thousands per request). The check returns why a node does not satisfy them, or
 * undefined when it does; with several terms the first term's reason is shown (any would do).
 */
export function toNodeConstraintsCheck(spec: NodeConstraintsLike | undefined): NodeConstraintsCheck {
  const selector = Object.entries(spec?.nodeSelector ?? {});
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return (labels, nodeName) => {
    const have = labels ?? {};
    for (const [key, value] of selector) {
      if (have[key] !== value) return `needs ${key}=${value}, ${toHaveText(key, have)}`;
    }
    if (!terms) return undefined;
    if (terms.length === 0) return 'the required node affinity has no terms, so no node matches';
    let first: string | undefined;
    for (const term of terms) {
      const why = checkNodeSelectorTerm(term, have, nodeName);
      if (!why) return undefined;
      first ??= why;
    }
    return terms.length === 1 ? first : `matches none of ${terms.length} required node affinity terms (first: ${first})`;
  };
}

/** One-off form of toNodeConstraintsCheck. */
export function checkNodeConstraints(spec: NodeConstraintsLike | undefined, labels: Labels | undefined, nodeName: string): string | undefined {
  return toNodeConstraintsCheck(spec)(labels, nodeName);
}
