// Who may say what on MQTT, on the shipped broker (broker/) and on a real Mosquitto running the
// shipped example (examples/mosquitto): unauthenticated clients are refused, a base cannot command
// another base nor speak for it, and the bridge's credential works end to end (a Ready virtual node
// on the real control plane). The shipped broker's mqtts listener: client certificates (the bridge's
// --mqtt-ca-file/--mqtt-cert-file/--mqtt-key-file) and certificate reload.
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { findMosquitto } from '../support/mosquitto.ts';
import { FAST_SETTINGS } from '../support/bridge-harness.ts';
import { findFreePort } from '../../sandbox/free-port.ts';
import { startBridge } from '../../bridge/bridge.ts';
import { connectMqtt } from '../../bridge/mqtt-link.ts';
import { startFleet } from '../../base-sim/fleet.ts';
import { hashPassword } from '../../broker/credentials.ts';
import { createCredentialsSource } from '../../broker/credentials-source.ts';
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts';
import { createCa, issueCert } from '../../core/pki.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { toNodeName } from '../../core/names.ts';
import { kubeHttpOf } from '../support/kube-http.ts';

const cluster = await getTestCluster();
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface Creds {
  readonly username: string;
  readonly password: string;
}

/** A broker under test and the credentials it knows. */
interface Setup {
  readonly url: string;
  readonly bridge: Creds;
  /** What a base with this identity logs in with. */
  base(identity: string): Creds;
}

const run = Math.random().toString(36).slice(2, 7);
const VICTIM = `victim-${run}`;
/** Identity prefix of the base-sim base of one scenario (each its own node). */
const e2ePrefix = (tag: string) => `e2e-${tag}-${run}-`;
const ATTACKER = `attacker-${run}`;

async function connect(url: string, clientId: string, creds: Partial<Creds>, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId, protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 5_000, ...creds, ...extra });
  cleanups.push(() => client.endAsync(true));
  return client;
}

/** Collects what a client receives. */
function inbox(client: MqttClient): Array<{ topic: string; text: string }> {
  const got: Array<{ topic: string; text: string }> = [];
  client.on('message', (topic, payload) => got.push({ topic, text: payload.toString() }));
  return got;
}

/** Publishes without waiting for an ack (a refused publish may close the connection instead). */
function fire(client: MqttClient, topic: string, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.publish(topic, text, { qos: 0 }, () => resolve());
  });
}

function scenarios(name: string, tag: string, setup: () => Promise<Setup>): void {
  describe(name, () => {
    let s: Setup;
    before(async () => {
      s = await setup();
    });

    test('a client without credentials, or with a wrong password, is refused', async () => {
      await assert.rejects(connect(s.url, `koupleless@@@${VICTIM}`, {}), /not authorized|bad user|unauthorized|connack/i);
      await assert.rejects(connect(s.url, `koupleless@@@${VICTIM}`, { username: s.base(VICTIM).username, password: 'wrong' }), /not authorized|bad user|unauthorized|connack/i);
      await assert.rejects(connect(s.url, 'module-controller@@@b', { username: s.bridge.username, password: 'wrong' }), /not authorized|bad user|unauthorized|connack/i);
    });

    test('a base cannot publish installBiz: the target base never receives it, while the bridge\'s arrives', async () => {
      const victim = await connect(s.url, `koupleless@@@${VICTIM}`, s.base(VICTIM));
      const got = inbox(victim);
      await victim.subscribeAsync([`koupleless_default/${VICTIM}/+`], { qos: 1 });
      const attacker = await connect(s.url, `koupleless@@@${ATTACKER}`, s.base(ATTACKER));
      await fire(attacker, `koupleless_default/${VICTIM}/installBiz`, '{"bizName":"evil","bizVersion":"1","bizUrl":"https://example.invalid/evil.jar"}');
      await sleep(500);
      const bridge = await connect(s.url, `module-controller@@@bridge-${run}`, s.bridge);
      await bridge.publishAsync(`koupleless_default/${VICTIM}/installBiz`, '{"bizName":"good","bizVersion":"1","bizUrl":"https://example.invalid/good.jar"}', { qos: 1 });
      await eventually('the bridge\'s install', async () => got.find((m) => m.text.includes('good')));
      await sleep(300);
      assert.deepEqual(got.map((m) => m.text.includes('evil')), [false]);
    });

    test('a base cannot publish a heartbeat for another identity: the bridge sees only the real one', async () => {
      const bridge = await connect(s.url, `module-controller@@@bridge2-${run}`, s.bridge);
      const got = inbox(bridge);
      await bridge.subscribeAsync(['koupleless_default/+/base/+'], { qos: 1 });
      const attacker = await connect(s.url, `koupleless@@@${ATTACKER}`, s.base(ATTACKER));
      await fire(attacker, `koupleless_default/${VICTIM}/base/heart`, '{"forged":true}');
      await sleep(500);
      const victim = await connect(s.url, `koupleless@@@${VICTIM}`, s.base(VICTIM));
      await victim.publishAsync(`koupleless_default/${VICTIM}/base/heart`, '{"real":true}', { qos: 1 });
      await eventually('the real heartbeat', async () => got.find((m) => m.text.includes('real')));
      await sleep(300);
      assert.deepEqual(got.filter((m) => m.topic.includes(VICTIM)).map((m) => m.text), ['{"real":true}']);
    });

    test('a base cannot read another base\'s commands', async () => {
      const attacker = await connect(s.url, `koupleless@@@${ATTACKER}`, s.base(ATTACKER));
      const got = inbox(attacker);
      await attacker.subscribeAsync([`koupleless_default/${VICTIM}/+`], { qos: 1 }).catch(() => undefined);
      const bridge = await connect(s.url, `module-controller@@@bridge3-${run}`, s.bridge);
      await bridge.publishAsync(`koupleless_default/${VICTIM}/installBiz`, '{"secret":"jar url"}', { qos: 1 });
      await sleep(700);
      assert.deepEqual(got, []);
    });

    test('the bridge credential works end to end: a base-sim base with its credential becomes a Ready virtual node', async () => {
      const prefix = e2ePrefix(tag);
      const identity = `${prefix}0`;
      const bridge = startBridge({
        kube: kubeHttpOf(cluster),
        settings: FAST_SETTINGS,
        mqtt: { url: s.url, clientIdPrefix: 'module-controller', ...s.bridge },
        leader: { enabled: false, name: 'unused', namespace: 'default', durationMs: 4_000 },
        instanceId: `auth-${name.replace(/\W/g, '').toLowerCase()}-${run}`,
        concurrency: 2,
        logger: createSilentLogger(),
        registry: new Registry(),
      });
      cleanups.push(() => bridge.stop());
      const fleet = await startFleet({ url: s.url, count: 1, identityPrefix: prefix, ipPrefix: '192.0.2', heartbeatPeriodMs: 1_000, installLatencyMs: 100, ...s.base(identity) });
      const nodeName = toNodeName(identity);
      cleanups.push(async () => {
        await fleet.stop();
        await cluster.core.deleteNode({ name: nodeName }).catch(() => undefined);
      });
      await eventually('a Ready virtual node', async () => {
        const node = await cluster.core.readNode({ name: nodeName }).catch(() => undefined);
        return node?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
      }, 30_000);
    });
  });
}

// ---- the shipped broker: a credentials file with the bridge, a shared base credential and a bound one
let shipped: { broker: RunningBroker; registry: Registry; dir: string } | undefined;
const SHIPPED = { bridge: { username: 'module-controller', password: `br-${run}` }, base: { username: 'koupleless-base', password: `ba-${run}` } };

scenarios('shipped broker', 'aedes', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-broker-auth-'));
  writeFileSync(path.join(dir, 'credentials'), [
    `${SHIPPED.bridge.username} bridge ${hashPassword(SHIPPED.bridge.password)}`,
    `${SHIPPED.base.username} base ${hashPassword(SHIPPED.base.password)}`,
    `only-victim base:${VICTIM} ${hashPassword('pv')}`,
  ].join('\n'));
  const registry = new Registry();
  const broker = await startBroker({ auth: { kind: 'credentials', source: createCredentialsSource({ file: path.join(dir, 'credentials'), plain: [] }) }, port: 0, logger: createSilentLogger(), registry });
  cleanups.push(() => broker.close());
  shipped = { broker, registry, dir };
  return { url: broker.url, bridge: SHIPPED.bridge, base: () => SHIPPED.base };
});

describe('shipped broker: identities and metrics', () => {
  test('a base client id without @@@ is refused; a per-base credential only connects as its identity', async () => {
    const url = shipped!.broker.url;
    await assert.rejects(connect(url, 'no-separator', SHIPPED.base), /identifier rejected|connack/i);
    await assert.rejects(connect(url, `koupleless@@@${ATTACKER}`, { username: 'only-victim', password: 'pv' }), /not authorized|connack/i);
    const ok = await connect(url, `koupleless@@@${VICTIM}`, { username: 'only-victim', password: 'pv' });
    assert.equal(ok.connected, true);
  });

  test('refusals are counted by stage and code, clients and messages are measured', async () => {
    const text = await shipped!.registry.metrics();
    const count = (stage: string, code: string) => Number(new RegExp(`module_controller_broker_auth_failures_total\\{stage="${stage}",code="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    assert.ok(count('connect', 'bad_credentials') >= 3, text);
    assert.ok(count('publish', 'base_cannot_command') >= 1, text);
    assert.ok(count('publish', 'other_base') >= 1, text);
    assert.ok(count('connect', 'no_identity') >= 1, text);
    assert.match(text, /module_controller_broker_messages_total\{direction="bridge_to_base"\} [1-9]/);
    assert.match(text, /module_controller_broker_messages_total\{direction="base_to_bridge"\} [1-9]/);
    assert.match(text, /module_controller_broker_clients_connected [1-9]/);
  });

  test('an edited credentials file takes effect without a restart', async () => {
    const url = shipped!.broker.url;
    const file = path.join(shipped!.dir, 'credentials');
    await assert.rejects(connect(url, 'mc@@@rot', { username: 'rotated', password: 'new' }), /not authorized|bad user|connack/i);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nrotated bridge ${hashPassword('new')}\n`);
    await shipped!.broker.check();
    const c = await connect(url, 'mc@@@rot', { username: 'rotated', password: 'new' });
    assert.equal(c.connected, true);
  });
});

// ---- real Mosquitto with examples/mosquitto (per-base usernames equal to the identity)
const MOSQ_PASSWORD = `mq-${run}`;
let mosquittoUrl: string | undefined;
scenarios('Mosquitto with examples/mosquitto', 'mosq', async () => {
  const bin = findMosquitto();
  assert.ok(bin, 'mosquitto is not installed (apt-get install mosquitto)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-mosq-example-'));
  // Mosquitto started as root drops to the "mosquitto" user, which must read these files.
  chmodSync(dir, 0o755);
  const passwd = path.join(dir, 'passwd');
  const users = ['module-controller', 'koupleless-base', VICTIM, ATTACKER, `${e2ePrefix('mosq')}0`];
  users.forEach((u, i) => {
    const r = spawnSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwd, u, MOSQ_PASSWORD]);
    assert.equal(r.status, 0, r.stderr.toString());
  });
  chmodSync(passwd, 0o644);
  const port = await findFreePort();
  const conf = readFileSync('examples/mosquitto/mosquitto.conf', 'utf8')
    .replace('/mosquitto/config/passwd', passwd)
    .replace('/mosquitto/config/acl', path.resolve('examples/mosquitto/acl'))
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`);
  writeFileSync(path.join(dir, 'mosquitto.conf'), conf);
  const child = spawn(bin, ['-c', path.join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  for (const out of [child.stdout, child.stderr]) out.on('data', (d: Buffer) => (stderr += d.toString()));
  cleanups.push(async () => child.kill('SIGTERM'));
  await eventually(`mosquitto listening on ${port} (${stderr})`, () => new Promise<true | undefined>((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => { sock.end(); resolve(true); });
    sock.on('error', () => resolve(undefined));
  }), 10_000, 100);
  mosquittoUrl = `mqtt://127.0.0.1:${port}`;
  return { url: mosquittoUrl, bridge: { username: 'module-controller', password: MOSQ_PASSWORD }, base: (identity) => ({ username: identity, password: MOSQ_PASSWORD }) };
});

describe('Mosquitto: the shared base user, as examples/mosquitto/README.md says', () => {
  const shared = { username: 'koupleless-base', password: MOSQ_PASSWORD };
  test('cannot command a base', async () => {
    const victim = await connect(mosquittoUrl!, `koupleless@@@${VICTIM}`, { username: VICTIM, password: MOSQ_PASSWORD });
    const got = inbox(victim);
    await victim.subscribeAsync([`koupleless_default/${VICTIM}/+`], { qos: 1 });
    const attacker = await connect(mosquittoUrl!, `koupleless@@@${ATTACKER}`, shared);
    await fire(attacker, `koupleless_default/${VICTIM}/installBiz`, 'evil');
    await fire(attacker, `koupleless_default/${VICTIM}/base/baseline`, 'evil');
    await sleep(500);
    const bridge = await connect(mosquittoUrl!, `module-controller@@@bridge4-${run}`, { username: 'module-controller', password: MOSQ_PASSWORD });
    await bridge.publishAsync(`koupleless_default/${VICTIM}/installBiz`, 'good', { qos: 1 });
    await eventually('the bridge\'s install', async () => got.find((m) => m.text === 'good'));
    assert.deepEqual(got.map((m) => m.text), ['good']);
  });

  test('can still publish a heartbeat for any identity: Mosquitto cannot bind it to the client id', async () => {
    const bridge = await connect(mosquittoUrl!, `module-controller@@@bridge5-${run}`, { username: 'module-controller', password: MOSQ_PASSWORD });
    const got = inbox(bridge);
    await bridge.subscribeAsync(['koupleless_default/+/base/+'], { qos: 1 });
    const attacker = await connect(mosquittoUrl!, `koupleless@@@${ATTACKER}`, shared);
    await attacker.publishAsync(`koupleless_default/${VICTIM}/base/heart`, '{"forged":true}', { qos: 1 });
    await eventually('the forged heartbeat', async () => got.find((m) => m.text.includes('forged')));
  });
});

// ---- mqtts with client certificates on the shipped broker
describe('shipped broker over mqtts with client certificates', () => {
  const now = new Date();
  const ca = createCa('mc-test-mqtt-ca', 86_400_000, now);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-broker-tls-'));
  const file = (n: string, text: string) => {
    writeFileSync(path.join(dir, n), text);
    return path.join(dir, n);
  };
  const server = issueCert(ca, { commonName: 'broker', ips: ['127.0.0.1'], dnsNames: ['localhost'], validForMs: 86_400_000, usage: 'server', now });
  const bridgeCert = issueCert(ca, { commonName: 'module-controller-bridge', validForMs: 86_400_000, usage: 'client', now });
  const baseCert = issueCert(ca, { commonName: 'base', validForMs: 86_400_000, usage: 'client', now });
  const caFile = file('ca.crt', ca.certPem);
  const certFile = file('tls.crt', server.certPem);
  const keyFile = file('tls.key', server.keyPem);
  let broker: RunningBroker;
  before(async () => {
    const source = createCredentialsSource({ plain: [{ ...SHIPPED.bridge, role: 'bridge' }, { ...SHIPPED.base, role: 'base' }] });
    broker = await startBroker({ auth: { kind: 'credentials', source }, tls: { port: 0, certFile, keyFile, clientCaFile: caFile }, logger: createSilentLogger(), registry: new Registry() });
    cleanups.push(() => broker.close());
  });

  test('a client without a client certificate is refused at the TLS handshake', async () => {
    await assert.rejects(connect(broker.tlsUrl!, `koupleless@@@${VICTIM}`, SHIPPED.base, { ca: ca.certPem }));
  });

  test('the bridge\'s MQTT link with --mqtt-ca-file/--mqtt-cert-file/--mqtt-key-file talks to a base over mutual TLS', async () => {
    const received: string[] = [];
    let connected!: () => void;
    const up = new Promise<void>((resolve) => (connected = resolve));
    const link = connectMqtt({
      url: broker.tlsUrl!,
      env: 'default',
      clientId: `module-controller@@@tls-${run}`,
      publishTimeoutMs: 5_000,
      ...SHIPPED.bridge,
      caFile,
      certFile: file('bridge.crt', bridgeCert.certPem),
      keyFile: file('bridge.key', bridgeCert.keyPem),
      logger: createSilentLogger(),
      onMessage: (topic) => received.push(topic),
      onConnected: () => connected(),
    });
    cleanups.push(() => link.close());
    await up;
    const base = await connect(broker.tlsUrl!, `koupleless@@@${VICTIM}`, SHIPPED.base, { ca: ca.certPem, cert: baseCert.certPem, key: baseCert.keyPem });
    const got = inbox(base);
    await base.subscribeAsync([`koupleless_default/${VICTIM}/+`], { qos: 1 });
    await base.publishAsync(`koupleless_default/${VICTIM}/base/heart`, '{}', { qos: 1 });
    await eventually('the heartbeat at the bridge', async () => received.find((t) => t === `koupleless_default/${VICTIM}/base/heart`));
    await link.publishCommand(VICTIM, 'health', {});
    await eventually('the command at the base', async () => got.find((m) => m.topic === `koupleless_default/${VICTIM}/health`));
  });

  test('a renewed serving certificate is served to new connections without a restart', async () => {
    const serial = () => new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: broker.tlsPort!, ca: ca.certPem, cert: baseCert.certPem, key: baseCert.keyPem }, () => {
        resolve(s.getPeerCertificate().serialNumber);
        s.end();
      });
      s.on('error', reject);
    });
    const before1 = await serial();
    const renewed = issueCert(ca, { commonName: 'broker', ips: ['127.0.0.1'], validForMs: 86_400_000, usage: 'server', now: new Date() });
    writeFileSync(keyFile, renewed.keyPem);
    writeFileSync(certFile, renewed.certPem);
    await broker.check();
    const after1 = await serial();
    assert.notEqual(after1, before1);
    assert.equal(after1.toLowerCase(), new (await import('node:crypto')).X509Certificate(renewed.certPem).serialNumber.toLowerCase());
  });
});

// ---- `module-controller bridge --mqtt-url embedded` with a credentials file, the real command
describe('the bridge command\'s embedded broker', () => {
  test('bases with the file\'s credential become a Ready node; without credentials they are refused', async () => {
    const { runInProcess } = await import('../../sandbox/run-in-process.ts');
    const { bridgeCommand } = await import('../../bridge/command.ts');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-embedded-'));
    const credentials = path.join(dir, 'credentials');
    writeFileSync(credentials, `koupleless-base base ${hashPassword('embedded-pw')}\n`);
    const [mqttPort, opsPort] = [await findFreePort(), await findFreePort()];
    const stop = new AbortController();
    const running = runInProcess(bridgeCommand, [
      '--log-level', 'warn', '--kubeconfig', cluster.kubeconfig, '--port', String(opsPort), '--leader-elect=false', '--optimize-for-size=false', '--instance-id', `embedded-${run}`,
      '--mqtt-url', 'embedded', '--embedded-broker-port', String(mqttPort), '--embedded-broker-credentials-file', credentials,
    ], { signal: stop.signal, logTo: new (await import('node:stream')).PassThrough() });
    cleanups.push(async () => {
      stop.abort();
      await running;
    });
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    await eventually('the bridge ready', async () => ((await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined))?.ok ? true : undefined), 30_000);
    await assert.rejects(connect(url, 'koupleless@@@anon', {}), /not authorized|bad user|connack/i);
    const prefix = e2ePrefix('embedded');
    const fleet = await startFleet({ url, count: 1, identityPrefix: prefix, ipPrefix: '192.0.2', heartbeatPeriodMs: 1_000, installLatencyMs: 100, username: 'koupleless-base', password: 'embedded-pw' });
    const nodeName = toNodeName(`${prefix}0`);
    cleanups.push(async () => {
      await fleet.stop();
      await cluster.core.deleteNode({ name: nodeName }).catch(() => undefined);
    });
    await eventually('a Ready virtual node', async () => {
      const node = await cluster.core.readNode({ name: nodeName }).catch(() => undefined);
      return node?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    }, 30_000);
  });
});

// ---- the chart on the real API server: generated credentials and certificates survive an upgrade
describe('chart: broker credentials and certificates on the real API server', () => {
  test('helm install makes the credentials and TLS Secrets; helm upgrade keeps them', async () => {
    const { runHelm } = await import('../support/helm.ts');
    const release = `ms${run}`;
    const ns = await cluster.createNamespace('mqtt-sec');
    const args = ['charts/module-controller', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--set', 'broker.tls.enabled=true', '--set', 'broker.tls.clientAuth=true'];
    const uninstall = () => runHelm(['uninstall', release, '-n', ns, '--kubeconfig', cluster.kubeconfig, '--wait=false']);
    cleanups.push(uninstall);
    const read = async (name: string) => (await cluster.core.readNamespacedSecret({ name, namespace: ns })).data ?? {};
    const install = await runHelm(['install', release, ...args]);
    assert.equal(install.code, 0, install.stderr);
    // Remove the webhook configurations at once: nothing serves them here, and they would catch other tests' pods.
    await uninstallWebhooks(release);
    const creds = await read(`${release}-broker-credentials`);
    const serving = await read(`${release}-broker-tls`);
    const client = await read(`${release}-bridge-mqtt-client`);
    assert.ok(creds['bridge-password'] && creds['base-password'] && serving['tls.crt'] && client['tls.crt']);
    const upgrade = await runHelm(['upgrade', release, ...args]);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    await uninstallWebhooks(release);
    assert.deepEqual(await read(`${release}-broker-credentials`), creds);
    assert.deepEqual(await read(`${release}-broker-tls`), serving);
    assert.deepEqual(await read(`${release}-bridge-mqtt-client`), client);
    const un = await uninstall();
    assert.equal(un.code, 0, un.stderr);
  });
});

async function uninstallWebhooks(release: string): Promise<void> {
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
    await cluster.kubectl(['delete', kind, `${release}-webhook`, '--ignore-not-found']);
  }
}
