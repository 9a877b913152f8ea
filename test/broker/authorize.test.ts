// The broker's rules as a table: who may publish and subscribe which topic, with the deny code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizePublish, authorizeSubscribe, parseClientIdentity, toPrincipal, type Principal } from '../../broker/authorize.ts';
import { parsePasswordHash, type CredentialEntry, type PasswordHash } from '../../broker/credentials.ts';

const hash = parsePasswordHash(`scrypt$16384$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`) as PasswordHash;
const bridge: Principal = { role: 'bridge', username: 'bridge', clientId: 'module-controller@@@bridge-0' };
const base: Principal = { role: 'base', username: 'bases', clientId: 'koupleless@@@10.0.0.1', identity: '10.0.0.1' };
const open: Principal = { role: 'open', clientId: 'anything' };

const PUBLISH: Array<[string, Principal, string, true | string]> = [
  ['bridge installs', bridge, 'koupleless_default/10.0.0.1/installBiz', true],
  ['bridge uninstalls', bridge, 'koupleless_default/10.0.0.1/uninstallBiz', true],
  ['bridge polls health', bridge, 'koupleless_default/10.0.0.1/health', true],
  ['bridge polls modules', bridge, 'koupleless_prod/10.0.0.1/queryAllBiz', true],
  ['bridge answers a baseline', bridge, 'koupleless_default/10.0.0.1/base/baseline', true],
  ['bridge cannot forge a heartbeat', bridge, 'koupleless_default/10.0.0.1/base/heart', 'bridge_publishes_commands_only'],
  ['bridge cannot publish an unknown command', bridge, 'koupleless_default/10.0.0.1/rm-rf', 'bridge_publishes_commands_only'],
  ['bridge outside the protocol', bridge, 'other/topic', 'not_a_protocol_topic'],
  ['empty env', bridge, 'koupleless_/10.0.0.1/installBiz', 'not_a_protocol_topic'],
  ['base heartbeat for itself', base, 'koupleless_default/10.0.0.1/base/heart', true],
  ['base module list', base, 'koupleless_default/10.0.0.1/base/simpleBiz', true],
  ['base install reply', base, 'koupleless_default/10.0.0.1/base/bizOperation', true],
  ['base heartbeat for another base', base, 'koupleless_default/10.0.0.2/base/heart', 'other_base'],
  ['base install command to itself', base, 'koupleless_default/10.0.0.1/installBiz', 'base_cannot_command'],
  ['base install command to another', base, 'koupleless_default/10.0.0.2/installBiz', 'base_cannot_command'],
  ['base baseline', base, 'koupleless_default/10.0.0.1/base/baseline', 'base_cannot_command'],
  ['base deeper topic', base, 'koupleless_default/10.0.0.1/base/heart/x', 'not_a_protocol_topic'],
  ['base bare identity level', base, 'koupleless_default/10.0.0.1/base', 'not_a_protocol_topic'],
  ['base $SYS', base, '$SYS/broker/x', 'not_a_protocol_topic'],
  ['identity prefix is not the identity', base, 'koupleless_default/10.0.0.10/base/heart', 'other_base'],
  ['open broker allows all', open, 'koupleless_default/x/installBiz', true],
];

for (const [name, principal, topic, want] of PUBLISH) {
  test(`publish: ${name}`, () => {
    const d = authorizePublish(principal, topic);
    if (want === true) assert.deepEqual(d, { allow: true, value: undefined });
    else {
      assert.equal(d.allow, false);
      assert.equal(!d.allow && d.code, want);
      assert.ok(!d.allow && d.reason.length > 10);
    }
  });
}

const SUBSCRIBE: Array<[string, Principal, string, true | string]> = [
  ['bridge reads every base reply', bridge, 'koupleless_default/+/base/+', true],
  ['bridge reads one kind', bridge, 'koupleless_default/+/base/heart', true],
  ['bridge reads one base', bridge, 'koupleless_default/10.0.0.1/base/+', true],
  ['bridge cannot read commands', bridge, 'koupleless_default/+/installBiz', 'bridge_reads_replies_only'],
  ['bridge cannot read base/# (takes in baseline)', bridge, 'koupleless_default/+/base/#', 'bridge_reads_replies_only'],
  ['bridge cannot read baseline', bridge, 'koupleless_default/+/base/baseline', 'bridge_reads_replies_only'],
  ['bridge cannot read everything', bridge, '#', 'bridge_reads_replies_only'],
  ['bridge wildcard env', bridge, '+/+/base/+', 'bridge_reads_replies_only'],
  ['base reads its commands', base, 'koupleless_default/10.0.0.1/+', true],
  ['base reads one command', base, 'koupleless_default/10.0.0.1/installBiz', true],
  ['base reads its baseline', base, 'koupleless_default/10.0.0.1/base/baseline', true],
  ['base cannot read another base', base, 'koupleless_default/10.0.0.2/+', 'other_base'],
  ['base cannot read all bases', base, 'koupleless_default/+/+', 'base_reads_own_commands_only'],
  ['base cannot read all replies', base, 'koupleless_default/+/base/+', 'base_reads_own_commands_only'],
  ['base cannot read its own # ', base, 'koupleless_default/10.0.0.1/#', 'base_reads_own_commands_only'],
  ['base cannot read heartbeats of itself', base, 'koupleless_default/10.0.0.1/base/heart', 'base_reads_own_commands_only'],
  ['base cannot read everything', base, '#', 'base_reads_own_commands_only'],
  ['base cannot read $SYS', base, '$SYS/#', 'base_reads_own_commands_only'],
  ['open broker allows all', open, '#', true],
];

for (const [name, principal, filter, want] of SUBSCRIBE) {
  test(`subscribe: ${name}`, () => {
    const d = authorizeSubscribe(principal, filter);
    if (want === true) assert.equal(d.allow, true);
    else assert.equal(!d.allow && d.code, want, JSON.stringify(d));
  });
}

test('the identity is what follows the first @@@ of the client id', () => {
  assert.equal(parseClientIdentity('koupleless@@@10.0.0.1'), '10.0.0.1');
  assert.equal(parseClientIdentity('a@@@b@@@c'), 'b@@@c');
  assert.equal(parseClientIdentity('@@@x'), 'x');
  assert.equal(parseClientIdentity('no-separator'), undefined);
  assert.equal(parseClientIdentity('p@@@'), undefined);
  assert.equal(parseClientIdentity('p@@@a/b'), undefined);
  assert.equal(parseClientIdentity('p@@@+'), undefined);
});

test('toPrincipal: bridge any client id; shared base takes the identity from the client id; a bound base only its own', () => {
  const e = (role: CredentialEntry['role'], identity?: string): CredentialEntry => ({ username: 'u', role, hash, ...(identity ? { identity } : {}) });
  assert.deepEqual(toPrincipal(e('bridge'), 'whatever'), { allow: true, value: { role: 'bridge', username: 'u', clientId: 'whatever' } });
  assert.deepEqual(toPrincipal(e('base'), 'k@@@10.0.0.9'), { allow: true, value: { role: 'base', username: 'u', clientId: 'k@@@10.0.0.9', identity: '10.0.0.9' } });
  const noId = toPrincipal(e('base'), 'plain-id');
  assert.equal(!noId.allow && noId.code, 'no_identity');
  assert.match(!noId.allow ? noId.reason : '', /<prefix>@@@<identity>/);
  assert.equal(toPrincipal(e('base', '10.0.0.9'), 'k@@@10.0.0.9').allow, true);
  const other = toPrincipal(e('base', '10.0.0.9'), 'k@@@10.0.0.8');
  assert.equal(!other.allow && other.code, 'identity_mismatch');
});
