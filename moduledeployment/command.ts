/** `module-controller module-deployment`: serves the v1 ModuleDeployment API with native ReplicaSets. */
import express from 'express';
import { defineCommand, untilAborted } from '../core/command.ts';
import { listen } from '../core/http-server.ts';
import { loadKubeConfig } from '../core/kubeconfig.ts';
import { addOpsRoutes } from '../core/ops-routes.ts';
import { MODULE_DEPLOYMENT_FLAGS } from './config.ts';
import { startModuleDeploymentController } from './controller.ts';

export const moduleDeploymentCommand = defineCommand({
  name: 'module-deployment',
  summary: 'Serves ModuleDeployments (koupleless.io and koupleless.alipay.com v1alpha1): native ReplicaSets of module pods released batch by batch with beta, confirmation and gray time, plus the module Service.',
  flags: MODULE_DEPLOYMENT_FLAGS,
  async run(v, { logger, registry, signal }) {
    const kc = loadKubeConfig(v.kubeconfig);
    const controller = startModuleDeploymentController({
      kc, logger, registry,
      instanceId: v.instanceId,
      leader: { enabled: v.leaderElect, name: v.leaderLeaseName, namespace: v.leaderLeaseNamespace, durationMs: v.leaderLeaseDuration },
      resyncMs: v.resync,
    });
    const app = express();
    app.disable('x-powered-by');
    addOpsRoutes(app, registry, () => controller.readiness());
    const server = await listen(app, { port: v.port });
    logger.info({ port: server.port }, 'module-deployment controller started');
    await untilAborted(signal);
    await controller.stop();
    await server.close();
    logger.info('module-deployment controller stopped');
  },
});
