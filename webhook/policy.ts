/**
 * What the admission decisions depend on besides the object itself: the configured defaults for a
 * module pod's base requirements and the module scheduler's name. Built once from the flags.
 */
import { DEFAULTS } from '../core/names.ts';

export interface AdmissionPolicy {
  /** Default `base.koupleless.io/stack` when the pod does not name one; empty = no stack term. */
  readonly stack: string;
  /** Default `base.koupleless.io/name`; empty = no name term. */
  readonly baseName: string;
  /** Default `base.koupleless.io/version`; empty = no version term. */
  readonly baseVersion: string;
  /** The module scheduler set as `schedulerName`; empty = leave schedulerName alone. */
  readonly schedulerName: string;
}

export const DEFAULT_POLICY: AdmissionPolicy = Object.freeze({
  stack: DEFAULTS.stack,
  baseName: '',
  baseVersion: '',
  schedulerName: DEFAULTS.schedulerName,
});

/** The value the API server defaults `schedulerName` to before admission: it means "not chosen". */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
