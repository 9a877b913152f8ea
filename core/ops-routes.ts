/**
 * The operational endpoints every service serves: /healthz (the process is alive), /readyz (it can
 * do its job: informers synced, broker connected…) and Prometheus /metrics.
 */
import type { Express } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** Returns undefined when ready, or the reason it is not. */
export type ReadinessCheck = () => string | undefined;

export function createRegistry(withDefaults = true): Registry {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
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
