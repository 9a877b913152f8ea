/**
 * The two admission handlers: request in, AdmissionResult out. They only dispatch on kind and
 * operation and turn the pure decisions (mutatePod, mutateDaemonSet, validate) into results.
 */
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import type { AdmissionHandler, AdmissionRequest, AdmissionResult } from './admission.ts';
import { mutateDaemonSet, mutatePod, type Mutation } from './mutate-pod.ts';
import { isKnownWorkload } from './pod-template.ts';
import type { AdmissionPolicy } from './policy.ts';
import { toDenialMessage, validate } from './validate.ts';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function allowed(reason: string, warnings?: readonly string[]): AdmissionResult {
  return warnings && warnings.length > 0 ? { kind: 'allowed', reason, warnings } : { kind: 'allowed', reason };
}

function toPatchResult<T extends object>(original: T, mutation: Mutation<T>): AdmissionResult {
  if (mutation.changes.length === 0) return allowed('nothing to change');
  const patch = jsonpatch.compare(original, mutation.object);
  return patch.length > 0 ? { kind: 'patched', patch, changes: mutation.changes } : allowed('nothing to change');
}

function isOperation(req: AdmissionRequest, ...ops: string[]): boolean {
  return ops.includes(req.operation);
}

/** Pod CREATE (and DaemonSet CREATE/UPDATE templates, see mutateDaemonSet). */
export function createMutateHandler(policy: AdmissionPolicy): AdmissionHandler {
  return (req) => {
    const { group, kind } = req.kind;
    if (req.subResource) return allowed(`subresource ${req.subResource} is not mutated`);
    if (group === '' && kind === 'Pod') {
      if (!isOperation(req, 'CREATE')) return allowed(`Pod ${req.operation} is not mutated`);
      if (!isRecord(req.object)) return { kind: 'errored', code: 400, message: 'the Pod CREATE request has no object' };
      const pod = req.object as V1Pod;
      return toPatchResult(pod, mutatePod(pod, policy));
    }
    if (group === 'apps' && kind === 'DaemonSet') {
      if (!isOperation(req, 'CREATE', 'UPDATE')) return allowed(`DaemonSet ${req.operation} is not mutated`);
      if (!isRecord(req.object)) return { kind: 'errored', code: 400, message: `the DaemonSet ${req.operation} request has no object` };
      const ds = req.object as V1DaemonSet;
      return toPatchResult(ds, mutateDaemonSet(ds, policy));
    }
    // Not ours (a too-wide registration): letting it through is the safe choice.
    return allowed(`${group ? `${group}/` : ''}${kind} is not mutated`);
  };
}

function hasController(object: unknown): boolean {
  const refs = isRecord(object) && isRecord(object['metadata']) ? object['metadata']['ownerReferences'] : undefined;
  return Array.isArray(refs) && refs.some((r) => isRecord(r) && r['controller'] === true);
}

/** Pods and workload templates, CREATE and UPDATE. */
export function createValidateHandler(policy: AdmissionPolicy): AdmissionHandler {
  return (req) => {
    const { group, kind } = req.kind;
    if (!isOperation(req, 'CREATE', 'UPDATE')) return allowed(`${req.operation} is not validated`);
    if (req.subResource) return allowed(`subresource ${req.subResource} is not validated`);
    if (!isKnownWorkload(group, kind)) return allowed(`${group ? `${group}/` : ''}${kind} is not validated`);
    if (!isRecord(req.object)) return { kind: 'errored', code: 400, message: `the ${kind} ${req.operation} request has no object` };
    const context = { kind, ...(req.namespace ? { namespace: req.namespace } : {}) };
    const verdict = validate(req.object, policy, context);
    if (!verdict.module) return allowed('not a module workload');
    // A pod its controller creates has the warnings of its workload, already shown at apply time;
    // repeating them would only fill the controller-manager's log.
    const warnings = kind === 'Pod' && hasController(req.object) ? [] : verdict.warnings;
    if (verdict.problems.length === 0) return allowed('valid module workload', warnings);
    if (req.operation === 'UPDATE' && req.oldObject !== undefined) {
      // Ratchet: an object that was already wrong (e.g. created before a rule existed) can still be
      // scaled, annotated or fixed one problem at a time; only new problems are refused.
      const before = new Set(validate(req.oldObject, policy, context).problems);
      if (verdict.problems.every((p) => before.has(p))) {
        return allowed('no new problems', [...verdict.problems.map((p) => `still invalid: ${p}`), ...warnings]);
      }
    }
    return { kind: 'denied', message: toDenialMessage(verdict), warnings };
  };
}
