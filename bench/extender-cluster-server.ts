/**
 * The throughput benchmark's extender: `startExtenderServer` (informers on the real control plane,
 * as `module-controller extender` runs) in a process of its own with the shipped runtime options,
 * as in a cluster, where the extender is a pod of its own — not sharing an event loop with the
 * benchmark's pod creation, watch and lists. Driven over IPC by bench/extender.ts:
 * `{ kubeconfig }` → `{ port }` once its informers have synced; `'metrics'` → its /metrics text.
 */
import * as k8s from '@kubernetes/client-node';
import { startExtenderServer, type ExtenderServer } from '../extender/server.ts';
import { createSilentLogger } from '../core/logger.ts';
import { createRegistry } from '../core/ops-routes.ts';

const registry = createRegistry(false);
let server: ExtenderServer | undefined;

process.on('message', (msg: { kubeconfig: string } | 'metrics') => {
  if (msg === 'metrics') {
    void registry.metrics().then((text) => process.send!(text));
    return;
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(msg.kubeconfig);
  void (async () => {
    server = await startExtenderServer({ kc, logger: createSilentLogger(), registry, port: 0, host: '127.0.0.1', maxModulesPerBase: 100, placementTtlMs: 30_000, maxBodyBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 200 && server.snapshot.notReadyReason(); i++) await new Promise((r) => setTimeout(r, 100));
    process.send!({ port: server.port });
  })();
});
process.on('disconnect', () => void server?.close().finally(() => process.exit(0)));
