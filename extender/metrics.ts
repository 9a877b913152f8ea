/**
 * The extender's Prometheus metrics, registered on the registry created at the entry point. Every
 * component's metrics share the `module_controller_` prefix; the extender's were called
 * `module_extender_*` before (docs/extender.md "Metrics" lists the renames).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ExtenderMetrics {
  /** Seconds per request, by verb (filter, prioritize, assume: a peer's push) and outcome (ok, bad_request, not_ready, unauthorized, error). */
  readonly requestSeconds: Histogram<'verb' | 'outcome'>;
  /** One count per node per filter call: `fits` or the rejection code. */
  readonly nodeDecisions: Counter<'reason'>;
  readonly assumedPlacements: Gauge;
  /** Assumptions dropped because the placement memory was full (--max-assumed-placements). */
  readonly assumedEvicted: Counter;
  /** Pushes of an assumed placement to a peer replica, by outcome (ok, error, timeout, skipped). */
  readonly peerPushes: Counter<'outcome'>;
  /** How long an answer waited for its peers to take the assumption. */
  readonly peerWaitSeconds: Histogram;
  /** Peer replicas by state (up: waited for; down: last push failed, not waited for until one succeeds). */
  readonly peers: Gauge<'state'>;
  /** Expiry of the HTTPS serving certificate (`serving`) and of the client CA (`client-ca`), when used. */
  readonly certExpiry: Gauge<'certificate'>;
}

export function createExtenderMetrics(registry: Registry, assumedCount: () => number): ExtenderMetrics {
  return {
    requestSeconds: new Histogram({
      name: 'module_controller_extender_request_duration_seconds',
      help: 'Time to answer one scheduler extender request',
      labelNames: ['verb', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    nodeDecisions: new Counter({
      name: 'module_controller_extender_node_decisions_total',
      help: 'Filter decisions per node: fits, or the reason it was turned down',
      labelNames: ['reason'],
      registers: [registry],
    }),
    assumedPlacements: new Gauge({
      name: 'module_controller_extender_assumed_placements',
      help: 'Placements the extender assumed and has not yet seen bound',
      registers: [registry],
      collect() {
        this.set(assumedCount());
      },
    }),
    certExpiry: new Gauge({
      name: 'module_controller_extender_cert_expiry_timestamp_seconds',
      help: 'Expiry (Unix seconds) of the extender\'s serving certificate (certificate="serving") and of the latest client CA certificate (certificate="client-ca"), when HTTPS is on',
      labelNames: ['certificate'],
      registers: [registry],
    }),
    peerPushes: new Counter({
      name: 'module_controller_extender_peer_pushes_total',
      help: 'Assumed placements pushed to another extender replica, by outcome (ok, error, timeout; skipped: the peer is down and a push to it is already under way)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    peerWaitSeconds: new Histogram({
      name: 'module_controller_extender_peer_wait_seconds',
      help: 'Time an extender answer waited for the other replicas to take its assumed placement',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    }),
    peers: new Gauge({
      name: 'module_controller_extender_peers',
      help: 'Other extender replicas found through the Service\'s EndpointSlices, by state (up, down: its last push failed)',
      labelNames: ['state'],
      registers: [registry],
    }),
    assumedEvicted: new Counter({
      name: 'module_controller_extender_assumed_placements_evicted_total',
      help: 'Assumed placements dropped before their TTL because the placement memory was full (--max-assumed-placements)',
      registers: [registry],
    }),
  };
}
