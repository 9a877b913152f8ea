/**
 * What the admission decisions depend on besides the object itself: the configured defaults for a
 * module pod's base requirements, the module scheduler's name, which jar URLs are allowed and
 * which bases are reserved for which namespaces. Built once from the flags.
 */
import { NO_TENANCY, type BaseTenancy } from '../core/base-tenancy.ts';
import { DEFAULTS } from '../core/names.ts';
import { DEFAULT_JAR_URL_POLICY, type JarUrlPolicy } from './jar-url-policy.ts';

export interface AdmissionPolicy {
  /** Default `base.koupleless.io/stack` when the pod does not name one; empty = no stack term. */
  readonly stack: string;
  /** Default `base.koupleless.io/name`; empty = no name term. */
  readonly baseName: string;
  /** Default `base.koupleless.io/version`; empty = no version term. */
  readonly baseVersion: string;
  /** The module scheduler set as `schedulerName`; empty = leave schedulerName alone. */
  readonly schedulerName: string;
  /** Allowed jar URL schemes and prefixes (jar-url-policy.ts). */
  readonly jarUrls: JarUrlPolicy;
  /** Bases reserved for namespaces (core/base-tenancy.ts); empty = every namespace may use every base. */
  readonly tenancy: BaseTenancy;
}

export const DEFAULT_POLICY: AdmissionPolicy = Object.freeze({
  stack: DEFAULTS.stack,
  baseName: '',
  baseVersion: '',
  schedulerName: DEFAULTS.schedulerName,
  jarUrls: DEFAULT_JAR_URL_POLICY,
  tenancy: NO_TENANCY,
});

/** The value the API server defaults `schedulerName` to before admission: it means "not chosen". */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
