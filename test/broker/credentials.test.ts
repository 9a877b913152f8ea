// The credentials file: parsing (every problem at once), scrypt hashes and their verification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, parseCredentials, parsePasswordHash, toPasswordHashText, verifyPassword, withPlainEntries, type PasswordHash } from '../../broker/credentials.ts';
import { createCredentialsSource } from '../../broker/credentials-source.ts';

const SALT = Buffer.from('0123456789abcdef');

test('hashPassword makes a scrypt$N$r$p$salt$key line that verifies only the same password', async () => {
  const text = hashPassword('s3cret', SALT);
  assert.match(text, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(hashPassword('s3cret', SALT), text, 'deterministic for one salt');
  assert.notEqual(hashPassword('s3cret'), hashPassword('s3cret'), 'random salt by default');
  const h = parsePasswordHash(text) as PasswordHash;
  assert.equal(toPasswordHashText(h), text);
  assert.equal(await verifyPassword(h, 's3cret'), true);
  assert.equal(await verifyPassword(h, Buffer.from('s3cret')), true);
  assert.equal(await verifyPassword(h, 's3cret '), false);
  assert.equal(await verifyPassword(h, ''), false);
});

test('parsePasswordHash explains what is wrong', () => {
  assert.match(parsePasswordHash('$2y$10$bcrypt') as string, /scrypt\$N\$r\$p\$salt\$key/);
  assert.match(parsePasswordHash('scrypt$1000$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==') as string, /power of two/);
  assert.match(parsePasswordHash('scrypt$16384$8$1$!!$AAAA') as string, /base64/);
  assert.match(parsePasswordHash('scrypt$16384$8$1$AAAA$AAAA') as string, /shorter/);
});

test('parseCredentials reads roles, bound identities and comments', () => {
  const h = hashPassword('x', SALT);
  const r = parseCredentials([`# the bridge`, `bridge bridge ${h}`, '', `bases  base   ${h}   # shared by every base`, `base-a base:10.1.0.45 ${h}`].join('\n'), 'creds');
  assert.ok(r.ok);
  assert.deepEqual([...r.table.values()].map((e) => [e.username, e.role, e.identity]), [['bridge', 'bridge', undefined], ['bases', 'base', undefined], ['base-a', 'base', '10.1.0.45']]);
});

test('parseCredentials reports every bad line with its number', () => {
  const h = hashPassword('x', SALT);
  const r = parseCredentials([`a bridge ${h}`, `a base ${h}`, `b admin ${h}`, `c base:1/2 ${h}`, `d base plain-password`, 'e base'].join('\n'), 'creds');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.problems.length, 5);
  const problems = !r.ok ? r.problems.join('\n') : '';
  assert.match(problems, /creds:2: username "a" appears twice/);
  assert.match(problems, /creds:3: unknown role "admin"/);
  assert.match(problems, /creds:4: .*identity after "base:"/);
  assert.match(problems, /creds:5: the hash is not scrypt/);
  assert.match(problems, /creds:6: expected "<username> <role> <scrypt hash>", found 2/);
  const empty = parseCredentials('# nothing\n', 'creds');
  assert.equal(!empty.ok && empty.problems[0], 'creds: no credentials (add lines "<username> <role> <hash>")');
});

test('withPlainEntries hashes plain passwords into entries', async () => {
  const t = withPlainEntries(new Map(), [{ username: 'br', password: 'p1', role: 'bridge' }]);
  const e = t.get('br')!;
  assert.equal(e.role, 'bridge');
  assert.equal(await verifyPassword(e.hash, 'p1'), true);
});

test('a credentials source re-reads its file, keeps the table while unchanged and refuses clashes with flags', async () => {
  const h = hashPassword('x', SALT);
  let text = `bases base ${h}\n`;
  const source = createCredentialsSource({ file: '/creds', plain: [{ username: 'br', password: 'p', role: 'bridge' }], read: async () => text });
  const t1 = await source.load();
  assert.deepEqual([...t1.keys()].sort(), ['bases', 'br']);
  assert.equal(await source.load(), t1);
  text = `bases base ${h}\nbase-b base:b ${h}\n`;
  const t2 = await source.load();
  assert.notEqual(t2, t1);
  assert.equal(t2.get('base-b')?.identity, 'b');
  text = `br base ${h}\n`;
  await assert.rejects(source.load(), /br given both in \/creds and as flags/);
  text = 'garbage';
  await assert.rejects(source.load(), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && /\/creds:1/.test(err.message));
});
