/**
 * Who owns which base, seen from outside the bridge: the shard Leases' holders (read from the real
 * API server), each replica's own gauges, and each replica's log (when it acquired, released or lost
 * a shard, and every module command it sent). Used by test/integration/bridge-sharding.test.ts and
 * bench/bridge-shards.ts. The checks are pure functions over what was read.
 */
import type * as k8s from '@kubernetes/client-node';
import { toShard } from '../../bridge/shards.ts';
import { toShardLeaseName } from '../../core/names.ts';

export interface ShardOwnership {
  readonly shards: number;
  /** The holderIdentity of shard k's Lease: '' when released, undefined when the Lease does not exist. */
  readonly holders: ReadonlyArray<string | undefined>;
}

/** One list of the namespace's Leases; shard k is the Lease named toShardLeaseName(prefix, k). */
export async function readShardOwnership(coordination: k8s.CoordinationV1Api, namespace: string, prefix: string, shards: number): Promise<ShardOwnership> {
  const byName = new Map((await coordination.listNamespacedLease({ namespace })).items.map((l) => [l.metadata?.name ?? '', l.spec?.holderIdentity ?? '']));
  return { shards, holders: Array.from({ length: shards }, (_, k) => byName.get(toShardLeaseName(prefix, k))) };
}

/** What one live replica says about itself (module_controller_bridge_shards_owned / _bases_owned). */
export interface ReplicaView {
  readonly id: string;
  readonly shardsOwned: number | undefined;
  readonly basesOwned: number | undefined;
}

/** The bases each holder owns, by the Leases and toShard. */
export function basesByOwner(o: ShardOwnership, identities: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const id of identities) {
    const holder = o.holders[toShard(id, o.shards)] || '(none)';
    out.set(holder, [...(out.get(holder) ?? []), id]);
  }
  return out;
}

/**
 * Everything wrong with "every base has exactly one owner, a live replica, holding at most its fair
 * share" (empty = right):
 * - every shard Lease exists and is held by one of the live replicas (not free, not a dead one);
 * - every live replica holds at most ceil(S / live) shards;
 * - each replica's own gauges agree with the Leases (it acts on what it holds, no more, no less).
 */
export function ownershipProblems(o: ShardOwnership, live: readonly ReplicaView[], identities: readonly string[]): string[] {
  const problems: string[] = [];
  const ids = new Set(live.map((r) => r.id));
  o.holders.forEach((h, k) => {
    if (h === undefined) problems.push(`shard ${k}: no Lease`);
    else if (h === '') problems.push(`shard ${k}: free`);
    else if (!ids.has(h)) problems.push(`shard ${k}: held by ${h}, not a live replica`);
  });
  const fair = Math.ceil(o.shards / Math.max(1, live.length));
  const owners = basesByOwner(o, identities);
  for (const r of live) {
    const held = o.holders.filter((h) => h === r.id).length;
    const bases = owners.get(r.id)?.length ?? 0;
    if (held > fair) problems.push(`${r.id} holds ${held} shards, above its fair share ${fair}`);
    if (r.shardsOwned !== held) problems.push(`${r.id} says it owns ${r.shardsOwned} shards, its Leases say ${held}`);
    if (r.basesOwned !== bases) problems.push(`${r.id} says it owns ${r.basesOwned} bases, its shards hold ${bases}`);
  }
  return problems;
}

/** An interval [from, to) in epoch ms during which one replica said it owned one shard. */
export interface OwnedInterval {
  readonly replica: string;
  readonly shard: number;
  readonly from: number;
  readonly to: number;
}

export interface ReplicaLog {
  readonly id: string;
  /** The replica's JSON log lines (pino, `time` as ISO text). */
  readonly lines: ReadonlyArray<Record<string, unknown>>;
  /** When it was killed (kill -9): an interval still open ends there. */
  readonly diedAt?: number | undefined;
}

const timeOf = (l: Record<string, unknown>): number => (typeof l['time'] === 'number' ? l['time'] : Date.parse(String(l['time'])));

/** The replica's ownership intervals from its `shard acquired` / `shard released` / `shard lost` lines. */
export function ownedIntervals(log: ReplicaLog): OwnedInterval[] {
  const open = new Map<number, number>();
  const out: OwnedInterval[] = [];
  const end = log.diedAt ?? Number.POSITIVE_INFINITY;
  for (const l of log.lines) {
    const shard = l['shard'];
    if (typeof shard !== 'number') continue;
    if (l['msg'] === 'shard acquired') {
      if (!open.has(shard)) open.set(shard, timeOf(l));
    } else if (l['msg'] === 'shard released' || l['msg'] === 'shard lost') {
      const from = open.get(shard);
      if (from !== undefined) out.push({ replica: log.id, shard, from, to: timeOf(l) });
      open.delete(shard);
    }
  }
  for (const [shard, from] of open) out.push({ replica: log.id, shard, from, to: end });
  return out;
}

/** Two replicas that said they owned the same shard at the same time (beyond `slackMs`). */
export function overlappingOwnership(logs: readonly ReplicaLog[], slackMs = 0): string[] {
  const byShard = new Map<number, OwnedInterval[]>();
  for (const i of logs.flatMap(ownedIntervals)) byShard.set(i.shard, [...(byShard.get(i.shard) ?? []), i]);
  const out: string[] = [];
  for (const [shard, list] of byShard) {
    const sorted = [...list].sort((a, b) => a.from - b.from);
    for (let i = 1; i < sorted.length; i++) {
      for (let j = 0; j < i; j++) {
        const a = sorted[j]!, b = sorted[i]!;
        if (a.replica !== b.replica && b.from < a.to - slackMs) {
          out.push(`shard ${shard}: ${a.replica} [${iso(a.from)} – ${iso(a.to)}) and ${b.replica} from ${iso(b.from)}`);
        }
      }
    }
  }
  return out;
}

/** One `module command sent` line of a replica's log. */
export interface SentCommand {
  readonly replica: string;
  readonly at: number;
  readonly base: string;
  readonly command: string;
  readonly module: string;
}

export function sentCommands(log: ReplicaLog): SentCommand[] {
  return log.lines
    .filter((l) => l['msg'] === 'module command sent' && typeof l['base'] === 'string')
    .map((l) => ({ replica: log.id, at: timeOf(l), base: String(l['base']), command: String(l['command'] ?? ''), module: String(l['module'] ?? '') }));
}

/**
 * Module commands a replica sent to a base whose shard it did not own at that moment by its own log:
 * the per-base gate (`owns`) leaking. Empty = every command came from the base's owner.
 */
export function commandsOutsideOwnership(logs: readonly ReplicaLog[], shards: number): string[] {
  const out: string[] = [];
  for (const log of logs) {
    const intervals = ownedIntervals(log);
    for (const c of sentCommands(log)) {
      const shard = toShard(c.base, shards);
      if (!intervals.some((i) => i.shard === shard && i.from <= c.at && c.at < i.to)) {
        out.push(`${c.replica} sent ${c.command} ${c.module} to ${c.base} (shard ${shard}) at ${iso(c.at)} without owning it`);
      }
    }
  }
  return out;
}

/** Which replicas sent module commands to each base (a base with two senders changed owner, or leaked). */
export function sendersByBase(logs: readonly ReplicaLog[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of logs.flatMap(sentCommands)) out.set(c.base, (out.get(c.base) ?? new Set()).add(c.replica));
  return out;
}

function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString().slice(11, 23) : '∞';
}
