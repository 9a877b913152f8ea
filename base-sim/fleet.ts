/**
 * N simulated bases in one process, one MQTT client each — the library behind
 * `module-controller base-sim`, the sandbox, the benchmarks and the bridge tests:
 *
 *   const fleet = await startFleet({ url, count: 3, name: 'base', version: '1.0.0' });
 *   fleet.bases[0].installed();  await fleet.bases[1].silence();  await fleet.stop();
 */
import { ControllerError } from '../core/errors.ts';
import { DEFAULTS } from '../core/names.ts';
import { checkIdentityPrefix, checkIpPrefix, toSimBaseInfo } from './base-info.ts';
import { createSimBase, type SimBase, type SimEvent } from './sim-base.ts';

export interface FleetOptions {
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Topic env segment (default: what real bases send). */
  readonly env?: string | undefined;
  readonly count?: number | undefined;
  readonly name?: string | undefined;
  readonly version?: string | undefined;
  readonly clusterName?: string | undefined;
  /** Empty (default): identities are the bases' IPs, like real bases. Else `<prefix><index>`. */
  readonly identityPrefix?: string | undefined;
  readonly ipPrefix?: string | undefined;
  /** Index of the first base, so several processes can share one IP prefix without clashing. */
  readonly firstIndex?: number | undefined;
  readonly clientIdPrefix?: string | undefined;
  readonly heartbeatPeriodMs?: number | undefined;
  readonly installLatencyMs?: number | undefined;
  /** 0..1 */
  readonly failureRate?: number | undefined;
  readonly switching?: boolean | undefined;
  readonly keepBroken?: boolean | undefined;
  /** Install under the version in the jar's file name (`<bizName>-<version>-ark-biz.jar`), like a real base reading the jar. */
  readonly reportJarVersion?: boolean | undefined;
  readonly masterBizState?: string | undefined;
  readonly random?: (() => number) | undefined;
  readonly now?: (() => number) | undefined;
  /** Added to every base's clock (publishTimestamp, state records): a base whose clock is off. */
  readonly clockOffsetMs?: number | undefined;
  readonly onEvent?: ((e: SimEvent) => void) | undefined;
  /** How many bases connect at the same time while the fleet starts. */
  readonly connectConcurrency?: number | undefined;
  readonly connectTimeoutMs?: number | undefined;
}

export const FLEET_DEFAULTS = Object.freeze({
  env: DEFAULTS.mqttEnv,
  count: 1,
  name: 'base',
  version: '1.0.0',
  clusterName: 'default',
  identityPrefix: '',
  ipPrefix: '127.1',
  firstIndex: 0,
  clientIdPrefix: 'koupleless',
  heartbeatPeriodMs: 10_000,
  installLatencyMs: 1_000,
  failureRate: 0,
  switching: false,
  keepBroken: false,
  reportJarVersion: false,
  masterBizState: 'ACTIVATED',
  connectConcurrency: 50,
  connectTimeoutMs: 30_000,
});

export interface Fleet {
  readonly bases: readonly SimBase[];
  /** The base with this identity, if it is part of the fleet. */
  get(identity: string): SimBase | undefined;
  /** Every base stops silently (like killed bases). */
  stop(): Promise<void>;
  /** Every base says goodbye with a "deactivated" heartbeat, then stops. */
  shutdown(): Promise<void>;
}

/** Every problem with the options at once (empty when they are fine). */
export function checkFleetOptions(o: FleetOptions): string[] {
  const problems: string[] = [];
  const count = o.count ?? FLEET_DEFAULTS.count;
  const first = o.firstIndex ?? FLEET_DEFAULTS.firstIndex;
  if (!Number.isInteger(count) || count < 1) problems.push(`count must be a whole number ≥ 1, not ${count}`);
  if (!Number.isInteger(first) || first < 0) problems.push(`first index must be a whole number ≥ 0, not ${first}`);
  const room = checkIpPrefix(o.ipPrefix ?? FLEET_DEFAULTS.ipPrefix);
  if (typeof room === 'string') problems.push(room);
  else if (first + count > room) {
    problems.push(`IP prefix "${o.ipPrefix ?? FLEET_DEFAULTS.ipPrefix}" has room for ${room} bases, not ${first + count}; use a shorter prefix`);
  }
  const idProblem = checkIdentityPrefix(o.identityPrefix ?? FLEET_DEFAULTS.identityPrefix);
  if (idProblem) problems.push(idProblem);
  const rate = o.failureRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) problems.push(`failure rate must be between 0 and 1, not ${rate}`);
  if (o.clockOffsetMs !== undefined && !Number.isFinite(o.clockOffsetMs)) problems.push(`clock offset must be a finite number of milliseconds, not ${o.clockOffsetMs}`);
  return problems;
}

/** Runs `fn` over `items`, at most `limit` at a time; rejects with the first failure. */
async function runBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Starts the fleet; resolves once every base is connected, subscribed and has sent its first heartbeat. */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const problems = checkFleetOptions(opts);
  if (problems.length > 0) throw new ControllerError('CONFIG_INVALID', `base-sim options are invalid: ${problems.join('; ')}`);
  const d = FLEET_DEFAULTS;
  const o = {
    env: opts.env ?? d.env,
    count: opts.count ?? d.count,
    name: opts.name ?? d.name,
    version: opts.version ?? d.version,
    clusterName: opts.clusterName ?? d.clusterName,
    identityPrefix: opts.identityPrefix ?? d.identityPrefix,
    ipPrefix: opts.ipPrefix ?? d.ipPrefix,
    firstIndex: opts.firstIndex ?? d.firstIndex,
    failureRate: opts.failureRate ?? d.failureRate,
    switching: opts.switching ?? d.switching,
    keepBroken: opts.keepBroken ?? d.keepBroken,
    reportJarVersion: opts.reportJarVersion ?? d.reportJarVersion,
  };
  const clock = opts.now ?? Date.now;
  const offset = opts.clockOffsetMs ?? 0;
  const now = offset === 0 ? clock : () => clock() + offset;
  const bases = Array.from({ length: o.count }, (_, i) =>
    createSimBase({
      url: opts.url,
      username: opts.username,
      password: opts.password,
      env: o.env,
      clientIdPrefix: opts.clientIdPrefix ?? d.clientIdPrefix,
      info: toSimBaseInfo(o.firstIndex + i, o),
      heartbeatPeriodMs: opts.heartbeatPeriodMs ?? d.heartbeatPeriodMs,
      installLatencyMs: opts.installLatencyMs ?? d.installLatencyMs,
      behaviour: { failureRate: o.failureRate, switching: o.switching, keepBroken: o.keepBroken, masterBizName: o.name, reportJarVersion: o.reportJarVersion },
      masterBizState: opts.masterBizState ?? d.masterBizState,
      random: opts.random ?? Math.random,
      now,
      onEvent: opts.onEvent,
      connectTimeoutMs: opts.connectTimeoutMs ?? d.connectTimeoutMs,
    }),
  );
  const byIdentity = new Map(bases.map((b) => [b.identity, b]));
  const fleet: Fleet = {
    bases,
    get: (identity) => byIdentity.get(identity),
    stop: async () => {
      await Promise.all(bases.map((b) => b.stop()));
    },
    shutdown: async () => {
      await Promise.all(bases.map((b) => b.shutdown()));
    },
  };
  try {
    await runBounded(bases, opts.connectConcurrency ?? d.connectConcurrency, (b) => b.start());
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  return fleet;
}
