/** The thin API client (core/kube-http.ts) the bridge uses, on the test cluster's admin kubeconfig: one per cluster. */
import { loadKubeConnection } from '../../core/kube-connection.ts';
import { createKubeHttp, type KubeHttp } from '../../core/kube-http.ts';
import type { TestCluster } from './cluster.ts';

const clients = new WeakMap<TestCluster, KubeHttp>();

export function kubeHttpOf(cluster: TestCluster): KubeHttp {
  let kube = clients.get(cluster);
  if (!kube) clients.set(cluster, (kube = createKubeHttp(loadKubeConnection(cluster.kubeconfig))));
  return kube;
}
