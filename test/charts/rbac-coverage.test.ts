// Every Kubernetes API call a component's code makes is granted to that component's ServiceAccount by
// the chart. The calls are read from the sources (client method names and watch paths), so a new
// call without its RBAC rule fails here rather than with a 403 in a cluster. What is NOT granted is
// pinned by the `kubectl auth can-i` table in test/integration/chart.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runHelm } from '../support/helm.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const VERBS: Record<string, string> = { create: 'create', patch: 'patch', replace: 'update', delete: 'delete', read: 'get', list: 'list' };
const PLURALS: Record<string, string> = {
  Node: 'nodes', Pod: 'pods', Lease: 'leases', Service: 'services', Event: 'events', Secret: 'secrets', ConfigMap: 'configmaps',
  Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', ReplicaSet: 'replicasets', ControllerRevision: 'controllerrevisions', Job: 'jobs', CronJob: 'cronjobs',
  MutatingWebhookConfiguration: 'mutatingwebhookconfigurations', ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
  Namespace: 'namespaces', EndpointSlice: 'endpointslices',
  // CustomObjectsApi: the only custom resource any component calls is the ModuleDeployment.
  CustomObject: 'moduledeployments',
};
/** Calls the chart's mode of a component never makes, with why. */
const NOT_IN_CHART_MODE: Record<string, string> = {
  'webhook create mutatingwebhookconfigurations': 'registration modes url/service only; the chart runs --registration=none',
  'webhook create validatingwebhookconfigurations': 'registration modes url/service only; the chart runs --registration=none',
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Each component: its ServiceAccount in the chart and its sources (dirs, or files it imports from elsewhere). */
const COMPONENTS: Record<string, { serviceAccount: string; sources: readonly string[] }> = {
  bridge: { serviceAccount: 'mc-bridge', sources: ['bridge'] },
  webhook: { serviceAccount: 'mc-webhook', sources: ['webhook'] },
  extender: { serviceAccount: 'mc-extender', sources: ['extender'] },
  // install-crds.ts is the dev harness's and the tests' (the chart installs crds/); its raw requests are not scanned.
  moduledeployment: { serviceAccount: 'mc-module-deployment', sources: ['moduledeployment', 'bridge/leader-election.ts'] },
};

function componentCalls(component: string): Set<string> {
  const files = COMPONENTS[component]!.sources.flatMap((s) => (statSync(s).isDirectory() ? sources(s) : [s]));
  return new Set(files.flatMap((f) => [...findApiCalls(readFileSync(f, 'utf8'))]));
}

/** `verb resource[/status]` for each API call in a component's sources. */
export function findApiCalls(text: string): Set<string> {
  const calls = new Set<string>();
  for (const m of text.matchAll(/\.(create|patch|replace|delete|read|list)(?:Namespaced|Cluster)?([A-Z][A-Za-z]*?)(Status)?(?:ForAllNamespaces)?\(/g)) {
    const plural = PLURALS[m[2]!];
    if (plural) calls.add(`${VERBS[m[1]!]} ${plural}${m[3] ? '/status' : ''}`);
  }
  // Watch caches: `path: '/api/v1/pods'` lists and watches.
  for (const m of text.matchAll(/['"`]\/apis?\/(?:[a-z.]+\/)?v1\/([a-z]+)['"`]/g)) {
    calls.add(`list ${m[1]}`);
    calls.add(`watch ${m[1]}`);
  }
  // The ModuleDeployment watch caches: `path: `/apis/${group}/${MD_VERSION}/${MD_PLURAL}``.
  if (/path: `\/apis\/\$\{group\}\/\$\{MD_VERSION\}\/\$\{MD_PLURAL\}`/.test(text)) {
    calls.add('list moduledeployments');
    calls.add('watch moduledeployments');
  }
  return calls;
}

/** `verb resource` pairs granted to a ServiceAccount by the rendered (Cluster)Roles bound to it. */
function granted(docs: Doc[], sa: string): Set<string> {
  const out = new Set<string>();
  for (const b of docs.filter((d) => d['kind'] === 'ClusterRoleBinding' || d['kind'] === 'RoleBinding')) {
    if (!b['subjects'].some((s: Doc) => s['kind'] === 'ServiceAccount' && s['name'] === sa)) continue;
    const role = docs.find((d) => d['kind'] === b['roleRef']['kind'] && d['metadata']['name'] === b['roleRef']['name'] && (d['kind'] === 'ClusterRole' || d['metadata']['namespace'] === b['metadata']['namespace']));
    for (const r of role?.['rules'] ?? []) for (const res of r['resources']) for (const v of r['verbs']) out.add(`${v} ${res}`);
  }
  return out;
}

test('the chart grants each component every API call its code makes', async () => {
  const r = await runHelm(['template', 'mc', 'charts/module-controller', '-n', 'koupleless']);
  assert.equal(r.code, 0, r.stderr);
  const docs: Doc[] = parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
  const missing: string[] = [];
  let seen = 0;
  for (const component of Object.keys(COMPONENTS)) {
    const calls = componentCalls(component);
    assert.ok(calls.size > 0, `${component}: API calls found`);
    const rights = granted(docs, COMPONENTS[component]!.serviceAccount);
    for (const call of calls) {
      seen++;
      if (NOT_IN_CHART_MODE[`${component} ${call}`]) continue;
      if (!rights.has(call)) missing.push(`${component}: ${call}`);
    }
  }
  assert.ok(seen >= 20, `only ${seen} calls found: the scan is broken`);
  assert.deepEqual(missing, []);
});

test('the API call scan reads client calls and watch paths', () => {
  const calls = findApiCalls("core.patchNodeStatus({}); ctx.coordination.createNamespacedLease(x); apps.listDeploymentForAllNamespaces(); core.replaceNamespacedService(); path: '/api/v1/pods',");
  assert.deepEqual([...calls].sort(), ['create leases', 'list deployments', 'list pods', 'patch nodes/status', 'update services', 'watch pods']);
});

test('least privilege: the ModuleDeployment controller is granted nothing its code does not call', async () => {
  const r = await runHelm(['template', 'mc', 'charts/module-controller', '-n', 'koupleless']);
  assert.equal(r.code, 0, r.stderr);
  const docs: Doc[] = parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
  const calls = componentCalls('moduledeployment');
  const rights = granted(docs, 'mc-module-deployment');
  assert.ok(rights.size >= 10, `only ${rights.size} rights found: the scan is broken`);
  assert.deepEqual([...rights].filter((g) => !calls.has(g)).sort(), []);
});

test('the API call scan reads CustomObjectsApi calls and the ModuleDeployment watch path', () => {
  const calls = findApiCalls("custom.listClusterCustomObject({}); custom.patchNamespacedCustomObjectStatus({}); custom.patchNamespacedCustomObject({}); path: `/apis/${group}/${MD_VERSION}/${MD_PLURAL}`,");
  assert.deepEqual([...calls].sort(), ['list moduledeployments', 'patch moduledeployments', 'patch moduledeployments/status', 'watch moduledeployments']);
});
