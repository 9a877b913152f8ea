// The thin API client against the real kube-apiserver, through the admin kubeconfig the sandbox
// writes (client certificates in files): reads, writes with each patch type, the API's own errors,
// one HTTP/2 connection for many requests and a watch, and a watch from a list's resourceVersion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKubeConnection } from '../../core/kube-connection.ts';
import { createKubeHttp, KubeApiError, PATCH } from '../../core/kube-http.ts';
import { getTestCluster, eventually } from '../support/cluster.ts';

const cluster = await getTestCluster();

interface ConfigMap { metadata: { name: string; resourceVersion?: string; labels?: Record<string, string> }; data?: Record<string, string> }

test('kube-http: requests, patches, errors and a watch on the real API server', async (t) => {
  const ns = await cluster.createNamespace('kh');
  const kube = createKubeHttp(loadKubeConnection(cluster.kubeconfig));
  t.after(() => kube.destroy());
  const base = `/api/v1/namespaces/${ns}/configmaps`;

  const list0 = await kube.request<{ metadata: { resourceVersion: string }; items: ConfigMap[] }>({ method: 'GET', path: base });
  const events: string[] = [];
  let ended: unknown = 'open';
  const watch = await kube.watch(base, { resourceVersion: list0.metadata.resourceVersion, allowWatchBookmarks: true }, (type, obj: ConfigMap) => events.push(`${type} ${obj.metadata.name}`), (err) => (ended = err));

  const created = await kube.request<ConfigMap>({ method: 'POST', path: base, body: { metadata: { name: 'a', labels: { x: '1' } }, data: { k: 'v' } } });
  assert.equal(created.metadata.name, 'a');
  const merged = await kube.request<ConfigMap>({ method: 'PATCH', path: `${base}/a`, body: { data: { k2: 'v2' } }, contentType: PATCH.merge });
  assert.deepEqual(merged.data, { k: 'v', k2: 'v2' });
  const strategic = await kube.request<ConfigMap>({ method: 'PATCH', path: `${base}/a`, body: { metadata: { labels: { y: '2' } } }, contentType: PATCH.strategic });
  assert.deepEqual(strategic.metadata.labels, { x: '1', y: '2' });
  const jsonPatched = await kube.request<ConfigMap>({ method: 'PATCH', path: `${base}/a`, body: [{ op: 'remove', path: '/data/k' }], contentType: PATCH.json });
  assert.deepEqual(jsonPatched.data, { k2: 'v2' });

  // The API server's errors: code and Status body, as callers check them.
  await assert.rejects(kube.request({ method: 'POST', path: base, body: { metadata: { name: 'a' } } }), (e: unknown) => e instanceof KubeApiError && e.code === 409 && JSON.parse(e.body).reason === 'AlreadyExists');
  await assert.rejects(kube.request({ method: 'GET', path: `${base}/missing` }), (e: unknown) => e instanceof KubeApiError && e.code === 404 && /configmaps "missing" not found/.test(e.message));
  await assert.rejects(kube.request({ method: 'PUT', path: `${base}/a`, body: { metadata: { name: 'a', resourceVersion: created.metadata.resourceVersion } } }), (e: unknown) => e instanceof KubeApiError && e.code === 409);
  await assert.rejects(kube.request({ method: 'DELETE', path: `${base}/a`, body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } }), (e: unknown) => e instanceof KubeApiError && e.code === 409);

  const before = kube.connectionsOpened();
  await Promise.all(Array.from({ length: 30 }, () => kube.request({ method: 'GET', path: `${base}/a` })));
  assert.equal(kube.connectionsOpened(), before, '30 parallel reads on the kept connection, none new');
  assert.equal(kube.protocol(), 'h2', 'the API server is spoken to over HTTP/2, as client-go does');
  assert.equal(before, 1, 'one connection for everything, the watch included');

  await kube.request({ method: 'DELETE', path: `${base}/a` });
  await eventually('the watch saw every change', async () => (events.length >= 5 ? true : undefined), 10_000);
  assert.deepEqual(events, ['ADDED a', 'MODIFIED a', 'MODIFIED a', 'MODIFIED a', 'DELETED a']);
  watch.abort();
  assert.equal(ended, undefined);

  // A watch the API server refuses (an invalid resourceVersion) rejects with its status.
  await assert.rejects(kube.watch(base, { resourceVersion: 'not-a-number' }, () => undefined, () => undefined), (e: unknown) => e instanceof KubeApiError && e.code >= 400 && /resourceVersion/.test(e.message));
});
