/** The Service sync's Prometheus metrics, registered once per registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

export const RECONCILE_OUTCOMES = ['created', 'updated', 'deleted', 'unchanged', 'blocked', 'conflict', 'not_leader', 'not_synced', 'error'] as const;
export type ReconcileOutcomeName = (typeof RECONCILE_OUTCOMES)[number];

export interface ServiceMetrics {
  readonly reconciles: Counter<'outcome'>;
  readonly managed: Gauge;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createServiceMetrics(registry: Registry, countManaged: () => number): ServiceMetrics {
  const reconciles = reuse(registry, 'module_controller_service_reconciles_total', () =>
    new Counter({
      name: 'module_controller_service_reconciles_total',
      help: 'Module Service reconciles by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  );
  for (const outcome of RECONCILE_OUTCOMES) reconciles.inc({ outcome }, 0);
  const managed = reuse(registry, 'module_controller_services_managed', () =>
    new Gauge({
      name: 'module_controller_services_managed',
      help: 'Module Services the bridge currently manages (from its cache)',
      registers: [registry],
      collect() {
        this.set(countManaged());
      },
    }),
  );
  return { reconciles, managed };
}
