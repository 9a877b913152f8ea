/** `module-controller broker`: the embedded MQTT broker (Aedes, MQTT 3.1.1) as its own service. */
import express from 'express';
import { defineCommand, untilAborted } from '../core/command.ts';
import { listen } from '../core/http-server.ts';
import { addOpsRoutes } from '../core/ops-routes.ts';
import { startEmbeddedBroker } from '../sandbox/embedded-broker.ts';

export const brokerCommand = defineCommand({
  name: 'broker',
  summary: 'An MQTT 3.1.1 broker (Aedes) for bases and the bridge, for clusters without one.',
  flags: {
    port: { kind: 'int', description: 'MQTT port', default: 1883, min: 0, max: 65535 },
    bindAddress: { kind: 'string', description: 'Address to listen on', default: '0.0.0.0' },
    opsPort: { kind: 'int', description: 'Port of /healthz, /readyz and /metrics', default: 8082, min: 0, max: 65535 },
    mqttUsername: { kind: 'string', description: 'Require this username (with --mqtt-password); real bases always send credentials' },
    mqttPassword: { kind: 'string', description: 'Required password' },
  },
  async run(v, { logger, registry, signal }) {
    const broker = await startEmbeddedBroker({
      port: v.port,
      host: v.bindAddress,
      ...(v.mqttUsername !== undefined ? { username: v.mqttUsername, password: v.mqttPassword ?? '' } : {}),
    });
    const app = express();
    app.disable('x-powered-by');
    addOpsRoutes(app, registry, () => undefined);
    const ops = await listen(app, { port: v.opsPort });
    logger.info({ mqttPort: broker.port, opsPort: ops.port, auth: v.mqttUsername !== undefined }, 'MQTT broker listening');
    await untilAborted(signal);
    await ops.close();
    await broker.close();
  },
});
