/**
 * Runs a `module-controller <command>` in this process with the exact flag parsing of the CLI, its own
 * logger and metrics registry, stopped by the given signal. The sandbox and the end-to-end tests use
 * it so they run the real commands, not look-alikes.
 */
import type { Writable } from 'node:stream';
import { COMMON_FLAGS, type AnyCommand } from '../core/command.ts';
import { ControllerError } from '../core/errors.ts';
import { parseFlags, type FlagSpec } from '../core/flags.ts';
import { createLogger } from '../core/logger.ts';
import { createRegistry } from '../core/ops-routes.ts';

export interface InProcessOptions {
  readonly signal: AbortSignal;
  /** Where the command's JSON log goes (default: nowhere below --log-level). */
  readonly logTo?: Writable;
  readonly out?: (line: string) => void;
}

/** Starts the command; the promise settles when it stops (rejects if it fails). */
export function runInProcess(cmd: AnyCommand, argv: readonly string[], o: InProcessOptions): Promise<void> {
  const specs = { ...COMMON_FLAGS, ...cmd.flags } as Record<string, FlagSpec>;
  const parsed = parseFlags(specs, argv, {});
  if (parsed.kind !== 'ok') {
    return Promise.reject(new ControllerError('CONFIG_INVALID', `${cmd.name}: ${parsed.kind === 'invalid' ? parsed.problems.join('; ') : 'unexpected --help'}`));
  }
  const values = parsed.values as Record<string, unknown>;
  const logger = createLogger(String(values['logLevel']), `module-controller-${cmd.name}`, o.logTo ?? process.stderr);
  return cmd.run(values as never, { logger, registry: createRegistry(), signal: o.signal, env: {}, out: o.out ?? (() => {}) });
}
