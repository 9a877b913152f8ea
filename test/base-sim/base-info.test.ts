import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkIdentityPrefix, checkIpPrefix, toSimBaseInfo, toSimIp } from '../../base-sim/base-info.ts';
import { toNodeName } from '../../core/names.ts';

test('toSimIp fills the octets after the prefix, last octet 1..254', () => {
  const cases: Array<[string, number, string]> = [
    ['127.1', 0, '127.1.0.1'],
    ['127.1', 253, '127.1.0.254'],
    ['127.1', 254, '127.1.1.1'],
    ['127.1', 999, '127.1.3.238'],
    ['127.1', 254 * 256 - 1, '127.1.255.254'],
    ['10.0.0', 0, '10.0.0.1'],
    ['10.0.0', 253, '10.0.0.254'],
    ['10', 0, '10.0.0.1'],
    ['10', 254 * 256, '10.1.0.1'],
  ];
  for (const [prefix, index, ip] of cases) assert.equal(toSimIp(prefix, index), ip, `${prefix} #${index}`);
});

test('1,000 bases get 1,000 distinct addresses', () => {
  const ips = new Set(Array.from({ length: 1000 }, (_, i) => toSimIp('127.1', i)));
  assert.equal(ips.size, 1000);
});

test('checkIpPrefix: room for bases, or a problem', () => {
  assert.equal(checkIpPrefix('127.1'), 254 * 256);
  assert.equal(checkIpPrefix('10.0.0'), 254);
  assert.equal(checkIpPrefix('10'), 254 * 256 * 256);
  for (const bad of ['', '1.2.3.4', '256.1', 'a.b', '10.', '.10', '01.2x']) {
    assert.equal(typeof checkIpPrefix(bad), 'string', bad);
  }
});

test('checkIdentityPrefix keeps identities usable as topic segments', () => {
  for (const ok of ['', 'sim-', 'base.a_', 'B1-']) assert.equal(checkIdentityPrefix(ok), undefined, ok);
  for (const bad of ['a/b', 'a+', '#', 'a b']) assert.ok(checkIdentityPrefix(bad), bad);
});

test('toSimBaseInfo: the identity is the IP unless a prefix is given', () => {
  const opts = { name: 'Base', version: '1.0.0', clusterName: 'c1', identityPrefix: '', ipPrefix: '127.1' };
  assert.deepEqual(toSimBaseInfo(0, opts), {
    identity: '127.1.0.1',
    name: 'Base',
    version: '1.0.0',
    clusterName: 'c1',
    localIP: '127.1.0.1',
    localHostName: 'base-sim-0',
  });
  const named = toSimBaseInfo(7, { ...opts, identityPrefix: 'sim-' });
  assert.equal(named.identity, 'sim-7');
  assert.equal(named.localIP, '127.1.0.8');
  assert.equal(toNodeName(named.identity), 'virtual-node-sim-7');
});
