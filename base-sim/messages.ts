/**
 * Every base → controller payload a real Koupleless base publishes (koupleless-protocol.md
 * "Topics"/"Payloads"), each wrapped in `{ publishTimestamp, data }` like arklet's MqttResponse.
 * Builders only: what to send is decided in base-state.ts, when to send it in sim-base.ts.
 */
import { toEnvelope, type BaseMetadata, type BaseStatus, type Envelope, type Output, type SimpleBizInfo } from '../core/protocol.ts';
import type { SimModule } from './base-state.ts';
import type { SimBaseInfo } from './base-info.ts';

export function toBaseMetadata(info: SimBaseInfo): BaseMetadata {
  return { identity: info.identity, name: info.name, version: info.version, clusterName: info.clusterName };
}

/**
 * `base/heart`. Real bases always send state "activated"; `shutdown()` of the simulator sends
 * "deactivated", which the protocol defines as the base going away.
 */
export function toHeartbeatMessage(info: SimBaseInfo, now: number, state = 'activated'): Envelope<BaseStatus> {
  return toEnvelope(
    { baseMetadata: toBaseMetadata(info), localIP: info.localIP, localHostName: info.localHostName, port: 0, state },
    now,
  );
}

/** `base/queryBaseline`, once at first connect. */
export function toQueryBaselineMessage(info: SimBaseInfo, now: number): Envelope<BaseMetadata> {
  return toEnvelope(toBaseMetadata(info), now);
}

/** `base/simpleBiz`: arklet's SimpleBizInfo list (lower-case state, last state record or null). */
export function toSimpleBizListMessage(modules: readonly SimModule[], now: number): Envelope<SimpleBizInfo[]> {
  return toEnvelope(
    modules.map((m) => ({
      name: m.bizName,
      version: m.bizVersion,
      state: m.state.toLowerCase(),
      latestStateRecord: m.stateRecords.at(-1) ?? null,
    })),
    now,
  );
}

export type BizOperationCommand = 'installBiz' | 'uninstallBiz';

/**
 * `base/bizOperation`. bizName/bizVersion are echoed from the command as received; a missing one is
 * left out, as fastjson drops nulls.
 */
export function toBizOperationMessage(
  command: BizOperationCommand,
  received: { readonly bizName?: unknown; readonly bizVersion?: unknown },
  response: Output,
  now: number,
): Envelope<Record<string, unknown>> {
  const data: Record<string, unknown> = { command };
  if (received.bizName !== undefined && received.bizName !== null) data['bizName'] = received.bizName;
  if (received.bizVersion !== undefined && received.bizVersion !== null) data['bizVersion'] = received.bizVersion;
  data['response'] = response;
  return toEnvelope(data, now);
}

/** `base/batchInstallBizResponse`, the answer to a baseline (runtime ≥ 1.4.1). */
export function toBatchInstallMessage(response: Output, now: number): Envelope<{ command: 'batchInstallBiz'; response: Output }> {
  return toEnvelope({ command: 'batchInstallBiz', response }, now);
}

export interface SimHealth {
  /** sofa-ark state of the base's own biz; anything but ACTIVATED means an unhealthy base. */
  readonly masterBizState: string;
  /** When the simulated JVM started (ms since epoch). */
  readonly startedAt: number;
}

const MB = 1024 * 1024;
// Metaspace a bare Spring Boot base uses before any module is installed.
const BASE_METASPACE_BYTES = 96 * MB;

/**
 * `base/health`: arklet's HealthHandler Output with no `type` — master biz, JVM and CPU indicators
 * and the biz/plugin lists — using arklet's own keys (spaces and units included). Figures are
 * plausible and move with the number of installed modules and the uptime.
 */
export function toHealthMessage(info: SimBaseInfo, modules: readonly SimModule[], health: SimHealth, now: number): Envelope<Output> {
  const metaspace = BASE_METASPACE_BYTES + modules.length * 5 * MB;
  const usedHeap = 300 + modules.length * 40;
  const master = { bizName: info.name, bizVersion: info.version, bizState: health.masterBizState, webContextPath: '/' };
  const healthData = {
    masterBizInfo: master,
    jvm: {
      'java version': '17.0.12',
      'java home': '/usr/lib/jvm/java-17-openjdk-amd64',
      'total memory(M)': 1024,
      'max memory(M)': 2048,
      'free memory(M)': Math.max(64, 1024 - usedHeap),
      'run time(s)': Math.max(0, (now - health.startedAt) / 1000),
      'init heap memory(M)': 128,
      'used heap memory(M)': usedHeap,
      'committed heap memory(M)': 1024,
      'max heap memory(M)': 2048,
      'init non heap memory(M)': 7.3125,
      'used non heap memory(M)': metaspace / MB + 40,
      'committed non heap memory(M)': metaspace / MB + 48,
      'max non heap memory(M)': -1,
      'loaded class count': 21_000 + modules.length * 3_000,
      'unload class count': 12,
      'total class count': 21_012 + modules.length * 3_000,
      'java used metaspace': metaspace,
      'java committed metaspace': metaspace + 4 * MB,
      'java max metaspace': -1,
    },
    cpu: {
      count: 4,
      type: 'Intel(R) Xeon(R) Platinum 8269CY CPU @ 2.50GHz',
      'total used (%)': 12.5,
      'user used (%)': 8.25,
      'system used (%)': 3.5,
      'free (%)': 87.5,
    },
    bizListInfo: [master, ...modules.map((m) => ({ bizName: m.bizName, bizVersion: m.bizVersion, bizState: m.state, webContextPath: `/${m.bizName}` }))],
    pluginListInfo: [{ pluginName: 'koupleless-base-plugin', pluginVersion: '1.4.1' }],
  };
  return toEnvelope({ code: 'SUCCESS', data: { healthData } }, now);
}
