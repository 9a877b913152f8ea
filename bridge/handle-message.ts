/**
 * One small handler per base message kind. Each parses, checks, records into the registry and says
 * which base changed; it returns an outcome label for metrics. Malformed, stale, unknown and failed
 * messages change nothing (koupleless-protocol.md "do better" 9).
 */
import {
  arkResponseSchema, parseBatchInstallResponse, parseBizOperation, parseHealth, parseHeartbeat,
  parseModuleList, parseQueryBaseline, type Envelope, type Parsed, type ReportedModule,
} from '../core/protocol.ts';
import { parseTopic } from '../core/topics.ts';
import type { BaseRegistry } from './base-registry.ts';

export type MessageOutcome = 'accepted' | 'malformed' | 'stale' | 'unknownTopic' | 'unknownBase' | 'failedCode' | 'outOfOrder' | 'unexpected';

export interface HandlerDeps {
  readonly registry: BaseRegistry;
  readonly env: string;
  readonly now: () => number;
  /** 0 disables the age check (it needs synchronized clocks). */
  readonly maxMessageAgeMs: number;
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
  return use(r.value);
}

export function handleMessage(topic: string, payload: Buffer, deps: HandlerDeps): HandledMessage {
  const t = parseTopic(topic);
  if (!t || t.direction !== 'fromBase' || t.env !== deps.env) return { kind: 'unknown', outcome: 'unknownTopic', reason: topic };
  const id = t.baseIdentity;
  const { registry } = deps;
  const known = (kind: string, fn: () => HandledMessage): HandledMessage =>
    registry.get(id) ? fn() : { kind, outcome: 'unknownBase', reason: `no heartbeat from ${id} yet` };
  switch (t.kind) {
    case 'heart':
      return checked('heart', parseHeartbeat(payload), deps, (e) => {
        const ok = registry.recordHeartbeat(
          id,
          { metadata: e.data.baseMetadata, localIP: e.data.localIP, hostName: e.data.localHostName, state: e.data.state, publishTimestamp: e.publishTimestamp },
          deps.now(),
        );
        if (!ok) return { kind: 'heart', outcome: 'outOfOrder' };
        deps.onBaseChanged(id, 'heartbeat');
        return { kind: 'heart', outcome: 'accepted' };
      });
    case 'queryBaseline':
      return checked('queryBaseline', parseQueryBaseline(payload), deps, () => {
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
  deps.registry.recordOpResult(id, { kind, bizName: op.bizName, bizVersion: op.bizVersion, ok, code: arkCode || outer, message, bizInfos }, deps.now());
  deps.requestModuleList(id);
  deps.onBaseChanged(id, 'operation');
  return { kind: 'bizOperation', outcome: ok ? 'accepted' : 'failedCode', reason: ok ? undefined : message, operation: { command: op.command, ok, latencyMs: deps.now() - sent.sentAt } };
}
