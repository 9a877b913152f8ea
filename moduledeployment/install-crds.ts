/**
 * Creates or updates the ModuleDeployment CRDs and waits until the API server serves them (the
 * sandbox and tests; the chart installs charts/module-controller/crds/ instead). Sent as raw JSON:
 * the client's typed models drop wire names such as `x-kubernetes-validations` when serializing.
 */
import https from 'node:https';
import http from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControllerError } from '../core/errors.ts';
import { toModuleDeploymentCrd } from './crd.ts';
import { MD_GROUPS } from './types.ts';

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

async function request(kc: k8s.KubeConfig, method: string, path: string, body?: unknown): Promise<{ code: number; json: Record<string, unknown> }> {
  const server = kc.getCurrentCluster()?.server ?? '';
  const url = new URL(path, server);
  const opts: https.RequestOptions = { method, hostname: url.hostname, port: url.port, path: url.pathname, headers: { 'content-type': 'application/json', accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ code: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

export async function installModuleDeploymentCrds(kc: k8s.KubeConfig, timeoutMs = 30_000): Promise<void> {
  for (const group of MD_GROUPS) {
    const crd = toModuleDeploymentCrd(group) as { metadata: { name: string; resourceVersion?: string } };
    const name = crd.metadata.name;
    const have = await request(kc, 'GET', `${CRD_PATH}/${name}`);
    const res = have.code === 200
      ? await request(kc, 'PUT', `${CRD_PATH}/${name}`, { ...crd, metadata: { ...crd.metadata, resourceVersion: (have.json['metadata'] as { resourceVersion: string }).resourceVersion } })
      : await request(kc, 'POST', CRD_PATH, crd);
    if (res.code >= 300) throw new ControllerError('INTERNAL', `could not install CRD ${name}: ${String(res.json['message'] ?? res.code)}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await request(kc, 'GET', `${CRD_PATH}/${name}`);
      const conditions = ((got.json['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []);
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new ControllerError('INTERNAL', `CRD ${name} was not established within ${timeoutMs}ms`);
      await sleep(200);
    }
  }
}
