/** The bridge's flags (each also an MC_* env var) and the typed config derived from them once. */
import { FLAG_SPELLINGS, MQTT_URL_SCHEMES, type FlagSpec, type FlagValues } from '../core/flags.ts';
import { toLeaderFlags } from '../core/leader-flags.ts';
import { DEFAULTS } from '../core/names.ts';

export const BRIDGE_FLAGS = {
  mqttUrl: { kind: 'string', description: 'MQTT broker URL (mqtt://, mqtts://, ws://); "embedded" starts an in-process broker', default: 'embedded', url: { schemes: MQTT_URL_SCHEMES, literals: ['embedded'] } },
  embeddedBrokerPort: { kind: 'int', description: 'Port of the embedded broker (with --mqtt-url embedded)', default: 1883, min: 0, max: 65535 },
  mqttUsername: { kind: 'string', description: 'MQTT username (real bases require username and password)' },
  mqttPassword: { kind: 'string', description: 'MQTT password' },
  mqttCaFile: { kind: 'string', description: 'CA certificate file for mqtts:// brokers' },
  mqttCertFile: { kind: 'string', description: 'Client certificate file for mutual TLS' },
  mqttKeyFile: { kind: 'string', description: 'Client key file for mutual TLS' },
  mqttClientIdPrefix: { kind: 'string', description: 'Client id prefix; the id is <prefix>@@@<instance id>', default: DEFAULTS.clientIdPrefix },
  env: { kind: 'string', description: 'Koupleless env (topic koupleless_<env>/...); real bases send "default"', default: DEFAULTS.mqttEnv },
  kubeconfig: { kind: 'string', description: 'Kubeconfig file (in-cluster config when empty)' },
  port: { kind: 'int', description: 'Port of /healthz, /readyz and /metrics', default: 8081, min: 0, max: 65535, flag: FLAG_SPELLINGS.opsPort.flag, aliases: FLAG_SPELLINGS.opsPort.was },
  instanceId: { kind: 'string', description: 'This replica\'s id (MQTT client id, lease holder); default hostname + random suffix' },
  ...toLeaderFlags('module-controller-bridge'),
  leaderRenewDeadline: { kind: 'duration', description: 'A leader that has not renewed its lease within this stops acting; must be shorter than --leader-lease-duration (default 70% of it)', min: 1 },
  leaderRetryPeriod: { kind: 'duration', description: 'How often the leader renews and standbys retry; must be shorter than --leader-renew-deadline (default 20% of --leader-lease-duration)', min: 1 },
  shards: { kind: 'int', description: 'How many shard Leases the fleet is split into; each base belongs to one, each live replica holds a fair share (with --leader-elect)', default: 16, min: 1, max: 1024 },
  kubeApiQps: { kind: 'int', description: 'Client-side limit on Kubernetes API requests per second, sustained (0 = no limit); raise above 1.5 × bases / --node-lease-renew seconds', default: 200, min: 0 },
  kubeApiBurst: { kind: 'int', description: 'Kubernetes API requests allowed in a burst above --kube-api-qps', default: 400, min: 1 },
  stack: { kind: 'string', description: 'Value of the base.koupleless.io/stack node label', default: DEFAULTS.stack },
  notReadyAfter: { kind: 'duration', description: 'Mark a node NotReady after this long without a heartbeat', default: '30s', min: 1000 },
  deleteAfter: { kind: 'duration', description: 'Delete a silent base\'s node after this long without a heartbeat', default: '10m', min: 1000 },
  healthPollPeriod: { kind: 'duration', description: 'How often to poll each base\'s health', default: '10s', min: 500 },
  moduleListPeriod: { kind: 'duration', description: 'How often to poll each base\'s module list (queryAllBiz)', default: '15s', min: 500 },
  nodeLeaseRenew: { kind: 'duration', description: 'How often to renew each node\'s Lease in kube-node-lease', default: '10s', min: 500 },
  maxMessageAge: { kind: 'duration', description: 'Ignore base messages whose publishTimestamp is older than this (0 = accept any age; needs synchronized clocks)', default: '0s' },
  installingStatusDelay: { kind: 'duration', description: "Hold a module pod's first status (and its Installing Event) this long after its install is sent: an install the base confirms sooner goes to Running in one status write (0 = report Installing at once)", default: '1s', min: 0, max: 30_000 },
  commandTimeout: { kind: 'duration', description: 'Resend an install/uninstall when the base has not answered within this time', default: '30s', min: 500 },
  retryBackoffBase: { kind: 'duration', description: 'First retry delay after a failed install (doubles each time)', default: '2s', min: 100 },
  retryBackoffMax: { kind: 'duration', description: 'Longest retry delay after failed installs', default: '2m', min: 100 },
  maxModulesPerBase: { kind: 'int', description: 'Pods capacity of each virtual node', default: DEFAULTS.maxModulesPerBase, min: 1 },
  nodeCpu: { kind: 'string', description: 'CPU capacity advertised by each virtual node (modules share the base JVM; this only lets pods with CPU requests schedule)', default: '100' },
  nodeMemory: { kind: 'string', description: 'Memory capacity advertised when the base has not reported its JVM max heap', default: '16Gi' },
  optimizeForSize: { kind: 'bool', description: "Set V8's --optimize-for-size on the bridge at start: a lower memory high-water mark (100 bases: 139 MiB instead of 162; 1,000 bases x 10,000 pods: 181 instead of 462) for more garbage-collection CPU at large fleets (docs/bridge.md, Memory)", default: true },
  moduleServices: { kind: 'bool', description: 'Keep module Services (<bizName>-service) in sync with the workloads that ask for one', default: true },
  serviceDefaultType: { kind: 'string', description: 'Type of a module Service whose workload names none', default: 'NodePort', choices: ['ClusterIP', 'NodePort', 'LoadBalancer'] },
  serviceResync: { kind: 'duration', description: 'Re-check every module Service this often (a safety net for missed watch events)', default: '5m', min: 1000 },
  concurrency: { kind: 'int', description: 'Reconcile workers per queue (each holds a base while its commands and status writes are in flight: about the API round trips the bridge keeps going at once)', default: 32, min: 1, max: 256 },
  // Liveness and the MQTT link (docs/bridge.md "Liveness").
  maxClockSkew: { kind: 'duration', description: 'Reject base messages whose publishTimestamp is further than this ahead of the bridge\'s clock (liveness uses receive time, so skewed bases work; 0 = no check)', default: '1h' },
  reconnectGrace: { kind: 'duration', description: 'After the MQTT link is back (or at start), silence counts again only after this grace (one base heartbeat period plus margin)', default: '15s', min: 0 },
} as const satisfies Record<string, FlagSpec>;

export type BridgeFlagValues = FlagValues<typeof BRIDGE_FLAGS>;

/** The timing and capacity settings the pure planners need. */
export interface BridgeSettings {
  readonly env: string;
  readonly stack: string;
  readonly notReadyAfterMs: number;
  readonly deleteAfterMs: number;
  readonly commandTimeoutMs: number;
  readonly retryBackoffBaseMs: number;
  readonly retryBackoffMaxMs: number;
  readonly maxModulesPerBase: number;
  readonly nodeCpu: string;
  readonly nodeMemory: string;
  readonly maxMessageAgeMs: number;
  readonly healthPollMs: number;
  readonly moduleListPollMs: number;
  readonly nodeLeaseRenewMs: number;
  readonly maxClockSkewMs: number;
  readonly reconnectGraceMs: number;
  /** See --installing-status-delay. */
  readonly installingStatusDelayMs: number;
}

export function toBridgeSettings(v: BridgeFlagValues): BridgeSettings {
  return Object.freeze({
    env: v.env.toLowerCase(),
    stack: v.stack,
    notReadyAfterMs: v.notReadyAfter,
    deleteAfterMs: Math.max(v.deleteAfter, v.notReadyAfter),
    commandTimeoutMs: v.commandTimeout,
    retryBackoffBaseMs: v.retryBackoffBase,
    retryBackoffMaxMs: v.retryBackoffMax,
    maxModulesPerBase: v.maxModulesPerBase,
    nodeCpu: v.nodeCpu,
    nodeMemory: v.nodeMemory,
    maxMessageAgeMs: v.maxMessageAge,
    healthPollMs: v.healthPollPeriod,
    moduleListPollMs: v.moduleListPeriod,
    nodeLeaseRenewMs: v.nodeLeaseRenew,
    maxClockSkewMs: v.maxClockSkew,
    reconnectGraceMs: v.reconnectGrace,
    installingStatusDelayMs: v.installingStatusDelay,
  });
}
