/** Starts a bridge in-process against the test cluster and a broker, with test-speed timings. */
import { Registry } from 'prom-client';
import { createLogger, createSilentLogger } from '../../core/logger.ts';
import { startBridge, type Bridge } from '../../bridge/bridge.ts';
import type { BridgeSettings } from '../../bridge/config.ts';
import type { TestCluster } from './cluster.ts';
import { kubeHttpOf } from './kube-http.ts';

export const FAST_SETTINGS: BridgeSettings = Object.freeze({
  env: 'default',
  stack: 'java',
  notReadyAfterMs: 3_000,
  deleteAfterMs: 12_000,
  commandTimeoutMs: 5_000,
  retryBackoffBaseMs: 500,
  retryBackoffMaxMs: 5_000,
  maxModulesPerBase: 10,
  nodeCpu: '100',
  nodeMemory: '16Gi',
  maxMessageAgeMs: 0,
  healthPollMs: 1_000,
  moduleListPollMs: 1_000,
  nodeLeaseRenewMs: 2_000,
  maxClockSkewMs: 3_600_000,
  reconnectGraceMs: 1_500,
  installingStatusDelayMs: 1_000,
});

export function startTestBridge(cluster: TestCluster, url: string, opts: { settings?: Partial<BridgeSettings>; leader?: boolean; leaseName?: string; instanceId?: string; registry?: Registry } = {}): Bridge {
  return startBridge({
    kube: kubeHttpOf(cluster),
    settings: { ...FAST_SETTINGS, ...opts.settings },
    mqtt: { url, clientIdPrefix: 'mc-test' },
    leader: { enabled: opts.leader ?? false, name: opts.leaseName ?? 'mc-test-bridge', namespace: 'default', durationMs: 4_000 },
    instanceId: opts.instanceId,
    concurrency: 4,
    // MC_TEST_LOG=debug shows the bridge's log on stderr while debugging a test.
    logger: process.env['MC_TEST_LOG'] ? createLogger(process.env['MC_TEST_LOG'], `bridge-${opts.instanceId ?? 'test'}`, process.stderr) : createSilentLogger(),
    registry: opts.registry ?? new Registry(),
  });
}
