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
  /**
   * A first install for a newly bound pod (plan-modules `ModuleCommand.routine`): its Installing
   * Event waits until the pod's status shows the install (module-reconciler), so a quick one has none.
   */
  readonly routine?: boolean | undefined;
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
  /** Receive time of the last heartbeat on the bridge's clock (liveness never uses the base's clock). */
  readonly lastHeartbeatAt: number;
  /** The base's own `publishTimestamp` of that heartbeat, for display only. */
  readonly lastPublishTimestamp: number;
  /**
   * Set when the record was adopted from an existing Node (bridge restart or failover) and no
   * heartbeat has been heard since: what the Node's Ready condition said.
   */
  readonly adopted?: { readonly ready: boolean; readonly reason: string; readonly message: string } | undefined;
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
  /** Node name → identity; node names are injective (core/names.ts), so one record per node. */
  private readonly byNode = new Map<string, string>();

  private set(b: BaseRecord): void {
    this.bases.set(b.identity, b);
    this.byNode.set(b.nodeName, b.identity);
  }

  get(identity: string): BaseRecord | undefined {
    return this.bases.get(identity);
  }

  byNodeName(nodeName: string): BaseRecord | undefined {
    const id = this.byNode.get(nodeName);
    return id === undefined ? undefined : this.bases.get(id);
  }

  get size(): number {
    return this.bases.size;
  }

  list(): BaseRecord[] {
    return [...this.bases.values()];
  }

  /**
   * Records a heartbeat received at `now` (bridge clock). Every heartbeat counts, whatever its
   * `publishTimestamp`: one message with a far-future timestamp, or a base whose clock steps back,
   * must never silence a base (MQTT QoS 1 delivers in order per topic; duplicates are harmless).
   */
  recordHeartbeat(
    identity: string,
    hb: { metadata: BaseMetadata; localIP: string; hostName: string; state: string; publishTimestamp: number },
    now: number,
  ): boolean {
    const prev = this.bases.get(identity);
    // A base that was gone (or is only known from its Node) may have restarted: ask again before planning.
    const keepModules = prev !== undefined && prev.state === 'activated' && !prev.adopted;
    this.set({
      identity,
      nodeName: prev?.nodeName ?? toNodeName(identity),
      metadata: hb.metadata,
      localIP: hb.localIP,
      hostName: hb.hostName,
      state: hb.state.toLowerCase(),
      firstSeenAt: prev?.firstSeenAt ?? now,
      lastHeartbeatAt: now,
      lastPublishTimestamp: hb.publishTimestamp,
      health: prev?.health,
      healthAt: prev?.healthAt,
      modules: keepModules ? prev.modules : undefined,
      modulesAt: keepModules ? prev.modulesAt : undefined,
      ops: prev?.ops ?? new Map(),
      installedUrls: prev?.installedUrls ?? new Map(),
    });
    return true;
  }

  /**
   * Adopts a virtual node found in the API (bridge restart or failover) with what the Node says:
   * last heard at `seed.lastHeardAt` (never "now"), Ready or not as its condition said. A base
   * already heard keeps its record.
   */
  adopt(identity: string, seed: { metadata: BaseMetadata; localIP: string; hostName: string; lastHeardAt: number; adopted: NonNullable<BaseRecord['adopted']> }): void {
    if (this.bases.has(identity)) return;
    this.set({
      identity,
      nodeName: toNodeName(identity),
      metadata: seed.metadata,
      localIP: seed.localIP,
      hostName: seed.hostName,
      state: 'activated',
      firstSeenAt: seed.lastHeardAt,
      lastHeartbeatAt: seed.lastHeardAt,
      lastPublishTimestamp: 0,
      adopted: seed.adopted,
      ops: new Map(),
      installedUrls: new Map(),
    });
  }

  /** Forgets commands the base never answered: after a reconnect they are re-planned, never replayed. */
  forgetPendingOps(identity: string): void {
    const b = this.bases.get(identity);
    if (!b || ![...b.ops.values()].some((op) => !op.result)) return;
    this.set({ ...b, ops: new Map([...b.ops].filter(([, op]) => op.result !== undefined)) });
  }

  /**
   * Drops answered commands older than `keepMs` (bounded history). A success is dropped only once a
   * module list read after it is in (that list is then the truth); a failure keeps its backoff for
   * `keepMs` after its last answer.
   */
  pruneOps(identity: string, now: number, keepMs: number): void {
    const b = this.bases.get(identity);
    if (!b) return;
    const drop = (op: OpRecord) => op.result !== undefined && op.result.at < now - keepMs && (!op.result.ok || (b.modulesAt ?? -Infinity) > op.result.at);
    if (![...b.ops.values()].some(drop)) return;
    this.set({ ...b, ops: new Map([...b.ops].filter(([, op]) => !drop(op))) });
  }

  /** Forgets what the base reported about its modules (e.g. it was silent and may have restarted). */
  forgetModules(identity: string): void {
    const b = this.bases.get(identity);
    if (b) this.set({ ...b, modules: undefined, modulesAt: undefined });
  }

  recordHealth(identity: string, health: HealthData, now: number): boolean {
    const b = this.bases.get(identity);
    if (!b) return false;
    this.set({ ...b, health, healthAt: now });
    return true;
  }

  recordModules(identity: string, modules: readonly ReportedModule[], now: number): boolean {
    const b = this.bases.get(identity);
    if (!b) return false;
    this.set({ ...b, modules, modulesAt: now });
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
    this.set({ ...b, ops, installedUrls });
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
      ...(prev?.routine ? { routine: true } : {}),
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
    this.set({ ...b, ops: new Map(b.ops).set(key, op), modules, installedUrls });
    return true;
  }

  clearOp(identity: string, key: string): void {
    const b = this.bases.get(identity);
    if (!b || !b.ops.has(key)) return;
    const ops = new Map(b.ops);
    ops.delete(key);
    this.set({ ...b, ops });
  }

  delete(identity: string): void {
    const b = this.bases.get(identity);
    if (!b) return;
    this.bases.delete(identity);
    if (this.byNode.get(b.nodeName) === identity) this.byNode.delete(b.nodeName);
  }
}
