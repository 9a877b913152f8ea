/**
 * Writes docs/configuration.md from the commands' own flag tables (the same tables that parse the
 * flags and print --help), so the documentation cannot drift. test/docs/configuration.test.ts fails
 * when the committed file differs.   node scripts/render-config-docs.ts
 */
import { writeFileSync } from 'node:fs';
import { COMMON_FLAGS, type AnyCommand } from '../core/command.ts';
import { DURATION_UNITS, toFlagEnvName, toSpecEnvName, toSpecFlagName, type FlagSpec } from '../core/flags.ts';
import { webhookCommand } from '../webhook/command.ts';
import { extenderCommand } from '../extender/command.ts';
import { bridgeCommand } from '../bridge/command.ts';
import { brokerCommand } from '../broker/command.ts';
import { baseSimCommand } from '../base-sim/command.ts';
import { sandboxCommand } from '../sandbox/command.ts';
import { moduleDeploymentCommand } from '../moduledeployment/command.ts';

export const CONFIG_DOC = new URL('../docs/configuration.md', import.meta.url);
const COMMANDS: AnyCommand[] = [webhookCommand, extenderCommand, bridgeCommand, moduleDeploymentCommand, brokerCommand, baseSimCommand, sandboxCommand];

function toDefault(s: FlagSpec): string {
  if (s.default === undefined) return '';
  if (Array.isArray(s.default)) return s.default.length ? `\`${s.default.join(',')}\`` : '(empty)';
  return s.default === '' ? '(empty)' : `\`${String(s.default)}\``;
}

export function renderConfigDocs(): string {
  const parts = [
    '# Configuration',
    '',
    'Generated from the flag tables of `module-controller <command>` by `scripts/render-config-docs.ts`; `module-controller <command> --help` prints the same.',
    'Every flag can also be given as an environment variable (`MC_` + the flag name in upper snake case); a flag wins over its variable, and invalid values are all reported at once at start-up.',
    `Durations need a unit: ${DURATION_UNITS.map((u) => `\`${u}\``).join(', ')} (\`500ms\`, \`30s\`, \`5m\`, \`1h\`); a bare number is refused, saying so.`,
    'One flag name per meaning across commands: `--env` (the Koupleless env), `--ops-port` (the /healthz, /readyz, /metrics port of a component whose main port is another), `--mqtt-client-id-prefix`. Older spellings are still accepted, with their `MC_*` twins; the table lists them as aliases.',
    '',
  ];
  for (const cmd of COMMANDS) {
    const specs = { ...COMMON_FLAGS, ...cmd.flags } as Record<string, FlagSpec>;
    parts.push(`## \`module-controller ${cmd.name}\``, '', cmd.summary, '', '| flag | env | default | meaning |', '|---|---|---|---|');
    for (const [key, s] of Object.entries(specs)) {
      const choices = s.choices ? ` One of: ${s.choices.join(', ')}.` : '';
      const aliases = s.aliases?.length ? ` (also ${s.aliases.map((a) => `\`--${a}\``).join(', ')})` : '';
      const aliasEnvs = s.aliases?.length ? ` (also ${s.aliases.map((a) => `\`${toFlagEnvName(a)}\``).join(', ')})` : '';
      const urls = s.url ? ` A URL: ${s.url.schemes.map((u) => `${u}://`).join(', ')}${s.url.literals?.length ? ` or ${s.url.literals.map((l) => `\`${l}\``).join(', ')}` : ''}.` : '';
      parts.push(`| \`--${toSpecFlagName(key, s)}\`${aliases} | \`${toSpecEnvName(key, s)}\`${aliasEnvs} | ${toDefault(s)} | ${s.description.replaceAll("|", "\\|").replace(/\.$/, "")}.${choices}${urls} |`);
    }
    parts.push('');
  }
  return parts.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) writeFileSync(CONFIG_DOC, renderConfigDocs());
