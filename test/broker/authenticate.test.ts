// Authentication decisions with an injected password check: unknown users, wrong passwords, entries
// replaced during a check, client ids that do not fit the entry; and the checker runs one scrypt
// per distinct password however many clients present it at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateClient, createPasswordChecker } from '../../broker/authenticate.ts';
import { parsePasswordHash, type CredentialEntry, type CredentialTable, type PasswordHash } from '../../broker/credentials.ts';

const hash = parsePasswordHash(`scrypt$16384$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`) as PasswordHash;
const entry = (username: string, role: CredentialEntry['role'], identity?: string): CredentialEntry => ({ username, role, hash, ...(identity ? { identity } : {}) });

test('the checker shares checks in flight and remembers a verified password while the entry is current', async () => {
  let calls = 0;
  const checker = createPasswordChecker(async (_e, p) => {
    calls++;
    await new Promise((r) => setTimeout(r, 20));
    return p.toString() === 'right';
  });
  const e = entry('bases', 'base');
  const results = await Promise.all(Array.from({ length: 25 }, () => checker.check(e, 'right')));
  assert.ok(results.every(Boolean));
  assert.equal(calls, 1);
  assert.equal(await checker.check(e, 'right'), true);
  assert.equal(calls, 1, 'remembered');
  assert.equal(await checker.check(e, 'wrong'), false);
  assert.equal(await checker.check(e, 'wrong'), false);
  assert.equal(calls, 3, 'a wrong password is never remembered');
  assert.equal(await checker.check(entry('bases', 'base'), 'right'), true);
  assert.equal(calls, 4, 'a new entry object (reloaded file) is checked again');
  checker.clear();
  assert.equal(await checker.check(e, 'right'), true);
  assert.equal(calls, 5);
});

test('authenticateClient decisions', async () => {
  const table: Map<string, CredentialEntry> = new Map([
    ['br', entry('br', 'bridge')],
    ['bases', entry('bases', 'base')],
    ['one', entry('one', 'base', '10.0.0.1')],
  ]);
  const checker = createPasswordChecker(async (_e, p) => p.toString() === 'pw');
  const t = (): CredentialTable => table;
  const code = async (clientId: string, u?: string, p?: string) => {
    const d = await authenticateClient(t, checker, clientId, u, p);
    return d.allow ? d.value.role : d.code;
  };
  assert.equal(await code('x', undefined, undefined), 'bad_credentials');
  assert.equal(await code('x', 'br', undefined), 'bad_credentials');
  assert.equal(await code('x', 'nobody', 'pw'), 'bad_credentials');
  assert.equal(await code('x', 'br', 'nope'), 'bad_credentials');
  assert.equal(await code('anything', 'br', 'pw'), 'bridge');
  assert.equal(await code('k@@@10.0.0.7', 'bases', 'pw'), 'base');
  assert.equal(await code('no-separator', 'bases', 'pw'), 'no_identity');
  assert.equal(await code('k@@@10.0.0.1', 'one', 'pw'), 'base');
  assert.equal(await code('k@@@10.0.0.2', 'one', 'pw'), 'identity_mismatch');
});

test('an entry removed while its check runs does not admit the client', async () => {
  const table = new Map([['bases', entry('bases', 'base')]]);
  const checker = createPasswordChecker(async () => {
    table.delete('bases');
    return true;
  });
  const d = await authenticateClient(() => table, checker, 'k@@@a', 'bases', 'pw');
  assert.equal(!d.allow && d.code, 'bad_credentials');
});
