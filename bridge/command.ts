/** `module-controller bridge`: the virtual kubelet of every base. */
import express from 'express';
import { defineCommand, untilAborted } from '../core/command.ts';
import { listen } from '../core/http-server.ts';
import { loadKubeConfig } from '../core/kubeconfig.ts';
import { addOpsRoutes } from '../core/ops-routes.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../sandbox/embedded-broker.ts';
import { startBridge } from './bridge.ts';
import { BRIDGE_FLAGS, toBridgeSettings } from './config.ts';
import type { ServiceType } from '../core/service-annotations.ts';

export const bridgeCommand = defineCommand({
  name: 'bridge',
  summary: 'Turns every live Koupleless base (MQTT heartbeats) into a virtual node, installs module pods bound to it, and writes their status back.',
  flags: BRIDGE_FLAGS,
  async run(v, { logger, registry, signal }) {
    const kc = loadKubeConfig(v.kubeconfig);
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
      leader: { enabled: v.leaderElect, name: v.leaderLeaseName, namespace: v.leaderLeaseNamespace, durationMs: v.leaderLeaseDuration },
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
    logger.info('bridge stopped');
  },
});
