/**
 * The broker's credentials file (docs/security.md "Credentials file"): one entry a line,
 *
 *     <username> <role> <password hash>
 *
 * where role is `bridge` (may command bases), `base` (a shared base credential: the base identity
 * comes from the client id) or `base:<identity>` (a per-base credential bound to one identity), and
 * the hash is `scrypt$<N>$<r>$<p>$<salt base64>$<key base64>` (`module-controller broker
 * hash-password`). `#` starts a comment. Parsing is pure and reports every bad line at once.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

export type CredentialRole = 'bridge' | 'base';

export interface PasswordHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

export interface CredentialEntry {
  readonly username: string;
  readonly role: CredentialRole;
  /** Only for `base:<identity>` entries: the one identity this username may speak for. */
  readonly identity?: string;
  readonly hash: PasswordHash;
}

export type CredentialTable = ReadonlyMap<string, CredentialEntry>;

export type CredentialsParse =
  | { readonly ok: true; readonly table: CredentialTable }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Node's scrypt defaults (RFC 7914 interactive-login parameters); 16 MiB and ~50 ms per check. */
export const SCRYPT_DEFAULTS = Object.freeze({ N: 16384, r: 8, p: 1, keyLength: 32, saltLength: 16 });

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Characters an identity can never hold: MQTT topic separators and wildcards, whitespace. */
const BAD_IDENTITY = /[/+#\s]/;

function maxmemFor(h: Pick<PasswordHash, 'N' | 'r' | 'p'>): number {
  return 128 * h.N * h.r * (h.p + 1) + 1024 * 1024;
}

export function parsePasswordHash(text: string): PasswordHash | string {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return 'the hash is not scrypt$N$r$p$salt$key (make one with: module-controller broker hash-password)';
  const [N, r, p] = parts.slice(1, 4).map((x) => (/^\d+$/.test(x!) ? Number(x) : NaN)) as [number, number, number];
  if (!(N >= 2 && (N & (N - 1)) === 0) || !(r >= 1) || !(p >= 1) || N > 2 ** 20 || r > 32 || p > 16) return `scrypt parameters N=${parts[1]} r=${parts[2]} p=${parts[3]} are out of range (N a power of two ≤ 2^20, r ≤ 32, p ≤ 16)`;
  const [salt, key] = [parts[4]!, parts[5]!];
  if (!B64.test(salt) || !B64.test(key)) return 'salt and key must be base64';
  const keyBuf = Buffer.from(key, 'base64');
  if (keyBuf.length < 16) return 'the key is shorter than 16 bytes';
  return { N, r, p, salt: Buffer.from(salt, 'base64'), key: keyBuf };
}

export function toPasswordHashText(h: PasswordHash): string {
  return `scrypt$${h.N}$${h.r}$${h.p}$${h.salt.toString('base64')}$${h.key.toString('base64')}`;
}

/** `scrypt$…` for a password (salt injected in tests). */
export function hashPassword(password: string, salt: Buffer = randomBytes(SCRYPT_DEFAULTS.saltLength)): string {
  const { N, r, p, keyLength } = SCRYPT_DEFAULTS;
  const key = scryptSync(password, salt, keyLength, { N, r, p, maxmem: maxmemFor({ N, r, p }) });
  return toPasswordHashText({ N, r, p, salt, key });
}

/** Checks a password on the libuv thread pool (scrypt is slow on purpose), in constant time. */
export async function verifyPassword(hash: PasswordHash, password: Buffer | string): Promise<boolean> {
  const derived = await new Promise<Buffer>((resolve, reject) => {
    scrypt(password, hash.salt, hash.key.length, { N: hash.N, r: hash.r, p: hash.p, maxmem: maxmemFor(hash) }, (err, key) => (err ? reject(err) : resolve(key)));
  });
  return derived.length === hash.key.length && timingSafeEqual(derived, hash.key);
}

function parseRole(text: string): { role: CredentialRole; identity?: string } | string {
  if (text === 'bridge' || text === 'base') return { role: text };
  if (text.startsWith('base:')) {
    const identity = text.slice('base:'.length);
    if (!identity || BAD_IDENTITY.test(identity)) return `"${text}": the identity after "base:" must be non-empty, without '/', '+', '#' or spaces`;
    return { role: 'base', identity };
  }
  return `unknown role "${text}" (one of: bridge, base, base:<identity>)`;
}

/** Parses a credentials file's text; `source` names it in messages. */
export function parseCredentials(text: string, source: string): CredentialsParse {
  const problems: string[] = [];
  const table = new Map<string, CredentialEntry>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const where = `${source}:${i + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 3) {
      problems.push(`${where}: expected "<username> <role> <scrypt hash>", found ${fields.length} field(s)`);
      return;
    }
    const [username, roleText, hashText] = fields as [string, string, string];
    const role = parseRole(roleText);
    const hash = parsePasswordHash(hashText);
    if (typeof role === 'string') problems.push(`${where}: ${role}`);
    if (typeof hash === 'string') problems.push(`${where}: ${hash}`);
    if (table.has(username)) problems.push(`${where}: username "${username}" appears twice`);
    if (typeof role !== 'string' && typeof hash !== 'string' && !table.has(username)) {
      table.set(username, { username, ...role, hash });
    }
  });
  if (problems.length === 0 && table.size === 0) problems.push(`${source}: no credentials (add lines "<username> <role> <hash>")`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, table };
}

/** Adds plain-password entries (the chart's generated bridge/base passwords), hashed in memory. */
export function withPlainEntries(table: CredentialTable, entries: ReadonlyArray<{ username: string; password: string; role: CredentialRole }>, hash: (password: string) => string = hashPassword): CredentialTable {
  const out = new Map(table);
  for (const e of entries) {
    const parsed = parsePasswordHash(hash(e.password));
    if (typeof parsed === 'string') throw new Error(parsed);
    out.set(e.username, { username: e.username, role: e.role, hash: parsed });
  }
  return out;
}
