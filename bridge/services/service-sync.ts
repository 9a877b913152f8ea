/**
 * The module Service controller (thin I/O around planModuleService): watch caches of the workloads
 * that can ask for a Service and of the managed Services, a keyed queue of namespace/bizName, and a
 * reconcile that plans from the caches and applies through the API. Caches run on every replica so
 * a standby is warm; only the leader writes, and becoming leader re-checks every key.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/logger.ts';
import { toErrorFields } from '../../core/errors.ts';
import { MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS, MODULE_COMPONENT_VALUE, toServiceName } from '../../core/names.ts';
import { DEFAULT_SERVICE_TYPE, MANAGED_SERVICE_SELECTOR } from '../../core/service-names.ts';
import type { ServiceType } from '../../core/service-annotations.ts';
import { createAppsApi, createCoreApi } from '../../core/kube-apis.ts';
import type { KubeHttp } from '../../core/kube-http.ts';
import { startWatchCache, type WatchCache } from '../../core/watch-cache.ts';
import { toSlimWorkload } from '../slim-objects.ts';
import { WorkQueue, type ReconcileOutcome } from '../work-queue.ts';
import { applyServiceAction, toActionEvents } from './apply-service-action.ts';
import { toModuleWorkload, type ModuleWorkload, type WorkloadKind, type WorkloadObject, type WorkloadRef } from './module-workload.ts';
import { planModuleService, toRequestedKeys, toServiceKey, type ServiceKey, type ServiceWarning } from './plan-services.ts';
import { createServiceMetrics, type ReconcileOutcomeName } from './service-metrics.ts';
import { toWorkloadEvent, type WorkloadEventReason } from './workload-event.ts';

export interface ServiceSyncDeps {
  readonly kube: KubeHttp;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly isLeader: () => boolean;
  readonly signal: AbortSignal;
  readonly defaultType?: ServiceType;
  /** Every key is re-checked this often (a safety net for missed watch events); default 5 min. */
  readonly resyncMs?: number;
  readonly concurrency?: number;
  readonly now?: () => Date;
  /**
   * Module pods from a cache the caller already keeps (the bridge's pod index): given, no second pair
   * of pod watches is opened and every pod change is parsed and held once. `subscribe` registers the
   * callback for each changed pod.
   */
  readonly pods?: SharedPods | undefined;
}

export interface SharedPods {
  all(): readonly k8s.V1Pod[];
  isSynced(): boolean;
  isFresh(): boolean;
  readonly synced: Promise<void>;
  subscribe(onChange: (pod: k8s.V1Pod) => void): void;
}

/** A shared pod cache seen as one of this controller's caches (read-only; stopping it is its owner's job). */
function toPodCache(pods: SharedPods): WatchCache<k8s.KubernetesObject> {
  const inNamespace = (namespace?: string) => pods.all().filter((p) => namespace === undefined || p.metadata?.namespace === namespace);
  return {
    list: inNamespace,
    get: (name, namespace) => inNamespace(namespace).find((p) => p.metadata?.name === name),
    isSynced: () => pods.isSynced(),
    isFresh: () => pods.isFresh(),
    synced: pods.synced,
    stop: async () => undefined,
  };
}

export interface ServiceSync {
  ready(): boolean;
  stop(): Promise<void>;
}

const FIELD_MANAGER = 'module-controller';
const LEADER_POLL_MS = 1000;

function toKey(k: ServiceKey): string {
  return `${k.namespace}/${k.bizName}`;
}

function parseKey(key: string): ServiceKey {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), bizName: key.slice(i + 1) };
}

export function startServiceSync(deps: ServiceSyncDeps): ServiceSync {
  const { kube, logger, isLeader } = deps;
  const log = logger.child({ component: 'module-services' });
  const now = deps.now ?? (() => new Date());
  const config = { defaultType: deps.defaultType ?? DEFAULT_SERVICE_TYPE };
  const core = createCoreApi(kube);
  const apps = createAppsApi(kube);
  const watch = kube.watch.bind(kube);
  const metrics = createServiceMetrics(deps.registry, () => services.list().length);
  const count = (outcome: ReconcileOutcomeName) => metrics.reconciles.inc({ outcome });
  const queue = new WorkQueue((key) => reconcile(key), { concurrency: deps.concurrency ?? 4, backoffBaseMs: 500, backoffMaxMs: 60_000 });

  const workloadCaches: Array<{ kind: WorkloadKind; cache: WatchCache<k8s.KubernetesObject> }> = [];
  const watchWorkloads = <T extends k8s.KubernetesObject>(kind: WorkloadKind, path: string, list: () => Promise<k8s.KubernetesListObject<T>>, labelSelector?: string) => {
    // Every workload of the cluster is cached: only what the Service plan reads is kept (slim-objects.ts).
    const cache = startWatchCache<T>({ watch, path, list, logger: log, transform: toSlimWorkload, ...(labelSelector ? { labelSelector } : {}), onChange: (obj) => enqueueForWorkload(kind, obj) });
    workloadCaches.push({ kind, cache: cache as unknown as WatchCache<k8s.KubernetesObject> });
  };
  const services = startWatchCache<k8s.V1Service>({
    watch, path: '/api/v1/services', labelSelector: MANAGED_SERVICE_SELECTOR, logger: log,
    list: () => core.listServiceForAllNamespaces({ labelSelector: MANAGED_SERVICE_SELECTOR }),
    onChange: (svc) => { const k = toServiceKey(svc); if (k) queue.add(toKey(k)); },
  });
  watchWorkloads('Deployment', '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces());
  watchWorkloads('StatefulSet', '/apis/apps/v1/statefulsets', () => apps.listStatefulSetForAllNamespaces());
  watchWorkloads('DaemonSet', '/apis/apps/v1/daemonsets', () => apps.listDaemonSetForAllNamespaces());
  watchWorkloads('ReplicaSet', '/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces());
  if (deps.pods) {
    workloadCaches.push({ kind: 'Pod', cache: toPodCache(deps.pods) });
    deps.pods.subscribe((pod) => enqueueForWorkload('Pod', pod));
  } else {
    // A label selector cannot OR two keys, so the upstream alias label gets its own pod watch.
    for (const label of [MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS]) {
      const selector = `${label}=${MODULE_COMPONENT_VALUE}`;
      watchWorkloads('Pod', '/api/v1/pods', () => core.listPodForAllNamespaces({ labelSelector: selector }), selector);
    }
  }
  const caches = [services, ...workloadCaches.map((w) => w.cache)];
  const synced = () => caches.every((c) => c.isSynced());

  function collectWorkloads(namespace: string): ModuleWorkload[] {
    const byUid = new Map<string, ModuleWorkload>();
    for (const { kind, cache } of workloadCaches) {
      for (const obj of cache.list(namespace)) {
        const w = toModuleWorkload(kind, obj as WorkloadObject);
        if (w) byUid.set(w.uid, w);
      }
    }
    return [...byUid.values()];
  }

  // A workload's change matters to the bizNames it asks for now and to every Service it owns (it
  // may have stopped asking, or renamed its module).
  function enqueueForWorkload(kind: WorkloadKind, obj: k8s.KubernetesObject): void {
    const w = toModuleWorkload(kind, obj as WorkloadObject);
    if (!w) return;
    for (const k of toRequestedKeys(w)) queue.add(toKey(k));
    for (const svc of services.list(w.namespace)) {
      if (svc.metadata?.ownerReferences?.some((o) => o.uid === w.uid)) {
        const k = toServiceKey(svc);
        if (k) queue.add(toKey(k));
      }
    }
  }

  function enqueueAll(): void {
    for (const { kind, cache } of workloadCaches) for (const obj of cache.list()) enqueueForWorkload(kind, obj);
    for (const svc of services.list()) { const k = toServiceKey(svc); if (k) queue.add(toKey(k)); }
  }

  async function emit(workload: WorkloadRef, type: 'Normal' | 'Warning', reason: WorkloadEventReason, message: string): Promise<void> {
    try {
      await core.createNamespacedEvent({ namespace: workload.namespace, body: toWorkloadEvent({ workload, type, reason, message, now: now() }) });
    } catch (err) {
      log.debug({ err: toErrorFields(err), workload: `${workload.kind}/${workload.name}`, reason }, 'could not record event');
    }
  }

  // Warnings are re-derived on every reconcile; each distinct one becomes an Event once, not on
  // every resync, and again only after it went away and came back.
  const warned = new Map<string, Set<string>>();
  async function report(key: string, warnings: readonly ServiceWarning[]): Promise<void> {
    const before = warned.get(key) ?? new Set<string>();
    const after = new Set<string>();
    for (const w of warnings) {
      const id = `${w.code}|${w.workload?.uid ?? ''}|${w.message}`;
      after.add(id);
      if (before.has(id)) continue;
      log.warn({ key, code: w.code, workload: w.workload ? `${w.workload.kind}/${w.workload.name}` : undefined }, w.message);
      if (w.workload) await emit(w.workload, 'Warning', w.code, w.message);
    }
    if (after.size > 0) warned.set(key, after);
    else warned.delete(key);
  }

  async function reconcile(key: string): Promise<ReconcileOutcome> {
    if (!isLeader()) { count('not_leader'); return { kind: 'done' }; }
    // Planning on a half-listed cache could delete a Service whose asker is simply not listed yet.
    if (!synced()) { count('not_synced'); return { kind: 'requeueAfter', ms: 500 }; }
    const k = parseKey(key);
    try {
      const workloads = collectWorkloads(k.namespace);
      const cached = services.get(toServiceName(k.bizName), k.namespace);
      let plan = planModuleService(k, workloads, cached ? [cached] : [], config);
      let outcome: ReconcileOutcomeName = 'unchanged';
      for (const action of plan.actions) {
        const result = await applyServiceAction(core, action, FIELD_MANAGER);
        if (result.kind === 'conflict') {
          log.debug({ key, message: result.message }, 'stale cache; retrying');
          count('conflict');
          return { kind: 'requeueAfter', ms: 500 };
        }
        if (result.kind === 'exists') {
          // Someone else's Service holds the name (not in our cache by design): re-plan with it.
          plan = planModuleService(k, workloads, result.live ? [result.live] : [], config);
          outcome = plan.actions.length === 0 ? 'blocked' : 'conflict';
          if (outcome === 'conflict') { count(outcome); return { kind: 'requeueAfter', ms: 500 }; }
          break;
        }
        outcome = result.kind;
        log.info({ key, action: action.kind, reasons: action.reasons }, `module Service ${result.kind}`);
        for (const e of toActionEvents(action)) await emit(e.workload, 'Normal', e.reason, e.message);
      }
      await report(key, plan.warnings);
      count(outcome);
      return { kind: 'done' };
    } catch (err) {
      count('error');
      log.warn({ key, err: toErrorFields(err) }, 'module Service reconcile failed; retrying with backoff');
      return { kind: 'error', error: err };
    }
  }

  let wasLeader = false;
  const leaderTimer = setInterval(() => {
    const leader = isLeader();
    if (leader && !wasLeader) enqueueAll();
    wasLeader = leader;
  }, LEADER_POLL_MS);
  const resyncTimer = setInterval(() => { if (isLeader()) enqueueAll(); }, deps.resyncMs ?? 300_000);
  leaderTimer.unref();
  resyncTimer.unref();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(leaderTimer);
      clearInterval(resyncTimer);
      queue.stop();
      await queue.idle();
      await Promise.all(caches.map((c) => c.stop()));
    })();
    return stopping;
  };
  deps.signal.addEventListener('abort', () => void stop(), { once: true });
  if (deps.signal.aborted) void stop();
  return { ready: synced, stop };
}
