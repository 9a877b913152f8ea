// The client-side rate limit sits in front of every request a KubeConfig makes — generated API
// clients and watches — against the real API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { keepAliveLibraryOf, withRateLimit, withSharedAgents } from '../../core/kubeconfig.ts';
import type { RateLimiter } from '../../core/rate-limiter.ts';
import { getTestCluster } from '../support/cluster.ts';

const cluster = await getTestCluster();

/** A limiter the test opens by hand, counting the requests that asked it. */
function gatedLimiter(): { asked: () => number; release: () => void; limiter: RateLimiter } {
  const waiting: Array<() => void> = [];
  let asked = 0;
  let open = false;
  return {
    asked: () => asked,
    release() {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
    limiter: {
      reserve: () => 0,
      wait: () => {
        asked++;
        return open ? Promise.resolve() : new Promise<void>((r) => waiting.push(r));
      },
    },
  };
}

test('every API call and every watch of a rate-limited KubeConfig waits for the limiter first', async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const gate = gatedLimiter();
  withRateLimit(kc, gate.limiter);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let answered = false;
  const call = core.listNamespace({ limit: 1 }).then((r) => {
    answered = true;
    return r;
  });
  const events: string[] = [];
  let watchStarted = false;
  const watching = new k8s.Watch(kc).watch('/api/v1/namespaces', { limit: 1 }, (type) => events.push(type), () => undefined).then((c) => {
    watchStarted = true;
    return c;
  });
  await sleep(300);
  assert.equal(gate.asked(), 2, 'the API call and the watch both asked the limiter');
  assert.equal(answered, false, 'the API call waits for its token');
  assert.equal(watchStarted, false, 'the watch waits for its token');
  gate.release();
  const list = await call;
  assert.ok(list.items.length >= 1, 'the real API server answered');
  const controller = await watching;
  controller.abort();
  assert.equal(watchStarted, true);
});

test('API clients keep their connection to the real API server alive; watches work beside them', async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  withSharedAgents(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const events: string[] = [];
  const watch = await new k8s.Watch(kc).watch('/api/v1/namespaces', {}, (type) => events.push(type), () => undefined);
  const name = `keepalive-${Date.now().toString(36)}`;
  try {
    for (let i = 0; i < 20; i++) assert.ok((await core.listNamespace()).items.length >= 1);
    await core.createNamespace({ body: { metadata: { name } } });
    await core.patchNamespace({ name, body: { metadata: { labels: { step: 'patched' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.equal((await core.readNamespace({ name })).metadata?.labels?.['step'], 'patched');
    await assert.rejects(core.readNamespace({ name: `${name}-missing` }), (err: unknown) => (err as { code?: number }).code === 404);
    const opened = keepAliveLibraryOf(kc)!.connectionsOpened();
    assert.ok(opened >= 1 && opened <= 2, `24 sequential requests opened ${opened} connections`);
    for (let i = 0; i < 50 && !events.includes('ADDED'); i++) await sleep(100);
    assert.ok(events.includes('ADDED'), 'the watch saw the namespaces');
  } finally {
    watch.abort();
    await core.deleteNamespace({ name }).catch(() => undefined);
  }
});
