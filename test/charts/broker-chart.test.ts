// The chart's MQTT wiring, rendered by the real helm: broker credentials (generated Secret → broker
// and bridge), never anonymous by default, the mqtts listener with Helm-made, cert-manager or given
// certificates, the bridge's client certificate — and the Helm-made certificates really work
// between the shipped broker and a client (mutual TLS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { runHelm } from '../support/helm.ts';
import { COMMON_FLAGS, type AnyCommand } from '../../core/command.ts';
import { toFlagName } from '../../core/flags.ts';
import { bridgeCommand } from '../../bridge/command.ts';
import { brokerCommand } from '../../broker/command.ts';
import { createCredentialsSource } from '../../broker/credentials-source.ts';
import { startBroker } from '../../broker/mqtt-broker.ts';
import { createSilentLogger } from '../../core/logger.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const CHART = 'charts/module-controller';

async function template(extra: string[] = []): Promise<Doc[]> {
  const r = await runHelm(['template', 'mc', CHART, '-n', 'koupleless', '--kube-version', '1.34.4', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
}
const find = (docs: Doc[], kind: string, name: string) => docs.find((d) => d['kind'] === kind && d['metadata']['name'] === name);
const container = (docs: Doc[], name: string) => find(docs, 'Deployment', name)!['spec']['template']['spec']['containers'][0];
const envRef = (c: Doc, name: string) => c.env?.find((e: Doc) => e.name === name)?.valueFrom?.secretKeyRef;

function assertFlagsExist(c: Doc, cmd: AnyCommand): void {
  const known = new Set(Object.keys({ ...COMMON_FLAGS, ...cmd.flags }).map(toFlagName));
  for (const a of c.args.slice(1)) assert.ok(known.has(/^--([a-z0-9-]+)/.exec(a)?.[1] ?? ''), `${a} is not a flag of ${c.args[0]}`);
}

test('by default the broker authenticates with generated credentials the bridge shares, and never runs anonymous', async () => {
  const docs = await template();
  const secret = find(docs, 'Secret', 'mc-broker-credentials');
  assert.ok(secret, 'the chart creates the credentials Secret');
  assert.deepEqual(Object.keys(secret['data']).sort(), ['base-password', 'base-username', 'bridge-password', 'bridge-username']);
  assert.equal(Buffer.from(secret['data']['base-password'], 'base64').length, 32);
  const broker = container(docs, 'mc-broker');
  assert.equal(broker.args.includes('--allow-anonymous'), false);
  for (const k of ['MC_BRIDGE_USERNAME', 'MC_BRIDGE_PASSWORD', 'MC_BASE_USERNAME', 'MC_BASE_PASSWORD']) assert.equal(envRef(broker, k)?.name, 'mc-broker-credentials', k);
  const bridge = container(docs, 'mc-bridge');
  assert.deepEqual(envRef(bridge, 'MC_MQTT_USERNAME'), { name: 'mc-broker-credentials', key: 'bridge-username' });
  assert.deepEqual(envRef(bridge, 'MC_MQTT_PASSWORD'), { name: 'mc-broker-credentials', key: 'bridge-password' });
  assert.ok(bridge.args.includes('--mqtt-url=mqtt://mc-broker.koupleless.svc:1883'));
});

test('a credentials file Secret is mounted; allowAnonymous is explicit and drops the credentials', async () => {
  const docs = await template(['--set', 'broker.auth.credentialsSecret=per-base']);
  const broker = container(docs, 'mc-broker');
  assert.ok(broker.args.includes('--credentials-file=/etc/mqtt-credentials/credentials'));
  assert.equal(find(docs, 'Deployment', 'mc-broker')!['spec']['template']['spec']['volumes'][0]['secret']['secretName'], 'per-base');
  const open = await template(['--set', 'broker.auth.allowAnonymous=true']);
  assert.ok(container(open, 'mc-broker').args.includes('--allow-anonymous'));
  assert.equal(find(open, 'Secret', 'mc-broker-credentials'), undefined);
  assert.equal(envRef(container(open, 'mc-bridge'), 'MC_MQTT_PASSWORD'), undefined);
});

test('TLS with Helm-made certificates: mqtts listener, client CA, the bridge on mqtts with its client certificate', async () => {
  const docs = await template(['--set', 'broker.tls.enabled=true', '--set', 'broker.tls.clientAuth=true', '--set', 'broker.tls.only=true']);
  const broker = container(docs, 'mc-broker');
  assertFlagsExist(broker, brokerCommand);
  for (const a of ['--tls-port=8883', '--tls-cert-file=/etc/mqtt-tls/tls.crt', '--tls-key-file=/etc/mqtt-tls/tls.key', '--tls-client-ca-file=/etc/mqtt-tls/ca.crt', '--plain-listener=false']) assert.ok(broker.args.includes(a), a);
  assert.deepEqual(find(docs, 'Service', 'mc-broker')!['spec']['ports'].map((p: Doc) => p.name), ['mqtts']);
  const bridge = container(docs, 'mc-bridge');
  assertFlagsExist(bridge, bridgeCommand);
  for (const a of ['--mqtt-url=mqtts://mc-broker.koupleless.svc:8883', '--mqtt-ca-file=/etc/mqtt-tls/ca.crt', '--mqtt-cert-file=/etc/mqtt-client/tls.crt', '--mqtt-key-file=/etc/mqtt-client/tls.key']) assert.ok(bridge.args.includes(a), a);
  const volumes = find(docs, 'Deployment', 'mc-bridge')!['spec']['template']['spec']['volumes'].map((v: Doc) => v.secret.secretName);
  assert.deepEqual(volumes, ['mc-broker-tls', 'mc-bridge-mqtt-client']);

  // The rendered certificates work: the shipped broker serves them and admits the bridge's client certificate.
  const b64 = (name: string, key: string) => Buffer.from(find(docs, 'Secret', name)!['data'][key], 'base64').toString('utf8');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-chart-tls-'));
  const file = (n: string, text: string) => (writeFileSync(path.join(dir, n), text), path.join(dir, n));
  const running = await startBroker({
    auth: { kind: 'credentials', source: createCredentialsSource({ plain: [{ username: 'br', password: 'pw', role: 'bridge' }] }) },
    tls: { port: 0, certFile: file('tls.crt', b64('mc-broker-tls', 'tls.crt')), keyFile: file('tls.key', b64('mc-broker-tls', 'tls.key')), clientCaFile: file('ca.crt', b64('mc-broker-tls', 'ca.crt')) },
    logger: createSilentLogger(),
    registry: new Registry(),
  });
  try {
    const client = await mqtt.connectAsync(running.tlsUrl!, {
      clientId: 'module-controller@@@chart', username: 'br', password: 'pw', reconnectPeriod: 0,
      servername: 'mc-broker.koupleless.svc', ca: b64('mc-broker-tls', 'ca.crt'), cert: b64('mc-bridge-mqtt-client', 'tls.crt'), key: b64('mc-bridge-mqtt-client', 'tls.key'),
    });
    assert.equal(client.connected, true);
    await client.endAsync();
  } finally {
    await running.close();
  }
});

test('TLS with cert-manager: a CA Issuer and Certificates for the broker and the bridge', async () => {
  const docs = await template(['--set', 'broker.tls.enabled=true', '--set', 'broker.tls.clientAuth=true', '--set', 'broker.tls.certificates=cert-manager']);
  const serving = find(docs, 'Certificate', 'mc-broker-tls')!;
  assert.equal(serving['spec']['secretName'], 'mc-broker-tls');
  assert.ok(serving['spec']['dnsNames'].includes('mc-broker.koupleless.svc'));
  assert.deepEqual(serving['spec']['issuerRef'], { kind: 'Issuer', name: 'mc-broker-ca' });
  assert.ok(find(docs, 'Certificate', 'mc-bridge-mqtt-client')!['spec']['usages'].includes('client auth'));
  assert.ok(find(docs, 'Issuer', 'mc-broker-ca'));
  assert.equal(find(docs, 'Secret', 'mc-broker-tls'), undefined, 'cert-manager writes the Secret');
  const own = await template(['--set', 'broker.tls.enabled=true', '--set', 'broker.tls.certificates=cert-manager', '--set', 'broker.tls.certManager.issuerRef.kind=ClusterIssuer', '--set', 'broker.tls.certManager.issuerRef.name=corp-ca']);
  assert.deepEqual(find(own, 'Certificate', 'mc-broker-tls')!['spec']['issuerRef'], { kind: 'ClusterIssuer', name: 'corp-ca' });
  assert.equal(find(own, 'Issuer', 'mc-broker-ca'), undefined);
});

test('an external mqtts broker: the bridge trusts mqtt.tlsSecret\'s ca.crt and presents its tls.crt/tls.key when clientCert is set', async () => {
  const base = ['--set', 'broker.enabled=false', '--set', 'mqtt.url=mqtts://mqtt.example.invalid:8883', '--set', 'mqtt.tlsSecret=mqtt-tls', '--set', 'mqtt.existingSecret=mqtt-auth'];
  const caOnly = container(await template(base), 'mc-bridge');
  assert.ok(caOnly.args.includes('--mqtt-ca-file=/etc/mqtt-tls/ca.crt'));
  assert.equal(caOnly.args.some((a: string) => a.startsWith('--mqtt-cert-file')), false);
  const docs = await template([...base, '--set', 'mqtt.clientCert=true']);
  const bridge = container(docs, 'mc-bridge');
  assert.ok(bridge.args.includes('--mqtt-cert-file=/etc/mqtt-client/tls.crt'));
  assert.ok(bridge.args.includes('--mqtt-key-file=/etc/mqtt-client/tls.key'));
  assert.deepEqual(find(docs, 'Deployment', 'mc-bridge')!['spec']['template']['spec']['volumes'].map((v: Doc) => v.secret.secretName), ['mqtt-tls', 'mqtt-tls']);
  assert.deepEqual(envRef(bridge, 'MC_MQTT_PASSWORD'), { name: 'mqtt-auth', key: 'password' });
});

test('the values schema rejects unknown broker.auth / broker.tls keys and bad certificate sources', async () => {
  for (const bad of ['broker.tls.certificate=helm', 'broker.tls.certificates=acme', 'broker.auth.password=x', 'mqtt.clientcert=true']) {
    const r = await runHelm(['template', 'mc', CHART, '--kube-version', '1.34.4', '--set', bad]);
    assert.notEqual(r.code, 0, bad);
  }
});

test('TLS with a given Secret: the broker mounts it; a missing name is an error that says which value to set', async () => {
  const docs = await template(['--set', 'broker.tls.enabled=true', '--set', 'broker.tls.certificates=secret', '--set', 'broker.tls.existingSecret=my-broker-tls', '--set', 'broker.tls.clientAuth=true', '--set', 'mqtt.tlsSecret=my-bridge-tls']);
  const volumes = (name: string) => find(docs, 'Deployment', name)!['spec']['template']['spec']['volumes'].map((v: Doc) => v.secret.secretName);
  assert.deepEqual(volumes('mc-broker'), ['my-broker-tls']);
  assert.deepEqual(volumes('mc-bridge'), ['my-bridge-tls', 'my-bridge-tls']);
  assert.equal(docs.some((d) => d['kind'] === 'Certificate' || d['metadata']['name'] === 'mc-broker-ca'), false);
  const r = await runHelm(['template', 'mc', CHART, '--kube-version', '1.34.4', '--set', 'broker.tls.enabled=true', '--set', 'broker.tls.certificates=secret']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /broker\.tls\.existingSecret is required/);
});
