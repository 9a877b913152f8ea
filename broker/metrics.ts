/** The broker's Prometheus metrics, registered on the registry passed in from the entry point. */
import { Counter, Gauge, type Registry } from 'prom-client';

export type MessageDirection = 'base_to_bridge' | 'bridge_to_base' | 'other';
export type AuthStage = 'connect' | 'publish' | 'subscribe';

export interface BrokerMetrics {
  readonly clients: Gauge;
  readonly messages: Counter<'direction'>;
  readonly authFailures: Counter<'stage' | 'code'>;
  readonly certNotAfter: Gauge<'listener'>;
}

export function createBrokerMetrics(registry: Registry): BrokerMetrics {
  const registers = [registry];
  return {
    clients: new Gauge({ name: 'module_controller_broker_clients_connected', help: 'MQTT clients connected now', registers }),
    messages: new Counter({ name: 'module_controller_broker_messages_total', help: 'Messages published by clients, by direction (from the topic)', labelNames: ['direction'], registers }),
    authFailures: new Counter({ name: 'module_controller_broker_auth_failures_total', help: 'Refused connects, publishes and subscriptions, by stage and deny code', labelNames: ['stage', 'code'], registers }),
    certNotAfter: new Gauge({ name: 'module_controller_broker_cert_expiry_timestamp_seconds', help: 'notAfter of the served TLS certificate', labelNames: ['listener'], registers }),
  };
}
