/**
 * A reflector: list+watch of one resource kept in a local cache (one writer, many readers), after
 * client-go's Reflector. Change callbacks only tell *which object* changed; consumers re-read the
 * cache (level-based).
 *
 * - List, then watch from the list's resourceVersion (with bookmarks), resuming from the last seen
 *   resourceVersion when the server ends a watch normally (its timeoutSeconds).
 * - "410 Gone / too old resource version" (as an ERROR event or a status) → relist at once.
 * - Any other watch or list failure → relist after a backoff (0.8 s doubling to 30 s, like
 *   client-go's reflector), as does a watch that ends within a second without an event.
 * - Fresh (isFresh) only while the last successful list completed after the last watch error *and*
 *   a watch is established: from a watch error until the relist after it, the cache may lag the
 *   API server by any amount, so no destructive decision may be taken on it.
 */
import type * as k8s from '@kubernetes/client-node';
import type { KubeHttp } from './kube-http.ts';
import type { Logger } from './logger.ts';

/**
 * Starts one watch (`watch=true` is the implementation's to add): resolves with an abort handle once
 * established, rejects when it could not be; `onDone` is called once when an established watch ends.
 * core/kube-http.ts's `watch` (the bridge), or client-node's Watch through core/kubeconfig.ts's `watchVia`.
 */
export type WatchFn = KubeHttp['watch'];

export interface WatchCache<T extends k8s.KubernetesObject> {
  list(namespace?: string): ReadonlyArray<T>;
  get(name: string, namespace?: string): T | undefined;
  isSynced(): boolean;
  /**
   * True when the cache has been listed successfully since its last watch error and its watch is
   * established: only then may a destructive decision (uninstalling an unclaimed module, deleting a
   * node) be taken on it.
   */
  isFresh(): boolean;
  /** Resolves after the first successful list. */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export interface WatchCacheOptions<T extends k8s.KubernetesObject> {
  readonly watch: WatchFn;
  /** API path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly list: () => Promise<k8s.KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly logger: Logger;
  /**
   * Called with the object after every add/update/delete (the deleted object's last state). When the
   * cache turns fresh again after a watch error, every object is reported as updated once more, so
   * consumers re-check what they skipped while it was stale.
   */
  readonly onChange?: (obj: T, verb: 'add' | 'update' | 'delete') => void;
  /** Called whenever isFresh() turns from false to true. */
  readonly onFresh?: () => void;
  /**
   * Applied to every listed or watched object before it is stored and before onChange sees it
   * (client-go's SetTransform): a pure projection that keeps only what the consumers read, so the
   * cache never holds managedFields and other fields nobody looks at. It must keep metadata.name,
   * namespace and resourceVersion (the cache's keys and change test).
   */
  readonly transform?: (obj: T) => T;
}

const BACKOFF_BASE_MS = 800;
const BACKOFF_MAX_MS = 30_000;
/** client-go's minWatchTimeout: each watch asks the server to end it after 5–10 minutes. */
const MIN_WATCH_TIMEOUT_S = 300;

class GoneError extends Error {}

function isGone(err: unknown): boolean {
  const e = err as { code?: number; statusCode?: number } | undefined;
  return err instanceof GoneError || e?.code === 410 || e?.statusCode === 410;
}

export function startWatchCache<T extends k8s.KubernetesObject>(opts: WatchCacheOptions<T>): WatchCache<T> {
  const objects = new Map<string, Map<string, T>>();
  let resourceVersion = '';
  let synced = false;
  let stopped = false;
  /** A list has completed since the last watch error. */
  let listedSinceError = false;
  /** Set by a relist after an error: the next established watch makes the cache fresh again. */
  let recheckAll = false;
  let watching = false;
  let abort: { abort(): void } | undefined;
  let wake: (() => void) | undefined;
  let resolveSynced!: () => void;
  const syncedPromise = new Promise<void>((r) => (resolveSynced = r));

  const nsOf = (o: T) => o.metadata?.namespace ?? '';
  const nameOf = (o: T) => o.metadata?.name ?? '';
  const emit = (obj: T, verb: 'add' | 'update' | 'delete') => {
    try {
      opts.onChange?.(obj, verb);
    } catch (err) {
      opts.logger.error({ path: opts.path, err: (err as Error).message }, 'watch cache consumer failed');
    }
  };
  const put = (obj: T) => {
    let ns = objects.get(nsOf(obj));
    if (!ns) objects.set(nsOf(obj), (ns = new Map()));
    const old = ns.get(nameOf(obj));
    ns.set(nameOf(obj), obj);
    if (!old) emit(obj, 'add');
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) emit(obj, 'update');
  };
  const remove = (obj: T) => {
    const ns = objects.get(nsOf(obj));
    if (!ns?.delete(nameOf(obj))) return;
    if (ns.size === 0) objects.delete(nsOf(obj));
    emit(obj, 'delete');
  };
  const all = () => [...objects.values()].flatMap((ns) => [...ns.values()]);

  const slim = opts.transform ?? ((o: T) => o);
  const relist = async () => {
    const list = await opts.list();
    const items = (list.items ?? []).map(slim);
    const keep = new Set(items.map((o) => `${nsOf(o)}/${nameOf(o)}`));
    for (const o of all()) if (!keep.has(`${nsOf(o)}/${nameOf(o)}`)) remove(o);
    for (const o of items) put(o);
    resourceVersion = list.metadata?.resourceVersion ?? '';
    if (!synced) {
      synced = true;
      resolveSynced();
    } else if (!listedSinceError) {
      recheckAll = true;
    }
    listedSinceError = true;
  };

  const setWatching = (v: boolean) => {
    const wasFresh = synced && listedSinceError && watching;
    watching = v;
    if (!wasFresh && synced && listedSinceError && watching) {
      if (recheckAll) {
        recheckAll = false;
        for (const o of all()) emit(o, 'update');
      }
      opts.onFresh?.();
    }
  };

  /** One watch; resolves when the server ends it normally, rejects on any error. */
  const watchOnce = () =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      let events = 0;
      let ended = false;
      let failure: Error | undefined;
      const timeoutS = Math.floor(MIN_WATCH_TIMEOUT_S * (1 + Math.random()));
      // A half-open connection never ends on its own: give up a little after the server should have
      // (a failure, so the cache relists: whatever the watch missed is unknown).
      const watchdog = setTimeout(() => {
        failure ??= new Error(`watch silent past its ${timeoutS} s timeout; abandoned`);
        abort?.abort();
      }, (timeoutS + 30) * 1000);
      watchdog.unref();
      const query: Record<string, string | boolean | number> = { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: timeoutS };
      if (opts.labelSelector !== undefined) query['labelSelector'] = opts.labelSelector;
      const onEvent = (type: string, obj: T & { code?: number; message?: string }) => {
        if (type === 'ERROR') {
          failure = obj?.code === 410 ? new GoneError(obj.message ?? 'too old resource version') : new Error(`watch error ${obj?.code ?? ''}: ${obj?.message ?? 'unknown'}`);
          return;
        }
        events++;
        if (type === 'ADDED' || type === 'MODIFIED') put(slim(obj));
        else if (type === 'DELETED') remove(slim(obj));
        const rv = obj?.metadata?.resourceVersion;
        if (rv) resourceVersion = rv;
      };
      const onDone = (err?: unknown) => {
        if (ended) return;
        ended = true;
        clearTimeout(watchdog);
        setWatching(false);
        if (err) reject(err);
        else if (failure) reject(failure);
        else if (events === 0 && Date.now() - started < 1_000) reject(new Error('very short watch: it ended within a second without an event'));
        else resolve();
      };
      opts.watch(opts.path, query, onEvent, onDone).then(
        (controller) => {
          abort = controller;
          if (ended || stopped) controller.abort();
          else setWatching(true);
        },
        onDone,
      );
    });

  const markError = (err: unknown, what: string, delayMs: number) => {
    listedSinceError = false;
    opts.logger.warn({ path: opts.path, err: err instanceof Error ? err.message : String(err), retryInMs: delayMs }, `${what}; relisting`);
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const run = async () => {
    let failures = 0;
    let needList = true;
    while (!stopped) {
      try {
        if (needList) {
          await relist();
          needList = false;
        }
        await watchOnce();
        failures = 0;
      } catch (err) {
        if (stopped) break;
        needList = true;
        if (isGone(err)) {
          // Our resourceVersion fell out of the server's window: relist at once (client-go does too).
          markError(err, 'watch resourceVersion too old', 0);
          continue;
        }
        failures++;
        const delay = Math.min(BACKOFF_BASE_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
        markError(err, 'list or watch failed', delay);
        await pause(delay);
      }
    }
  };
  void run();

  return {
    list: (ns) => (ns ? [...(objects.get(ns)?.values() ?? [])] : all()),
    get: (name, ns) => objects.get(ns ?? '')?.get(name),
    isSynced: () => synced,
    isFresh: () => synced && listedSinceError && watching,
    synced: syncedPromise,
    stop: async () => {
      stopped = true;
      abort?.abort();
      wake?.();
      watching = false;
    },
  };
}
