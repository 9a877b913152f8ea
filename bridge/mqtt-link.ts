/**
 * The bridge's MQTT edge: connects, (re)subscribes on every connect (upstream lost per-base
 * subscriptions after a reconnect), and publishes commands QoS 1 and never retained (upstream's
 * retained commands were replayed when a base reconnected).
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
  readonly onMessage: (topic: string, payload: Buffer) => void;
  /** Called after every (re)connect once subscriptions are in place. */
  readonly onConnected: () => void;
}

export interface MqttLink {
  isConnected(): boolean;
  publishCommand(baseIdentity: string, kind: CommandKind, payload: unknown): Promise<void>;
  close(): Promise<void>;
}

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
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.caFile ? { ca: read(opts.caFile) } : {}),
    ...(opts.certFile ? { cert: read(opts.certFile) } : {}),
    ...(opts.keyFile ? { key: read(opts.keyFile) } : {}),
  });
  let connected = false;
  client.on('connect', () => {
    client.subscribe(toControllerSubscriptions(opts.env), { qos: 1 }, (err) => {
      if (err) {
        opts.logger.error({ err: err.message }, 'MQTT subscribe failed');
        return;
      }
      connected = true;
      opts.logger.info({ url: opts.url, clientId: opts.clientId }, 'MQTT connected and subscribed');
      opts.onConnected();
    });
  });
  client.on('close', () => {
    if (connected) opts.logger.warn('MQTT connection closed; reconnecting');
    connected = false;
  });
  client.on('error', (err) => opts.logger.warn({ code: 'MQTT_UNAVAILABLE', err: err.message }, 'MQTT error'));
  client.on('message', (topic, payload) => opts.onMessage(topic, payload));
  return {
    isConnected: () => connected,
    publishCommand: async (baseIdentity, kind, payload) => {
      await client.publishAsync(toCommandTopic(opts.env, baseIdentity, kind), JSON.stringify(payload), { qos: 1, retain: false });
    },
    close: async () => {
      await client.endAsync();
    },
  };
}
