/**
 * Names and defaults of the module Services the bridge keeps (seed: "Module Traffic Service"). The
 * pod-template annotations that ask for one are SERVICE_ANNOTATIONS in names.ts, read by
 * service-annotations.ts; these are the marks the bridge puts on the Services it owns, so it never
 * touches a Service someone else made.
 */
import { toServiceName } from './names.ts';
import type { ServiceType } from './service-annotations.ts';

/** The well-known "who manages this" label (kubernetes.io recommended labels). */
export const SERVICE_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const SERVICE_MANAGED_BY_VALUE = 'module-controller';
/** Which module a managed Service belongs to (its bizName), so the Service maps back to its key. */
export const SERVICE_BIZ_NAME_LABEL = 'module-controller.koupleless.io/biz-name';
/** Label selector of every managed Service (for list/watch). */
export const MANAGED_SERVICE_SELECTOR = `${SERVICE_MANAGED_BY_LABEL}=${SERVICE_MANAGED_BY_VALUE},${SERVICE_BIZ_NAME_LABEL}`;

/** The seed's Service has one port named `http`, TCP. */
export const SERVICE_PORT_NAME = 'http';
/** The seed's example type; ClusterIP or LoadBalancer on request. */
export const DEFAULT_SERVICE_TYPE: ServiceType = 'NodePort';
/**
 * Port when the workload enables a Service without naming one: modules are served by their base's
 * web server, and Spring Boot bases listen on 8080 unless configured otherwise (the seed's example).
 */
export const DEFAULT_SERVICE_PORT = 8080;

export function isManagedServiceLabels(labels: Readonly<Record<string, string>> | undefined): boolean {
  return labels?.[SERVICE_MANAGED_BY_LABEL] === SERVICE_MANAGED_BY_VALUE && Boolean(labels[SERVICE_BIZ_NAME_LABEL]);
}

// A Service name is a DNS-1035 label: a letter first, at most 63 characters. A bizName is only a
// DNS-1123 label, so `<bizName>-service` can be invalid even when the bizName is fine.
const SERVICE_NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Why `<bizName>-service` cannot be a Service name, or undefined when it can. */
export function checkServiceName(bizName: string): string | undefined {
  const name = toServiceName(bizName);
  if (SERVICE_NAME_RE.test(name)) return undefined;
  return `module "${bizName}" cannot have a Service: its name "${name}" must start with a letter and be at most 63 characters (a bizName of at most 55)`;
}
