/**
 * The shape every `module-controller <command>` has, and the one place that turns argv + env into a
 * frozen config, creates the logger and metrics registry, and wires SIGINT/SIGTERM/SIGHUP to a graceful stop.
 */
import type { Registry } from 'prom-client';
import { parseFlags, toHelpText, type FlagSpec, type FlagValues } from './flags.ts';
import { createLogger, LOG_LEVELS, type Logger } from './logger.ts';
import { createRegistry } from './ops-routes.ts';
import { toErrorFields } from './errors.ts';

export interface RunContext {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Aborted on SIGINT/SIGTERM/SIGHUP: the command stops its servers and loops, then resolves. */
  readonly signal: AbortSignal;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
}

export interface Command<T extends Record<string, FlagSpec>> {
  readonly name: string;
  readonly summary: string;
  readonly flags: T;
  /** Resolves when the command has stopped (after the signal, or on its own for one-shot commands). */
  run(config: FlagValues<T>, ctx: RunContext): Promise<void>;
}

/** Flags every command has. */
export const COMMON_FLAGS = {
  logLevel: { kind: 'string', description: 'Log level', default: 'info', choices: LOG_LEVELS },
} as const satisfies Record<string, FlagSpec>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = Command<any>;

export function defineCommand<T extends Record<string, FlagSpec>>(c: Command<T>): Command<T> {
  return c;
}

export interface Io {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Parses, runs and returns an exit code; never throws. */
export async function runCommand(cmd: AnyCommand, io: Io): Promise<number> {
  const specs = { ...COMMON_FLAGS, ...cmd.flags } as Record<string, FlagSpec>;
  const parsed = parseFlags(specs, io.argv, io.env);
  if (parsed.kind === 'help') {
    io.stdout(toHelpText(cmd.name, cmd.summary, specs));
    return 0;
  }
  if (parsed.kind === 'invalid') {
    io.stderr(`module-controller ${cmd.name}: invalid configuration (CONFIG_INVALID):\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\nRun "module-controller ${cmd.name} --help" for the flags.\n`);
    return 2;
  }
  const values = parsed.values as Record<string, unknown>;
  const logger = createLogger(String(values['logLevel']), `module-controller-${cmd.name}`);
  const controller = new AbortController();
  const stop = (sig: string) => {
    if (controller.signal.aborted) {
      logger.warn({ signal: sig }, 'second signal, exiting now');
      process.exit(130);
    }
    logger.info({ signal: sig }, 'shutting down');
    controller.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A closed terminal: stop as cleanly as on Ctrl-C. Without a handler Node dies at once and the
  // sandbox's detached children (etcd, the API server…) would run on, orphaned.
  process.on('SIGHUP', () => stop('SIGHUP'));
  try {
    await cmd.run(values as never, {
      logger,
      registry: createRegistry(),
      signal: controller.signal,
      env: io.env,
      out: (line: string) => io.stdout(`${line}\n`),
    });
    logger.flush();
    return 0;
  } catch (err) {
    logger.error({ err: toErrorFields(err) }, `${cmd.name} failed`);
    logger.flush();
    io.stderr(`module-controller ${cmd.name}: ${toErrorFields(err).message}\n`);
    return 1;
  }
}

/** Resolves when the signal aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
