/**
 * What the filter needs to know about a node that does not depend on the pod: computed once per
 * Node object (when the informer delivers it, or once per request for Node objects the scheduler
 * sends), not once per node per request.
 */
import type { V1Node } from '@kubernetes/client-node';
import { BASE_TENANTS_ANNOTATION, isVirtualNodeLabels } from '../core/names.ts';
import { parseTenantsAnnotation } from '../core/base-tenancy.ts';
import { readNodeReadiness, type NodeReadiness } from '../core/node-ready.ts';
import type { NodeLoad } from './node-load.ts';
import type { Rejection } from './filter-nodes.ts';

export interface NodeFacts {
  readonly node: V1Node;
  readonly labels: Readonly<Record<string, string>>;
  readonly virtual: boolean;
  readonly readiness: NodeReadiness;
  readonly cordoned: boolean;
  /** Namespaces the node is reserved for by its annotation (core/base-tenancy.ts); undefined = not reserved by annotation. */
  readonly tenants: readonly string[] | undefined;
  /**
   * The last label verdict (filter-nodes.ts), kept with the facts: a Node update brings new facts,
   * so the verdict cannot outlive the labels it was computed from. `key` names the pod's
   * constraints; replicas of one module share them, so call after call only the key is compared.
   */
  labelsVerdict: { readonly key: string; readonly why: string | undefined } | undefined;
  /** The last whole filter verdict, for the load and the pod/config key it was made for (filterNodes). */
  verdict: { readonly key: string; readonly load: NodeLoad; readonly rejection: Rejection | undefined } | undefined;
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
    tenants: parseTenantsAnnotation(node.metadata?.annotations?.[BASE_TENANTS_ANNOTATION]),
    labelsVerdict: undefined,
    verdict: undefined,
  };
}
