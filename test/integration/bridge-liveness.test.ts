// The bridge's liveness under faults it must survive, on the real control plane: a real Mosquitto
// stopped and restarted on the same port (no node may go NotReady for silence the bridge could not
// hear; a base that really died meanwhile goes NotReady after the reconnect), a bridge cold restart
// with a dead base (never Ready again, delete timer keeps running), commands while the broker is
// unreachable, SIGTERM of the real `module-controller bridge` process against an unreachable broker,
// and a leader that cannot hear the broker handing leadership to a replica that can.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Aedes } from 'aedes';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { findMosquitto, startMosquitto } from '../support/mosquitto.ts';
import { startTestBridge } from '../support/bridge-harness.ts';
import { startFleet, type Fleet } from '../../base-sim/fleet.ts';
import { toNodeName } from '../../core/names.ts';
import { connectMqtt } from '../../bridge/mqtt-link.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { ControllerError } from '../../core/errors.ts';
import { findFreePort } from '../../sandbox/free-port.ts';
import { useTestBroker } from '../support/broker.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const cluster = await getTestCluster();
const hasMosquitto = findMosquitto() !== undefined;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
const ROOT = path.resolve(import.meta.dirname, '../..');

after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function readyOf(nodeName: string): Promise<string | undefined> {
  const node = await cluster.core.readNode({ name: nodeName }).catch(() => undefined);
  return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

async function startBases(url: string, prefix: string, count: number): Promise<Fleet> {
  const fleet = await startFleet({ url, count, ipPrefix: prefix, heartbeatPeriodMs: 500, installLatencyMs: 50 });
  cleanups.push(async () => {
    await fleet.stop();
    for (const b of fleet.bases) await cluster.core.deleteNode({ name: toNodeName(b.identity) }).catch(() => undefined);
  });
  return fleet;
}

/** Samples every node's Ready status until stopped; remembers every non-True sighting. */
function watchReady(nodeNames: readonly string[]): { stop(): Promise<string[]> } {
  const seen: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const n of nodeNames) {
        const s = await readyOf(n);
        if (s !== 'True') seen.push(`${n}=${s ?? 'missing'} at ${new Date().toISOString()}`);
      }
      await sleep(200);
    }
  })();
  return { stop: async () => { running = false; await loop; return seen; } };
}

test('broker stopped for 2× not-ready-after: no node goes NotReady; a base stopped during the outage goes NotReady after the reconnect', { skip: !hasMosquitto && 'mosquitto is not installed' }, async () => {
  let mosq = await startMosquitto();
  cleanups.push(() => mosq.stop());
  const settings = { notReadyAfterMs: 3_000, deleteAfterMs: 120_000, reconnectGraceMs: 1_500 };
  const bridge = startTestBridge(cluster, mosq.url, { settings });
  cleanups.push(() => bridge.stop());
  const fleet = await startBases(mosq.url, '127.61', 4);
  const names = fleet.bases.map((b) => toNodeName(b.identity));
  for (const n of names) await eventually(`${n} Ready`, async () => ((await readyOf(n)) === 'True' ? true : undefined));
  await eventually('bridge ready', async () => (bridge.readiness() === undefined ? true : undefined));

  const watch = watchReady(names);
  mosq.stop();
  await mosq.stopped;
  const dying = fleet.bases[3]!;
  await dying.stop(); // really dies while nobody can hear it
  await eventually('readiness reports the link', async () => (/MQTT/.test(bridge.readiness() ?? '') ? true : undefined), 10_000);
  await sleep(2 * settings.notReadyAfterMs + 500);
  mosq = await startMosquitto({ port: mosq.port });
  const back = Date.now();
  await eventually('bridge hears again', async () => (bridge.readiness() === undefined ? true : undefined), 15_000);
  // The grace after the reconnect: no node may have gone NotReady up to here.
  await sleep(settings.reconnectGraceMs);
  const during = await watch.stop();
  assert.deepEqual(during, [], 'no node NotReady during the outage or the grace');

  // The base that died during the outage goes NotReady after reconnect + grace + notReadyAfter.
  const deadNode = names[3]!;
  await eventually('dead base NotReady after the reconnect', async () => ((await readyOf(deadNode)) === 'False' ? true : undefined), 15_000);
  const tookMs = Date.now() - back;
  assert.ok(tookMs >= settings.notReadyAfterMs, `NotReady ${tookMs}ms after the broker came back: not before the silence could be heard`);
  const live = watchReady(names.slice(0, 3));
  await sleep(2_000);
  assert.deepEqual(await live.stop(), [], 'the live bases stay Ready');
  await bridge.stop();
});

test('bridge cold restart with a dead base: its node never turns Ready and its delete timer runs on', async () => {
  const mosq = hasMosquitto ? await startMosquitto() : undefined;
  if (mosq) cleanups.push(() => mosq.stop());
  const { useTestBroker } = await import('../support/broker.ts');
  const broker = mosq ? { url: mosq.url, close: async () => {} } : await useTestBroker();
  cleanups.push(() => broker.close());
  const settings = { notReadyAfterMs: 3_000, deleteAfterMs: 16_000, reconnectGraceMs: 1_500 };
  const first = startTestBridge(cluster, broker.url, { settings, instanceId: 'cold-1' });
  cleanups.push(() => first.stop());
  const fleet = await startBases(broker.url, '127.62', 2);
  const [liveName, deadName] = fleet.bases.map((b) => toNodeName(b.identity)) as [string, string];
  for (const n of [liveName, deadName]) await eventually(`${n} Ready`, async () => ((await readyOf(n)) === 'True' ? true : undefined));
  await sleep(2_500); // a Lease renewal (every 2 s in tests) records the last-heard time
  await fleet.bases[1]!.stop();
  const diedAt = Date.now();
  await eventually('dead base NotReady', async () => ((await readyOf(deadName)) === 'False' ? true : undefined), 15_000);
  await sleep(Math.max(0, diedAt + 10_000 - Date.now()));
  await first.stop();

  const second = startTestBridge(cluster, broker.url, { settings, instanceId: 'cold-2' });
  cleanups.push(() => second.stop());
  const seen: Array<string | undefined> = [];
  let gone = false;
  while (Date.now() < diedAt + 30_000) {
    const s = await readyOf(deadName);
    if (s === undefined) { gone = true; break; }
    seen.push(s);
    await sleep(200);
  }
  const deletedAfterMs = Date.now() - diedAt;
  assert.ok(!seen.includes('True'), `the dead base's node turned Ready after the restart: ${seen.join(',')}`);
  assert.ok(gone, 'the dead base\'s node was deleted');
  // Deleted deleteAfter after its last heartbeat (+ the restart's deaf grace), not deleteAfter after the restart.
  assert.ok(deletedAfterMs < 10_000 + settings.deleteAfterMs, `deleted ${deletedAfterMs}ms after the base died: the delete timer was reset by the restart`);
  assert.equal(await readyOf(liveName), 'True', 'the live base stays Ready');
  await second.stop();
});

test('commands while the broker is unreachable reject at once with MQTT_UNAVAILABLE, never queued', async () => {
  const port = await findFreePort();
  const link = connectMqtt({ url: `mqtt://127.0.0.1:${port}`, env: 'default', clientId: `mc-unreachable-${Date.now()}`, logger: createSilentLogger(), publishTimeoutMs: 5_000, onMessage: () => undefined, onConnected: () => undefined });
  cleanups.push(() => link.close());
  const t0 = Date.now();
  await assert.rejects(link.publishCommand('192.0.2.1', 'installBiz', { bizName: 'a', bizVersion: '1' }), (err: unknown) => err instanceof ControllerError && err.code === 'MQTT_UNAVAILABLE' && /not connected/.test(err.message));
  assert.ok(Date.now() - t0 < 1_000);
  assert.equal(link.isConnected(), false);
  await link.close();
});

test('SIGTERM ends the real bridge process within 10 s with the broker unreachable, last log line written', async () => {
  const port = await findFreePort();
  const child = spawn(path.join(ROOT, 'node_modules/.bin/node'), [path.join(ROOT, 'cli/main.ts'), 'bridge', '--mqtt-url', `mqtt://127.0.0.1:${port}`, '--kubeconfig', cluster.kubeconfig, '--port', '0', '--leader-elect=false', '--module-services=false'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await eventually('bridge started', async () => (out.includes('"bridge started"') ? true : undefined), 20_000);
  await sleep(2_000); // a few failed reconnects
  const t0 = Date.now();
  child.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
  const tookMs = Date.now() - t0;
  assert.notEqual(code, 'timeout', `still running 10 s after SIGTERM; log:\n${out.slice(-2000)}`);
  assert.equal(code, 0);
  const lines = out.trim().split('\n');
  assert.match(lines.at(-1) ?? '', /"bridge stopped"/, `last log line: ${lines.at(-1)}`);
  assert.ok(tookMs < 10_000);
});

test('a subscription refused by the broker (SUBACK 128) is not hearing, and is retried until granted', async () => {
  // A real broker (Aedes, the embedded one) whose authorizer refuses subscriptions until told otherwise.
  let allow = false;
  const broker = await Aedes.createBroker({ authorizeSubscribe: (_c, sub, cb) => cb(null, allow ? sub : null) });
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.close(() => r()); broker.close(); }));
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  let connected = 0;
  let lost = 0;
  const link = connectMqtt({ url, env: 'default', clientId: `mc-refused-${Date.now()}`, logger: createSilentLogger(), publishTimeoutMs: 5_000, resubscribeMs: 300, onMessage: () => undefined, onConnected: () => { connected++; }, onDisconnected: () => { lost++; } });
  cleanups.push(() => link.close());
  await sleep(1_500);
  assert.equal(link.isConnected(), false, 'connected but refused: not hearing');
  assert.equal(connected, 0);
  allow = true;
  await eventually('subscription granted after the retry', async () => (link.isConnected() ? true : undefined), 10_000);
  assert.equal(connected, 1);
  assert.equal(lost, 0);
  await link.close();
});

test('a leading bridge that cannot hear the broker gives up leadership, and a replica that hears takes over within seconds', async () => {
  // Two bridges with leader election on the real control plane (4 s leases); A reaches the broker
  // through a TCP proxy, B directly. Cutting the proxy makes A deaf while the API server stays reachable.
  const broker = await useTestBroker();
  cleanups.push(() => broker.close());
  const target = new URL(broker.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port));
  cleanups.push(() => proxy.close());
  const leaseName = `mc-deaf-leader-${Date.now()}`;
  cleanups.push(() => cluster.coordination.deleteNamespacedLease({ name: leaseName, namespace: 'default' }));
  const a = startTestBridge(cluster, `mqtt://127.0.0.1:${proxy.port}`, { leader: true, leaseName, instanceId: `deaf-a-${Date.now()}` });
  cleanups.push(() => a.stop());
  await eventually('A hears and leads', async () => (a.isLeader() ? true : undefined), 20_000, 100);
  const b = startTestBridge(cluster, broker.url, { leader: true, leaseName, instanceId: `deaf-b-${Date.now()}` });
  cleanups.push(() => b.stop());
  await eventually('B hears', async () => (b.readiness() === undefined ? true : undefined), 20_000, 100);
  await sleep(2_000);
  assert.equal(b.isLeader(), false, 'B stands by while A leads and hears');
  assert.equal(a.isLeader(), true);

  const t0 = Date.now();
  proxy.cut();
  await eventually('A gives up leadership', async () => (a.isLeader() ? undefined : true), 10_000, 50);
  await eventually('B leads', async () => (b.isLeader() ? true : undefined), 10_000, 50);
  const tookMs = Date.now() - t0;
  assert.ok(tookMs < 8_000, `B led ${tookMs} ms after A went deaf (lease 4 s)`);
  const lease = await cluster.coordination.readNamespacedLease({ name: leaseName, namespace: 'default' });
  assert.equal(lease.spec?.holderIdentity, b.instanceId);
  // Deaf past 2 lease durations, A may lead again only on a free lease: B holds it, so A keeps waiting.
  await sleep(9_000);
  assert.equal(a.isLeader(), false, 'a deaf replica never takes the lease a hearing one holds');
  assert.equal(b.isLeader(), true);
  proxy.heal();
  await sleep(2_000);
  assert.equal(a.isLeader(), false, 'hearing again, A stands by: B still holds the lease');
  await b.stop();
  await a.stop();
});
