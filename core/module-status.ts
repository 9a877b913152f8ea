/**
 * The module-state → container-status table (one place, used by the bridge to write pod status and by
 * docs/tests). sofa-ark states: UNRESOLVED, RESOLVED, ACTIVATED, DEACTIVATED, BROKEN, STOPPED
 * (koupleless-protocol.md "Payloads"); compared upper-cased.
 */

/** What the bridge knows about one module of one pod. */
export type ModuleObservation =
  | { readonly kind: 'waitingForBase'; readonly message: string }
  | { readonly kind: 'installing' }
  /** `message`: one line for `kubectl get/describe pod`; `detail`: the base's full answer (for the Event). */
  | { readonly kind: 'installFailed'; readonly message: string; readonly detail?: string | undefined }
  | { readonly kind: 'uninstalling' }
  /** A pod of an older revision whose module a newer pod of its workload replaced on this base. */
  | { readonly kind: 'handedOff'; readonly message: string }
  | {
      readonly kind: 'reported';
      readonly state: string;
      readonly reason?: string | undefined;
      readonly message?: string | undefined;
      readonly since?: number | undefined;
    };

export interface ContainerState {
  readonly running?: { startedAt: string };
  readonly waiting?: { reason: string; message?: string };
  readonly terminated?: { exitCode: number; reason: string; message?: string; finishedAt: string };
}

export interface ModuleStatusRow {
  readonly ready: boolean;
  readonly started: boolean;
  /** The module is on the base in some state (counts as "container created"). */
  readonly present: boolean;
  /** Terminal failure (used for restartPolicy Never). */
  readonly failed: boolean;
  readonly state: ContainerState;
}

/** Longest cause shown in a pod's status (the waiting message and the Ready condition). */
export const ONE_LINE_MAX = 200;

/** The first non-empty line of a base's message, at most `max` characters (a stack trace becomes its headline). */
export function toOneLine(text: string, max = ONE_LINE_MAX): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function iso(ms: number | undefined, fallback: string): string {
  return ms !== undefined && Number.isFinite(ms) ? new Date(ms).toISOString() : fallback;
}

/** Maps one observation to a container status row. `nowIso` is used when the base gave no time. */
export function toModuleStatusRow(o: ModuleObservation, nowIso: string): ModuleStatusRow {
  switch (o.kind) {
    case 'waitingForBase':
      return { ready: false, started: false, present: false, failed: false, state: { waiting: { reason: 'WaitingForBase', message: o.message } } };
    case 'installing':
      return { ready: false, started: false, present: false, failed: false, state: { waiting: { reason: 'ModuleInstalling', message: 'installBiz sent to the base; waiting for it to confirm' } } };
    case 'installFailed':
      return { ready: false, started: false, present: false, failed: true, state: { waiting: { reason: 'ModuleInstallFailed', message: o.message } } };
    case 'uninstalling':
      return { ready: false, started: false, present: true, failed: false, state: { waiting: { reason: 'ModuleUninstalling', message: 'uninstallBiz sent to the base' } } };
    case 'handedOff':
      return { ready: false, started: false, present: true, failed: false, state: { waiting: { reason: 'ModuleHandedOff', message: o.message } } };
    case 'reported':
      return toReportedRow(o, nowIso);
  }
}

function toReportedRow(o: Extract<ModuleObservation, { kind: 'reported' }>, nowIso: string): ModuleStatusRow {
  const state = o.state.toUpperCase();
  const msg = o.message ? { message: o.message } : {};
  switch (state) {
    case 'ACTIVATED':
      return { ready: true, started: true, present: true, failed: false, state: { running: { startedAt: iso(o.since, nowIso) } } };
    case 'RESOLVED':
    case 'UNRESOLVED':
      return { ready: false, started: false, present: true, failed: false, state: { waiting: { reason: 'ModuleStarting', ...msg } } };
    case 'DEACTIVATED':
      return {
        ready: false,
        started: true,
        present: true,
        failed: false,
        state: { waiting: { reason: 'ModuleDeactivated', message: o.message ?? 'installed but not active on the base (another version of this module is active there)' } },
      };
    case 'BROKEN':
      return { ready: false, started: false, present: true, failed: true, state: { waiting: { reason: 'ModuleBroken', message: o.message ?? 'the base reports the module BROKEN' } } };
    case 'STOPPED':
      return { ready: false, started: false, present: true, failed: true, state: { terminated: { exitCode: 1, reason: 'ModuleStopped', ...msg, finishedAt: iso(o.since, nowIso) } } };
    default:
      return { ready: false, started: false, present: true, failed: false, state: { waiting: { reason: 'ModuleUnknownState', message: `the base reports state ${o.state}` } } };
  }
}
