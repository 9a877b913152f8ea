/** What the bridge's reconcilers share: caches, registry, clients, settings, clock. */
import type * as k8s from '@kubernetes/client-node';
import type { CoordinationApi, CoreApi } from '../core/kube-apis.ts';
import type { Logger } from '../core/logger.ts';
import type { WatchCache } from '../core/watch-cache.ts';
import type { CommandKind } from '../core/topics.ts';
import type { BaseRegistry } from './base-registry.ts';
import type { BridgeSettings } from './config.ts';
import type { RecordEvent } from './events.ts';
import type { Hearing } from './hearing.ts';
import type { BridgeMetrics } from './metrics.ts';
import type { PodIndex } from './pod-index.ts';
import type { WorkloadRevisions } from './workload-revisions.ts';

export interface BridgeContext {
  readonly settings: BridgeSettings;
  readonly registry: BaseRegistry;
  readonly nodes: WatchCache<k8s.V1Node>;
  readonly pods: PodIndex;
  readonly core: CoreApi;
  readonly coordination: CoordinationApi;
  /** ReplicaSet and ControllerRevision revisions, read only while a workload rolls out on a base (module-claims.ts). */
  readonly workloadRevisions: WorkloadRevisions;
  readonly publish: (baseIdentity: string, kind: CommandKind, payload: unknown) => Promise<void>;
  readonly recordEvent: RecordEvent;
  readonly logger: Logger;
  readonly metrics: BridgeMetrics;
  readonly now: () => number;
  /** Holds the single leader Lease: cluster-wide work (module Services). */
  readonly isLeader: () => boolean;
  /** This replica serves the base (holds its shard, bridge/shard-ownership.ts): gates all per-base work. */
  readonly owns: (baseIdentity: string) => boolean;
  /** Whether the bridge could hear its bases, and since when (liveness is frozen while it cannot). */
  readonly hearing: () => Hearing;
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

export function isConflict(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}
