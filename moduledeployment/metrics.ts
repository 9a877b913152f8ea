/**
 * The controller's Prometheus metrics, registered on the registry created at the entry point; every
 * name starts with `module_controller_module_deployment_` (one prefix per component, like the others).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface MdMetrics {
  readonly reconciles: Counter<'outcome'>;
  readonly actions: Counter<'kind'>;
  readonly deployments: Gauge;
}

export function createMdMetrics(registry: Registry): MdMetrics {
  return {
    reconciles: new Counter({ name: 'module_controller_module_deployment_reconciles_total', help: 'ModuleDeployment reconciles by outcome', labelNames: ['outcome'], registers: [registry] }),
    actions: new Counter({ name: 'module_controller_module_deployment_actions_total', help: 'Actions applied by kind (ReplicaSet create/scale/update/delete, Service, node link, event)', labelNames: ['kind'], registers: [registry] }),
    deployments: new Gauge({ name: 'module_controller_module_deployment_objects', help: 'ModuleDeployments watched (both groups)', registers: [registry] }),
  };
}
