/**
 * Optional tenancy: a base reserved for some namespaces (docs/webhook.md "Tenancy",
 * docs/extender.md). Two sources, both optional:
 *
 * - the `--base-tenants` flag, `<baseName>=<ns>|<ns>,…`, given to the webhook and the extender
 *   alike: the webhook refuses a module whose named bases are all reserved for other namespaces
 *   (it knows the pod's namespace and its base requirements, not the node it will get), and the
 *   extender filters the reserved nodes;
 * - the node annotation `base.koupleless.io/tenant-namespaces: "<ns>,<ns>"`, set by an admin on one
 *   virtual node: only the extender sees nodes, so it is enforced at scheduling.
 *
 * When both apply to a node, the namespace must be allowed by both. Pure functions.
 */
import { BASE_NAME_LABEL, BASE_TENANTS_ANNOTATION, VNODE_NAME_LABEL } from './names.ts';

/** Base name → the namespaces that may run modules on it. */
export type BaseTenancy = ReadonlyMap<string, readonly string[]>;

export const NO_TENANCY: BaseTenancy = new Map();

export type BaseTenancyParse = { readonly kind: 'ok'; readonly tenancy: BaseTenancy } | { readonly kind: 'invalid'; readonly problems: readonly string[] };

// A namespace is a DNS-1123 label; a base name is a label value.
const NAMESPACE_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const BASE_NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/** `--base-tenants` entries (`base-a=team-a|team-b`) → tenancy, with every problem at once. */
export function parseBaseTenants(entries: readonly string[]): BaseTenancyParse {
  const problems: string[] = [];
  const out = new Map<string, readonly string[]>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const base = eq >= 0 ? entry.slice(0, eq).trim() : '';
    const namespaces = eq >= 0 ? entry.slice(eq + 1).split('|').map((s) => s.trim()).filter(Boolean) : [];
    if (!base || namespaces.length === 0) {
      problems.push(`--base-tenants: "${entry}" is not <baseName>=<namespace>|<namespace>; e.g. base-a=team-a|team-b`);
      continue;
    }
    if (!BASE_NAME_RE.test(base)) problems.push(`--base-tenants: "${base}" is not a base name (a label value)`);
    const bad = namespaces.filter((n) => !NAMESPACE_RE.test(n));
    if (bad.length > 0) problems.push(`--base-tenants: ${bad.map((b) => `"${b}"`).join(', ')} for base "${base}" is not a namespace name`);
    if (out.has(base)) problems.push(`--base-tenants: base "${base}" is given twice; list all its namespaces in one entry`);
    out.set(base, Object.freeze([...new Set(namespaces)]));
  }
  return problems.length > 0 ? { kind: 'invalid', problems } : { kind: 'ok', tenancy: out };
}

/** The annotation's namespaces; undefined when it is absent or empty (not reserved). */
export function parseTenantsAnnotation(value: string | undefined): readonly string[] | undefined {
  const list = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.length > 0 ? list : undefined;
}

/**
 * Who may use a node: one list per source that reserves it (flag by base name, node annotation).
 * Empty = not reserved.
 */
export function toNodeTenants(labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>> | undefined, tenancy: BaseTenancy): ReadonlyArray<readonly string[]> {
  const out: Array<readonly string[]> = [];
  const name = labels[BASE_NAME_LABEL] ?? labels[VNODE_NAME_LABEL];
  const byFlag = name === undefined ? undefined : tenancy.get(name);
  if (byFlag) out.push(byFlag);
  const byAnnotation = parseTenantsAnnotation(annotations?.[BASE_TENANTS_ANNOTATION]);
  if (byAnnotation) out.push(byAnnotation);
  return out;
}

/** `base reserved for namespaces a, b` when the namespace is not allowed by every reservation; undefined when it is. */
export function checkTenant(namespace: string | undefined, reservations: ReadonlyArray<readonly string[]>): string | undefined {
  for (const allowed of reservations) {
    if (namespace === undefined || !allowed.includes(namespace)) return `base reserved for namespaces ${allowed.join(', ')}`;
  }
  return undefined;
}
