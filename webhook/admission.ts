/**
 * AdmissionReview v1 on the wire (k8s.io/api/admission/v1). Handlers return an AdmissionResult
 * value and never see the envelope; `toAdmissionReview` is the one step that fills in the UID, so no
 * handler can forget it, and every answer — garbage in included — is a well-formed AdmissionReview.
 */
import type { Operation } from 'fast-json-patch';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly operation: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly subResource?: string;
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

export type AdmissionResult =
  | { readonly kind: 'allowed'; readonly reason: string; readonly warnings?: readonly string[] }
  | { readonly kind: 'patched'; readonly patch: readonly Operation[]; readonly changes: readonly string[]; readonly warnings?: readonly string[] }
  | { readonly kind: 'denied'; readonly message: string; readonly warnings?: readonly string[] }
  | { readonly kind: 'errored'; readonly code: number; readonly message: string };

export type AdmissionHandler = (request: AdmissionRequest) => AdmissionResult;

export type ReviewParse =
  | { readonly kind: 'ok'; readonly request: AdmissionRequest }
  | { readonly kind: 'invalid'; readonly uid: string; readonly result: AdmissionResult };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(uid: string, code: number, message: string): ReviewParse {
  return { kind: 'invalid', uid, result: { kind: 'errored', code, message } };
}

/** The request's UID if one can be found in whatever arrived, so even a refusal carries it. */
function findUid(body: unknown): string {
  const uid = isRecord(body) && isRecord(body['request']) ? body['request']['uid'] : undefined;
  return typeof uid === 'string' ? uid : '';
}

/** Wire bytes → request, or the errored answer (400-class) to send back. */
export function parseAdmissionReview(contentType: string | undefined, body: Buffer | string | undefined): ReviewParse {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : (body ?? '');
  // /\S/ stops at the first character; trim() would copy the whole body.
  if (!/\S/.test(text)) return invalid('', 400, 'the request body is empty; expected an AdmissionReview (admission.k8s.io/v1)');
  let parsed: unknown;
  let parseError: string | undefined;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    parseError = (err as Error).message;
  }
  const uid = findUid(parsed);
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return invalid(uid, 415, `content type "${contentType ?? ''}" is not supported; send application/json`);
  if (parseError !== undefined) return invalid('', 400, `the request body is not JSON: ${parseError}`);
  if (!isRecord(parsed) || parsed['kind'] !== 'AdmissionReview') return invalid(uid, 400, 'the body is not an AdmissionReview');
  if (parsed['apiVersion'] !== ADMISSION_API_VERSION) {
    return invalid(uid, 400, `apiVersion "${String(parsed['apiVersion'])}" is not supported; register the webhook with admissionReviewVersions [v1]`);
  }
  const req = parsed['request'];
  if (!isRecord(req)) return invalid(uid, 400, 'the AdmissionReview has no request');
  if (!uid) return invalid('', 400, 'the AdmissionReview request has no uid');
  const kind = req['kind'];
  if (!isRecord(kind) || typeof kind['kind'] !== 'string' || typeof kind['version'] !== 'string') {
    return invalid(uid, 400, 'the AdmissionReview request has no kind (group, version, kind)');
  }
  if (typeof req['operation'] !== 'string') return invalid(uid, 400, 'the AdmissionReview request has no operation');
  const request: AdmissionRequest = {
    uid,
    kind: { group: typeof kind['group'] === 'string' ? kind['group'] : '', version: kind['version'], kind: kind['kind'] },
    operation: req['operation'],
    ...(typeof req['name'] === 'string' ? { name: req['name'] } : {}),
    ...(typeof req['namespace'] === 'string' ? { namespace: req['namespace'] } : {}),
    ...(typeof req['subResource'] === 'string' ? { subResource: req['subResource'] } : {}),
    ...(req['object'] !== undefined && req['object'] !== null ? { object: req['object'] } : {}),
    ...(req['oldObject'] !== undefined && req['oldObject'] !== null ? { oldObject: req['oldObject'] } : {}),
    ...(req['dryRun'] === true ? { dryRun: true } : {}),
  };
  return { kind: 'ok', request };
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly message: string; readonly reason?: string };
    readonly patchType?: 'JSONPatch';
    readonly patch?: string;
    readonly warnings?: readonly string[];
  };
}

// The API server keeps at most 4 KiB of warnings per response and may cut long ones.
const MAX_WARNINGS = 10;

/** The one place that turns a result into the envelope and fills in the UID. */
export function toAdmissionReview(uid: string, result: AdmissionResult): AdmissionReviewResponse {
  const warnings = 'warnings' in result && result.warnings && result.warnings.length > 0 ? { warnings: result.warnings.slice(0, MAX_WARNINGS) } : {};
  const envelope = { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview' } as const;
  switch (result.kind) {
    case 'allowed':
      return { ...envelope, response: { uid, allowed: true, ...warnings } };
    case 'patched':
      return {
        ...envelope,
        response: { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(result.patch)).toString('base64'), ...warnings },
      };
    case 'denied':
      // 403 Forbidden is what the API server assumes for a denial; kubectl prints the message as is.
      return { ...envelope, response: { uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: result.message }, ...warnings } };
    case 'errored':
      return { ...envelope, response: { uid, allowed: false, status: { code: result.code, message: result.message } } };
  }
}
