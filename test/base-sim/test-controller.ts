/**
 * A stand-in controller for base-sim tests: a plain MQTT client that subscribes to every base
 * message of one env, records what arrives, and publishes commands the way the bridge will
 * (QoS 1, not retained).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseTopic, toCommandTopic, toControllerSubscriptions, type CommandKind } from '../../core/topics.ts';

export interface Received {
  readonly seq: number;
  readonly topic: string;
  readonly identity: string;
  readonly kind: string;
  readonly text: string;
  readonly at: number;
}

export interface TestController {
  readonly received: readonly Received[];
  /** Sequence number of the next message to arrive (use it as `after`). */
  mark(): number;
  /** The first message (with seq ≥ after) that matches, waiting up to timeoutMs. */
  waitFor(what: string, match: (m: Received) => boolean, opts?: { after?: number; timeoutMs?: number }): Promise<Received>;
  /** All matching messages with seq ≥ after, now. */
  all(match: (m: Received) => boolean, after?: number): Received[];
  send(identity: string, kind: CommandKind | string, payload: unknown): Promise<void>;
  /** Publishes raw bytes to an arbitrary topic. */
  sendRaw(topic: string, payload: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

export async function startTestController(url: string, env: string): Promise<TestController> {
  const client: MqttClient = await connectAsync(url, {
    clientId: `module-controller@@@test-${Math.random().toString(36).slice(2, 8)}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
  });
  const received: Received[] = [];
  client.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    received.push({ seq: received.length, topic, identity: t?.baseIdentity ?? '', kind: t?.direction === 'fromBase' ? t.kind : `(${t?.kind ?? '?'})`, text: payload.toString('utf8'), at: Date.now() });
  });
  await client.subscribeAsync(toControllerSubscriptions(env), { qos: 1 });
  return {
    received,
    mark: () => received.length,
    all: (match, after = 0) => received.slice(after).filter(match),
    async waitFor(what, match, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
      for (;;) {
        const hit = received.slice(opts.after ?? 0).find(match);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last messages: ${received.slice(-5).map((m) => m.topic).join(', ')}`);
        await sleep(20);
      }
    },
    async send(identity, kind, payload) {
      const topic = toCommandTopic(env, identity, kind as CommandKind);
      await client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, retain: false });
    },
    async sendRaw(topic, payload) {
      await client.publishAsync(topic, payload, { qos: 1, retain: false });
    },
    async close() {
      await client.endAsync();
    },
  };
}
