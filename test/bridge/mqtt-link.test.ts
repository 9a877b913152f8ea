// The MQTT link's "commands are never replayed" promise, against a real in-process Aedes broker (the
// embedded one) whose publish authorizer can hold a command forever (no PUBACK ever comes), and a TCP
// proxy between the link and the broker to drop the connection: a command the broker never
// acknowledges rejects within publishTimeoutMs, one in flight when the connection drops rejects at
// once, and after the link reconnects neither reaches a subscribed base (mqtt.js's store is emptied);
// a command published after the reconnect does (the control that shows the base would have seen it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { connectMqtt, SUBSCRIBE_QOS, type MqttLink } from '../../bridge/mqtt-link.ts';
import { ControllerError } from '../../core/errors.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { toBaseSubscriptions, toControllerSubscriptions } from '../../core/topics.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

const BASE = 'base-noreplay';
const BRIDGE_ID = `mc-noreplay-${process.pid}`;

interface Setup {
  link: MqttLink;
  proxy: TcpProxy;
  received: string[];
  /** While true, the bridge's command publishes are held by the broker: never forwarded, never acknowledged. */
  hold: { on: boolean; held: number };
  connects: () => number;
  /** What the bridge's client asked the broker for, topic → QoS. */
  bridgeSubscriptions: Map<string, number>;
  /** Base messages the link handed on. */
  messages: string[];
  /** PUBACKs the broker received from the bridge's client. */
  bridgeAcks: () => number;
  /** The base-side client, to publish as a base. */
  base: mqtt.MqttClient;
}

async function setup(publishTimeoutMs: number): Promise<Setup> {
  const hold = { on: false, held: 0 };
  const broker = await Aedes.createBroker({
    authorizePublish: (client, packet, done) => {
      if (hold.on && client?.id === BRIDGE_ID && packet.topic.startsWith(`koupleless_`)) {
        hold.held++;
        return; // never calls back: no PUBACK, nothing forwarded
      }
      done(null);
    },
  });
  const bridgeSubscriptions = new Map<string, number>();
  broker.on('subscribe', (subs, client) => {
    if (client?.id === BRIDGE_ID) for (const sub of subs) bridgeSubscriptions.set(sub.topic, sub.qos);
  });
  let bridgeAcks = 0;
  broker.on('ack', (_packet, client) => {
    if (client?.id === BRIDGE_ID) bridgeAcks++;
  });
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.close(() => r()); broker.close(); }));
  const port = (server.address() as net.AddressInfo).port;
  const proxy = await startTcpProxy('127.0.0.1', port);
  cleanups.push(() => proxy.close());

  // The base subscribes directly (not through the proxy), as arklet does.
  const received: string[] = [];
  const base = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `${BASE}-${process.pid}`, protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  cleanups.push(() => base.endAsync(true));
  await base.subscribeAsync(toBaseSubscriptions('default', BASE), { qos: 1 });
  base.on('message', (_topic, payload) => received.push(payload.toString()));

  let connects = 0;
  const messages: string[] = [];
  const link = connectMqtt({
    url: `mqtt://127.0.0.1:${proxy.port}`, env: 'default', clientId: BRIDGE_ID, logger: createSilentLogger(), publishTimeoutMs,
    onMessage: (_topic, payload) => messages.push(payload.toString()), onConnected: () => { connects++; },
  });
  cleanups.push(() => link.close());
  await waitFor('the link hearing', () => link.isConnected(), 10_000);
  return { link, proxy, received, hold, connects: () => connects, bridgeSubscriptions, messages, bridgeAcks: () => bridgeAcks, base };
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Cuts the link's connection, heals it and waits until the link hears again. */
async function reconnect(s: Setup): Promise<void> {
  const before = s.connects();
  s.proxy.cut();
  await waitFor('the link noticing the cut', () => !s.link.isConnected(), 5_000);
  s.proxy.heal();
  await waitFor('the link hearing again', () => s.link.isConnected() && s.connects() > before, 10_000);
}

/** A command published after the reconnect arrives; anything replayed would have arrived before it. */
async function assertOnlyControlArrives(s: Setup): Promise<void> {
  await s.link.publishCommand(BASE, 'health', { control: true });
  await waitFor('the control command at the base', () => s.received.length > 0, 5_000);
  await sleep(300);
  assert.deepEqual(s.received, [JSON.stringify({ control: true })], 'only the command sent after the reconnect reached the base');
}

test('a command the broker never acknowledges rejects within publishTimeoutMs and is not replayed after a reconnect', async () => {
  const s = await setup(800);
  s.hold.on = true;
  const t0 = Date.now();
  const err = await s.link.publishCommand(BASE, 'installBiz', { bizName: 'held', bizVersion: '1.0.0' }).then(() => undefined, (e: unknown) => e);
  const tookMs = Date.now() - t0;
  assert.ok(err instanceof ControllerError, `rejected with a ControllerError, got ${String(err)}`);
  assert.equal(err.code, 'MQTT_UNAVAILABLE');
  assert.match(err.message, /broker did not acknowledge installBiz for base base-noreplay within 800ms/);
  assert.ok(tookMs < 5_000, `rejected after ${tookMs}ms`);
  assert.equal(s.hold.held, 1, 'the broker held exactly that command');
  s.hold.on = false;
  await reconnect(s);
  await assertOnlyControlArrives(s);
});

test('a command in flight when the connection drops rejects at once and is not replayed after the reconnect', async () => {
  const s = await setup(30_000);
  s.hold.on = true;
  const pending = s.link.publishCommand(BASE, 'uninstallBiz', { bizName: 'inflight', bizVersion: '1.0.0' }).then(() => undefined, (e: unknown) => e);
  await waitFor('the broker holding the command', () => s.hold.held === 1, 5_000);
  s.hold.on = false;
  const t0 = Date.now();
  await reconnect(s);
  const err = await pending;
  assert.ok(Date.now() - t0 < 15_000, 'rejected with the dropped connection, long before the 30 s timeout');
  assert.ok(err instanceof Error, `rejected, got ${String(err)}`);
  assert.ok(err instanceof ControllerError && err.code === 'MQTT_UNAVAILABLE', `MQTT_UNAVAILABLE, got ${String(err)}`);
  await assertOnlyControlArrives(s);
});

test('the bridge subscribes to base topics at QoS 0: a QoS 1 heartbeat reaches it and it sends no PUBACK', async () => {
  const s = await setup(5_000);
  assert.equal(SUBSCRIBE_QOS, 0);
  assert.equal(s.bridgeSubscriptions.size, toControllerSubscriptions('default').length);
  assert.deepEqual([...s.bridgeSubscriptions.keys()].sort(), toControllerSubscriptions('default').sort());
  for (let i = 0; i < 5; i++) await s.base.publishAsync(`koupleless_default/${BASE}/base/heart`, JSON.stringify({ n: i }), { qos: 1 });
  await waitFor('five heartbeats at the link', () => s.messages.length === 5, 5_000);
  assert.deepEqual(s.messages, [0, 1, 2, 3, 4].map((n) => JSON.stringify({ n })), 'each once, in order');
  // At QoS 1 the broker would have counted five PUBACKs from the bridge here, one per heartbeat.
  assert.equal(s.bridgeAcks(), 0, 'the broker got no PUBACK from the bridge for base messages');
  assert.deepEqual([...s.bridgeSubscriptions.values()], toControllerSubscriptions('default').map(() => 0));
});
