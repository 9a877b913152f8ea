/**
 * Decides the module Services (seed: "Module Traffic Service"): for each namespace/bizName that a
 * module workload asks a Service for, one `<bizName>-service` selecting the module's pods, owned by
 * every workload that asks for it. Pure: observed workloads and Services in, actions with reasons out.
 */
import type { V1Service } from '@kubernetes/client-node';
import { checkBizName } from '../../core/module-spec.ts';
import { isModulePodLabels, toServiceName } from '../../core/names.ts';
import { parseServiceAnnotations, type ServiceType } from '../../core/service-annotations.ts';
import { DEFAULT_SERVICE_PORT, SERVICE_BIZ_NAME_LABEL, checkServiceName, isManagedServiceLabels } from '../../core/service-names.ts';
import { diffService, toDesiredService, toUpdatedService } from './desired-service.ts';
import { toWorkloadRef, toWorkloadText, type ModuleWorkload, type WorkloadRef } from './module-workload.ts';

export interface ServicePlanConfig {
  /** Type used when a workload does not set the service-type annotation. */
  readonly defaultType: ServiceType;
}

/** What one workload asks for once defaults are filled in. */
interface ServiceRequest {
  readonly port: number;
  readonly targetPort: number;
  readonly type: ServiceType;
}

type RequestParse = { readonly kind: 'none' } | { readonly kind: 'invalid'; readonly problems: readonly string[] } | { readonly kind: 'requested'; readonly request: ServiceRequest };

// Annotations that are present but broken count as asking (so the Service is kept, not deleted, on a
// typo); present, valid and not enabled is the user switching the Service off.
function toRequest(w: ModuleWorkload, config: ServicePlanConfig): RequestParse {
  const parsed = parseServiceAnnotations(w.templateAnnotations);
  if (parsed.problems.length > 0) return { kind: 'invalid', problems: parsed.problems.map((p) => p.message) };
  if (!parsed.value.enabled) return { kind: 'none' };
  const port = parsed.value.port ?? DEFAULT_SERVICE_PORT;
  return { kind: 'requested', request: { port, targetPort: parsed.value.targetPort ?? port, type: parsed.value.type ?? config.defaultType } };
}

export interface ServiceKey {
  readonly namespace: string;
  readonly bizName: string;
}

export type ServiceWarningCode = 'PortConflict' | 'NotManaged' | 'InvalidAnnotations' | 'InvalidServiceName';

export interface ServiceWarning {
  readonly code: ServiceWarningCode;
  readonly key: ServiceKey;
  /** The workload the warning is about (its Events show it), when there is one. */
  readonly workload: WorkloadRef | undefined;
  readonly message: string;
}

export type ServiceAction =
  | { readonly kind: 'create'; readonly key: ServiceKey; readonly service: V1Service; readonly owners: readonly WorkloadRef[]; readonly reasons: readonly string[] }
  | { readonly kind: 'update'; readonly key: ServiceKey; readonly service: V1Service; readonly owners: readonly WorkloadRef[]; readonly reasons: readonly string[] }
  | { readonly kind: 'delete'; readonly key: ServiceKey; readonly name: string; readonly uid: string | undefined; readonly notify: readonly WorkloadRef[]; readonly reasons: readonly string[] };

export interface ServicePlan {
  readonly actions: readonly ServiceAction[];
  readonly warnings: readonly ServiceWarning[];
}

/** The bizNames a workload asks Services for (valid or not), i.e. the keys its changes can affect. */
export function toRequestedKeys(w: ModuleWorkload): ServiceKey[] {
  if (!isModulePodLabels(w.templateLabels)) return [];
  const parsed = parseServiceAnnotations(w.templateAnnotations);
  if (!parsed.value.enabled && parsed.problems.length === 0) return [];
  const names = new Set(w.containers.map((c) => c.name ?? '').filter((n) => n && !checkBizName(n)));
  return [...names].map((bizName) => ({ namespace: w.namespace, bizName }));
}

/** The key a managed Service belongs to, or undefined for a Service the bridge does not manage. */
export function toServiceKey(svc: V1Service): ServiceKey | undefined {
  const labels = svc.metadata?.labels;
  const namespace = svc.metadata?.namespace;
  if (!namespace || !isManagedServiceLabels(labels)) return undefined;
  return { namespace, bizName: labels![SERVICE_BIZ_NAME_LABEL]! };
}

function toTime(t: Date | string | undefined): number {
  const ms = t === undefined ? NaN : new Date(t).getTime();
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

// Oldest first; kind, name and uid break ties so every replica picks the same winner.
function compareAge(a: ModuleWorkload, b: ModuleWorkload): number {
  return toTime(a.creationTimestamp) - toTime(b.creationTimestamp) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name) || a.uid.localeCompare(b.uid);
}

function toRequestText(r: ServiceRequest): string {
  return `port ${r.port} -> ${r.targetPort}, ${r.type}`;
}

/** The plan for one namespace/bizName. */
export function planModuleService(key: ServiceKey, workloads: readonly ModuleWorkload[], services: readonly V1Service[], config: ServicePlanConfig): ServicePlan {
  const name = toServiceName(key.bizName);
  const live = services.find((s) => s.metadata?.namespace === key.namespace && s.metadata?.name === name);
  const warnings: ServiceWarning[] = [];
  const warn = (code: ServiceWarningCode, workload: WorkloadRef | undefined, message: string) => warnings.push({ code, key, workload, message });

  const askers = workloads
    .filter((w) => toRequestedKeys(w).some((k) => k.namespace === key.namespace && k.bizName === key.bizName))
    .sort(compareAge);
  const valid: Array<{ w: ModuleWorkload; request: ServiceRequest }> = [];
  for (const w of askers) {
    const parsed = toRequest(w, config);
    if (parsed.kind === 'invalid') warn('InvalidAnnotations', toWorkloadRef(w), `${toWorkloadText(w)}: ${parsed.problems.join('; ')}`);
    else if (parsed.kind === 'requested') valid.push({ w, request: parsed.request });
  }

  if (live && !isManagedServiceLabels(live.metadata?.labels)) {
    for (const { w } of valid) warn('NotManaged', toWorkloadRef(w), `Service ${name} already exists and is not managed by module-controller; it is left alone`);
    return { actions: [], warnings };
  }
  // A Service on its way out (a LoadBalancer finalizer, say) is recreated once it is gone; the
  // Service informer's delete brings this key back.
  if (live?.metadata?.deletionTimestamp) return { actions: [], warnings };
  const liveOwners = new Set((live?.metadata?.ownerReferences ?? []).map((o) => o.uid));

  if (valid.length === 0) {
    if (!live) return { actions: [], warnings };
    // A typo in an annotation must not take traffic away: keep the Service until the asker is fixed
    // or gone (the webhook normally rejects such annotations before they get here).
    if (warnings.length > 0) return { actions: [], warnings };
    const notify = workloads.filter((w) => liveOwners.has(w.uid)).map(toWorkloadRef);
    return {
      actions: [{ kind: 'delete', key, name, uid: live.metadata?.uid, notify, reasons: [`no module workload in ${key.namespace} asks for a Service for module ${key.bizName} anymore`] }],
      warnings,
    };
  }

  const badName = checkServiceName(key.bizName);
  if (badName) {
    for (const { w } of valid) warn('InvalidServiceName', toWorkloadRef(w), badName);
    return { actions: [], warnings };
  }

  const winner = valid[0]!;
  const wantText = toRequestText(winner.request);
  for (const v of valid.slice(1)) {
    const text = toRequestText(v.request);
    if (text !== wantText) {
      warn('PortConflict', toWorkloadRef(v.w), `${toWorkloadText(v.w)} asks Service ${name} for ${text}, but the oldest asker ${toWorkloadText(winner.w)} asks for ${wantText}; using ${wantText}`);
    }
  }
  const owners = valid.map((v) => toWorkloadRef(v.w));
  const desired = toDesiredService({ namespace: key.namespace, bizName: key.bizName, port: winner.request.port, targetPort: winner.request.targetPort, type: winner.request.type, owners });
  const askedBy = `asked for by ${owners.map(toWorkloadText).join(', ')}`;
  if (!live) {
    return { actions: [{ kind: 'create', key, service: desired, owners, reasons: [`${wantText}, ${askedBy}`] }], warnings };
  }
  const changes = diffService(live, desired);
  if (changes.length === 0) return { actions: [], warnings };
  return { actions: [{ kind: 'update', key, service: toUpdatedService(live, desired), owners, reasons: [...changes, askedBy] }], warnings };
}

/** Every key the inputs mention: what workloads ask for plus every managed Service. */
export function planServices(workloads: readonly ModuleWorkload[], services: readonly V1Service[], config: ServicePlanConfig): ServicePlan {
  const keys = new Map<string, ServiceKey>();
  const add = (k: ServiceKey | undefined) => { if (k) keys.set(`${k.namespace}/${k.bizName}`, k); };
  workloads.flatMap(toRequestedKeys).forEach(add);
  services.map(toServiceKey).forEach(add);
  const plans = [...keys.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, k]) => planModuleService(k, workloads, services, config));
  return { actions: plans.flatMap((p) => p.actions), warnings: plans.flatMap((p) => p.warnings) };
}
