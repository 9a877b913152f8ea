/**
 * A reflector: list+watch of one resource kept in a local cache (one writer, many readers), restarted
 * with backoff when the watch fails, with a readiness flag once the first list has arrived.
 * Change callbacks only tell *which object* changed; consumers re-read the cache (level-based).
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from './logger.ts';

export interface WatchCache<T extends k8s.KubernetesObject> {
  list(namespace?: string): ReadonlyArray<T>;
  get(name: string, namespace?: string): T | undefined;
  isSynced(): boolean;
  /**
   * True when the cache has been listed successfully since its last watch error: only then may a
   * destructive decision (uninstalling an unclaimed module, deleting a node) be taken on it.
   */
  isFresh(): boolean;
  /** Resolves after the first successful list. */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export interface WatchCacheOptions<T extends k8s.KubernetesObject> {
  readonly kc: k8s.KubeConfig;
  /** API path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly list: () => Promise<k8s.KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly logger: Logger;
  /** Called with the object after every add/update/delete (the deleted object's last state). */
  readonly onChange?: (obj: T, verb: 'add' | 'update' | 'delete') => void;
}

export function startWatchCache<T extends k8s.KubernetesObject>(opts: WatchCacheOptions<T>): WatchCache<T> {
  const informer = k8s.makeInformer<T>(opts.kc, opts.path, opts.list, opts.labelSelector);
  let synced = false;
  let stopped = false;
  let failures = 0;
  let resolveSynced!: () => void;
  const syncedPromise = new Promise<void>((r) => (resolveSynced = r));
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (obj: T) => opts.onChange?.(obj, verb));
  }
  informer.on('connect', () => {
    failures = 0;
  });
  // informer.start() resolves even when its first list failed (after calling the error handler), so
  // only a start without an error in between counts as synced: an empty cache must never look synced.
  let failed = false;
  const start = () => {
    failed = false;
    informer
      .start()
      .then(() => {
        if (failed) return;
        synced = true;
        resolveSynced();
        // A full re-list after a restart: let consumers re-check every object.
        for (const obj of informer.list()) opts.onChange?.(obj, 'update');
      })
      .catch(restart);
  };
  const restart = (err?: unknown) => {
    if (stopped) return;
    failures++;
    const delay = Math.min(500 * 2 ** Math.min(failures, 6), 30_000);
    opts.logger.warn({ path: opts.path, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'watch failed; restarting');
    setTimeout(() => {
      if (!stopped) start();
    }, delay).unref();
  };
  informer.on('error', (err: unknown) => {
    failed = true;
    restart(err);
  });
  start();
  return {
    list: (ns) => informer.list(ns),
    get: (name, ns) => informer.get(name, ns),
    isSynced: () => synced,
    isFresh: () => synced && !failed,
    synced: syncedPromise,
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}
