/** The bridge's Prometheus metrics, registered on the registry passed in from the entry point. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface BridgeMetrics {
  readonly bases: Gauge<'state'>;
  readonly messages: Counter<'kind' | 'outcome'>;
  readonly reconciles: Counter<'queue' | 'outcome'>;
  readonly reconcileSeconds: Histogram<'queue'>;
  readonly operations: Counter<'command' | 'result'>;
  readonly operationSeconds: Histogram<'command'>;
  readonly apiWrites: Counter<'resource' | 'verb'>;
  readonly leader: Gauge;
  readonly mqttHearing: Gauge;
  readonly shardsOwned: Gauge;
  readonly basesOwned: Gauge;
  readonly shardTransitions: Counter<'transition'>;
}

export function createBridgeMetrics(registry: Registry): BridgeMetrics {
  const registers = [registry];
  return {
    bases: new Gauge({ name: 'module_controller_bridge_bases', help: 'Known bases by liveness state', labelNames: ['state'], registers }),
    messages: new Counter({ name: 'module_controller_bridge_mqtt_messages_total', help: 'Base messages by kind and outcome', labelNames: ['kind', 'outcome'], registers }),
    reconciles: new Counter({ name: 'module_controller_bridge_reconciles_total', help: 'Reconciles by queue and outcome', labelNames: ['queue', 'outcome'], registers }),
    reconcileSeconds: new Histogram({ name: 'module_controller_bridge_reconcile_seconds', help: 'Reconcile duration', labelNames: ['queue'], buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10], registers }),
    operations: new Counter({ name: 'module_controller_bridge_module_operations_total', help: 'install/uninstall commands by result', labelNames: ['command', 'result'], registers }),
    operationSeconds: new Histogram({ name: 'module_controller_bridge_module_operation_seconds', help: 'Time from sending installBiz/uninstallBiz to the base\'s answer', labelNames: ['command'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60], registers }),
    apiWrites: new Counter({ name: 'module_controller_bridge_api_writes_total', help: 'Kubernetes API writes by resource and verb', labelNames: ['resource', 'verb'], registers }),
    leader: new Gauge({ name: 'module_controller_bridge_is_leader', help: '1 when this replica is the active leader', registers }),
    shardsOwned: new Gauge({ name: 'module_controller_bridge_shards_owned', help: 'Shards this replica serves (all of them without --leader-elect)', registers }),
    basesOwned: new Gauge({ name: 'module_controller_bridge_bases_owned', help: 'Known bases whose shard this replica serves', registers }),
    shardTransitions: new Counter({ name: 'module_controller_bridge_shard_transitions_total', help: 'Shards acquired, released (handed back) and lost (taken or not renewed in time)', labelNames: ['transition'], registers }),
    mqttHearing: new Gauge({ name: 'module_controller_bridge_mqtt_hearing', help: '1 while the MQTT link is connected and every subscription granted (liveness is frozen while 0)', registers }),
  };
}
