// The bridge's `--mqtt-url embedded` broker: refuses to run open unless told; with a credentials file
// the bridge's own link is admitted as the bridge and bases need their credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { startEmbeddedBrokerForBridge } from '../../broker/embedded.ts';
import { hashPassword } from '../../broker/credentials.ts';
import { createSilentLogger } from '../../core/logger.ts';

const deps = { logger: createSilentLogger(), registry: new Registry(), host: '127.0.0.1' };

test('without a credentials file the embedded broker refuses to start unless allowed to run open', async () => {
  await assert.rejects(startEmbeddedBrokerForBridge({ embeddedBrokerPort: 0, embeddedBrokerAllowAnonymous: false, embeddedBrokerCredentialsFile: undefined }, deps), /--embedded-broker-credentials-file/);
  const open = await startEmbeddedBrokerForBridge({ embeddedBrokerPort: 0, embeddedBrokerAllowAnonymous: true, embeddedBrokerCredentialsFile: undefined }, { ...deps, registry: new Registry() });
  await open.broker.close();
});

test('with a credentials file the bridge gets a bridge credential of its own, and bases must log in', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-embedded-'));
  const file = path.join(dir, 'credentials');
  writeFileSync(file, `bases base ${hashPassword('bp')}\n`);
  const e = await startEmbeddedBrokerForBridge({ embeddedBrokerPort: 0, embeddedBrokerAllowAnonymous: false, embeddedBrokerCredentialsFile: file }, { ...deps, registry: new Registry() });
  try {
    assert.ok(e.username && e.password);
    const bridge = await mqtt.connectAsync(e.broker.url, { clientId: 'module-controller@@@x', username: e.username, password: e.password, reconnectPeriod: 0 });
    const granted = await bridge.subscribeAsync('koupleless_default/+/base/+', { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    await bridge.endAsync();
    await assert.rejects(mqtt.connectAsync(e.broker.url, { clientId: 'koupleless@@@b', reconnectPeriod: 0 }));
    const base = await mqtt.connectAsync(e.broker.url, { clientId: 'koupleless@@@b', username: 'bases', password: 'bp', reconnectPeriod: 0 });
    await assert.rejects(base.subscribeAsync('koupleless_default/+/base/+', { qos: 1 }), /Subscribe error/);
    const own = await base.subscribeAsync('koupleless_default/b/+', { qos: 1 });
    assert.equal(own[0]?.qos, 1);
    await base.endAsync();
  } finally {
    await e.broker.close();
  }
});
