/**
 * One pino logger, created at the entry point and passed down. JSON lines to stdout:
 * `{"level":"info","time":"…","name":"module-controller-bridge","msg":"…",…}` — the level as its
 * name (what log pipelines match on, not pino's numbers), the component once (`name`), and errors
 * under `err` with their type, message, code, stack and cause chain.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An `err` field as JSON: an Error with type, message, code, stack and its cause chain; the fields
 * from core/errors.ts toErrorFields (code, message, cause) with the stack it keeps aside; anything
 * else as it is. pino's own serializer turned those field objects into `{"type":"Object","stack":""}`.
 */
export function toLogError(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    const cause = depth < 5 && value.cause !== undefined ? toLogError(value.cause, depth + 1) : undefined;
    return { type: value.name, message: value.message, ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}), ...(value.stack ? { stack: value.stack } : {}), ...(cause !== undefined ? { cause } : {}) };
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = { ...value };
    const stack = Object.getOwnPropertyDescriptor(value, 'stack')?.value as unknown;
    if (typeof stack === 'string' && out['stack'] === undefined) out['stack'] = stack;
    return out;
  }
  return value;
}

/** Keys pino writes itself: a log call's own field of that name would appear twice in the line. */
const RESERVED_RENAMES: Readonly<Record<string, string>> = Object.freeze({ name: 'objectName', level: 'levelValue', time: 'timeValue', msg: 'msgValue' });

/** A log call's fields with reserved keys renamed, so every key appears once (`name` → `objectName`). */
export function toLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, renamed] of Object.entries(RESERVED_RENAMES)) {
    if (!Object.hasOwn(fields, key)) continue;
    out ??= { ...fields };
    out[renamed] = out[key];
    delete out[key];
  }
  return out ?? fields;
}

export function createLogger(level: string, name = 'module-controller', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      name,
      level,
      // No pid/hostname base: the component is `name`, the pod and node come from the log shipper.
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: toLogFields },
      serializers: { err: (e: unknown) => toLogError(e), error: (e: unknown) => toLogError(e) },
    },
    destination ?? pino.destination({ ...BUFFERED_STDOUT }),
  );
}

/**
 * stdout in batches: lines gather until 4 KiB or 200 ms, then go out in one write (a busy bridge
 * logs a line per module command; one write per line cost it about 0.2 ms of CPU per pod). pino
 * flushes what is left synchronously when the process exits, and `logger.flush()` on demand; only
 * a SIGKILL loses the last 200 ms of lines.
 */
export const BUFFERED_STDOUT = Object.freeze({ dest: 1, sync: false, minLength: 4096, periodicFlush: 200 });

/** A logger that writes nothing, for tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
