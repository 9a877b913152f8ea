// The broker in-process: a burst of bases with one shared credential all get in (one shared scrypt
// check), a changed password stops working after a reload, and an open broker lets anything through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { startBroker } from '../../broker/mqtt-broker.ts';
import { hashPassword, type CredentialTable, parseCredentials } from '../../broker/credentials.ts';
import type { CredentialsSource } from '../../broker/credentials-source.ts';
import { createSilentLogger } from '../../core/logger.ts';

function tableOf(text: string): CredentialTable {
  const r = parseCredentials(text, 'test');
  assert.ok(r.ok);
  return r.table;
}

test('a burst of bases sharing one credential connects; a rotated password is refused after the reload', async () => {
  let table = tableOf(`bases base ${hashPassword('one')}`);
  const source: CredentialsSource = { description: 'test', load: async () => table };
  const registry = new Registry();
  const broker = await startBroker({ auth: { kind: 'credentials', source }, port: 0, logger: createSilentLogger(), registry });
  try {
    const clients = await Promise.all(Array.from({ length: 40 }, (_, i) => mqtt.connectAsync(broker.url, { clientId: `k@@@b${i}`, username: 'bases', password: 'one', reconnectPeriod: 0 })));
    assert.equal(clients.filter((c) => c.connected).length, 40);
    assert.match(await registry.metrics(), /module_controller_broker_clients_connected 40/);
    await Promise.all(clients.map((c) => c.endAsync()));
    table = tableOf(`bases base ${hashPassword('two')}`);
    await broker.check();
    await assert.rejects(mqtt.connectAsync(broker.url, { clientId: 'k@@@b0', username: 'bases', password: 'one', reconnectPeriod: 0 }));
    const c = await mqtt.connectAsync(broker.url, { clientId: 'k@@@b0', username: 'bases', password: 'two', reconnectPeriod: 0 });
    await c.endAsync();
  } finally {
    await broker.close();
  }
});

test('an open broker (--allow-anonymous) admits anyone to anything', async () => {
  const broker = await startBroker({ auth: { kind: 'open' }, port: 0, logger: createSilentLogger(), registry: new Registry() });
  try {
    const c = await mqtt.connectAsync(broker.url, { clientId: 'plain', reconnectPeriod: 0 });
    const granted = await c.subscribeAsync('#', { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    await c.publishAsync('koupleless_default/x/installBiz', '{}', { qos: 1 });
    await c.endAsync();
  } finally {
    await broker.close();
  }
});

test('refusals are logged with client id, username, stage and code, never the password', async () => {
  const lines: string[] = [];
  const { Writable } = await import('node:stream');
  const { createLogger } = await import('../../core/logger.ts');
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => { lines.push(chunk.toString()); cb(); } });
  const logger = createLogger('info', 'test-broker', sink);
  const table = tableOf(`bases base ${hashPassword('right-password')}`);
  const broker = await startBroker({ auth: { kind: 'credentials', source: { description: 't', load: async () => table } }, port: 0, logger, registry: new Registry() });
  try {
    await assert.rejects(mqtt.connectAsync(broker.url, { clientId: 'k@@@b1', username: 'bases', password: 'Wr0ng-Secret', reconnectPeriod: 0 }));
    const c = await mqtt.connectAsync(broker.url, { clientId: 'k@@@b1', username: 'bases', password: 'right-password', reconnectPeriod: 0 });
    await new Promise<void>((resolve) => c.publish('koupleless_default/b2/base/heart', '{}', { qos: 0 }, () => resolve()));
    await new Promise((r) => setTimeout(r, 200));
    await c.endAsync(true);
  } finally {
    await broker.close();
  }
  logger.flush();
  await new Promise((r) => setTimeout(r, 100));
  const refusals = lines.join('').split('\n').filter((l) => l.includes('refused')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(refusals.map((r) => [r['stage'], r['code'], r['clientId'], r['username']]), [['connect', 'bad_credentials', 'k@@@b1', 'bases'], ['publish', 'other_base', 'k@@@b1', 'bases']]);
  assert.equal(lines.join('').includes('Wr0ng-Secret'), false);
  assert.equal(lines.join('').includes('right-password'), false);
});
