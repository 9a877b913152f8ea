#!/usr/bin/env node
/** `module-controller <command>`: one binary for every service. */
import { runCommand, type AnyCommand } from '../core/command.ts';
import { toVersionText } from '../core/version.ts';

// The sandbox is the development harness: in the checkout, not in the packed package or the image.
// A specifier the compiler does not follow keeps it (and its control-plane code) out of dist/.
const SANDBOX_MODULE = '../sandbox/command.ts';
async function loadSandbox(): Promise<AnyCommand> {
  try {
    return ((await import(SANDBOX_MODULE)) as { sandboxCommand: AnyCommand }).sandboxCommand;
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes('/sandbox/command.');
    if (!missing) throw err;
    process.stderr.write('module-controller sandbox: the sandbox is part of the source checkout (git clone, then npm start); this installation has only the services\n');
    process.exit(2);
  }
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<AnyCommand> }> = {
  webhook: { summary: 'Admission webhook: inject scheduling into module pods, reject bad modules', load: async () => (await import('../webhook/command.ts')).webhookCommand },
  extender: { summary: 'Scheduler extender: filter and score virtual nodes (scatter)', load: async () => (await import('../extender/command.ts')).extenderCommand },
  bridge: { summary: 'MQTT bridge: bases become virtual nodes, module pods become installed modules', load: async () => (await import('../bridge/command.ts')).bridgeCommand },
  'module-deployment': { summary: 'ModuleDeployment controller: v1 ModuleDeployments as ReplicaSets of module pods, released in batches', load: async () => (await import('../moduledeployment/command.ts')).moduleDeploymentCommand },
  'base-sim': { summary: 'Simulated Koupleless bases speaking the real MQTT protocol', load: async () => (await import('../base-sim/command.ts')).baseSimCommand },
  broker: { summary: 'MQTT 3.1.1 broker (Aedes) for bases and the bridge', load: async () => (await import('../broker/command.ts')).brokerCommand },
  sandbox: { summary: 'Everything locally: control plane, broker, webhook, extender, scheduler, bridge, 3 bases (checkout only)', load: loadSandbox },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(17)} ${c.summary}`);
  rows.push(`  ${'version'.padEnd(17)} Print the version (also --version)`);
  return `Usage: module-controller <command> [flags]\n\nCommands:\n${rows.join('\n')}\n\nRun "module-controller <command> --help" for a command's flags.\n`;
}

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
  process.exit(name ? 0 : 2);
}
if (name === '--version' || name === '-v' || name === 'version') {
  process.stdout.write(`${toVersionText()}\n`);
  process.exit(0);
}
const entry = COMMANDS[name];
if (!entry) {
  process.stderr.write(`module-controller: unknown command "${name}"\n\n${usage()}`);
  process.exit(2);
}
const code = await runCommand(await entry.load(), {
  argv: rest,
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
});
process.exitCode = code;
