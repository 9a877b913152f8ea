/**
 * The module Service of a ModuleDeployment (operationStrategy.serviceStrategy; the seed's "Module
 * Traffic Service"): `<module name>-service`, type NodePort, one port named `http`, selecting the
 * module's pods by `module.koupleless.io/<bizName>: "true"`, owned by the ModuleDeployment so the
 * garbage collector removes it with it. Pure.
 */
import type { V1Service } from '@kubernetes/client-node';
import { MODULE_DEPLOYMENT_LABEL, toModuleLabel, toServiceName } from '../core/names.ts';
import { MD_KIND, toApiVersion, type MdGroup, type ModuleDeployment } from './types.ts';

export function toModuleService(md: ModuleDeployment, group: MdGroup): V1Service | undefined {
  const s = md.spec.operationStrategy?.serviceStrategy;
  if (!s?.enableModuleService || !s.port) return undefined;
  const name = md.metadata?.name ?? '';
  const biz = md.spec.template.spec.module.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: toServiceName(biz),
      namespace: md.metadata?.namespace ?? 'default',
      labels: { [MODULE_DEPLOYMENT_LABEL]: name },
      ownerReferences: [{ apiVersion: toApiVersion(group), kind: MD_KIND, name, uid: md.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      type: 'NodePort',
      selector: { [toModuleLabel(biz)]: 'true' },
      ports: [{ name: 'http', protocol: 'TCP', port: s.port, targetPort: s.targetPort ?? s.port }],
    },
  };
}

export type ServiceAction =
  | { readonly kind: 'create'; readonly service: V1Service; readonly why: string }
  | { readonly kind: 'update'; readonly name: string; readonly service: V1Service; readonly why: string }
  | { readonly kind: 'delete'; readonly name: string; readonly why: string };

function sameShape(have: V1Service, want: V1Service): boolean {
  const hp = (have.spec?.ports ?? []).map((p) => [p.name, p.port, String(p.targetPort ?? p.port)]);
  const wp = (want.spec?.ports ?? []).map((p) => [p.name, p.port, String(p.targetPort ?? p.port)]);
  return have.spec?.type === want.spec?.type && JSON.stringify(hp) === JSON.stringify(wp) && JSON.stringify(have.spec?.selector ?? {}) === JSON.stringify(want.spec?.selector ?? {});
}

/** `owned`: the Services this ModuleDeployment controls (by ownerReference uid). */
export function planModuleService(desired: V1Service | undefined, owned: readonly V1Service[]): ServiceAction[] {
  const out: ServiceAction[] = [];
  for (const s of owned) {
    if (s.metadata?.name !== desired?.metadata?.name) out.push({ kind: 'delete', name: s.metadata!.name!, why: desired ? `the module Service is now ${desired.metadata?.name}` : 'serviceStrategy.enableModuleService is off' });
  }
  if (!desired) return out;
  const have = owned.find((s) => s.metadata?.name === desired.metadata?.name);
  if (!have) out.push({ kind: 'create', service: desired, why: 'serviceStrategy.enableModuleService' });
  else if (!sameShape(have, desired)) out.push({ kind: 'update', name: desired.metadata!.name!, service: desired, why: 'serviceStrategy changed' });
  return out;
}
