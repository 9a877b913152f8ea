/**
 * What the bridge knows about every base, from MQTT alone. MQTT handlers are the only writers of
 * observations (heartbeat, health, module list, operation replies); reconcilers read it and record
 * the commands they send. No Kubernetes I/O here.
 */
import type { BaseMetadata, HealthData, ReportedModule } from '../core/protocol.ts';
import { toNodeName } from '../core/names.ts';

export interface OpRecord {
  readonly kind: 'install' | 'uninstall';
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl: string;
  readonly sentAt: number;
  readonly attempts: number;
  /** Set when the base answered. */
  readonly result?: { readonly ok: boolean; readonly code: string; readonly message: string; readonly at: number };
}

export interface BaseRecord {
  readonly identity: string;
  readonly nodeName: string;
  readonly metadata: BaseMetadata;
  readonly localIP: string;
  readonly hostName: string;
  /** Lower-cased `state` of the last heartbeat; anything but `activated` means the base is leaving. */
  readonly state: string;
  readonly firstSeenAt: number;
  readonly lastHeartbeatAt: number;
  readonly lastPublishTimestamp: number;
  readonly health?: HealthData | undefined;
  readonly healthAt?: number | undefined;
  /** Module list from the last queryAllBiz reply; undefined until the first reply (never plan before it). */
  readonly modules?: readonly ReportedModule[] | undefined;
  readonly modulesAt?: number | undefined;
  /** Last command per module key (`bizName:bizVersion`). */
  readonly ops: ReadonlyMap<string, OpRecord>;
  /** The URL each module was last installed from by this bridge (bases do not report it). */
  readonly installedUrls: ReadonlyMap<string, string>;
}

export class BaseRegistry {
  private readonly bases = new Map<string, BaseRecord>();

  get(identity: string): BaseRecord | undefined {
    return this.bases.get(identity);
  }

  byNodeName(nodeName: string): BaseRecord | undefined {
    for (const b of this.bases.values()) if (b.nodeName === nodeName) return b;
    return undefined;
  }

  list(): BaseRecord[] {
    return [...this.bases.values()];
  }

  /** Records a heartbeat; returns false when it is older than one already accepted (out of order). */
  recordHeartbeat(
    identity: string,
    hb: { metadata: BaseMetadata; localIP: string; hostName: string; state: string; publishTimestamp: number },
    now: number,
  ): boolean {
    const prev = this.bases.get(identity);
    if (prev && hb.publishTimestamp < prev.lastPublishTimestamp) return false;
    this.bases.set(identity, {
      identity,
      nodeName: toNodeName(identity),
      metadata: hb.metadata,
      localIP: hb.localIP,
      hostName: hb.hostName,
      state: hb.state.toLowerCase(),
      firstSeenAt: prev?.firstSeenAt ?? now,
      lastHeartbeatAt: now,
      lastPublishTimestamp: hb.publishTimestamp,
      health: prev?.health,
      healthAt: prev?.healthAt,
      // A base that was gone and came back may have restarted: ask again before planning.
      modules: prev && prev.state === 'activated' ? prev.modules : undefined,
      modulesAt: prev && prev.state === 'activated' ? prev.modulesAt : undefined,
      ops: prev?.ops ?? new Map(),
      installedUrls: prev?.installedUrls ?? new Map(),
    });
    return true;
  }

  /**
   * Adopts a virtual node found in the API (e.g. after a bridge restart) as a base last heard from
   * `now`: it stays Ready for one notReadyAfter window, long enough for a live base's next heartbeat.
   */
  adopt(identity: string, seed: { metadata: BaseMetadata; localIP: string; hostName: string }, now: number): void {
    if (this.bases.has(identity)) return;
    this.bases.set(identity, {
      identity,
      nodeName: toNodeName(identity),
      ...seed,
      state: 'activated',
      firstSeenAt: now,
      lastHeartbeatAt: now,
      lastPublishTimestamp: 0,
      ops: new Map(),
      installedUrls: new Map(),
    });
  }

  /** Forgets what the base reported about its modules (e.g. it was silent and may have restarted). */
  forgetModules(identity: string): void {
    const b = this.bases.get(identity);
    if (b) this.bases.set(identity, { ...b, modules: undefined, modulesAt: undefined });
  }

  recordHealth(identity: string, health: HealthData, now: number): boolean {
    const b = this.bases.get(identity);
    if (!b) return false;
    this.bases.set(identity, { ...b, health, healthAt: now });
    return true;
  }

  recordModules(identity: string, modules: readonly ReportedModule[], now: number): boolean {
    const b = this.bases.get(identity);
    if (!b) return false;
    this.bases.set(identity, { ...b, modules, modulesAt: now });
    return true;
  }

  recordOpSent(identity: string, op: Omit<OpRecord, 'attempts' | 'result'>): void {
    const b = this.bases.get(identity);
    if (!b) return;
    const key = `${op.bizName}:${op.bizVersion}`;
    const prev = b.ops.get(key);
    const attempts = prev && prev.kind === op.kind && !prev.result?.ok ? prev.attempts + 1 : 1;
    const ops = new Map(b.ops).set(key, { ...op, attempts });
    const installedUrls = op.kind === 'install' ? new Map(b.installedUrls).set(key, op.bizUrl) : b.installedUrls;
    this.bases.set(identity, { ...b, ops, installedUrls });
  }

  /** Records the base's answer; also folds `bizInfos` of a success into the module list. */
  recordOpResult(
    identity: string,
    r: { kind: 'install' | 'uninstall'; bizName: string; bizVersion: string; ok: boolean; code: string; message: string; bizInfos: readonly ReportedModule[] },
    now: number,
  ): boolean {
    const b = this.bases.get(identity);
    if (!b) return false;
    const key = `${r.bizName}:${r.bizVersion}`;
    const prev = b.ops.get(key);
    const op: OpRecord = {
      kind: r.kind,
      bizName: r.bizName,
      bizVersion: r.bizVersion,
      bizUrl: prev?.bizUrl ?? '',
      sentAt: prev?.sentAt ?? now,
      attempts: prev?.attempts ?? 1,
      result: { ok: r.ok, code: r.code, message: r.message, at: now },
    };
    let modules = b.modules;
    if (modules && r.ok) {
      const others = modules.filter((m) => !(m.bizName === r.bizName && m.bizVersion === r.bizVersion));
      const reported = r.bizInfos.filter((m) => m.bizName === r.bizName);
      const merged = others.filter((m) => !reported.some((x) => x.bizName === m.bizName && x.bizVersion === m.bizVersion));
      modules = r.kind === 'install' ? [...merged, ...(reported.length ? reported : [{ bizName: r.bizName, bizVersion: r.bizVersion, state: 'RESOLVED' }])] : [...merged, ...reported.filter((m) => m.bizVersion !== r.bizVersion)];
    }
    const installedUrls = r.kind === 'uninstall' && r.ok ? new Map([...b.installedUrls].filter(([k]) => k !== key)) : b.installedUrls;
    this.bases.set(identity, { ...b, ops: new Map(b.ops).set(key, op), modules, installedUrls });
    return true;
  }

  clearOp(identity: string, key: string): void {
    const b = this.bases.get(identity);
    if (!b || !b.ops.has(key)) return;
    const ops = new Map(b.ops);
    ops.delete(key);
    this.bases.set(identity, { ...b, ops });
  }

  delete(identity: string): void {
    this.bases.delete(identity);
  }
}
