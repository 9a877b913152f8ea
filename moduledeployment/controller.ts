/**
 * The thin edge of the module-deployment controller: watch caches (ModuleDeployments in both
 * groups, their ReplicaSets, pods, virtual nodes, base Deployments, module Services), a keyed queue
 * that never runs one key twice at once, and the apply step for what the pure planners return.
 * Only the leader acts; every replica keeps its caches warm for a fast takeover.
 */
import os from 'node:os';
import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { startWatchCache, type WatchCache } from '../core/watch-cache.ts';
import { watchVia } from '../core/kubeconfig.ts';
import { BASE_DEPLOYMENT_LABEL, MODULE_DEPLOYMENT_LABEL, VNODE_COMPONENT_LABEL, VNODE_COMPONENT_VALUE } from '../core/names.ts';
import { startLeaderElection, type LeaderElection } from '../bridge/leader-election.ts';
import { planModuleDeployment, type MdAction } from './plan-module-deployment.ts';
import { toPeerPatch } from './peer-mode.ts';
import { planBaseLinks, toMatchingBases } from './plan-base-links.ts';
import { planModuleService, toModuleService } from './plan-service.ts';
import { createMdMetrics } from './metrics.ts';
import { MD_GROUPS, MD_KIND, MD_PLURAL, MD_VERSION, toApiVersion, type MdGroup, type ModuleDeployment } from './types.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
const LINKS_KEY = '\u0000links';

export interface ControllerDeps {
  readonly kc: k8s.KubeConfig;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly instanceId?: string | undefined;
  readonly leader: { readonly enabled: boolean; readonly name: string; readonly namespace: string; readonly durationMs: number };
  readonly resyncMs: number;
  readonly now?: () => number;
}

export interface ModuleDeploymentController {
  readiness(): string | undefined;
  stop(): Promise<void>;
}

type MdObject = ModuleDeployment & k8s.KubernetesObject;

function toKey(group: MdGroup, ns: string, name: string): string {
  return `${group}|${ns}|${name}`;
}

function ownedBy(obj: k8s.KubernetesObject, uid: string | undefined): boolean {
  return !!uid && (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid && r.controller);
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

function isConflict(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}

export function startModuleDeploymentController(d: ControllerDeps): ModuleDeploymentController {
  const { kc, logger } = d;
  const now = d.now ?? Date.now;
  const instanceId = d.instanceId ?? `${os.hostname()}-${Math.random().toString(36).slice(2, 8)}`;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const watch = watchVia(kc);
  const metrics = createMdMetrics(d.registry);

  // ---- keyed queue: one key runs at most once at a time; a change during a run runs it again.
  const pending = new Set<string>();
  const running = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  let wake: (() => void) | undefined;
  const enqueue = (key: string) => {
    if (stopped) return;
    pending.add(key);
    wake?.();
  };
  const enqueueAfter = (key: string, ms: number) => {
    const old = timers.get(key);
    if (old) clearTimeout(old);
    timers.set(key, setTimeout(() => { timers.delete(key); enqueue(key); }, Math.max(50, ms)).unref());
  };

  const mdCaches = new Map<MdGroup, WatchCache<MdObject>>();
  const enqueueAllMds = () => {
    for (const [group, cache] of mdCaches) for (const md of cache.list()) enqueue(toKey(group, md.metadata!.namespace!, md.metadata!.name!));
    enqueue(LINKS_KEY);
  };
  const enqueueByLabel = (obj: k8s.KubernetesObject) => {
    const name = obj.metadata?.labels?.[MODULE_DEPLOYMENT_LABEL];
    const ns = obj.metadata?.namespace;
    if (!name || !ns) return false;
    for (const group of MD_GROUPS) enqueue(toKey(group, ns, name));
    return true;
  };

  for (const group of MD_GROUPS) {
    mdCaches.set(group, startWatchCache<MdObject>({
      watch, logger, path: `/apis/${group}/${MD_VERSION}/${MD_PLURAL}`,
      list: () => custom.listClusterCustomObject({ group, version: MD_VERSION, plural: MD_PLURAL }) as Promise<k8s.KubernetesListObject<MdObject>>,
      onChange: (md) => { enqueue(toKey(group, md.metadata!.namespace!, md.metadata!.name!)); enqueue(LINKS_KEY); },
    }));
  }
  const rsCache = startWatchCache<k8s.V1ReplicaSet>({
    watch, logger, path: '/apis/apps/v1/replicasets', labelSelector: MODULE_DEPLOYMENT_LABEL,
    list: () => apps.listReplicaSetForAllNamespaces({ labelSelector: MODULE_DEPLOYMENT_LABEL }),
    onChange: enqueueByLabel,
  });
  // All pods: module pods of our ReplicaSets, and base pods (their IPs link virtual nodes).
  const podCache = startWatchCache<k8s.V1Pod>({
    watch, logger, path: '/api/v1/pods',
    list: () => core.listPodForAllNamespaces(),
    onChange: (p) => { if (!enqueueByLabel(p)) enqueue(LINKS_KEY); },
  });
  const vnodeSelector = `${VNODE_COMPONENT_LABEL}=${VNODE_COMPONENT_VALUE}`;
  const nodeCache = startWatchCache<k8s.V1Node>({
    watch, logger, path: '/api/v1/nodes', labelSelector: vnodeSelector,
    list: () => core.listNode({ labelSelector: vnodeSelector }),
    onChange: () => enqueueAllMds(),
  });
  const deployCache = startWatchCache<k8s.V1Deployment>({
    watch, logger, path: '/apis/apps/v1/deployments',
    list: () => apps.listDeploymentForAllNamespaces(),
    onChange: () => enqueue(LINKS_KEY),
  });
  const svcCache = startWatchCache<k8s.V1Service>({
    watch, logger, path: '/api/v1/services', labelSelector: MODULE_DEPLOYMENT_LABEL,
    list: () => core.listServiceForAllNamespaces({ labelSelector: MODULE_DEPLOYMENT_LABEL }),
    onChange: enqueueByLabel,
  });
  const caches: WatchCache<k8s.KubernetesObject>[] = [...mdCaches.values(), rsCache, podCache, nodeCache, deployCache, svcCache] as WatchCache<k8s.KubernetesObject>[];
  const allMds = () => [...mdCaches].flatMap(([group, c]) => c.list().map((md) => ({ group, md })));

  // The status this replica wrote last, per key: the watch may not have delivered it yet, and
  // planning on the older status would repeat a transition (and its Events).
  const written = new Map<string, { rv: bigint; md: MdObject }>();
  const freshest = (key: string, md: MdObject): MdObject => {
    const w = written.get(key);
    if (!w) return md;
    try {
      return BigInt(md.metadata?.resourceVersion ?? '0') >= w.rv ? md : { ...md, status: w.md.status };
    } catch {
      return md;
    }
  };

  const links = () => {
    const names = new Set(allMds().map(({ md }) => `${md.metadata?.namespace}/${md.spec?.baseDeploymentName}`));
    const bases = deployCache.list().filter((dep) => names.has(`${dep.metadata?.namespace}/${dep.metadata?.name}`));
    return planBaseLinks(bases, podCache.list(), nodeCache.list());
  };

  let seq = 0;
  const recordEvent = (group: MdGroup, md: MdObject, type: string, reason: string, message: string) => {
    const t = new Date(now());
    const namespace = md.metadata!.namespace!;
    metrics.actions.inc({ kind: 'event' });
    core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${md.metadata!.name}.${t.getTime().toString(16)}${(seq++ % 1000).toString(16)}`, namespace },
        involvedObject: { apiVersion: toApiVersion(group), kind: MD_KIND, name: md.metadata!.name!, namespace, uid: md.metadata!.uid! },
        type, reason, message: message.slice(0, 1024),
        source: { component: 'module-controller-module-deployment', host: instanceId },
        reportingComponent: 'module-controller-module-deployment', reportingInstance: instanceId,
        firstTimestamp: t, lastTimestamp: t, count: 1,
      },
    }).catch((err: unknown) => logger.debug({ err: (err as Error).message, reason }, 'could not record event'));
  };

  const applyAction = async (group: MdGroup, md: MdObject, a: MdAction) => {
    const namespace = md.metadata!.namespace!;
    if (a.kind === 'event') return recordEvent(group, md, a.type, a.reason, a.message);
    metrics.actions.inc({ kind: a.kind });
    logger.info({ md: `${namespace}/${md.metadata!.name}`, action: a.kind, ...('name' in a ? { name: a.name } : {}), ...('replicas' in a ? { replicas: a.replicas } : {}), why: a.why }, 'module deployment action');
    switch (a.kind) {
      case 'createReplicaSet':
        await apps.createNamespacedReplicaSet({ namespace, body: a.replicaSet }).catch((err: unknown) => { if (!isConflict(err)) throw err; });
        return;
      case 'scaleReplicaSet':
        await apps.patchNamespacedReplicaSet({ name: a.name, namespace, body: { spec: { replicas: a.replicas } } }, mergePatch);
        return;
      case 'updateReplicaSet':
        await apps.patchNamespacedReplicaSet({ name: a.name, namespace, body: { metadata: { annotations: a.replicaSet.metadata?.annotations }, spec: { template: a.replicaSet.spec?.template } } }, mergePatch);
        return;
      case 'resetConfirmBatchNum':
        // A JSON patch with a test: never overwrite a confirmation the user wrote meanwhile.
        await custom.patchNamespacedCustomObject({ group, version: MD_VERSION, namespace, plural: MD_PLURAL, name: md.metadata!.name!, body: [{ op: 'test', path: '/spec/confirmBatchNum', value: a.from }, { op: 'replace', path: '/spec/confirmBatchNum', value: 0 }] }, jsonPatch)
          .catch((err: unknown) => { if (![404, 409, 422].includes((err as { code?: number }).code ?? 0)) throw err; });
        return;
      case 'leavePeerMode':
      case 'setPeerReplicas':
        // JSON patches with tests: a user who wrote peer or replicas meanwhile wins.
        await custom.patchNamespacedCustomObject({ group, version: MD_VERSION, namespace, plural: MD_PLURAL, name: md.metadata!.name!, body: toPeerPatch(md, a) }, jsonPatch)
          .catch((err: unknown) => { if (![404, 409, 422].includes((err as { code?: number }).code ?? 0)) throw err; });
        return;
      case 'deleteReplicaSet':
        await apps.deleteNamespacedReplicaSet({ name: a.name, namespace }).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
        return;
    }
  };

  const reconcileLinks = async () => {
    if (!nodeCache.isFresh() || !podCache.isFresh() || !deployCache.isFresh()) return;
    for (const p of links().patches) {
      metrics.actions.inc({ kind: 'nodeLink' });
      logger.info({ node: p.node, value: p.value, why: p.why }, 'base deployment link');
      await core.patchNode({ name: p.node, body: { metadata: { labels: { [BASE_DEPLOYMENT_LABEL]: p.value } } } }, mergePatch).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
    }
  };

  const reconcile = async (key: string) => {
    if (key === LINKS_KEY) return reconcileLinks();
    const [group, namespace, name] = key.split('|') as [MdGroup, string, string];
    const cached = mdCaches.get(group)?.get(name, namespace);
    if (!cached) { written.delete(key); return; }
    const md = freshest(key, cached);
    if (!md.spec?.template?.spec?.module) return;
    const uid = md.metadata?.uid;
    const replicaSets = rsCache.list(namespace).filter((rs) => ownedBy(rs, uid));
    const rsUids = new Set(replicaSets.map((rs) => rs.metadata?.uid));
    const pods = podCache.list(namespace).filter((p) => (p.metadata?.ownerReferences ?? []).some((r) => rsUids.has(r.uid)));
    const bases = toMatchingBases(md.spec.baseDeploymentName, nodeCache.list(), links().desired);
    const plan = planModuleDeployment({ md, group, replicaSets, pods, bases, now: now() });
    for (const a of plan.actions) await applyAction(group, md, a);
    if (svcCache.isFresh()) {
      const owned = svcCache.list(namespace).filter((s) => ownedBy(s, uid));
      for (const s of planModuleService(toModuleService(md, group), owned)) {
        metrics.actions.inc({ kind: `service-${s.kind}` });
        logger.info({ md: `${namespace}/${name}`, service: s.kind, why: s.why }, 'module service');
        if (s.kind === 'create') await core.createNamespacedService({ namespace, body: s.service }).catch((err: unknown) => { if (!isConflict(err)) throw err; });
        else if (s.kind === 'update') await core.patchNamespacedService({ name: s.name, namespace, body: { spec: { type: s.service.spec?.type, ports: s.service.spec?.ports, selector: s.service.spec?.selector } } }, mergePatch);
        else await core.deleteNamespacedService({ name: s.name, namespace }).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      }
    }
    if (JSON.stringify(plan.status) !== JSON.stringify(md.status ?? {})) {
      try {
        // A merge patch replaces the whole status (nulls remove fields the plan dropped).
        const drop = Object.fromEntries(Object.keys(md.status ?? {}).filter((k) => !(k in plan.status)).map((k) => [k, null]));
        const body = { status: { ...drop, ...plan.status, releaseStatus: plan.status.releaseStatus ? { nextReconcileTime: null, staleConfirmBatchNum: null, fromReplicas: null, toReplicas: null, ...plan.status.releaseStatus } : null } };
        const res = (await custom.patchNamespacedCustomObjectStatus({ group, version: MD_VERSION, namespace, plural: MD_PLURAL, name, body }, mergePatch)) as MdObject;
        written.set(key, { rv: BigInt(res.metadata?.resourceVersion ?? '0'), md: res });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (plan.requeueAfterMs !== undefined) enqueueAfter(key, plan.requeueAfterMs);
  };

  const election: LeaderElection | undefined = d.leader.enabled
    ? startLeaderElection({
        coordination: kc.makeApiClient(k8s.CoordinationV1Api),
        name: d.leader.name, namespace: d.leader.namespace, identity: instanceId, leaseDurationMs: d.leader.durationMs,
        logger, now,
        onStartedLeading: () => enqueueAllMds(),
        onStoppedLeading: () => undefined,
      })
    : undefined;
  const isLeader = () => !election || election.isLeader();

  const worker = async () => {
    while (!stopped) {
      const key = [...pending].find((k) => !running.has(k));
      if (key === undefined || !isLeader() || !caches.every((c) => c.isSynced())) {
        await new Promise<void>((r) => { wake = r; setTimeout(r, 500).unref(); });
        wake = undefined;
        continue;
      }
      pending.delete(key);
      running.add(key);
      try {
        await reconcile(key);
        metrics.reconciles.inc({ outcome: 'ok' });
      } catch (err) {
        metrics.reconciles.inc({ outcome: isConflict(err) ? 'conflict' : 'error' });
        logger.warn({ key, err: (err as Error).message }, 'reconcile failed; retrying');
        enqueueAfter(key, isConflict(err) ? 100 : 1000);
      } finally {
        running.delete(key);
      }
    }
  };
  const workers = [worker(), worker()];
  const resync = setInterval(() => { metrics.deployments.set(allMds().length); enqueueAllMds(); }, d.resyncMs);
  resync.unref();

  return {
    readiness: () => {
      const unsynced = caches.filter((c) => !c.isSynced()).length;
      return unsynced > 0 ? `${unsynced} watch cache(s) not synced yet` : undefined;
    },
    stop: async () => {
      stopped = true;
      clearInterval(resync);
      for (const t of timers.values()) clearTimeout(t);
      wake?.();
      await Promise.all(workers);
      await election?.stop();
      await Promise.all(caches.map((c) => c.stop()));
    },
  };
}
