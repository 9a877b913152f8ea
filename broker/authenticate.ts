/**
 * Who a connecting client is: its username's entry, its password checked (scrypt, remembered once
 * verified), and the principal that entry and its client id make (authorize.ts `toPrincipal`).
 * The Aedes hook in mqtt-broker.ts only maps the decision to a CONNACK code.
 */
import { createHash } from 'node:crypto';
import { toPrincipal, type Decision, type Principal } from './authorize.ts';
import { verifyPassword, type CredentialEntry, type CredentialTable } from './credentials.ts';

export interface PasswordChecker {
  check(entry: CredentialEntry, password: Buffer | string): Promise<boolean>;
  /** Forgets every remembered password (after the credentials changed). */
  clear(): void;
}

/**
 * A reconnect storm of thousands of bases must not run scrypt thousands of times: a password once
 * verified for an entry is remembered (as a SHA-256) while that entry object is current, and checks
 * in flight are shared, so a burst of bases with one shared credential costs one scrypt.
 */
export function createPasswordChecker(verify: (entry: CredentialEntry, password: Buffer | string) => Promise<boolean> = (e, p) => verifyPassword(e.hash, p), maxRemembered = 10_000): PasswordChecker {
  const verified = new Map<string, CredentialEntry>();
  const pending = new Map<string, Promise<boolean>>();
  return {
    clear: () => verified.clear(),
    async check(entry, password) {
      const key = `${entry.username}\0${createHash('sha256').update(password).digest('base64')}`;
      if (verified.get(key) === entry) return true;
      let inFlight = pending.get(key);
      if (!inFlight) {
        inFlight = verify(entry, password).finally(() => pending.delete(key));
        pending.set(key, inFlight);
      }
      const ok = await inFlight;
      if (ok) {
        if (verified.size >= maxRemembered) verified.clear();
        verified.set(key, entry);
      }
      return ok;
    },
  };
}

export async function authenticateClient(table: () => CredentialTable, checker: PasswordChecker, clientId: string, username: string | undefined, password: Buffer | string | undefined): Promise<Decision<Principal>> {
  const entry = username !== undefined ? table().get(username) : undefined;
  if (username === undefined || password === undefined) return { allow: false, code: 'bad_credentials', reason: 'no username or password given' };
  if (!entry) return { allow: false, code: 'bad_credentials', reason: `unknown username "${username}"` };
  // A reload while the check ran may have replaced or removed the entry: only the current one counts.
  if (!(await checker.check(entry, password)) || table().get(username) !== entry) return { allow: false, code: 'bad_credentials', reason: 'wrong password' };
  return toPrincipal(entry, clientId);
}
