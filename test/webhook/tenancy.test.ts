import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY } from '../../webhook/policy.ts';
import { checkTenancy, toNamedBases } from '../../webhook/tenancy.ts';
import type { PodShape } from '../../webhook/mutate-pod.ts';

function shape(labels: Record<string, string>, spec: Record<string, unknown> = {}): PodShape {
  return { metadata: { labels }, spec: { containers: [], ...spec } } as PodShape;
}
function terms(...t: Array<Array<{ key: string; operator: string; values?: string[] }>>) {
  return { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: t.map((matchExpressions) => ({ matchExpressions })) } } } };
}

const cases: Array<[string, PodShape, typeof DEFAULT_POLICY, readonly string[] | undefined]> = [
  ['nothing named', shape({}), DEFAULT_POLICY, undefined],
  ['pod label', shape({ 'base.koupleless.io/name': 'a' }), DEFAULT_POLICY, ['a']],
  ['upstream pod label', shape({ 'vnode.koupleless.io/name': 'a' }), DEFAULT_POLICY, ['a']],
  ['default base name', shape({}), { ...DEFAULT_POLICY, baseName: 'd' }, ['d']],
  ['nodeSelector wins', shape({ 'base.koupleless.io/name': 'a' }, { nodeSelector: { 'vnode.koupleless.io/name': 's' } }), DEFAULT_POLICY, ['s']],
  ['terms ORed', shape({}, terms([{ key: 'base.koupleless.io/name', operator: 'In', values: ['a'] }], [{ key: 'vnode.koupleless.io/name', operator: 'In', values: ['b', 'c'] }])), DEFAULT_POLICY, ['a', 'b', 'c']],
  ['expressions in a term ANDed', shape({}, terms([{ key: 'base.koupleless.io/name', operator: 'In', values: ['a', 'b'] }, { key: 'vnode.koupleless.io/name', operator: 'In', values: ['b'] }])), DEFAULT_POLICY, ['b']],
  ['a term without a name: any base', shape({}, terms([{ key: 'base.koupleless.io/name', operator: 'In', values: ['a'] }], [{ key: 'base.koupleless.io/stack', operator: 'In', values: ['java'] }])), DEFAULT_POLICY, undefined],
  ['a term without a name gets the label requirement', shape({ 'base.koupleless.io/name': 'l' }, terms([{ key: 'base.koupleless.io/stack', operator: 'In', values: ['java'] }])), DEFAULT_POLICY, ['l']],
  ['NotIn does not name a base', shape({}, terms([{ key: 'base.koupleless.io/name', operator: 'NotIn', values: ['a'] }])), DEFAULT_POLICY, undefined],
];
for (const [name, s, policy, want] of cases) {
  test(`toNamedBases: ${name}`, () => assert.deepEqual(toNamedBases(s, policy), want));
}

test('checkTenancy: without --base-tenants nothing is checked', () => {
  assert.deepEqual(checkTenancy(shape({ 'base.koupleless.io/name': 'a' }), 'x', DEFAULT_POLICY), { warnings: [] });
});

test('checkTenancy: denied, warned or allowed', () => {
  const policy = { ...DEFAULT_POLICY, tenancy: new Map([['a', ['team-a']]]) };
  assert.match(checkTenancy(shape({ 'base.koupleless.io/name': 'a' }), 'team-b', policy).problem ?? '', /^base "a" is reserved for namespaces team-a: namespace "team-b" may not run modules there/);
  assert.deepEqual(checkTenancy(shape({ 'base.koupleless.io/name': 'a' }), 'team-a', policy), { warnings: [] });
  assert.deepEqual(checkTenancy(shape({}, terms([{ key: 'base.koupleless.io/name', operator: 'In', values: ['a', 'b'] }])), 'team-b', policy).warnings, ['base "a" is reserved for namespaces team-a: the modules will only be placed on b']);
  assert.deepEqual(checkTenancy(shape({}), 'team-b', policy), { warnings: [] });
});
