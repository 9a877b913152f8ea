import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTenant, parseBaseTenants, parseTenantsAnnotation, toNodeTenants, type BaseTenancy } from '../../core/base-tenancy.ts';

function tenancy(entries: string[]): BaseTenancy {
  const parsed = parseBaseTenants(entries);
  assert.equal(parsed.kind, 'ok', JSON.stringify(parsed));
  return (parsed as { tenancy: BaseTenancy }).tenancy;
}

test('parseBaseTenants: entries base=ns|ns', () => {
  assert.deepEqual(tenancy(['base-a=team-a|team-b', ' base-b = team-c ']), new Map([['base-a', ['team-a', 'team-b']], ['base-b', ['team-c']]]));
  assert.deepEqual(tenancy([]), new Map());
});

test('parseBaseTenants: every problem, each saying the expected form', () => {
  const parsed = parseBaseTenants(['base-a', '=team-a', 'base-b=Team_B', 'base-c=x', 'base-c=y']);
  assert.equal(parsed.kind, 'invalid');
  assert.deepEqual((parsed as { problems: readonly string[] }).problems, [
    '--base-tenants: "base-a" is not <baseName>=<namespace>|<namespace>; e.g. base-a=team-a|team-b',
    '--base-tenants: "=team-a" is not <baseName>=<namespace>|<namespace>; e.g. base-a=team-a|team-b',
    '--base-tenants: "Team_B" for base "base-b" is not a namespace name',
    '--base-tenants: base "base-c" is given twice; list all its namespaces in one entry',
  ]);
});

test('toNodeTenants: by base name (either label family) and by node annotation', () => {
  const t = tenancy(['base-a=team-a']);
  assert.deepEqual(toNodeTenants({ 'base.koupleless.io/name': 'base-a' }, undefined, t), [['team-a']]);
  assert.deepEqual(toNodeTenants({ 'vnode.koupleless.io/name': 'base-a' }, undefined, t), [['team-a']]);
  assert.deepEqual(toNodeTenants({ 'base.koupleless.io/name': 'base-b' }, undefined, t), []);
  assert.deepEqual(toNodeTenants({ 'base.koupleless.io/name': 'base-a' }, { 'base.koupleless.io/tenant-namespaces': 'team-a, team-x' }, t), [['team-a'], ['team-a', 'team-x']]);
  assert.deepEqual(parseTenantsAnnotation(' , '), undefined);
});

test('checkTenant: allowed only when every reservation admits the namespace', () => {
  assert.equal(checkTenant('team-a', []), undefined);
  assert.equal(checkTenant(undefined, []), undefined);
  assert.equal(checkTenant('team-a', [['team-a', 'team-b']]), undefined);
  assert.equal(checkTenant('team-c', [['team-a', 'team-b']]), 'base reserved for namespaces team-a, team-b');
  assert.equal(checkTenant('team-x', [['team-a'], ['team-a', 'team-x']]), 'base reserved for namespaces team-a');
  assert.equal(checkTenant(undefined, [['team-a']]), 'base reserved for namespaces team-a');
});
