/** `module-controller bridge`: the virtual kubelet of every base. */
import express from 'express';
import { defineCommand, untilAborted } from '../core/command.ts';
import { listen } from '../core/http-server.ts';
import { loadKubeConfig } from '../core/kubeconfig.ts';
import { addOpsRoutes } from '../core/ops-routes.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../sandbox/embedded-broker.ts';
import { startBridge } from './bridge.ts';
import { BRIDGE_FLAGS, toBridgeSettings } from './config.ts';
import { toLeaseTimings } from './lease-timings.ts';
import type { ServiceType } from '../core/service-annotations.ts';

export const bridgeCommand = defineCommand({
  name: 'bridge',
  summary: 'Turns every live Koupleless base (MQTT heartbeats) into a virtual node, installs module pods bound to it, and writes their status back.',
  flags: BRIDGE_FLAGS,
  async run(v, { logger, registry, signal }) {
    // Checked before anything starts: a bad combination is a configuration error, not a runtime one.
    const timings = toLeaseTimings({ leaseDurationMs: v.leaderLeaseDuration, renewDeadlineMs: v.leaderRenewDeadline, retryPeriodMs: v.leaderRetryPeriod });
    const kc = loadKubeConfig(v.kubeconfig, { qps: v.kubeApiQps, burst: v.kubeApiBurst });
    let broker: EmbeddedBroker | undefined;
    let url = v.mqttUrl;
    if (url === 'embedded') {
      broker = await startEmbeddedBroker({ port: v.embeddedBrokerPort, host: '0.0.0.0', ...(v.mqttUsername !== undefined ? { username: v.mqttUsername, password: v.mqttPassword ?? '' } : {}) });
      url = `mqtt://127.0.0.1:${broker.port}`;
      logger.info({ port: broker.port }, 'embedded MQTT broker listening');
    }
    const bridge = startBridge({
      kc,
      settings: toBridgeSettings(v),
      mqtt: { url, clientIdPrefix: v.mqttClientIdPrefix, username: v.mqttUsername, password: v.mqttPassword, caFile: v.mqttCaFile, certFile: v.mqttCertFile, keyFile: v.mqttKeyFile },
      leader: { enabled: v.leaderElect, name: v.leaderLeaseName, namespace: v.leaderLeaseNamespace, durationMs: timings.leaseDurationMs, renewDeadlineMs: timings.renewDeadlineMs, retryPeriodMs: timings.retryPeriodMs },
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
    await bridge.stop();
    await server.close();
    await broker?.close();
    logger.info('bridge stopped');
  },
});
