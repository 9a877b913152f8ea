/**
 * ModuleDeployments (docs/module-deployment.md "Peer mode"): v1's `spec.replicas: -1` becomes
 * `peer: true` with a non-negative `replicas`, before the API server validates the object. Mutating
 * admission runs before schema and scale-subresource validation (which refuses a negative
 * `.spec.replicas`), so this is the one place a v1 manifest can be made storable.
 *
 * Pure, like mutate-pod.ts: the input is never touched; the handler diffs the returned clone with
 * the original to get the JSON Patch.
 */
import jsonpatch from 'fast-json-patch';
import { PEER_REPLICAS_ANNOTATION, V1_PEER_REPLICAS } from '../moduledeployment/peer-mode.ts';
import { MD_GROUPS, MD_KIND } from '../moduledeployment/types.ts';
import type { AdmissionHandler, AdmissionResult } from './admission.ts';
import type { Mutation } from './mutate-pod.ts';

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `replicas: -1` → `peer: true`, `replicas` = the stored count (0 on CREATE) and the peer-count
 * record (PEER_REPLICAS_ANNOTATION) equal to it, so the controller reads peer mode and moves
 * `replicas` to the number of matching Ready bases. Keeping the stored count on UPDATE makes a
 * re-applied v1 manifest a no-op and a return to peer mode start from what runs. Anything else is
 * left alone: the controller reads every other combination (moduledeployment/peer-mode.ts).
 * `oldObject` is the stored object on UPDATE (undefined on CREATE).
 */
export function mutateModuleDeployment(object: Json, oldObject?: Json): Mutation<Json> {
  const spec = object['spec'];
  if (!isRecord(spec) || spec['replicas'] !== V1_PEER_REPLICAS) return { object, changes: [] };
  const oldSpec = isRecord(oldObject) && isRecord(oldObject['spec']) ? oldObject['spec'] : undefined;
  const stored = oldSpec?.['replicas'];
  const replicas = typeof stored === 'number' && Number.isInteger(stored) && stored >= 0 ? stored : 0;
  const metadata = isRecord(object['metadata']) ? object['metadata'] : {};
  const annotations = isRecord(metadata['annotations']) ? metadata['annotations'] : {};
  return {
    object: {
      ...object,
      metadata: { ...metadata, annotations: { ...annotations, [PEER_REPLICAS_ANNOTATION]: String(replicas) } },
      spec: { ...spec, peer: true, replicas },
    },
    changes: [`replicas -1 (v1 peer mode) → peer: true, replicas ${replicas} until the controller counts the bases`],
  };
}

function isModuleDeployment(group: string, kind: string): boolean {
  return kind === MD_KIND && (MD_GROUPS as readonly string[]).includes(group);
}

/** The handler behind /mutate-module-deployment: ModuleDeployment CREATE and UPDATE. */
export function createModuleDeploymentMutateHandler(): AdmissionHandler {
  return (req): AdmissionResult => {
    const { group, kind } = req.kind;
    if (req.subResource) return { kind: 'allowed', reason: `subresource ${req.subResource} is not mutated` };
    if (!isModuleDeployment(group, kind)) return { kind: 'allowed', reason: `${group ? `${group}/` : ''}${kind} is not mutated here` };
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return { kind: 'allowed', reason: `ModuleDeployment ${req.operation} is not mutated` };
    if (!isRecord(req.object)) return { kind: 'errored', code: 400, message: `the ModuleDeployment ${req.operation} request has no object` };
    const mutation = mutateModuleDeployment(req.object, isRecord(req.oldObject) ? req.oldObject : undefined);
    const patch = mutation.changes.length > 0 ? jsonpatch.compare(req.object, mutation.object) : [];
    if (patch.length === 0) return { kind: 'allowed', reason: 'nothing to change' };
    return { kind: 'patched', patch, changes: mutation.changes };
  };
}
