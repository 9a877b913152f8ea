// bridge/events.ts against the real API server: repeats aggregate into one Event (count, lastTimestamp).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { createEventRecorder, EVENT_MESSAGE_MAX, EVENT_WINDOW_MS } from '../../bridge/events.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createCoreApi } from '../../core/kube-apis.ts';
import { kubeHttpOf } from '../support/kube-http.ts';

const cluster = await getTestCluster();
const core = createCoreApi(kubeHttpOf(cluster));

test('the same reason and message on one object is one Event whose count grows; another message is another Event', async () => {
  const ns = await cluster.createNamespace('events');
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const record = createEventRecorder(core, 'module-controller-bridge', 'test', createSilentLogger(), () => clock);
  const pod = { kind: 'Pod' as const, name: 'p1', namespace: ns, uid: 'uid-1' };
  const list = async () => (await cluster.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.name === 'p1');
  record(pod, 'Warning', 'InstallFailed', 'module orders:1.0.0: FAILED: jar not found');
  await eventually('the first Event', async () => ((await list()).length === 1 ? true : undefined));
  for (let i = 0; i < 4; i++) {
    clock += 30_000;
    record(pod, 'Warning', 'InstallFailed', 'module orders:1.0.0: FAILED: jar not found');
    // One write at a time, like retries spaced by a backoff.
    await eventually(`count ${i + 2}`, async () => ((await list())[0]?.count === i + 2 ? true : undefined));
  }
  const [one] = await list();
  assert.equal(new Date(one!.lastTimestamp!).getTime(), clock);
  assert.equal(new Date(one!.firstTimestamp!).getTime(), clock - 120_000);
  record(pod, 'Warning', 'InstallFailed', 'x'.repeat(5_000));
  await eventually('a second Event, its message truncated', async () => {
    const all = await list();
    const long = all.find((e) => e.message?.startsWith('xxx'));
    return all.length === 2 && long ? long : undefined;
  }).then((e) => assert.equal(e.message!.length, EVENT_MESSAGE_MAX));
  // After the window a repeat starts a new Event.
  clock += EVENT_WINDOW_MS;
  record(pod, 'Warning', 'InstallFailed', 'module orders:1.0.0: FAILED: jar not found');
  await eventually('a new Event after the window', async () => ((await list()).length === 3 ? true : undefined));
});

test('the memory of recent Events stays bounded', () => {
  let clock = 0;
  const record = createEventRecorder(core, 'c', 'i', createSilentLogger(), () => clock, 20);
  // The namespace does not exist: creates fail (and are forgotten), which is all this needs.
  for (let i = 0; i < 60; i++) {
    clock++;
    record({ kind: 'Pod', name: `p${i}`, namespace: 'no-such-namespace' }, 'Normal', 'X', 'y');
    assert.ok(record.remembered() <= 20, String(record.remembered()));
  }
});
