import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  DEFAULTS,
  MODULE_COMPONENT_LABEL,
  MODULE_COMPONENT_LABEL_ALIAS,
  VNODE_COMPONENT_LABEL,
  isModulePodLabels,
  isVirtualNodeLabels,
  toModuleLabel,
  toNodeName,
  toShardLeaseName,
  toMemberLeaseName,
  BRIDGE_FLEET_LABEL,
  BRIDGE_LEASE_KIND_LABEL,
  BRIDGE_LEASE_KINDS,
  toServiceName,
} from '../../core/names.ts';

// What the API server accepts as a Node name (IsDNS1123Subdomain).
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const h = (id: string) => createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 10);

test('toNodeName: valid lower-case identities are kept; lossy ones get a readable form plus a hash', () => {
  const cases: Array<[string, string]> = [
    ['10.1.0.45', 'virtual-node-10.1.0.45'],
    ['127.1.0.1', 'virtual-node-127.1.0.1'],
    ['3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'virtual-node-3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    ['sim-7', 'virtual-node-sim-7'],
    ['3F2504E0-4F89-11D3-9A0C-0305E82C3301', `virtual-node-3f2504e0-4f89-11d3-9a0c-0305e82c3301-${h('3F2504E0-4F89-11D3-9A0C-0305E82C3301')}`],
    ['Base_One', `virtual-node-base-one-${h('Base_One')}`],
    ['host name', `virtual-node-host-name-${h('host name')}`],
    ['-leading', `virtual-node-leading-${h('-leading')}`],
    ['trailing.', `virtual-node-trailing-${h('trailing.')}`],
    ['a..b', `virtual-node-a.b-${h('a..b')}`],
    ['a.-b', `virtual-node-a.b-${h('a.-b')}`],
    ['a-.b', `virtual-node-a.b-${h('a-.b')}`],
    ['a/b', `virtual-node-a-b-${h('a/b')}`],
    ['', `virtual-node-unnamed-${h('')}`],
    ['___', `virtual-node-unnamed-${h('___')}`],
    ['日本', `virtual-node-unnamed-${h('日本')}`],
    // Looks like a hashed name itself: hashed too, so it cannot collide with one.
    ['x-0123456789', `virtual-node-x-0123456789-${h('x-0123456789')}`],
  ];
  for (const [identity, want] of cases) {
    assert.equal(toNodeName(identity), want, `identity ${JSON.stringify(identity)}`);
  }
});

test('toNodeName is injective: identities that differ only in what sanitising drops get distinct nodes', () => {
  const groups = [
    ['10.1.0.45', '10.1.0.45.', '.10.1.0.45', '10.1.0..45'],
    ['UPPER.Case', 'upper.case', 'UPPER.CASE', 'Upper.Case'],
    ['a_b', 'a-b', 'a b', 'a/b', 'a--b'],
    ['', '___', '...', '日本', '한국'],
    ['x'.repeat(300), `${'x'.repeat(300)}y`, 'x'.repeat(301)],
  ];
  for (const g of groups) {
    const names = g.map(toNodeName);
    assert.equal(new Set(names).size, g.length, `distinct names for ${JSON.stringify(g)}: ${names.join(', ')}`);
  }
});

test('toNodeName: every result is a valid Node name, at most 253 characters', () => {
  const inputs = ['x'.repeat(300), `${'a'.repeat(239)}.${'b'.repeat(40)}`, `${'a'.repeat(240)}-${'b'.repeat(40)}`, '-.-.-', 'A.B.C', '::1', 'fe80::1%eth0', `${'a'.repeat(240)}.`];
  for (const identity of inputs) {
    const name = toNodeName(identity);
    assert.ok(name.length <= 253, `${name.length} characters for ${identity}`);
    assert.match(name, DNS1123_SUBDOMAIN, `node name for ${JSON.stringify(identity)}`);
  }
  // The cut must not leave a '.' or '-' before the hash.
  assert.equal(toNodeName(`${'a'.repeat(239)}.${'b'.repeat(40)}`), `virtual-node-${'a'.repeat(229)}-${h(`${'a'.repeat(239)}.${'b'.repeat(40)}`)}`);
});

test('toNodeName is stable: the same identity always gives the same name', () => {
  assert.equal(toNodeName('10.0.0.7'), toNodeName('10.0.0.7'));
  assert.equal(toNodeName('ABC'), toNodeName('ABC'));
});

test('module pod labels: the label and its upstream alias are both recognised', () => {
  assert.equal(isModulePodLabels({ [MODULE_COMPONENT_LABEL]: 'module' }), true);
  assert.equal(isModulePodLabels({ [MODULE_COMPONENT_LABEL_ALIAS]: 'module' }), true);
  assert.equal(isModulePodLabels({ [MODULE_COMPONENT_LABEL]: 'vnode' }), false);
  assert.equal(isModulePodLabels({ app: 'x' }), false);
  assert.equal(isModulePodLabels(undefined), false);
});

test('virtual node labels', () => {
  assert.equal(isVirtualNodeLabels({ [VNODE_COMPONENT_LABEL]: 'vnode' }), true);
  assert.equal(isVirtualNodeLabels({ [VNODE_COMPONENT_LABEL]: 'module' }), false);
  assert.equal(isVirtualNodeLabels(undefined), false);
});

test('per-module label and Service name', () => {
  assert.equal(toModuleLabel('biz1'), 'module.koupleless.io/biz1');
  assert.equal(toServiceName('biz1'), 'biz1-service');
});

test('defaults: the MQTT env is what real bases send', () => {
  assert.equal(DEFAULTS.mqttEnv, 'default');
  assert.ok(Object.isFrozen(DEFAULTS));
});

test('toShardLeaseName / toMemberLeaseName: the fleet\'s Lease names, valid and distinct per instance id', () => {
  assert.equal(toShardLeaseName('module-controller-bridge', 0), 'module-controller-bridge-shard-0');
  assert.equal(toShardLeaseName('b', 1023), 'b-shard-1023');
  assert.equal(toMemberLeaseName('b', 'bridge-7f9c-abc12'), 'b-member-bridge-7f9c-abc12');
  const ids = ['Bridge-A', 'bridge-a', 'bridge_a', 'bridge.a', '', 'x'.repeat(400), 'bridge-a-0123456789'];
  const names = ids.map((id) => toMemberLeaseName('module-controller-bridge', id));
  assert.equal(new Set(names).size, ids.length, names.join(' '));
  const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  for (const n of names) assert.ok(DNS_SUBDOMAIN.test(n) && n.length <= 253, n);
  assert.equal(BRIDGE_FLEET_LABEL, 'module-controller.koupleless.io/bridge-fleet');
  assert.equal(BRIDGE_LEASE_KIND_LABEL, 'module-controller.koupleless.io/bridge-lease');
  assert.deepEqual({ ...BRIDGE_LEASE_KINDS }, { shard: 'shard', member: 'member' });
});
