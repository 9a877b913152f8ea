/**
 * Creates or updates the ModuleDeployment CRDs and waits until the API server serves them (the
 * sandbox and tests; the chart installs charts/module-controller/crds/ instead).
 */
import * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControllerError } from '../core/errors.ts';
import { toModuleDeploymentCrd } from './crd.ts';
import { MD_GROUPS } from './types.ts';

export async function installModuleDeploymentCrds(kc: k8s.KubeConfig, timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const group of MD_GROUPS) {
    const body = toModuleDeploymentCrd(group) as unknown as k8s.V1CustomResourceDefinition;
    const name = body.metadata!.name!;
    try {
      const have = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({ name, body: { ...body, metadata: { ...body.metadata, resourceVersion: have.metadata!.resourceVersion! } } });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      await api.createCustomResourceDefinition({ body });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new ControllerError('INTERNAL', `CRD ${name} was not established within ${timeoutMs}ms`);
      await sleep(200);
    }
  }
}
