// The chart's ModuleDeployment parts, checked with a real helm: the controller's Deployment runs
// only flags the command has, the value turns it off, its RBAC is its own, and the CRDs ship.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { runHelm } from '../support/helm.ts';
import { COMMON_FLAGS } from '../../core/command.ts';
import { toFlagName } from '../../core/flags.ts';
import { moduleDeploymentCommand } from '../../moduledeployment/command.ts';

const CHART = 'charts/module-controller';

async function template(extra: string[] = []): Promise<Array<Record<string, any>>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await runHelm(['template', 'mc', CHART, '-n', 'koupleless', '--kube-version', '1.34.4', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
}

test('the module-deployment controller runs with flags its command has, leader-elected in the release namespace', async () => {
  const docs = await template();
  const dep = docs.find((d) => d['kind'] === 'Deployment' && d['metadata']['name'] === 'mc-module-deployment')!;
  const c = dep['spec']['template']['spec']['containers'][0];
  assert.equal(c.args[0], 'module-deployment');
  const known = new Set(Object.keys({ ...COMMON_FLAGS, ...moduleDeploymentCommand.flags }).map(toFlagName));
  for (const a of c.args.slice(1)) assert.ok(known.has(/^--([a-z0-9-]+)/.exec(a)![1]!), a);
  assert.ok(c.args.includes('--leader-lease-namespace=koupleless'));
  assert.equal(dep['spec']['template']['spec']['serviceAccountName'], 'mc-module-deployment');
  const role = docs.find((d) => d['kind'] === 'ClusterRole' && d['metadata']['name'] === 'mc-module-deployment')!;
  const rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> = role['rules'];
  const can = (group: string, resource: string, verb: string) => rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  for (const g of ['koupleless.io', 'koupleless.alipay.com']) {
    assert.ok(can(g, 'moduledeployments', 'watch') && can(g, 'moduledeployments/status', 'patch'));
    // Not used by the controller (it reads through watch caches, never the scale subresource).
    assert.ok(!can(g, 'moduledeployments', 'get') && !can(g, 'moduledeployments/scale', 'get') && !can(g, 'moduledeployments/status', 'update'));
  }
  assert.ok(can('apps', 'replicasets', 'create') && can('', 'nodes', 'patch') && can('', 'services', 'delete') && can('', 'events', 'create'));
  assert.ok(!can('', 'nodes', 'delete') && !can('', 'pods', 'delete') && !can('', 'secrets', 'get'), 'nothing beyond what it uses');
  const lease = docs.find((d) => d['kind'] === 'Role' && d['metadata']['name'] === 'mc-module-deployment-lease')!;
  assert.equal(lease['metadata']['namespace'], 'koupleless');
  // Its own leader Lease by name (the --leader-lease-name it runs with); create cannot be scoped by name.
  assert.ok(c.args.includes('--leader-lease-name=mc-module-deployment'));
  assert.deepEqual(lease['rules'], [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['mc-module-deployment'], verbs: ['get', 'update'] },
  ]);
});

test('moduleDeployment.enabled=false leaves the controller out; the CRDs ship in crds/', async () => {
  const off = await template(['--set', 'moduleDeployment.enabled=false']);
  assert.equal(off.some((d) => String(d['metadata']?.['name'] ?? '').startsWith('mc-module-deployment')), false);
  const withCrds = await template(['--include-crds']);
  const crds = withCrds.filter((d) => d['kind'] === 'CustomResourceDefinition').map((d) => d['metadata']['name']).sort();
  assert.deepEqual(crds, ['moduledeployments.koupleless.alipay.com', 'moduledeployments.koupleless.io']);
  const bad = await runHelm(['template', 'mc', CHART, '--kube-version', '1.34.4', '--set', 'moduleDeployment.resync=soon']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /resync/);
});
