/**
 * ModuleDeployments (docs/module-deployment.md "Peer mode"): v1's `spec.replicas: -1` becomes
 * `peer: true` with `replicas` unset, before the API server validates the object. Mutating
 * admission runs before schema and scale-subresource validation (which refuses a negative
 * `.spec.replicas`), so this is the one place a v1 manifest can be made storable.
 *
 * Pure, like mutate-pod.ts: the input is never touched; the handler diffs the returned clone with
 * the original to get the JSON Patch.
 */
import jsonpatch from 'fast-json-patch';
import { DEFAULT_REPLICAS, V1_PEER_REPLICAS } from '../moduledeployment/peer-mode.ts';
import { MD_GROUPS, MD_KIND } from '../moduledeployment/types.ts';
import type { AdmissionHandler, AdmissionResult } from './admission.ts';
import type { Mutation } from './mutate-pod.ts';

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface MdMutation extends Mutation<Json> {
  readonly warnings: readonly string[];
}

/**
 * `oldObject` is the stored object on UPDATE (undefined on CREATE). The rules, first match wins:
 * 1. `replicas: -1` → peer mode.
 * 2. `peer: true` with a `replicas` value → peer mode (replicas dropped), unless both are what is
 *    stored already: that state comes from `kubectl scale` on a peer-mode object, which leaves peer
 *    mode (the controller sets `peer: false`), and an unrelated update (a label) must not undo it.
 * 3. no `replicas` outside peer mode → `replicas: 1`, the default the CRD cannot carry (a schema
 *    default would fill in the unset replicas of peer mode too).
 */
export function mutateModuleDeployment(object: Json, oldObject?: Json): MdMutation {
  const spec = object['spec'];
  if (!isRecord(spec)) return { object, changes: [], warnings: [] };
  const replicas = spec['replicas'];
  const peer = spec['peer'] === true;
  const toPeerMode = (change: string, warnings: string[]): MdMutation => {
    const { replicas: _drop, ...rest } = spec;
    return { object: { ...object, spec: { ...rest, peer: true } }, changes: [change], warnings };
  };
  if (replicas === V1_PEER_REPLICAS) {
    return toPeerMode('replicas -1 (v1 peer mode) → peer: true, replicas unset', []);
  }
  if (peer && typeof replicas === 'number') {
    const old = isRecord(oldObject) && isRecord(oldObject['spec']) ? oldObject['spec'] : undefined;
    if (old?.['peer'] === true && old['replicas'] === replicas) return { object, changes: [], warnings: [] };
    return toPeerMode(`peer: true → replicas ${replicas} dropped`, [`spec.replicas ${replicas} is ignored with spec.peer: true (one replica per matching Ready base); use kubectl scale, or set peer: false, for a fixed count`]);
  }
  if (replicas === undefined && !peer) {
    return { object: { ...object, spec: { ...spec, replicas: DEFAULT_REPLICAS } }, changes: [`replicas ${DEFAULT_REPLICAS} (the default)`], warnings: [] };
  }
  return { object, changes: [], warnings: [] };
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
    return { kind: 'patched', patch, changes: mutation.changes, ...(mutation.warnings.length > 0 ? { warnings: mutation.warnings } : {}) };
  };
}
