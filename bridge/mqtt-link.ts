/**
 * The bridge's MQTT edge: connects, (re)subscribes on every connect (upstream lost per-base
 * subscriptions after a reconnect), and publishes commands QoS 1 and never retained (upstream's
 * retained commands were replayed when a base reconnected).
 *
 * "Hearing" = connected AND every subscription granted: a SUBACK return code 0x80 (128) is the
 * broker refusing it (MQTT 3.1.1 §3.9.3), retried every few seconds while the link stays up.
 * The bridge subscribes at QoS 0: with a clean session nothing it missed would be redelivered anyway
 * (a reconnect re-reads every base's module list instead), so a QoS 1 grant would buy only a PUBACK
 * per base message — a write of the bridge's for every heartbeat and reply — and the broker's window
 * of 20 unacknowledged messages (Mosquitto's max_inflight_messages) in front of a busy bridge.
 * Commands are never queued for later: a publish while not connected rejects at once with
 * MQTT_UNAVAILABLE, one not acknowledged within the timeout rejects too, and whatever mqtt.js holds
 * unacknowledged when the connection drops is removed from its store — so nothing is replayed after a
 * reconnect; the reconcilers re-plan instead (clean session, QoS 1).
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../core/logger.ts';
import { ControllerError } from '../core/errors.ts';
import { toCommandTopic, toControllerSubscriptions, type CommandKind } from '../core/topics.ts';

export interface MqttLinkOptions {
  readonly url: string;
  readonly env: string;
  readonly clientId: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly logger: Logger;
  /** A publish not acknowledged by the broker within this rejects (MQTT_UNAVAILABLE). */
  readonly publishTimeoutMs: number;
  /** Delay before re-asking for a refused subscription. */
  readonly resubscribeMs?: number | undefined;
  readonly onMessage: (topic: string, payload: Buffer, meta: { retain: boolean }) => void;
  /** Called after every (re)connect once subscriptions are granted. */
  readonly onConnected: () => void;
  /** Called when the bridge stops hearing (connection lost, or a subscription refused). */
  readonly onDisconnected?: (() => void) | undefined;
}

export interface MqttLink {
  /** Connected and subscribed: the bridge can hear its bases. */
  isConnected(): boolean;
  publishCommand(baseIdentity: string, kind: CommandKind, payload: unknown): Promise<void>;
  /** Ends the connection at once (force: no wait for in-flight acks), also while reconnecting. */
  close(): Promise<void>;
}

const REFUSED = 0x80;
/** The QoS the bridge asks for on base topics (see above). */
export const SUBSCRIBE_QOS = 0;

export function connectMqtt(opts: MqttLinkOptions): MqttLink {
  const read = (f: string | undefined) => {
    if (!f) return undefined;
    try {
      return readFileSync(f);
    } catch (err) {
      throw new ControllerError('CONFIG_INVALID', `cannot read ${f}: ${(err as Error).message}`, { cause: err });
    }
  };
  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    keepalive: 30,
    // We subscribe ourselves on every connect and check the grants; never queue anything offline.
    resubscribe: false,
    queueQoSZero: false,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.caFile ? { ca: read(opts.caFile) } : {}),
    ...(opts.certFile ? { cert: read(opts.certFile) } : {}),
    ...(opts.keyFile ? { key: read(opts.keyFile) } : {}),
  });
  let hearing = false;
  let closing = false;
  let retry: NodeJS.Timeout | undefined;
  const setHearing = (v: boolean) => {
    if (v === hearing) return;
    hearing = v;
    if (closing) return;
    if (v) opts.onConnected();
    else opts.onDisconnected?.();
  };
  const subscribe = () => {
    retry = undefined;
    if (closing || !client.connected) return;
    client.subscribe(toControllerSubscriptions(opts.env), { qos: SUBSCRIBE_QOS }, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === REFUSED).map((g) => g.topic);
      if (err || refused.length > 0) {
        opts.logger.error({ code: 'MQTT_UNAVAILABLE', err: err?.message, refused }, 'MQTT subscription refused by the broker; not hearing bases, retrying');
        setHearing(false);
        if (!closing) { retry = setTimeout(subscribe, opts.resubscribeMs ?? 5_000); retry.unref(); }
        return;
      }
      opts.logger.info({ url: opts.url, clientId: opts.clientId }, 'MQTT connected and subscribed');
      setHearing(true);
    });
  };
  client.on('connect', subscribe);
  client.on('close', () => {
    // Drop what mqtt.js would resend after a reconnect: those commands are re-planned instead.
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
    if (hearing && !closing) opts.logger.warn({ code: 'MQTT_UNAVAILABLE' }, 'MQTT connection closed; reconnecting');
    setHearing(false);
  });
  client.on('error', (err) => opts.logger.warn({ code: 'MQTT_UNAVAILABLE', err: err.message }, 'MQTT error'));
  client.on('message', (topic, payload, packet) => opts.onMessage(topic, payload, { retain: packet.retain === true }));
  return {
    isConnected: () => hearing,
    publishCommand: (baseIdentity, kind, payload) => {
      const topic = toCommandTopic(opts.env, baseIdentity, kind);
      if (!client.connected || closing) return Promise.reject(new ControllerError('MQTT_UNAVAILABLE', `not connected to the MQTT broker; ${kind} for base ${baseIdentity} not sent`));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          // Reject first: removeOutgoingMessage calls the publish callback ("Message removed") at once.
          reject(new ControllerError('MQTT_UNAVAILABLE', `broker did not acknowledge ${kind} for base ${baseIdentity} within ${opts.publishTimeoutMs}ms`));
          if (messageId !== undefined) client.removeOutgoingMessage(messageId);
        }, opts.publishTimeoutMs);
        timer.unref();
        client.publish(topic, JSON.stringify(payload), { qos: 1, retain: false }, (err) => {
          clearTimeout(timer);
          if (err) reject(new ControllerError('MQTT_UNAVAILABLE', `${kind} for base ${baseIdentity} not acknowledged: ${err.message}`, { cause: err }));
          else resolve();
        });
        // mqtt.js allocates the id synchronously inside publish() (QoS 1), so this is ours.
        const last = client.getLastMessageId();
        const messageId = client.outgoing[last] ? last : undefined;
      });
    },
    close: async () => {
      closing = true;
      if (retry) clearTimeout(retry);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2_000);
        t.unref();
        client.end(true, {}, () => { clearTimeout(t); resolve(); });
      });
    },
  };
}
