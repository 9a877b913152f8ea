/**
 * What the filter needs to know about a node that does not depend on the pod: computed once per
 * Node object (when the informer delivers it, or once per request for Node objects the scheduler
 * sends), not once per node per request.
 */
import type { V1Node } from '@kubernetes/client-node';
import { isVirtualNodeLabels } from '../core/names.ts';
import { readNodeReadiness, type NodeReadiness } from '../core/node-ready.ts';

export interface NodeFacts {
  readonly node: V1Node;
  readonly labels: Readonly<Record<string, string>>;
  readonly virtual: boolean;
  readonly readiness: NodeReadiness;
  readonly cordoned: boolean;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export function toNodeFacts(node: V1Node): NodeFacts {
  const labels = node.metadata?.labels ?? NO_LABELS;
  return {
    node,
    labels,
    virtual: isVirtualNodeLabels(labels),
    readiness: readNodeReadiness(node.status),
    cordoned: node.spec?.unschedulable === true,
  };
}
