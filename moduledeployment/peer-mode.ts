/**
 * Peer mode (v1's `spec.replicas: -1`): one replica per matching Ready base.
 *
 * The CRD's scale subresource maps `.spec.replicas`; the API server refuses a negative value there
 * (apiextensions-apiserver ValidateScaleSpec) and an unset one too (the scale subresource cannot
 * be read or written without it). So peer mode is stored as `peer: true` with `replicas` holding
 * the current peer count, which the controller keeps equal to the matching Ready bases, and the
 * annotation PEER_REPLICAS_ANNOTATION recording the count it wrote. A `replicas` that differs
 * from that record was written by someone else — `kubectl scale`, a patch — and leaves peer mode.
 * The webhook (webhook/mutate-module-deployment.ts) rewrites v1's `-1` into this form.
 */
import type { ModuleDeployment } from './types.ts';

/** v1's `spec.replicas` for peer mode. */
export const V1_PEER_REPLICAS = -1;
/** The peer count the controller (or the webhook) last wrote into spec.replicas. */
export const PEER_REPLICAS_ANNOTATION = 'module-controller.koupleless.io/peer-replicas';

type MdFields = Pick<ModuleDeployment, 'spec'> & { readonly metadata?: { readonly annotations?: Record<string, string> | undefined } | undefined };

/**
 * `peer`: peer mode. `scaled`: `peer: true`, but replicas is not the recorded peer count: a user
 * wrote it, so it counts and peer mode ends. `off`: a fixed count.
 * A missing record (peer: true written by hand, or without the webhook) is peer mode.
 */
export function readPeerMode(md: MdFields): 'peer' | 'scaled' | 'off' {
  if (md.spec.peer !== true) return 'off';
  const recorded = md.metadata?.annotations?.[PEER_REPLICAS_ANNOTATION];
  return recorded === undefined || recorded === String(md.spec.replicas ?? '') ? 'peer' : 'scaled';
}

/** The replica count wanted: the Ready matching bases in peer mode, else `spec.replicas`. */
export function toDesiredReplicas(md: MdFields, readyBases: number): number {
  return readPeerMode(md) === 'peer' ? readyBases : Math.max(0, md.spec.replicas ?? 1);
}

export type PeerAction =
  /** spec.replicas (and the record) follow the Ready bases; applied only if both are unchanged. */
  | { readonly kind: 'setPeerReplicas'; readonly from: number | undefined; readonly recorded: string | undefined; readonly to: number; readonly why: string }
  /** peer: false and the record removed; applied only if spec.replicas still is `replicas`. */
  | { readonly kind: 'leavePeerMode'; readonly replicas: number; readonly why: string };

export function planPeerMode(md: MdFields, readyBases: number): PeerAction | undefined {
  const mode = readPeerMode(md);
  const replicas = md.spec.replicas;
  const recorded = md.metadata?.annotations?.[PEER_REPLICAS_ANNOTATION];
  if (mode === 'scaled') {
    return { kind: 'leavePeerMode', replicas: replicas ?? 0, why: `spec.replicas was set to ${replicas ?? 0} (kubectl scale or a patch), not the peer count ${recorded ?? ''}` };
  }
  if (mode === 'peer' && (replicas !== readyBases || recorded !== String(readyBases))) {
    return { kind: 'setPeerReplicas', from: replicas, recorded, to: readyBases, why: `peer mode: ${readyBases} matching Ready base(s)` };
  }
  return undefined;
}

type PatchOp = { readonly op: 'test' | 'add' | 'replace' | 'remove'; readonly path: string; readonly value?: unknown };
const ANNOTATION_PATH = `/metadata/annotations/${PEER_REPLICAS_ANNOTATION.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/** The JSON Patch (RFC 6902) for a peer action; its tests make it fail if the user wrote first. */
export function toPeerPatch(md: MdFields, a: PeerAction): PatchOp[] {
  if (a.kind === 'leavePeerMode') {
    const hasRecord = md.metadata?.annotations?.[PEER_REPLICAS_ANNOTATION] !== undefined;
    return [
      { op: 'test', path: '/spec/peer', value: true },
      { op: 'test', path: '/spec/replicas', value: a.replicas },
      { op: 'replace', path: '/spec/peer', value: false },
      ...(hasRecord ? [{ op: 'remove', path: ANNOTATION_PATH } as const] : []),
    ];
  }
  const record: PatchOp[] = a.recorded !== undefined
    ? [{ op: 'test', path: ANNOTATION_PATH, value: a.recorded }, { op: 'replace', path: ANNOTATION_PATH, value: String(a.to) }]
    : md.metadata?.annotations
      ? [{ op: 'add', path: ANNOTATION_PATH, value: String(a.to) }]
      : [{ op: 'add', path: '/metadata/annotations', value: { [PEER_REPLICAS_ANNOTATION]: String(a.to) } }];
  return [
    { op: 'test', path: '/spec/peer', value: true },
    ...(a.from === undefined ? [{ op: 'add', path: '/spec/replicas', value: a.to } as const] : [{ op: 'test', path: '/spec/replicas', value: a.from } as const, { op: 'replace', path: '/spec/replicas', value: a.to } as const]),
    ...record,
  ];
}
