/**
 * One simulated base on the wire: an MQTT 3.1.1 clean-session client with id
 * `<prefix>@@@<baseIdentity>`, behaving like arklet's MQTT tunnel (koupleless-protocol.md):
 * subscribe to `P/+` and `P/base/baseline`; at first connect publish queryBaseline and start the
 * heartbeat (first one at once, then every period; skipped while disconnected, not replayed);
 * answer health and queryAllBiz at once; run installBiz / uninstallBiz / baseline one at a time
 * after the install latency and reply on bizOperation / batchInstallBizResponse. Anything else —
 * unknown commands, non-JSON, wrong shapes — is ignored and reported through `onEvent`.
 */
import { connect, type MqttClient } from 'mqtt';
import { setTimeout as delay } from 'node:timers/promises';
import { ControllerError } from '../core/errors.ts';
import type { Envelope } from '../core/protocol.ts';
import { parseTopic, toBaseSubscriptions, toBaseTopic, type BaseMessageKind } from '../core/topics.ts';
import { EMPTY_BASE_STATE, planBatchInstall, planInstall, planUninstall, type BaseState, type Behaviour, type BizCommand, type PlanOutcome, type SimModule } from './base-state.ts';
import type { SimBaseInfo } from './base-info.ts';
import {
  toBatchInstallMessage,
  toBizOperationMessage,
  toHealthMessage,
  toHeartbeatMessage,
  toQueryBaselineMessage,
  toSimpleBizListMessage,
} from './messages.ts';

export type SimEvent =
  | { readonly kind: 'connected'; readonly identity: string }
  | { readonly kind: 'disconnected'; readonly identity: string }
  | {
      readonly kind: 'command';
      readonly identity: string;
      readonly command: string;
      readonly bizName?: string;
      readonly bizVersion?: string;
      /** installBiz only: the strategy the command asked for, when it named one. */
      readonly installStrategy?: string;
      readonly outcome: PlanOutcome | 'ANSWERED';
    }
  | { readonly kind: 'ignored'; readonly identity: string; readonly topic: string; readonly code: 'MQTT_BAD_PAYLOAD'; readonly reason: string };

export interface SimBaseOptions {
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly env: string;
  readonly clientIdPrefix: string;
  readonly info: SimBaseInfo;
  readonly heartbeatPeriodMs: number;
  readonly installLatencyMs: number;
  readonly behaviour: Behaviour;
  readonly masterBizState?: string | undefined;
  readonly random: () => number;
  readonly now: () => number;
  readonly onEvent?: ((e: SimEvent) => void) | undefined;
  /** How long `start()` / `resume()` wait for the broker before failing. */
  readonly connectTimeoutMs?: number | undefined;
}

export interface SimBase {
  readonly info: SimBaseInfo;
  readonly identity: string;
  /** The base's module list right now (what `queryAllBiz` would report). */
  installed(): readonly SimModule[];
  isConnected(): boolean;
  /** Connects, subscribes, asks for the baseline and sends the first heartbeat. */
  start(): Promise<void>;
  /** Goes silent (drops the connection: no heartbeats, no replies); modules are kept. */
  silence(): Promise<void>;
  /** Comes back after `silence()`: reconnects and heartbeats at once; no new queryBaseline. */
  resume(): Promise<void>;
  /** Like a restarted base JVM with the same identity: modules forgotten, queryBaseline again. */
  restart(): Promise<void>;
  /** Changes the master biz state health replies report (e.g. DEACTIVATED = unhealthy). */
  setMasterBizState(state: string): void;
  /** Stops for good, silently, like a killed base. */
  stop(): Promise<void>;
  /** Stops for good after a last heartbeat with state "deactivated" (the protocol's "going away"). */
  shutdown(): Promise<void>;
}

function parseJson(payload: Buffer): { ok: true; value: unknown } | { ok: false } {
  const textValue = payload.toString('utf8');
  if (textValue.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(textValue) as unknown };
  } catch {
    return { ok: false };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function createSimBase(o: SimBaseOptions): SimBase {
  const id = o.info.identity;
  const emit = (e: SimEvent) => o.onEvent?.(e);
  let state: BaseState = EMPTY_BASE_STATE;
  let client: MqttClient | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let baselineQueried = false;
  let stopped = false;
  let masterBizState = o.masterBizState ?? 'ACTIVATED';
  let startedAt = o.now();
  // Bumped whenever queued work must be dropped (restart, stop).
  let epoch = 0;
  let work: Promise<void> = Promise.resolve();
  let aborter = new AbortController();

  const publish = (kind: BaseMessageKind, message: Envelope<unknown>) => {
    // Like arklet, a reply or heartbeat that cannot be sent now is lost, not queued.
    if (!client?.connected) return;
    client.publish(toBaseTopic(o.env, id, kind), JSON.stringify(message), { qos: 1, retain: false }, () => undefined);
  };
  const sendHeartbeat = () => publish('heart', toHeartbeatMessage(o.info, o.now()));
  const startHeartbeat = () => {
    clearInterval(heartbeat);
    sendHeartbeat();
    heartbeat = setInterval(sendHeartbeat, o.heartbeatPeriodMs);
  };
  const ignore = (topic: string, reason: string) => emit({ kind: 'ignored', identity: id, topic, code: 'MQTT_BAD_PAYLOAD', reason });

  // Module operations run one at a time, each after the install latency (download + start).
  const enqueue = (run: () => void) => {
    const mine = epoch;
    const { signal } = aborter;
    work = work
      .then(async () => {
        if (o.installLatencyMs > 0) await delay(o.installLatencyMs, undefined, { signal });
        if (!signal.aborted && mine === epoch) run();
      })
      .catch(() => undefined);
  };

  const onBizOperation = (command: 'installBiz' | 'uninstallBiz', cmd: BizCommand) => {
    enqueue(() => {
      const plan = command === 'installBiz' ? planInstall(state, cmd, o.now(), o.random, o.behaviour) : planUninstall(state, cmd, o.behaviour);
      state = plan.state;
      publish('bizOperation', toBizOperationMessage(command, cmd, plan.output, o.now()));
      emit({
        kind: 'command',
        identity: id,
        command,
        bizName: typeof cmd.bizName === 'string' ? cmd.bizName : undefined,
        bizVersion: typeof cmd.bizVersion === 'string' ? cmd.bizVersion : undefined,
        ...(typeof cmd.installStrategy === 'string' ? { installStrategy: cmd.installStrategy } : {}),
        outcome: plan.outcome,
      });
    });
  };

  const onMessage = (topic: string, payload: Buffer) => {
    const t = parseTopic(topic);
    if (!t || t.direction !== 'toBase' || t.baseIdentity !== id) return ignore(topic, 'not a command topic of this base');
    const json = parseJson(payload);
    if (!json.ok) return ignore(topic, 'payload is not JSON');
    switch (t.kind) {
      case 'health':
      case 'queryAllBiz':
        if (json.value !== undefined && !isObject(json.value)) return ignore(topic, 'payload is not a JSON object');
        if (t.kind === 'health') publish('health', toHealthMessage(o.info, state.modules, { masterBizState, startedAt }, o.now()));
        else publish('simpleBiz', toSimpleBizListMessage(state.modules, o.now()));
        return emit({ kind: 'command', identity: id, command: t.kind, outcome: 'ANSWERED' });
      case 'installBiz':
      case 'uninstallBiz':
        if (!isObject(json.value)) return ignore(topic, 'payload is not a JSON object');
        return onBizOperation(t.kind, json.value);
      case 'baseline':
        if (!Array.isArray(json.value)) return ignore(topic, 'baseline is not a JSON array');
        return enqueue(() => {
          const plan = planBatchInstall(state, json.value, o.now(), o.random, o.behaviour);
          state = plan.state;
          publish('batchInstallBizResponse', toBatchInstallMessage(plan.output, o.now()));
          emit({ kind: 'command', identity: id, command: 'batchInstallBiz', outcome: plan.outcome });
        });
      default:
        return ignore(topic, `unsupported command ${t.kind}`);
    }
  };

  const onConnect = async (c: MqttClient) => {
    // Clean session: subscriptions are gone after every reconnect, so subscribe each time (arklet does).
    await c.subscribeAsync(toBaseSubscriptions(o.env, id), { qos: 1 });
    if (c !== client) return;
    if (!baselineQueried) {
      baselineQueried = true;
      publish('queryBaseline', toQueryBaselineMessage(o.info, o.now()));
    }
    if (!heartbeat) startHeartbeat();
    emit({ kind: 'connected', identity: id });
  };

  const open = (): Promise<void> => {
    if (stopped) return Promise.reject(new ControllerError('INTERNAL', `base ${id} was stopped`));
    const c = connect(o.url, {
      clientId: `${o.clientIdPrefix}@@@${id}`,
      protocolVersion: 4,
      clean: true,
      username: o.username,
      password: o.password,
      keepalive: 60,
      reconnectPeriod: 1000,
      connectTimeout: o.connectTimeoutMs ?? 30_000,
      resubscribe: false,
    });
    client = c;
    let lastError = '';
    let wasConnected = false;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        c.end(true);
        reject(new ControllerError('MQTT_UNAVAILABLE', `base ${id} could not connect to ${o.url} within ${o.connectTimeoutMs ?? 30_000}ms${lastError ? `: ${lastError}` : ''}`));
      }, o.connectTimeoutMs ?? 30_000);
      c.on('error', (err) => {
        lastError = err.message;
      });
      c.on('close', () => {
        if (wasConnected) emit({ kind: 'disconnected', identity: id });
        wasConnected = false;
      });
      c.on('message', (topic, payload) => {
        try {
          onMessage(topic, payload);
        } catch (err) {
          ignore(topic, `handling failed: ${(err as Error).message}`);
        }
      });
      c.on('connect', () => {
        wasConnected = true;
        onConnect(c).then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (err: unknown) => {
            lastError = (err as Error).message;
          },
        );
      });
    });
  };

  const close = async () => {
    clearInterval(heartbeat);
    heartbeat = undefined;
    const c = client;
    client = undefined;
    if (c) await c.endAsync(true);
  };

  const stopForGood = async () => {
    stopped = true;
    epoch++;
    aborter.abort();
    await close();
  };

  return {
    info: o.info,
    identity: id,
    installed: () => state.modules,
    isConnected: () => client?.connected ?? false,
    start: open,
    silence: close,
    async resume() {
      // close() cleared the heartbeat timer, so onConnect heartbeats at once and restarts it.
      if (!client) await open();
    },
    async restart() {
      await close();
      epoch++;
      aborter.abort();
      aborter = new AbortController();
      state = EMPTY_BASE_STATE;
      baselineQueried = false;
      startedAt = o.now();
      await open();
    },
    setMasterBizState(s: string) {
      masterBizState = s;
    },
    stop: stopForGood,
    async shutdown() {
      if (client?.connected) {
        const goodbye = client.publishAsync(toBaseTopic(o.env, id, 'heart'), JSON.stringify(toHeartbeatMessage(o.info, o.now(), 'deactivated')), {
          qos: 1,
          retain: false,
        });
        // Wait for the broker's ack, but never hang a shutdown on a stuck broker.
        await Promise.race([goodbye.catch(() => undefined), delay(2_000)]);
      }
      await stopForGood();
    },
  };
}
