/** `module-controller bridge`: the virtual kubelet of every base. */
import v8 from 'node:v8';
import express from 'express';
import { defineCommand, untilAborted } from '../core/command.ts';
import { listen } from '../core/http-server.ts';
import { loadKubeConnection } from '../core/kube-connection.ts';
import { createKubeHttp } from '../core/kube-http.ts';
import { createRateLimiter } from '../core/rate-limiter.ts';
import { addOpsRoutes } from '../core/ops-routes.ts';
import { EMBEDDED_BROKER_FLAGS, startEmbeddedBrokerForBridge } from '../broker/embedded.ts';
import type { RunningBroker } from '../broker/mqtt-broker.ts';
import { startBridge } from './bridge.ts';
import { BRIDGE_FLAGS, toBridgeSettings } from './config.ts';
import { toLeaseTimings } from './lease-timings.ts';
import { applyBridgeV8Flags } from './runtime.ts';
import type { ServiceType } from '../core/service-annotations.ts';

export const bridgeCommand = defineCommand({
  name: 'bridge',
  summary: 'Turns every live Koupleless base (MQTT heartbeats) into a virtual node, installs module pods bound to it, and writes their status back.',
  flags: { ...BRIDGE_FLAGS, ...EMBEDDED_BROKER_FLAGS },
  async run(v, { logger, registry, signal, env }) {
    // Garbage-collector heuristics for a lower high-water mark (bridge/runtime.ts), before anything is allocated.
    if (v.optimizeForSize) logger.debug({ v8Flags: applyBridgeV8Flags((f) => v8.setFlagsFromString(f)) }, 'V8 flags set');
    // Checked before anything starts: a bad combination is a configuration error, not a runtime one.
    const timings = toLeaseTimings({ leaseDurationMs: v.leaderLeaseDuration, renewDeadlineMs: v.leaderRenewDeadline, retryPeriodMs: v.leaderRetryPeriod });
    // Lease traffic (leader, shards, members) has its own client below, outside this limit.
    // In a pod (no --kubeconfig): the service account and KUBERNETES_SERVICE_HOST/PORT from the environment.
    const conn = loadKubeConnection(v.kubeconfig, { env });
    const kube = createKubeHttp(conn, { limiter: createRateLimiter({ qps: v.kubeApiQps, burst: v.kubeApiBurst }) });
    const leaseKube = v.leaderElect ? createKubeHttp(conn) : undefined;
    let broker: RunningBroker | undefined;
    let url = v.mqttUrl;
    let mqttUsername = v.mqttUsername;
    let mqttPassword = v.mqttPassword;
    if (url === 'embedded') {
      const embedded = await startEmbeddedBrokerForBridge(v, { logger, registry });
      ({ broker, username: mqttUsername, password: mqttPassword } = embedded);
      url = broker.url;
    }
    const bridge = startBridge({
      kube,
      // Lease traffic bypasses --kube-api-qps (bounded: one list + held shards writes per retry period).
      leaseKube,
      settings: toBridgeSettings(v),
      mqtt: { url, clientIdPrefix: v.mqttClientIdPrefix, username: mqttUsername, password: mqttPassword, caFile: v.mqttCaFile, certFile: v.mqttCertFile, keyFile: v.mqttKeyFile },
      leader: { enabled: v.leaderElect, name: v.leaderLeaseName, namespace: v.leaderLeaseNamespace, durationMs: timings.leaseDurationMs, renewDeadlineMs: timings.renewDeadlineMs, retryPeriodMs: timings.retryPeriodMs, shards: v.shards },
      instanceId: v.instanceId,
      concurrency: v.concurrency,
      services: v.moduleServices ? { defaultType: v.serviceDefaultType as ServiceType, resyncMs: v.serviceResync } : undefined,
      logger,
      registry,
    });
    const app = express();
    app.disable('x-powered-by');
    addOpsRoutes(app, registry, () => bridge.readiness());
    const server = await listen(app, { port: v.port });
    logger.info({ port: server.port, instanceId: bridge.instanceId, mqtt: url, env: v.env }, 'bridge started');
    await untilAborted(signal);
    // SIGTERM must end the bridge within 10 s in every state (broker or API server unreachable
    // included): each step is bounded, the whole well inside Kubernetes' default 30 s grace.
    const bounded = (p: Promise<unknown> | undefined, ms: number) => Promise.race([Promise.resolve(p).catch(() => undefined), new Promise<void>((r) => setTimeout(r, ms).unref())]);
    await bounded(bridge.stop(), 6_000);
    await bounded(server.close(), 1_500);
    await bounded(broker?.close(), 1_000);
    kube.destroy();
    leaseKube?.destroy();
    logger.info('bridge stopped');
  },
});
