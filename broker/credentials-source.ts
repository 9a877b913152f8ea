/**
 * Where the broker's credentials come from: the credentials file (re-read on every check, so an
 * edited Secret takes effect without a restart) plus the plain-password entries given as flags (the
 * chart's generated bridge and base passwords), hashed once at start.
 */
import { readFile } from 'node:fs/promises';
import { ControllerError } from '../core/errors.ts';
import { parseCredentials, withPlainEntries, type CredentialRole, type CredentialTable } from './credentials.ts';

export interface PlainCredential {
  readonly username: string;
  readonly password: string;
  readonly role: CredentialRole;
}

export interface CredentialsSource {
  /** The current table; the same object while nothing changed. Throws CONFIG_INVALID on a bad file. */
  load(): Promise<CredentialTable>;
  readonly description: string;
}

export function createCredentialsSource(opts: { file?: string | undefined; plain: readonly PlainCredential[]; read?: (path: string) => Promise<string> }): CredentialsSource {
  const read = opts.read ?? ((p: string) => readFile(p, 'utf8'));
  const plainTable = withPlainEntries(new Map(), opts.plain);
  let lastText: string | undefined;
  let table: CredentialTable = plainTable;
  return {
    description: [opts.file, ...opts.plain.map((p) => `${p.role} user "${p.username}" from flags`)].filter(Boolean).join(', '),
    async load() {
      if (!opts.file) return table;
      let text: string;
      try {
        text = await read(opts.file);
      } catch (err) {
        throw new ControllerError('CONFIG_INVALID', `cannot read the credentials file ${opts.file}: ${(err as Error).message}`, { cause: err });
      }
      if (text === lastText) return table;
      const parsed = parseCredentials(text, opts.file);
      if (!parsed.ok) throw new ControllerError('CONFIG_INVALID', `the credentials file is invalid:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`);
      const clash = [...plainTable.keys()].filter((u) => parsed.table.has(u));
      if (clash.length > 0) throw new ControllerError('CONFIG_INVALID', `username(s) ${clash.join(', ')} given both in ${opts.file} and as flags; keep one`);
      lastText = text;
      table = new Map([...parsed.table, ...plainTable]);
      return table;
    },
  };
}
