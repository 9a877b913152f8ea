// base-sim against real brokers — the in-process Aedes and Mosquitto — with a stand-in controller:
// heartbeats, baseline, install/uninstall/queryAllBiz/health replies, garbage, silence and restart,
// and 1,000 bases in one process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAsync } from 'mqtt';
import { parseBatchInstallResponse, parseBizOperation, parseHealth, parseHeartbeat, parseModuleList, parseQueryBaseline } from '../../core/protocol.ts';
import { toBaseTopic, toCommandTopic } from '../../core/topics.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../sandbox/embedded-broker.ts';
import { startFleet, type Fleet } from '../../base-sim/fleet.ts';
import type { SimEvent } from '../../base-sim/sim-base.ts';
import { mosquittoUrlFromEnv } from '../support/cluster.ts';
import { startTestController, type Received, type TestController } from '../base-sim/test-controller.ts';

const HEARTBEAT_MS = 300;
const LATENCY_MS = 50;
const jar = (name: string, version: string) => `https://repo.invalid/${name}-${version}-ark-biz.jar`;

function suite(brokerName: string, getUrl: () => Promise<{ url: string; close(): Promise<void> }>, skip?: string) {
  describe(`base-sim on ${brokerName}`, { skip }, () => {
    const env = `bs${Math.random().toString(36).slice(2, 7)}`;
    let broker: { url: string; close(): Promise<void> };
    let ctl: TestController;
    let fleet: Fleet;
    const events: SimEvent[] = [];

    before(async () => {
      broker = await getUrl();
      ctl = await startTestController(broker.url, env);
      fleet = await startFleet({
        url: broker.url,
        env,
        count: 3,
        identityPrefix: 'sim-',
        name: 'base',
        version: '1.0.0',
        clusterName: 'c1',
        heartbeatPeriodMs: HEARTBEAT_MS,
        installLatencyMs: LATENCY_MS,
        onEvent: (e) => events.push(e),
      });
    });
    after(async () => {
      await fleet?.stop();
      await ctl?.close();
      await broker?.close();
    });

    const reply = (identity: string, kind: string, after: number, what = `${kind} from ${identity}`) =>
      ctl.waitFor(what, (m) => m.identity === identity && m.kind === kind, { after });
    const moduleList = async (identity: string) => {
      const mark = ctl.mark();
      await ctl.send(identity, 'queryAllBiz', {});
      const m = await reply(identity, 'simpleBiz', mark);
      const parsed = parseModuleList('simpleBiz', m.text);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      return parsed.value.data.map((x) => `${x.bizName}:${x.bizVersion}=${x.state}`);
    };
    const operation = async (identity: string, command: 'installBiz' | 'uninstallBiz', payload: unknown) => {
      const mark = ctl.mark();
      await ctl.send(identity, command, payload);
      const m = await reply(identity, 'bizOperation', mark);
      const parsed = parseBizOperation(m.text);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      return parsed.value.data;
    };

    test('at connect every base asks for its baseline and heartbeats, then keeps heartbeating', async () => {
      for (const b of fleet.bases) {
        const qb = await reply(b.identity, 'queryBaseline', 0);
        const parsed = parseQueryBaseline(qb.text);
        assert.ok(parsed.ok);
        assert.deepEqual(parsed.value.data, { identity: b.identity, name: 'base', version: '1.0.0', clusterName: 'c1' });
        assert.equal(qb.topic, toBaseTopic(env, b.identity, 'queryBaseline'));
      }
      const first = await reply('sim-1', 'heart', 0);
      const hb = parseHeartbeat(first.text);
      assert.ok(hb.ok);
      assert.deepEqual(hb.value.data, {
        baseMetadata: { identity: 'sim-1', name: 'base', version: '1.0.0', clusterName: 'c1' },
        localIP: '127.1.0.2',
        localHostName: 'base-sim-1',
        port: 0,
        state: 'activated',
      });
      assert.ok(Math.abs(hb.value.publishTimestamp - Date.now()) < 10_000);
      await reply('sim-1', 'heart', first.seq + 1, 'a second heartbeat');
      const beats = ctl.all((m) => m.identity === 'sim-1' && m.kind === 'heart');
      assert.ok(beats.length >= 2);
      assert.equal(ctl.all((m) => m.identity === 'sim-1' && m.kind === 'queryBaseline').length, 1, 'queryBaseline only once');
    });

    test('a baseline answer is batch-installed and acknowledged on batchInstallBizResponse', async () => {
      const mark = ctl.mark();
      await ctl.send('sim-0', 'baseline', [
        { bizName: 'base-biz-a', bizVersion: '1.0.0', bizUrl: jar('base-biz-a', '1.0.0') },
        { bizName: 'base-biz-b', bizVersion: '2.0.0', bizUrl: jar('base-biz-b', '2.0.0') },
      ]);
      const m = await reply('sim-0', 'batchInstallBizResponse', mark);
      const parsed = parseBatchInstallResponse(m.text);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      assert.equal(parsed.value.data.response.code, 'SUCCESS');
      assert.deepEqual(await moduleList('sim-0'), ['base-biz-a:1.0.0=ACTIVATED', 'base-biz-b:2.0.0=ACTIVATED']);
      assert.deepEqual(fleet.get('sim-0')?.installed().map((x) => x.bizName), ['base-biz-a', 'base-biz-b']);
    });

    test('installBiz / queryAllBiz / uninstallBiz with SUCCESS, REPEAT_BIZ and NOT_FOUND_BIZ', async () => {
      const id = 'sim-2';
      assert.deepEqual(await moduleList(id), []);
      const model = { bizName: 'biz1', bizVersion: '0.0.1', bizUrl: jar('biz1', '0.0.1') };
      const t0 = Date.now();
      const ok = await operation(id, 'installBiz', model);
      assert.ok(Date.now() - t0 >= LATENCY_MS - 5, 'the reply comes after the install latency');
      assert.deepEqual([ok.command, ok.bizName, ok.bizVersion, ok.response.code], ['installBiz', 'biz1', '0.0.1', 'SUCCESS']);
      assert.deepEqual((ok.response.data as { bizInfos: unknown }).bizInfos, [{ bizName: 'biz1', bizVersion: '0.0.1', bizState: 'ACTIVATED' }]);
      assert.deepEqual(await moduleList(id), ['biz1:0.0.1=ACTIVATED']);

      const repeat = await operation(id, 'installBiz', model);
      assert.equal(repeat.response.code, 'FAILED');
      assert.equal((repeat.response.data as { code: string }).code, 'REPEAT_BIZ');

      const v2 = await operation(id, 'installBiz', { ...model, bizVersion: '0.0.2', bizUrl: jar('biz1', '0.0.2') });
      assert.equal(v2.response.code, 'SUCCESS');
      assert.deepEqual(await moduleList(id), ['biz1:0.0.1=ACTIVATED', 'biz1:0.0.2=DEACTIVATED']);

      const gone = await operation(id, 'uninstallBiz', { bizName: 'biz1', bizVersion: '0.0.1' });
      assert.equal(gone.response.code, 'SUCCESS');
      const missing = await operation(id, 'uninstallBiz', { bizName: 'biz1', bizVersion: '9.9.9' });
      assert.equal(missing.response.code, 'FAILED');
      assert.equal((missing.response.data as { code: string }).code, 'NOT_FOUND_BIZ');
      assert.deepEqual(await moduleList(id), ['biz1:0.0.2=DEACTIVATED']);
      assert.deepEqual(fleet.get(id)?.installed().map((x) => `${x.bizName}:${x.bizVersion}`), ['biz1:0.0.2']);
    });

    test('health replies carry real-looking health data', async () => {
      const mark = ctl.mark();
      await ctl.send('sim-0', 'health', {});
      const m = await reply('sim-0', 'health', mark);
      const h = parseHealth(m.text);
      assert.ok(h.ok, h.ok ? '' : h.reason);
      assert.equal(h.value.data.masterBizInfo?.bizState, 'ACTIVATED');
      assert.equal(h.value.data.jvm['java max metaspace'], -1);
      assert.ok((h.value.data.jvm['java used metaspace'] ?? 0) > 0);
      fleet.get('sim-0')?.setMasterBizState('DEACTIVATED');
      const mark2 = ctl.mark();
      await ctl.send('sim-0', 'health', '');
      const sick = parseHealth((await reply('sim-0', 'health', mark2)).text);
      assert.ok(sick.ok);
      assert.equal(sick.value.data.masterBizInfo?.bizState, 'DEACTIVATED');
      fleet.get('sim-0')?.setMasterBizState('ACTIVATED');
    });

    test('garbage on every command topic is ignored; the base keeps working', async () => {
      const id = 'sim-1';
      const before = ctl.mark();
      const garbage: Array<string | Buffer> = ['', 'not json', '{"publishTimestamp":0}', '[]', '42', 'null', Buffer.from([0xff, 0x00, 0xfe])];
      for (const kind of ['installBiz', 'uninstallBiz', 'health', 'queryAllBiz', 'baseline', 'noSuchCommand']) {
        for (const payload of garbage) await ctl.sendRaw(toCommandTopic(env, id, kind as 'health'), payload);
      }
      // Messages a base must never act on: other bases' and base → controller topics.
      await ctl.sendRaw(toBaseTopic(env, id, 'heart'), '{"publishTimestamp":0}');
      await ctl.sendRaw(`koupleless_${env}/${id}/base`, '{}');
      await sleep(LATENCY_MS * 4);
      assert.deepEqual(await moduleList(id), [], 'nothing was installed');
      // A JSON object without a bizUrl is a command arklet answers with a validation failure.
      const replies = ctl.all((m) => m.identity === id && m.kind === 'bizOperation', before);
      for (const r of replies) {
        const data = (JSON.parse(r.text) as { data: { response: { code: string } } }).data;
        assert.equal(data.response.code, 'FAILED');
      }
      const ignored = events.filter((e) => e.kind === 'ignored' && e.identity === id);
      assert.ok(ignored.length >= 30, `${ignored.length} messages reported as ignored`);
      const mark = ctl.mark();
      await reply(id, 'heart', mark, 'a heartbeat after the garbage');
      assert.equal(fleet.get(id)?.isConnected(), true);
    });

    test('the client id is <prefix>@@@<identity>: a broker-side takeover disconnects the base, which reconnects and re-subscribes', async () => {
      const b = fleet.get('sim-2')!;
      const modules = b.installed();
      const firstEvent = events.length;
      const impostor = await connectAsync(broker.url, { clientId: `koupleless@@@sim-2`, protocolVersion: 4, reconnectPeriod: 0 });
      for (let i = 0; i < 40 && !events.slice(firstEvent).some((e) => e.kind === 'disconnected' && e.identity === 'sim-2'); i++) await sleep(50);
      assert.ok(events.slice(firstEvent).some((e) => e.kind === 'disconnected' && e.identity === 'sim-2'), 'the takeover kicked the base off');
      await impostor.endAsync(true).catch(() => undefined);
      for (let i = 0; i < 100 && !events.slice(firstEvent).some((e) => e.kind === 'connected' && e.identity === 'sim-2'); i++) await sleep(50);
      assert.ok(b.isConnected(), 'the base reconnected by itself');
      assert.deepEqual(await moduleList('sim-2'), modules.map((x) => `${x.bizName}:${x.bizVersion}=${x.state}`), 'subscriptions restored');
      assert.equal(ctl.all((m) => m.identity === 'sim-2' && m.kind === 'queryBaseline').length, 1, 'queryBaseline only at the first connect');
    });

    test('silence() stops heartbeats and replies; resume() brings the base back with its modules', async () => {
      const b = fleet.get('sim-0')!;
      const modules = b.installed();
      await b.silence();
      assert.equal(b.isConnected(), false);
      const mark = ctl.mark();
      await ctl.send('sim-0', 'queryAllBiz', {});
      await sleep(HEARTBEAT_MS * 3);
      assert.deepEqual(ctl.all((m) => m.identity === 'sim-0', mark), [], 'a silent base sends nothing');
      await b.resume();
      const hb = await reply('sim-0', 'heart', mark, 'a heartbeat after resume');
      assert.ok(parseHeartbeat(hb.text).ok);
      assert.deepEqual(b.installed(), modules);
      assert.equal(ctl.all((m: Received) => m.identity === 'sim-0' && m.kind === 'queryBaseline', mark).length, 0, 'no second queryBaseline');
      assert.deepEqual(await moduleList('sim-0'), ['base-biz-a:1.0.0=ACTIVATED', 'base-biz-b:2.0.0=ACTIVATED']);
    });

    test('restart() forgets the modules and asks for the baseline again', async () => {
      const b = fleet.get('sim-0')!;
      const mark = ctl.mark();
      await b.restart();
      await reply('sim-0', 'queryBaseline', mark, 'queryBaseline after restart');
      assert.deepEqual(b.installed(), []);
      assert.deepEqual(await moduleList('sim-0'), []);
    });

    test('shutdown() says goodbye with a deactivated heartbeat, then goes quiet', async () => {
      const b = fleet.get('sim-1')!;
      const mark = ctl.mark();
      await b.shutdown();
      const last = await reply('sim-1', 'heart', mark, 'the goodbye heartbeat');
      const hb = parseHeartbeat(last.text);
      assert.ok(hb.ok);
      assert.equal(hb.value.data.state, 'deactivated');
      await sleep(HEARTBEAT_MS * 2);
      assert.equal(ctl.all((m) => m.identity === 'sim-1', last.seq + 1).length, 0);
      await assert.rejects(b.resume(), /stopped/);
    });
  });
}

function bigFleet(brokerName: string, getUrl: () => Promise<{ url: string; close(): Promise<void> }>, skip?: string) {
  test(`1,000 bases in one process on ${brokerName}: all connect, heartbeat and answer`, { skip, timeout: 120_000 }, async (t) => {
    const broker = await getUrl();
    const env = `big${Math.random().toString(36).slice(2, 7)}`;
    const ctl = await startTestController(broker.url, env);
    const t0 = Date.now();
    const fleet = await startFleet({ url: broker.url, env, count: 1000, heartbeatPeriodMs: 5_000, installLatencyMs: 0 });
    try {
      const connectMs = Date.now() - t0;
      const seen = async (kind: string, after = 0) => {
        for (let i = 0; i < 200; i++) {
          const ids = new Set(ctl.all((m) => m.kind === kind, after).map((m) => m.identity));
          if (ids.size === 1000) return ids;
          await sleep(100);
        }
        throw new Error(`only ${new Set(ctl.all((m) => m.kind === kind, after).map((m) => m.identity)).size} bases sent ${kind}`);
      };
      const ids = await seen('heart');
      assert.ok(ids.has('127.1.0.1') && ids.has('127.1.3.238'));
      const mark = ctl.mark();
      for (const b of fleet.bases) await ctl.send(b.identity, 'queryAllBiz', {});
      await seen('simpleBiz', mark);
      t.diagnostic(`${brokerName}: 1000 bases connected in ${connectMs} ms`);
    } finally {
      await fleet.stop();
      await ctl.close();
      await broker.close();
    }
  });
}

const aedes = async () => {
  const b: EmbeddedBroker = await startEmbeddedBroker();
  return { url: b.url, close: () => b.close() };
};
const mosquittoUrl = mosquittoUrlFromEnv();
// The runner owns Mosquitto's lifetime; closing here only forgets the URL.
const mosquitto = async () => ({ url: mosquittoUrl!, close: async () => undefined });
const noMosquitto = mosquittoUrl ? undefined : 'MC_TEST_MOSQUITTO_URL is not set (run through scripts/run-tests.ts, which starts Mosquitto)';

suite('Aedes (embedded)', aedes);
suite('Mosquitto', mosquitto, noMosquitto);
bigFleet('Aedes (embedded)', aedes);
bigFleet('Mosquitto', mosquitto, noMosquitto);
