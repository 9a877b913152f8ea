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
}

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

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s" → 30000; a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}

function convert(key: string, spec: FlagSpec, raw: string | boolean): { value?: unknown; problem?: string } {
  const where = `--${toFlagName(key)}`;
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
      if (ms === undefined) return { problem: `${where}: "${String(raw)}" is not a duration; use e.g. 500ms, 30s, 5m` };
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
  const byFlag = new Map(Object.keys(specs).map((k) => [toFlagName(k), k]));
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
    const raw = given.get(key) ?? env[toEnvName(key)];
    if (raw === undefined) {
      values[key] = defaultValue(spec);
      continue;
    }
    const r = convert(key, spec, raw);
    if (r.problem) problems.push(given.has(key) ? r.problem : `${r.problem} (from ${toEnvName(key)})`);
    else values[key] = r.value;
  }
  if (problems.length > 0) return { kind: 'invalid', problems };
  return { kind: 'ok', values: Object.freeze(values) as FlagValues<T> };
}

export function toHelpText(command: string, summary: string, specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([key, s]) => {
    const flag = `--${toFlagName(key)}${s.kind === 'bool' ? '' : ` <${s.kind}>`}`;
    const def = s.default === undefined ? '' : ` (default ${Array.isArray(s.default) ? s.default.join(',') || '""' : JSON.stringify(s.default)})`;
    return `  ${flag.padEnd(34)} ${s.description}${def} [env ${toEnvName(key)}]`;
  });
  return `Usage: module-controller ${command} [flags]\n\n${summary}\n\nFlags:\n${rows.join('\n')}\n  --help                             Show this help\n`;
}
