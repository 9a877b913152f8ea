/**
 * Where each workload kind keeps the pod it will create. A Pod is its own template. Kinds are
 * matched with their API group so a CRD that happens to be called "Deployment" is not mistaken for
 * the built-in one.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { PodShape } from './mutate-pod.ts';

interface TemplateLocation {
  readonly group: string;
  /** Field path of the pod template inside the object ([] = the object itself). */
  readonly path: readonly string[];
}

export const POD_TEMPLATE_LOCATIONS: Readonly<Record<string, TemplateLocation>> = Object.freeze({
  Pod: { group: '', path: [] },
  Deployment: { group: 'apps', path: ['spec', 'template'] },
  StatefulSet: { group: 'apps', path: ['spec', 'template'] },
  DaemonSet: { group: 'apps', path: ['spec', 'template'] },
  ReplicaSet: { group: 'apps', path: ['spec', 'template'] },
  Job: { group: 'batch', path: ['spec', 'template'] },
  CronJob: { group: 'batch', path: ['spec', 'jobTemplate', 'spec', 'template'] },
});

export interface PodTemplateRef {
  /** "spec.template" (or "" for a Pod): the prefix of field paths in messages. */
  readonly path: string;
  readonly template: PodShape;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isKnownWorkload(group: string, kind: string): boolean {
  const loc = POD_TEMPLATE_LOCATIONS[kind];
  return loc !== undefined && loc.group === group;
}

export function findPodTemplate(kind: string, object: unknown): PodTemplateRef | undefined {
  const loc = POD_TEMPLATE_LOCATIONS[kind];
  if (!loc) return undefined;
  let node: unknown = object;
  for (const field of loc.path) node = isRecord(node) ? node[field] : undefined;
  if (!isRecord(node)) return undefined;
  return { path: loc.path.join('.'), template: node as PodShape };
}

/** `Deployment "demo/biz1"`; a pod from a ReplicaSet has only generateName: `Pod "demo/biz1-5f7c-*"`. */
export function toWorkloadName(kind: string, object: unknown, namespace: string | undefined): string {
  const meta: V1ObjectMeta = isRecord(object) && isRecord(object['metadata']) ? (object['metadata'] as V1ObjectMeta) : {};
  const ns = meta.namespace || namespace;
  const name = meta.name || (meta.generateName ? `${meta.generateName}*` : '<unnamed>');
  return `${kind} "${ns ? `${ns}/` : ''}${name}"`;
}
