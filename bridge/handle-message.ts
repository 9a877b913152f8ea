/**
 * One small handler per base message kind. Each parses, checks, records into the registry and says
 * which base changed; it returns an outcome label for metrics. Malformed, stale, unknown and failed
 * messages change nothing (koupleless-protocol.md "do better" 9).
 */
import {
  arkResponseSchema, parseBatchInstallResponse, parseBizOperation, parseHealth, parseHeartbeat,
  parseModuleList, parseQueryBaseline, type Envelope, type Parsed, type ReportedModule,
} from '../core/protocol.ts';
import { isIP } from 'node:net';
import { parseTopic } from '../core/topics.ts';
import type { BaseRegistry } from './base-registry.ts';

export type MessageOutcome =
  | 'accepted' | 'malformed' | 'stale' | 'unknownTopic' | 'unknownBase' | 'failedCode' | 'unexpected'
  | 'futureTimestamp' | 'retained' | 'identityMismatch' | 'badAddress';

export interface HandlerDeps {
  readonly registry: BaseRegistry;
  readonly env: string;
  readonly now: () => number;
  /** 0 disables the age check (it needs synchronized clocks). */
  readonly maxMessageAgeMs: number;
  /** A publishTimestamp further ahead of the bridge's clock than this is rejected; 0 disables the check. */
  readonly maxClockSkewMs: number;
  /** A base's observations changed: reconcile its node and modules. */
  readonly onBaseChanged: (identity: string, what: 'heartbeat' | 'health' | 'modules' | 'operation') => void;
  readonly onBaselineQuery: (identity: string) => void;
  /** Ask a base for its module list (after an operation or a batch install). */
  readonly requestModuleList: (identity: string) => void;
}

export interface HandledMessage {
  readonly kind: string;
  readonly outcome: MessageOutcome;
  readonly reason?: string | undefined;
  /** For an answered install/uninstall: how long the base took. */
  readonly operation?: { readonly command: string; readonly ok: boolean; readonly latencyMs: number } | undefined;
}

function isStale(env: Envelope<unknown>, deps: HandlerDeps): boolean {
  return deps.maxMessageAgeMs > 0 && deps.now() - env.publishTimestamp > deps.maxMessageAgeMs;
}

function checked<T>(kind: string, r: Parsed<Envelope<T>>, deps: HandlerDeps, use: (e: Envelope<T>) => HandledMessage): HandledMessage {
  if (!r.ok) return { kind, outcome: 'malformed', reason: r.reason };
  if (isStale(r.value, deps)) return { kind, outcome: 'stale', reason: `published ${deps.now() - r.value.publishTimestamp}ms ago` };
  const aheadMs = r.value.publishTimestamp - deps.now();
  if (deps.maxClockSkewMs > 0 && aheadMs > deps.maxClockSkewMs) {
    return { kind, outcome: 'futureTimestamp', reason: `publishTimestamp is ${Math.round(aheadMs / 1000)}s ahead of the bridge's clock (limit --max-clock-skew ${Math.round(deps.maxClockSkewMs / 1000)}s)` };
  }
  return use(r.value);
}

/** What the transport knows about a message besides topic and payload. */
export interface MessageMeta {
  /** The MQTT retain flag: a retained message is the broker's memory, not the base speaking now. */
  readonly retain?: boolean | undefined;
}

export function handleMessage(topic: string, payload: Buffer, deps: HandlerDeps, meta: MessageMeta = {}): HandledMessage {
  const t = parseTopic(topic);
  if (!t || t.direction !== 'fromBase' || t.env !== deps.env) return { kind: 'unknown', outcome: 'unknownTopic', reason: topic };
  // Bases never publish retained; a retained heartbeat would create a ghost node on every (re)subscribe.
  if (meta.retain) return { kind: t.kind, outcome: 'retained', reason: `retained message on ${topic}` };
  const id = t.baseIdentity;
  const { registry } = deps;
  const known = (kind: string, fn: () => HandledMessage): HandledMessage =>
    registry.get(id) ? fn() : { kind, outcome: 'unknownBase', reason: `no heartbeat from ${id} yet` };
  switch (t.kind) {
    case 'heart':
      return checked('heart', parseHeartbeat(payload), deps, (e) => {
        if (e.data.baseMetadata.identity !== id) return mismatch('heart', id, e.data.baseMetadata.identity);
        // The node's InternalIP and every module pod's podIP: the API server rejects anything but an IP.
        if (isIP(e.data.localIP) === 0) return { kind: 'heart', outcome: 'badAddress', reason: `localIP ${JSON.stringify(e.data.localIP.slice(0, 64))} is not an IPv4 or IPv6 address` };
        registry.recordHeartbeat(
          id,
          { metadata: e.data.baseMetadata, localIP: e.data.localIP, hostName: e.data.localHostName, state: e.data.state, publishTimestamp: e.publishTimestamp },
          deps.now(),
        );
        deps.onBaseChanged(id, 'heartbeat');
        return { kind: 'heart', outcome: 'accepted' };
      });
    case 'queryBaseline':
      return checked('queryBaseline', parseQueryBaseline(payload), deps, (e) => {
        if (e.data.identity !== id) return mismatch('queryBaseline', id, e.data.identity);
        deps.onBaselineQuery(id);
        return { kind: 'queryBaseline', outcome: 'accepted' };
      });
    case 'health':
      return checked('health', parseHealth(payload), deps, (e) =>
        known('health', () => {
          registry.recordHealth(id, e.data, deps.now());
          deps.onBaseChanged(id, 'health');
          return { kind: 'health', outcome: 'accepted' };
        }),
      );
    case 'simpleBiz':
    case 'biz': {
      const kind = t.kind;
      return checked(kind, parseModuleList(kind, payload), deps, (e) =>
        known(kind, () => {
          registry.recordModules(id, e.data, deps.now());
          deps.onBaseChanged(id, 'modules');
          return { kind, outcome: 'accepted' };
        }),
      );
    }
    case 'bizOperation':
      return checked('bizOperation', parseBizOperation(payload), deps, (e) => known('bizOperation', () => recordOperation(id, e.data, deps)));
    case 'batchInstallBizResponse':
      return checked('batchInstallBizResponse', parseBatchInstallResponse(payload), deps, () =>
        known('batchInstallBizResponse', () => {
          deps.requestModuleList(id);
          return { kind: 'batchInstallBizResponse', outcome: 'accepted' };
        }),
      );
    default:
      return { kind: t.kind, outcome: 'unknownTopic', reason: topic };
  }
}

function mismatch(kind: string, topicId: string, payloadId: string): HandledMessage {
  return { kind, outcome: 'identityMismatch', reason: `topic names base ${JSON.stringify(topicId)} but the payload says ${JSON.stringify(payloadId.slice(0, 128))}` };
}

function recordOperation(id: string, op: Envelope<unknown>['data'] & { command: 'installBiz' | 'uninstallBiz'; bizName: string; bizVersion: string; response: { code: string; message?: string | null | undefined; data?: unknown } }, deps: HandlerDeps): HandledMessage {
  // A reply to nothing we sent (or sent before a restart) changes nothing; the module list poll is the truth.
  const sent = deps.registry.get(id)?.ops.get(`${op.bizName}:${op.bizVersion}`);
  if (!sent || sent.kind !== (op.command === 'installBiz' ? 'install' : 'uninstall')) {
    deps.requestModuleList(id);
    return { kind: 'bizOperation', outcome: 'unexpected', reason: `no ${op.command} of ${op.bizName}:${op.bizVersion} pending` };
  }
  const ark = arkResponseSchema.safeParse(op.response.data ?? {});
  const arkCode = ark.success ? (ark.data.code ?? '').toUpperCase() : '';
  const outer = op.response.code.toUpperCase();
  const kind = op.command === 'installBiz' ? 'install' : 'uninstall';
  // REPEAT_BIZ on install and NOT_FOUND_BIZ on uninstall mean the base is already where we want it.
  const ok = outer === 'SUCCESS' || (kind === 'install' && arkCode === 'REPEAT_BIZ') || (kind === 'uninstall' && arkCode === 'NOT_FOUND_BIZ');
  const bizInfos: ReportedModule[] = ark.success
    ? (ark.data.bizInfos ?? []).map((b) => ({ bizName: b.bizName, bizVersion: b.bizVersion, state: b.bizState.toUpperCase() }))
    : [];
  const message = [op.response.message, ark.success ? ark.data.message : undefined].filter(Boolean).join(': ') || outer;
  const listed = deps.registry.get(id)?.modules;
  deps.registry.recordOpResult(id, { kind, bizName: op.bizName, bizVersion: op.bizVersion, ok, code: arkCode || outer, message, bizInfos }, deps.now());
  if (needsModuleList({ kind, ok, bizName: op.bizName, bizVersion: op.bizVersion, bizInfos }, listed)) deps.requestModuleList(id);
  deps.onBaseChanged(id, 'operation');
  return { kind: 'bizOperation', outcome: ok ? 'accepted' : 'failedCode', reason: ok ? undefined : message, operation: { command: op.command, ok, latencyMs: deps.now() - sent.sentAt } };
}

/**
 * Pure: whether an answered command needs the base's module list read again. Only one answer does
 * not: an install whose reply lists the module ACTIVATED and no other version of it, on a base whose
 * last list showed no other version of that bizName either (nothing can have been taken along or
 * switched off). Its reply then says all a list would (registry `recordOpResult` folds it in), and the
 * list's round trip and the pass it triggers are saved; the `--module-list-period` poll still checks.
 */
export function needsModuleList(
  r: { readonly kind: 'install' | 'uninstall'; readonly ok: boolean; readonly bizName: string; readonly bizVersion: string; readonly bizInfos: readonly ReportedModule[] },
  listed: readonly ReportedModule[] | undefined,
): boolean {
  if (r.kind !== 'install' || !r.ok || listed === undefined) return true;
  const same = r.bizInfos.filter((b) => b.bizName === r.bizName);
  if (same.length !== 1 || same[0]!.bizVersion !== r.bizVersion || same[0]!.state.toUpperCase() !== 'ACTIVATED') return true;
  return listed.some((m) => m.bizName === r.bizName && m.bizVersion !== r.bizVersion);
}
