/**
 * The module Service annotations on a pod template (seed "Module Traffic Service"; names in
 * names.ts SERVICE_ANNOTATIONS). One parser so the webhook rejects exactly what the bridge could not
 * turn into a Service. Only what is present is parsed; defaults are the bridge's business.
 */
import { SERVICE_ANNOTATIONS } from './names.ts';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export interface ServiceAnnotations {
  readonly enabled: boolean;
  readonly port?: number;
  readonly targetPort?: number;
  readonly type?: ServiceType;
}

export interface ServiceAnnotationProblem {
  readonly annotation: string;
  readonly message: string;
}

export interface ServiceAnnotationParse {
  readonly value: ServiceAnnotations;
  readonly problems: readonly ServiceAnnotationProblem[];
  /** Service annotations present at all (even if invalid). */
  readonly present: boolean;
}

function parsePort(key: string, raw: string, problems: ServiceAnnotationProblem[]): number | undefined {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
  problems.push({ annotation: key, message: `annotation ${key} "${raw}" is not a port; use a whole number from 1 to 65535` });
  return undefined;
}

export function parseServiceAnnotations(annotations: Readonly<Record<string, string>> | undefined): ServiceAnnotationParse {
  const a = annotations ?? {};
  const problems: ServiceAnnotationProblem[] = [];
  const present = Object.values(SERVICE_ANNOTATIONS).some((k) => a[k] !== undefined);
  let enabled = false;
  const rawEnabled = a[SERVICE_ANNOTATIONS.enabled];
  if (rawEnabled !== undefined) {
    if (/^true$/i.test(rawEnabled.trim())) enabled = true;
    else if (!/^false$/i.test(rawEnabled.trim())) {
      problems.push({ annotation: SERVICE_ANNOTATIONS.enabled, message: `annotation ${SERVICE_ANNOTATIONS.enabled} "${rawEnabled}" is not a boolean; use "true" or "false"` });
    }
  }
  const rawPort = a[SERVICE_ANNOTATIONS.port];
  const port = rawPort === undefined ? undefined : parsePort(SERVICE_ANNOTATIONS.port, rawPort, problems);
  const rawTarget = a[SERVICE_ANNOTATIONS.targetPort];
  const targetPort = rawTarget === undefined ? undefined : parsePort(SERVICE_ANNOTATIONS.targetPort, rawTarget, problems);
  const rawType = a[SERVICE_ANNOTATIONS.type];
  let type: ServiceType | undefined;
  if (rawType !== undefined) {
    type = SERVICE_TYPES.find((t) => t === rawType.trim());
    if (!type) {
      problems.push({ annotation: SERVICE_ANNOTATIONS.type, message: `annotation ${SERVICE_ANNOTATIONS.type} "${rawType}" is not a Service type; use one of ${SERVICE_TYPES.join(', ')}` });
    }
  }
  const value: ServiceAnnotations = {
    enabled,
    ...(port !== undefined ? { port } : {}),
    ...(targetPort !== undefined ? { targetPort } : {}),
    ...(type !== undefined ? { type } : {}),
  };
  return { value, problems, present };
}
