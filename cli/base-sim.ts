#!/usr/bin/env node
/** `base-sim [flags]`: the same as `module-controller base-sim [flags]`, as its own command. */
import { runCommand } from '../core/command.ts';
import { baseSimCommand } from '../base-sim/command.ts';

process.exitCode = await runCommand(baseSimCommand, {
  argv: process.argv.slice(2),
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
});
