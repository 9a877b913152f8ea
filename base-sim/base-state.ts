/**
 * The modules of one simulated base, as sofa-ark keeps them, and the pure decisions of arklet's
 * installBiz / uninstallBiz / batchInstallBiz handlers (koupleless-protocol.md "Payloads"). Each
 * `plan*` returns the next state plus the exact arklet Output a real base puts in its reply, so the
 * MQTT shell only publishes what was decided here.
 *
 * Wording and shapes follow arklet 1.4 (InstallBizHandler, UninstallBizHandler, BatchInstallBizHandler,
 * MqttMessageHandler's catch-all) and sofa-ark's ArkClient; where the protocol page has an example,
 * the example wins (e.g. the success message without the "cost: …" suffix).
 */
import type { Output } from '../core/protocol.ts';
import { toModuleKey } from '../core/module-spec.ts';

export type ModuleState = 'RESOLVED' | 'ACTIVATED' | 'DEACTIVATED' | 'BROKEN';

export interface SimStateRecord {
  readonly changeTime: number;
  readonly state: ModuleState;
  readonly reason: string;
  readonly message: string;
}

export interface SimModule {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl: string;
  readonly state: ModuleState;
  readonly stateRecords: readonly SimStateRecord[];
}

export interface BaseState {
  readonly modules: readonly SimModule[];
}

export const EMPTY_BASE_STATE: BaseState = Object.freeze({ modules: Object.freeze([]) });

export interface Behaviour {
  /** Probability (0..1) that starting a module fails. */
  readonly failureRate: number;
  /** sofa-ark's "activate new module": installing name:v2 deactivates the active name:v1. */
  readonly switching: boolean;
  /** Keep a module that failed to start, BROKEN (sofa-ark with auto-uninstall-on-failure disabled). */
  readonly keepBroken: boolean;
  /** The base's own (master) biz name: uninstalling it is refused like sofa-ark does. */
  readonly masterBizName: string;
  /**
   * Install a module under the version its jar says (from the file name `<bizName>-<version>-ark-biz.jar`)
   * instead of the commanded one, like a real base that reads the jar's manifest: a BIZ_VERSION that
   * differs from the pom's then shows up as another version. Off (undefined): the commanded version.
   */
  readonly reportJarVersion?: boolean | undefined;
}

/** The version in a jar URL's file name `<bizName>-<version>-ark-biz.jar`; undefined when it does not follow that pattern. */
export function parseJarVersion(bizName: string, bizUrl: string): string | undefined {
  let file: string;
  try {
    file = decodeURIComponent(new URL(bizUrl).pathname.split('/').pop() ?? '');
  } catch {
    file = bizUrl.split('/').pop() ?? '';
  }
  const prefix = `${bizName}-`;
  const suffix = '-ark-biz.jar';
  if (!file.startsWith(prefix) || !file.endsWith(suffix)) return undefined;
  const version = file.slice(prefix.length, -suffix.length);
  return version === '' ? undefined : version;
}

/** What a command carried; fields are unchecked because they come straight off the wire. */
export interface BizCommand {
  readonly bizName?: unknown;
  readonly bizVersion?: unknown;
  readonly bizUrl?: unknown;
  readonly installStrategy?: unknown;
}

export type PlanOutcome = 'SUCCESS' | 'REPEAT_BIZ' | 'NOT_FOUND_BIZ' | 'FAILED' | 'INVALID';

export interface Plan {
  readonly state: BaseState;
  /** The arklet Output that goes into the reply's `response`. */
  readonly output: Output;
  readonly outcome: PlanOutcome;
}

/** Metaspace a module install takes, reported as `elapsedSpace` (the protocol example's figure). */
export const ELAPSED_SPACE_BYTES = 5 * 1024 * 1024;

const VALIDATION_EXCEPTION = 'com.alipay.sofa.koupleless.arklet.core.common.exception.CommandValidationException';
const RUNTIME_EXCEPTION = 'com.alipay.sofa.koupleless.arklet.core.common.exception.ArkletRuntimeException';

interface ClientResponse {
  readonly code: string;
  readonly message: string;
  readonly bizInfos?: ReadonlyArray<{ bizName: string; bizVersion: string; bizState: string }>;
  readonly elapsedSpace?: number;
}

interface ValidBiz {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl: string;
  readonly uninstallFirst: boolean;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** arklet's MqttMessageHandler catch-all: Output.ofFailed(ClientResponse{FAILED, stack trace}, t.getMessage()). */
function toThrownOutput(exceptionClass: string, message: string): Output {
  return {
    code: 'FAILED',
    message,
    data: { code: 'FAILED', message: `${exceptionClass}: ${message}\n\tat com.alipay.sofa.koupleless.arklet.core.command.CommandServiceImpl.process(CommandServiceImpl.java:113)` },
  };
}

/** InstallBizHandler.validate, in its order. */
function checkInstall(cmd: BizCommand): ValidBiz | string {
  const bizUrl = text(cmd.bizUrl);
  if (!bizUrl) return 'bizUrl should not be blank';
  const bizName = text(cmd.bizName);
  const bizVersion = text(cmd.bizVersion);
  if (!bizName && !bizVersion) {
    // A real base downloads the jar and reads both from its manifest; a simulator has no jar.
    return 'bizName and bizVersion should not be blank: base-sim cannot read them from the jar';
  }
  if (!bizName || !bizVersion) return 'bizName and bizVersion should be both blank or both not blank.';
  return { bizName, bizVersion, bizUrl, uninstallFirst: cmd.installStrategy === 'uninstallThenInstall' };
}

function record(now: number, state: ModuleState, reason: string, message: string): SimStateRecord {
  return { changeTime: now, state, reason, message };
}

function withState(m: SimModule, state: ModuleState, rec: SimStateRecord): SimModule {
  return { ...m, state, stateRecords: [...m.stateRecords, rec] };
}

interface InstallStep {
  readonly state: BaseState;
  readonly response: ClientResponse;
  readonly outcome: PlanOutcome;
  /** Set when starting the module threw (arklet reports it through its catch-all). */
  readonly thrown?: string;
}

/** sofa-ark ArkClient.doInstallBiz for one valid request (after the install strategy ran). */
function applyInstall(state: BaseState, asked: ValidBiz, now: number, random: () => number, b: Behaviour): InstallStep {
  const biz = b.reportJarVersion ? { ...asked, bizVersion: parseJarVersion(asked.bizName, asked.bizUrl) ?? asked.bizVersion } : asked;
  let modules = biz.uninstallFirst ? state.modules.filter((m) => m.bizName !== biz.bizName) : state.modules;
  const key = toModuleKey(biz);
  if (modules.some((m) => toModuleKey(m) === key)) {
    return {
      state,
      outcome: 'REPEAT_BIZ',
      response: { code: 'REPEAT_BIZ', message: `Biz: ${key} has been installed or registered.` },
    };
  }
  const created: SimModule = {
    bizName: biz.bizName,
    bizVersion: biz.bizVersion,
    bizUrl: biz.bizUrl,
    state: 'RESOLVED',
    stateRecords: [record(now, 'RESOLVED', 'CREATED', 'Biz created')],
  };
  if (random() < b.failureRate) {
    const thrown = `java.lang.IllegalStateException: Start biz ${key} failed (simulated by base-sim)`;
    const kept = b.keepBroken ? [...modules, withState(created, 'BROKEN', record(now, 'BROKEN', 'INSTALL_FAILED', thrown))] : modules;
    return {
      state: { modules: kept },
      outcome: 'FAILED',
      response: { code: 'FAILED', message: `Install Biz: ${key} fail` },
      thrown,
    };
  }
  const active = modules.find((m) => m.bizName === biz.bizName && m.state === 'ACTIVATED');
  let newState: ModuleState = 'ACTIVATED';
  if (active && b.switching) {
    modules = modules.map((m) =>
      m === active ? withState(m, 'DEACTIVATED', record(now, 'DEACTIVATED', 'SWITCHED', `Biz switched to ${key}`)) : m,
    );
  } else if (active) {
    newState = 'DEACTIVATED';
  }
  const installed = withState(created, newState, record(now, newState, 'STARTED', 'Biz start succeed'));
  return {
    state: { modules: [...modules, installed] },
    outcome: 'SUCCESS',
    response: {
      code: 'SUCCESS',
      message: `Install Biz: ${key} success`,
      bizInfos: [{ bizName: biz.bizName, bizVersion: biz.bizVersion, bizState: newState }],
      elapsedSpace: ELAPSED_SPACE_BYTES,
    },
  };
}

/** installBiz: SUCCESS, REPEAT_BIZ, FAILED (failure rate) or INVALID (e.g. a blank bizUrl). */
export function planInstall(state: BaseState, cmd: BizCommand, now: number, random: () => number, b: Behaviour): Plan {
  const biz = checkInstall(cmd);
  if (typeof biz === 'string') return { state, output: toThrownOutput(VALIDATION_EXCEPTION, biz), outcome: 'INVALID' };
  const step = applyInstall(state, biz, now, random, b);
  if (step.thrown !== undefined) {
    return { state: step.state, output: toThrownOutput(RUNTIME_EXCEPTION, step.thrown), outcome: 'FAILED' };
  }
  if (step.outcome === 'SUCCESS') return { state: step.state, output: { code: 'SUCCESS', data: step.response }, outcome: 'SUCCESS' };
  return { state: step.state, output: { code: 'FAILED', message: 'install biz not success!', data: step.response }, outcome: step.outcome };
}

/** uninstallBiz: SUCCESS, NOT_FOUND_BIZ, FAILED (the master biz) or INVALID (blank name or version). */
export function planUninstall(state: BaseState, cmd: BizCommand, b: Behaviour): Plan {
  const bizName = text(cmd.bizName);
  const bizVersion = text(cmd.bizVersion);
  if (!bizName) return { state, output: toThrownOutput(VALIDATION_EXCEPTION, 'bizName should not be blank'), outcome: 'INVALID' };
  if (!bizVersion) return { state, output: toThrownOutput(VALIDATION_EXCEPTION, 'bizVersion should not be blank'), outcome: 'INVALID' };
  const notSuccess = (code: string, message: string, outcome: PlanOutcome): Plan => ({
    state,
    output: { code: 'FAILED', message: 'uninstall biz not success!', data: { code, message } },
    outcome,
  });
  if (bizName === b.masterBizName) return notSuccess('FAILED', 'Master biz must not be uninstalled.', 'FAILED');
  const key = toModuleKey({ bizName, bizVersion });
  if (!state.modules.some((m) => toModuleKey(m) === key)) {
    return notSuccess('NOT_FOUND_BIZ', `Uninstall biz: ${key} not found.`, 'NOT_FOUND_BIZ');
  }
  return {
    state: { modules: state.modules.filter((m) => toModuleKey(m) !== key) },
    output: { code: 'SUCCESS', data: { code: 'SUCCESS', message: `Uninstall biz: ${key} success.` } },
    outcome: 'SUCCESS',
  };
}

/**
 * The answer to a baseline (batchInstallBiz): every entry is validated first (one bad entry fails
 * the batch and installs nothing), then each is installed; any non-SUCCESS entry fails the batch.
 */
export function planBatchInstall(state: BaseState, list: unknown, now: number, random: () => number, b: Behaviour): Plan {
  if (!Array.isArray(list)) return { state, output: toThrownOutput(VALIDATION_EXCEPTION, 'bizList is null'), outcome: 'INVALID' };
  const valid: ValidBiz[] = [];
  for (const entry of list) {
    const biz = checkInstall(typeof entry === 'object' && entry !== null ? (entry as BizCommand) : {});
    if (typeof biz === 'string') return { state, output: toThrownOutput(VALIDATION_EXCEPTION, biz), outcome: 'INVALID' };
    valid.push(biz);
  }
  let next = state;
  let failed = false;
  const bizUrlToResponse: Record<string, ClientResponse> = {};
  for (const biz of valid) {
    const step = applyInstall(next, biz, now, random, b);
    next = step.state;
    failed ||= step.outcome !== 'SUCCESS';
    // UnifiedOperationServiceImpl.safeBatchInstall turns a thrown start into a FAILED entry.
    bizUrlToResponse[biz.bizUrl] =
      step.thrown !== undefined ? { code: 'FAILED', message: `internal exception: ${step.thrown}` } : withoutElapsed(step.response);
  }
  const data = {
    code: failed ? 'FAILED' : 'SUCCESS',
    message: failed ? 'batch install failed' : 'batch install success',
    bizUrlToResponse,
    elapsedSpace: ELAPSED_SPACE_BYTES * valid.length,
  };
  const output: Output = failed ? { code: 'FAILED', message: 'install biz not success!', data } : { code: 'SUCCESS', data };
  return { state: next, output, outcome: failed ? 'FAILED' : 'SUCCESS' };
}

// Entries of a batch are plain sofa-ark ClientResponses: elapsedSpace belongs to the batch.
function withoutElapsed(r: ClientResponse): ClientResponse {
  const { elapsedSpace: _ignored, ...rest } = r;
  return rest;
}

