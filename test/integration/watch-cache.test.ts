// Cache freshness on the real control plane: the client reaches kube-apiserver through a TCP link
// the test cuts (every connection reset, new ones refused) and heals — a real network fault between
// a replica and its API server. While cut the cache is stale and must say so; it is fresh again only
// after a relist that sees what changed meanwhile.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { createSilentLogger } from '../../core/logger.ts';
import { startWatchCache } from '../../core/watch-cache.ts';
import { loadKubeConnection } from '../../core/kube-connection.ts';
import { createKubeHttp, type KubeHttp } from '../../core/kube-http.ts';
import { ClusterSnapshot } from '../../extender/snapshot.ts';
import { PlacementMemory } from '../../extender/placement-memory.ts';
import { ALL_SOURCES, watchCluster } from '../../extender/informers.ts';
import { getTestCluster, eventually } from '../support/cluster.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { kubeHttpOf } from '../support/kube-http.ts';

const cluster = await getTestCluster();
const proxies: TcpProxy[] = [];
after(async () => {
  for (const p of proxies) await p.close();
});

/** A KubeConfig for the test cluster whose connections go through a link the test can cut. */
async function viaCuttableLink(): Promise<{ kc: k8s.KubeConfig; link: TcpProxy }> {
  const real = new URL(cluster.kc.getCurrentCluster()!.server);
  const link = await startTcpProxy(real.hostname, Number(real.port || 443));
  proxies.push(link);
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: cluster.kc.clusters.map((c) => ({ ...c, server: `${real.protocol}//127.0.0.1:${link.port}` })),
    users: cluster.kc.users,
    contexts: cluster.kc.contexts,
    currentContext: cluster.kc.getCurrentContext(),
  });
  return { kc, link };
}

/** The bridge's client (core/kube-http.ts) for the test cluster, its connections through a link the test can cut. */
async function kubeViaCuttableLink(): Promise<{ kube: KubeHttp; link: TcpProxy }> {
  const conn = loadKubeConnection(cluster.kubeconfig);
  const real = new URL(conn.server);
  const link = await startTcpProxy(real.hostname, Number(real.port || 443));
  proxies.push(link);
  const kube = createKubeHttp({ server: `${real.protocol}//127.0.0.1:${link.port}`, tls: conn.tls, source: conn.source, headers: () => conn.headers() });
  return { kube, link };
}

const listConfigMaps = (kube: KubeHttp, ns: string) => () => kube.request<k8s.V1ConfigMapList>({ method: 'GET', path: `/api/v1/namespaces/${ns}/configmaps` });

test('watch cache: stale from a broken watch until the relist after it, which sees the changes made meanwhile', async () => {
  const ns = await cluster.createNamespace('wc');
  const { kube, link } = await kubeViaCuttableLink();
  const changes: string[] = [];
  let freshEvents = 0;
  const cache = startWatchCache<k8s.V1ConfigMap>({
    watch: kube.watch.bind(kube),
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: listConfigMaps(kube, ns),
    logger: createSilentLogger(),
    onChange: (o, verb) => changes.push(`${verb} ${o.metadata?.name}`),
    onFresh: () => freshEvents++,
  });
  try {
    await cache.synced;
    await eventually('fresh after the first list and watch', async () => (cache.isFresh() ? true : undefined), 10_000);
    assert.equal(freshEvents, 1);
    await cluster.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' }, data: { v: '1' } } });
    await eventually('the watch delivers a change', async () => (cache.get('before', ns) ? true : undefined), 10_000);
    assert.equal(cache.isFresh(), true);

    link.cut();
    await eventually('not fresh once the watch broke', async () => (cache.isFresh() ? undefined : true), 10_000, 20);
    // Changes the cache cannot see while the link is cut.
    await cluster.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'during' }, data: { v: '1' } } });
    await cluster.core.deleteNamespacedConfigMap({ name: 'before', namespace: ns });
    for (let i = 0; i < 20; i++) {
      assert.equal(cache.isFresh(), false, 'stale for as long as the link is cut');
      await sleep(100);
    }
    assert.equal(cache.isSynced(), true, 'synced stays true: it says the first list happened, nothing more');
    assert.ok(cache.get('before', ns), 'the cache still holds what it last saw (stale)');
    assert.equal(cache.get('during', ns), undefined);

    changes.length = 0;
    link.heal();
    // Fresh only with the relist's result in: at every instant it says fresh, it has both changes.
    await eventually('fresh again after the relist', async () => {
      if (!cache.isFresh()) return undefined;
      assert.ok(cache.get('during', ns), 'fresh implies the object created during the outage is there');
      assert.equal(cache.get('before', ns), undefined, 'and the deleted one is gone');
      return true;
    }, 20_000, 10);
    assert.equal(freshEvents, 2);
    assert.ok(changes.includes('add during'), changes.join(', '));
    assert.ok(changes.includes('delete before'), changes.join(', '));

    // And the watch works again after the relist.
    await cluster.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after' }, data: { v: '1' } } });
    await eventually('the new watch delivers changes', async () => (cache.get('after', ns) ? true : undefined), 10_000);
    assert.equal(cache.isFresh(), true);
  } finally {
    await cache.stop();
    kube.destroy();
  }
});

test('extender informers: freshness follows every cache through a broken link', async () => {
  const { kc, link } = await viaCuttableLink();
  const snapshot = new ClusterSnapshot(new PlacementMemory(30_000, Date.now), ALL_SOURCES);
  const watch = watchCluster(kc, snapshot, createSilentLogger());
  try {
    await eventually('synced and fresh', async () => (watch.isFresh() && snapshot.notReadyReason() === undefined ? true : undefined), 15_000);
    link.cut();
    await eventually('stale once the watches broke', async () => (watch.isFresh() ? undefined : true), 10_000, 20);
    await sleep(1_000);
    assert.equal(watch.isFresh(), false);
    link.heal();
    await eventually('fresh after relisting', async () => (watch.isFresh() ? true : undefined), 20_000);
  } finally {
    await watch.stop();
  }
});

test('watch cache transform: listed and watched objects are stored and reported as transformed, managedFields gone', async () => {
  const ns = await cluster.createNamespace('wct');
  const kube = kubeHttpOf(cluster);
  await cluster.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'listed', labels: { keep: 'yes' } }, data: { big: 'x'.repeat(1000) } } });
  const seen: Array<{ verb: string; name: string; keys: string[]; data: unknown }> = [];
  const slim = (o: k8s.V1ConfigMap): k8s.V1ConfigMap => ({ metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion, labels: o.metadata?.labels } });
  const cache = startWatchCache<k8s.V1ConfigMap>({
    watch: kube.watch.bind(kube), path: `/api/v1/namespaces/${ns}/configmaps`, list: listConfigMaps(kube, ns), logger: createSilentLogger(),
    transform: slim,
    onChange: (o, verb) => seen.push({ verb, name: o.metadata?.name ?? '', keys: Object.keys(o.metadata ?? {}).sort(), data: o.data }),
  });
  try {
    await cache.synced;
    await eventually('fresh', async () => (cache.isFresh() ? true : undefined), 10_000);
    await cluster.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'watched', labels: { keep: 'too' } }, data: { big: 'y'.repeat(1000) } } });
    await eventually('the watched object arrives', async () => (cache.get('watched', ns) ? true : undefined), 10_000);
    for (const name of ['listed', 'watched']) {
      const o = cache.get(name, ns)!;
      assert.equal(o.data, undefined, `${name}: data dropped`);
      assert.equal(o.metadata?.managedFields, undefined, `${name}: managedFields dropped`);
      assert.ok(o.metadata?.labels?.['keep'], `${name}: labels kept`);
    }
    await cluster.core.deleteNamespacedConfigMap({ name: 'watched', namespace: ns });
    await eventually('the delete arrives', async () => (cache.get('watched', ns) ? undefined : true), 10_000);
    // kube-root-ca.crt: the ConfigMap kube-controller-manager publishes into every namespace.
    assert.deepEqual(seen.filter((s) => s.name !== 'kube-root-ca.crt').map((s) => `${s.verb} ${s.name}`), ['add listed', 'add watched', 'delete watched']);
    for (const s of seen) {
      assert.equal(s.data, undefined);
      assert.deepEqual(s.keys, ['labels', 'name', 'namespace', 'resourceVersion']);
    }
  } finally {
    await cache.stop();
  }
});
