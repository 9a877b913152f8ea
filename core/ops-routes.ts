/**
 * The operational endpoints every service serves: /healthz (the process is alive), /readyz (it can
 * do its job: informers synced, broker connected…) and Prometheus /metrics.
 */
import type { Express } from 'express';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { readBuildInfo } from './version.ts';

/** Returns undefined when ready, or the reason it is not. */
export type ReadinessCheck = () => string | undefined;

/**
 * A registry with `module_controller_build_info{version,node_version} 1` (the usual build_info
 * idiom: join on it to see which version runs where) and, unless told not to, the Node.js defaults.
 */
export function createRegistry(withDefaults = true): Registry {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
  const info = readBuildInfo();
  new Gauge({ name: 'module_controller_build_info', help: 'Always 1; the labels say which module-controller and Node.js run here', labelNames: ['version', 'node_version'], registers: [registry] })
    .labels(info.version, info.node)
    .set(1);
  return registry;
}

export function addOpsRoutes(app: Express, registry: Registry, ready: ReadinessCheck): void {
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const reason = ready();
    if (reason) res.status(503).type('text/plain').send(`not ready: ${reason}`);
    else res.type('text/plain').send('ok');
  });
  app.get('/metrics', (_req, res, next) => {
    registry
      .metrics()
      .then((text) => res.type(registry.contentType).send(text))
      .catch(next);
  });
}
