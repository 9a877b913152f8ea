/**
 * Command-line configuration: flags (and their MC_* environment twins) parsed once into a typed,
 * frozen object. All problems are reported together; `--help` text is generated from the same table,
 * so documentation and parsing cannot drift. Nothing else in the code base reads process.env.
 */

export type FlagKind = 'string' | 'int' | 'bool' | 'duration' | 'list';

export interface FlagSpec {
  readonly kind: FlagKind;
  readonly description: string;
  readonly default?: string | number | boolean | readonly string[];
  /** Allowed values for a string flag. */
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /**
   * The flag's name when it is not the key's kebab form: one spelling per meaning across commands
   * (FLAG_SPELLINGS), while the code keeps its key. Its env twin follows the name.
   */
  readonly flag?: string;
  /** Old spellings still accepted (without `--`), with their MC_* twins; shown in --help. */
  readonly aliases?: readonly string[];
  /** A string flag that must be a URL of one of these schemes (without `:`), or one of `literals`. */
  readonly url?: { readonly schemes: readonly string[]; readonly literals?: readonly string[] };
}

/**
 * One flag name per meaning, across every command (issue 12). Where a command's table used another
 * spelling, its spec carries `flag` (the name below) and `aliases` (the old one, still accepted).
 * test/core/flags.test.ts checks every command against this table.
 */
export const FLAG_SPELLINGS = Object.freeze({
  /** The Koupleless env: topic segment `koupleless_<env>/…` (was `--mqtt-env` on base-sim). */
  env: { flag: 'env', was: ['mqtt-env'] },
  /** Port of /healthz, /readyz and /metrics when the component's main port is another (was `--port` on the bridge). */
  opsPort: { flag: 'ops-port', was: ['port'] },
  /** MQTT client id prefix `<prefix>@@@<id>` (was `--client-id-prefix` on base-sim). */
  mqttClientIdPrefix: { flag: 'mqtt-client-id-prefix', was: ['client-id-prefix'] },
} as const);

/** Schemes MQTT.js connects with (mqtt.connect): plain, TLS and WebSocket. */
export const MQTT_URL_SCHEMES: readonly string[] = Object.freeze(['mqtt', 'mqtts', 'tcp', 'tls', 'ssl', 'ws', 'wss']);

type ValueOf<S extends FlagSpec> = S['kind'] extends 'int' | 'duration'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? readonly string[]
      : string;

export type FlagValues<T extends Record<string, FlagSpec>> = {
  readonly [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

export type FlagParse<T extends Record<string, FlagSpec>> =
  | { readonly kind: 'ok'; readonly values: FlagValues<T> }
  | { readonly kind: 'help' }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

export function toFlagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function toEnvName(key: string): string {
  return `MC_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** `--name` of a spec: its `flag` when set, else the key in kebab case. */
export function toSpecFlagName(key: string, spec: FlagSpec): string {
  return spec.flag ?? toFlagName(key);
}

/** MC_* twin of a flag name (`ops-port` → `MC_OPS_PORT`). */
export function toFlagEnvName(flag: string): string {
  return `MC_${flag.replaceAll('-', '_').toUpperCase()}`;
}

export function toSpecEnvName(key: string, spec: FlagSpec): string {
  return spec.flag ? toFlagEnvName(spec.flag) : toEnvName(key);
}

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
export const DURATION_UNITS: readonly string[] = Object.freeze(Object.keys(UNIT_MS));

/** "30s" → 30000. A number needs its unit: a bare "30" is undefined (seconds? milliseconds?). */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

function toDurationProblem(where: string, raw: string): string {
  if (/^\s*\d+(\.\d+)?\s*$/.test(raw)) return `${where}: "${raw}" has no unit; give one of ${DURATION_UNITS.join(', ')} (e.g. ${raw.trim()}s or ${raw.trim()}ms)`;
  return `${where}: "${raw}" is not a duration; use a number with one of the units ${DURATION_UNITS.join(', ')}, e.g. 500ms, 30s, 5m, 1h`;
}

/** Why a URL flag's value is not acceptable, or undefined. */
export function checkUrlFlag(where: string, value: string, rule: NonNullable<FlagSpec['url']>): string | undefined {
  if (rule.literals?.includes(value)) return undefined;
  const accepted = `${rule.schemes.map((s) => `${s}://`).join(', ')}${rule.literals?.length ? ` or ${rule.literals.map((l) => `"${l}"`).join(', ')}` : ''}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${where}: "${value}" is not a URL; use ${accepted}`;
  }
  const scheme = url.protocol.slice(0, -1);
  if (!rule.schemes.includes(scheme)) return `${where}: "${value}" has scheme ${scheme}://, which is not accepted; use ${accepted}`;
  if (!url.hostname) return `${where}: "${value}" has no host; e.g. ${rule.schemes[0]}://broker.example:1883`;
  return undefined;
}

function convert(key: string, spec: FlagSpec, raw: string | boolean): { value?: unknown; problem?: string } {
  const where = `--${toSpecFlagName(key, spec)}`;
  switch (spec.kind) {
    case 'bool': {
      if (typeof raw === 'boolean') return { value: raw };
      if (/^(true|1|yes)$/i.test(raw)) return { value: true };
      if (/^(false|0|no)$/i.test(raw)) return { value: false };
      return { problem: `${where}: "${raw}" is not a boolean; use true or false` };
    }
    case 'int': {
      const n = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n)) {
        return { problem: `${where}: "${String(raw)}" is not a whole number` };
      }
      if (spec.min !== undefined && n < spec.min) return { problem: `${where}: ${n} is below the minimum ${spec.min}` };
      if (spec.max !== undefined && n > spec.max) return { problem: `${where}: ${n} is above the maximum ${spec.max}` };
      return { value: n };
    }
    case 'duration': {
      const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
      if (ms === undefined) return { problem: toDurationProblem(where, String(raw)) };
      if (spec.min !== undefined && ms < spec.min) return { problem: `${where}: ${String(raw)} is below the minimum ${spec.min}ms` };
      return { value: ms };
    }
    case 'list':
      return { value: String(raw).split(',').map((s) => s.trim()).filter(Boolean) };
    case 'string': {
      const s = String(raw);
      if (spec.choices && !spec.choices.includes(s)) {
        return { problem: `${where}: "${s}" is not one of ${spec.choices.join(', ')}` };
      }
      const bad = spec.url ? checkUrlFlag(where, s, spec.url) : undefined;
      if (bad) return { problem: bad };
      return { value: s };
    }
  }
}

function defaultValue(spec: FlagSpec): unknown {
  if (spec.default === undefined) return undefined;
  if (spec.kind === 'duration' && typeof spec.default === 'string') return parseDuration(spec.default);
  return spec.default;
}

/**
 * Parses `--name value`, `--name=value` and bare `--flag` for booleans. Precedence: flag, then
 * MC_* environment variable, then the default.
 */
export function parseFlags<T extends Record<string, FlagSpec>>(
  specs: T,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): FlagParse<T> {
  const byFlag = new Map<string, string>();
  for (const [k, spec] of Object.entries(specs)) {
    for (const alias of spec.aliases ?? []) byFlag.set(alias, k);
  }
  // Canonical names last: they win over another key's old spelling (broker's --port stays its MQTT port).
  for (const [k, spec] of Object.entries(specs)) byFlag.set(toSpecFlagName(k, spec), k);
  const given = new Map<string, string | boolean>();
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument "${arg}"; flags look like --name value`);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const key = byFlag.get(name);
    if (!key) {
      problems.push(`unknown flag --${name}; see --help`);
      continue;
    }
    if (eq >= 0) given.set(key, arg.slice(eq + 1));
    else if (specs[key]!.kind === 'bool' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'))) given.set(key, true);
    else if (argv[i + 1] === undefined) problems.push(`--${name} needs a value`);
    else given.set(key, argv[++i]!);
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const envName = [toSpecEnvName(key, spec), ...(spec.aliases ?? []).map(toFlagEnvName)].find((n) => env[n] !== undefined && !isOtherKeysEnv(n, key, specs));
    const raw = given.get(key) ?? (envName ? env[envName] : undefined);
    if (raw === undefined) {
      values[key] = defaultValue(spec);
      continue;
    }
    const r = convert(key, spec, raw);
    if (r.problem) problems.push(given.has(key) ? r.problem : `${r.problem} (from ${envName})`);
    else values[key] = r.value;
  }
  if (problems.length > 0) return { kind: 'invalid', problems };
  return { kind: 'ok', values: Object.freeze(values) as FlagValues<T> };
}

/** An alias's env twin that is another key's own variable belongs to that key (MC_PORT on the broker). */
function isOtherKeysEnv(envName: string, key: string, specs: Record<string, FlagSpec>): boolean {
  return Object.entries(specs).some(([k, s]) => k !== key && toSpecEnvName(k, s) === envName);
}

export function toHelpText(command: string, summary: string, specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([key, s]) => {
    const flag = `--${toSpecFlagName(key, s)}${s.kind === 'bool' ? '' : ` <${s.kind}>`}`;
    const def = s.default === undefined ? '' : ` (default ${Array.isArray(s.default) ? s.default.join(',') || '""' : JSON.stringify(s.default)})`;
    const aliases = s.aliases?.length ? ` (also ${s.aliases.map((a) => `--${a}`).join(', ')})` : '';
    return `  ${flag.padEnd(34)} ${s.description}${def}${aliases} [env ${toSpecEnvName(key, s)}]`;
  });
  return `Usage: module-controller ${command} [flags]\n\n${summary}\n\nFlags:\n${rows.join('\n')}\n  --help                             Show this help\n`;
}
