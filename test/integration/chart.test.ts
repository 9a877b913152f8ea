// `helm install` of the chart into the real local control plane, in a namespace that enforces Pod
// Security "restricted": the API server accepts every object, kube-controller-manager creates every
// Deployment's pods (admitted by PodSecurity), the RBAC table holds (`kubectl auth can-i`), the
// ValidatingAdmissionPolicy confines the bridge's identity, and the webhook fails closed for module
// objects only. Nothing runs (no kubelet), so the release is removed at the end: its webhook
// configurations would otherwise catch other tests' module pods.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { eventually, getTestCluster } from '../support/cluster.ts';
import { runHelm } from '../support/helm.ts';
import { BASE_DEPLOYMENT_LABEL, MODULE_COMPONENT_LABEL, MODULE_COMPONENT_VALUE, NODE_LEASE_NAMESPACE, VNODE_COMPONENT_LABEL, VNODE_COMPONENT_VALUE, toNodeName } from '../../core/names.ts';
import { SERVICE_MANAGED_BY_LABEL, SERVICE_MANAGED_BY_VALUE } from '../../core/service-names.ts';

const CHART = 'charts/module-controller';
const cluster = await getTestCluster();
const release = `mc${Math.random().toString(36).slice(2, 6)}`;
const ns = await cluster.createNamespace('chart');
const plainNode = `plain-${release}`;
const mdNode = toNodeName(`192.0.2.${Math.floor(Math.random() * 200) + 10}-md-${release}`);
const vnode = toNodeName(`192.0.2.${Math.floor(Math.random() * 200) + 10}-${release}`);
let installed = false;
after(async () => {
  if (installed) await runHelm(['uninstall', release, '-n', ns, '--kubeconfig', cluster.kubeconfig, '--wait=false']);
  await cluster.kubectl(['delete', 'node', plainNode, vnode, mdNode, '--ignore-not-found', '--wait=false']);
  await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
});

const sa = (component: string) => `system:serviceaccount:${ns}:${release}-${component}`;

/**
 * One API request as the bridge's ServiceAccount (impersonated by the admin), exactly as the bridge
 * makes it: kubectl label/patch/delete would first GET, which the bridge never does (and may not).
 */
async function bridgeRequest(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; message: string }> {
  return requestAs('bridge', method, path, body);
}

/** The same, as another component's ServiceAccount. */
async function requestAs(component: string, method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; message: string }> {
  const opts: https.RequestOptions = {};
  await cluster.kc.applyToHTTPSOptions(opts);
  const url = new URL(path, cluster.kc.getCurrentCluster()!.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      ...opts,
      method,
      headers: {
        ...opts.headers,
        'Impersonate-User': sa(component),
        'Impersonate-Group': ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
        'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
        Accept: 'application/json',
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let message = text;
        try { message = (JSON.parse(text) as { message?: string }).message ?? text; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, message });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
const ok = (r: { status: number }) => r.status >= 200 && r.status < 300;

/** A pod that satisfies Pod Security "restricted". */
function restrictedPod(name: string, labels: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'c', image: 'https://example.invalid/biz.jar', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    },
  });
}

test('helm install into a Pod Security "restricted" namespace: every object is accepted and every Deployment\'s pods are admitted', async () => {
  const label = await cluster.kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
  assert.equal(label.code, 0, label.stderr);
  const r = await runHelm(['install', release, CHART, '-n', ns, '--kubeconfig', cluster.kubeconfig]);
  assert.equal(r.code, 0, r.stderr);
  installed = true;
  assert.doesNotMatch(r.stderr, /PodSecurity/, 'no Pod Security warning for any Deployment');
  // NOTES: how to check, upgrade and uninstall, with every value filled in.
  for (const s of ['helm test', 'Upgrade:', 'Uninstall:', `${release}-webhook-ca`]) assert.ok(r.stdout.includes(s), `NOTES mention ${s}`);
  assert.doesNotMatch(r.stdout, /<no value>/);
  const mwc = await cluster.kubectl(['get', 'mutatingwebhookconfiguration', `${release}-webhook`, '-o', 'jsonpath={.webhooks[*].name}']);
  assert.equal(mwc.code, 0, mwc.stderr);
  assert.match(mwc.stdout, /pods\.mutate\.module-controller\.koupleless\.io/);
  const deps = await cluster.apps.listNamespacedDeployment({ namespace: ns });
  const names = deps.items.map((d) => d.metadata!.name!).sort();
  for (const c of ['bridge', 'broker', 'extender', 'module-deployment', 'scheduler', 'webhook']) assert.ok(names.includes(`${release}-${c}`), `${c} Deployment`);
  // crds/ is installed by helm (and kept on uninstall, as Helm does with CRDs).
  const crds = await cluster.kubectl(['get', 'crd', 'moduledeployments.koupleless.io', 'moduledeployments.koupleless.alipay.com', '-o', 'name']);
  assert.equal(crds.code, 0, crds.stderr);
  const cm = await cluster.kubectl(['get', 'configmap', `${release}-scheduler`, '-n', ns, '-o', 'jsonpath={.data.config\\.yaml}']);
  assert.match(cm.stdout, new RegExp(`urlPrefix: "http://${release}-extender\\.${ns}\\.svc:8080"`));
  // kube-controller-manager creates the pods; PodSecurity would refuse them (FailedCreate) if not restricted.
  for (const d of deps.items) {
    const want = d.spec!.replicas!;
    const selector = Object.entries(d.spec!.selector.matchLabels!).map(([k, v]) => `${k}=${v}`).join(',');
    await eventually(`${want} pods of ${d.metadata!.name}`, async () => {
      const pods = await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: selector });
      return pods.items.length === want ? true : undefined;
    }, 60_000);
  }
  const events = await cluster.core.listNamespacedEvent({ namespace: ns });
  const refused = events.items.filter((e) => e.reason === 'FailedCreate').map((e) => e.message);
  assert.deepEqual(refused, []);
});

test('the helm test pod is admitted under Pod Security "restricted" too', async () => {
  const rendered = await runHelm(['template', release, CHART, '-n', ns, '--show-only', 'templates/tests/healthz.yaml']);
  assert.equal(rendered.code, 0, rendered.stderr);
  const dry = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], rendered.stdout);
  assert.equal(dry.code, 0, dry.stderr);
  assert.doesNotMatch(dry.stderr, /PodSecurity|violate/);
  // The namespace really enforces: the same pod without the chart's security contexts is refused.
  const loose = await runHelm(['template', release, CHART, '-n', ns, '--show-only', 'templates/tests/healthz.yaml', '--set', 'podSecurityContext=null', '--set', 'securityContext=null']);
  assert.equal(loose.code, 0, loose.stderr);
  const refused = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], loose.stdout);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /violates PodSecurity "restricted/);
});

// [service account, verb, resource, namespace (or '' for cluster scope / all namespaces), allowed]
type Row = readonly [string, string, string, string, boolean];
const rbacTable = (): Row[] => [
  // bridge: virtual nodes, module pods, node heartbeats, its leader Lease, module Services.
  ['bridge', 'list', 'nodes', '', true],
  ['bridge', 'watch', 'nodes', '', true],
  ['bridge', 'create', 'nodes', '', true],
  ['bridge', 'patch', 'nodes', '', true],
  ['bridge', 'delete', 'nodes', '', true],
  ['bridge', 'patch', 'nodes/status', '', true],
  ['bridge', 'update', 'nodes', '', false],
  ['bridge', 'get', 'nodes', '', false],
  ['bridge', 'list', 'pods', '', true],
  ['bridge', 'delete', 'pods', 'default', true],
  ['bridge', 'patch', 'pods/status', 'default', true],
  ['bridge', 'get', 'replicasets.apps', 'default', true],
  ['bridge', 'update', 'replicasets.apps', 'default', false],
  ['bridge', 'get', 'controllerrevisions.apps', 'default', true],
  ['bridge', 'list', 'controllerrevisions.apps', 'default', false],
  ['bridge', 'create', 'pods', 'default', false],
  ['bridge', 'patch', 'pods', 'default', false],
  ['bridge', 'create', 'pods/exec', 'default', false],
  ['bridge', 'create', 'events', 'default', true],
  ['bridge', 'patch', 'events', 'default', true],
  ['bridge', 'delete', 'events', 'default', false],
  ['bridge', 'list', 'leases', NODE_LEASE_NAMESPACE, true],
  ['bridge', 'get', 'leases', NODE_LEASE_NAMESPACE, false],
  ['bridge', 'list', 'leases', 'kube-system', false],
  ['bridge', 'create', 'leases', NODE_LEASE_NAMESPACE, true],
  ['bridge', 'patch', 'leases', NODE_LEASE_NAMESPACE, true],
  ['bridge', 'delete', 'leases', NODE_LEASE_NAMESPACE, true],
  ['bridge', 'create', 'leases', 'kube-system', false],
  ['bridge', 'patch', 'leases', 'kube-system', false],
  ['bridge', 'update', 'leases', 'default', false],
  // Its leader, shard and member Leases in the release namespace: RBAC cannot name member Leases
  // (they carry pod names), so update/delete hold for any Lease there and the confinement policy
  // narrows the writes to the bridge's own names (checked below with real requests).
  ['bridge', 'create', 'leases', ns, true],
  ['bridge', 'list', 'leases', ns, true],
  ['bridge', 'watch', 'leases', ns, true],
  ['bridge', 'get', `leases/${release}-bridge`, ns, true],
  ['bridge', 'update', `leases/${release}-bridge`, ns, true],
  ['bridge', 'update', `leases/${release}-bridge-shard-0`, ns, true],
  ['bridge', 'delete', `leases/${release}-bridge-member-x`, ns, true],
  ['bridge', 'get', 'leases/someone-else', ns, false],
  ['bridge', 'list', 'leases', 'default', false],
  ['bridge', 'delete', 'leases', 'default', false],
  ['bridge', 'create', 'services', 'default', true],
  ['bridge', 'update', 'services', 'default', true],
  ['bridge', 'delete', 'services', 'default', true],
  ['bridge', 'list', 'deployments.apps', '', true],
  ['bridge', 'create', 'deployments.apps', 'default', false],
  ['bridge', 'get', 'secrets', ns, false],
  ['bridge', 'list', 'secrets', '', false],
  ['bridge', 'list', 'configmaps', '', false],
  // webhook: its own two configurations and its CA Secret.
  ['webhook', 'get', `mutatingwebhookconfigurations/${release}-webhook`, '', true],
  ['webhook', 'update', `validatingwebhookconfigurations/${release}-webhook`, '', true],
  ['webhook', 'get', 'mutatingwebhookconfigurations/someone-else', '', false],
  ['webhook', 'list', 'mutatingwebhookconfigurations', '', false],
  ['webhook', 'delete', `mutatingwebhookconfigurations/${release}-webhook`, '', false],
  ['webhook', 'create', 'secrets', ns, true],
  ['webhook', 'get', `secrets/${release}-webhook-ca`, ns, true],
  ['webhook', 'update', `secrets/${release}-webhook-ca`, ns, true],
  ['webhook', 'get', 'secrets/someone-else', ns, false],
  ['webhook', 'list', 'secrets', ns, false],
  ['webhook', 'create', 'secrets', 'default', false],
  ['webhook', 'list', 'pods', '', false],
  // extender: reads nodes and pods, nothing else.
  ['extender', 'list', 'nodes', '', true],
  ['extender', 'watch', 'pods', '', true],
  ['extender', 'get', 'secrets', ns, false],
  ['extender', 'patch', 'nodes', '', false],
  ['extender', 'create', 'pods/binding', 'default', false],
  // module-scheduler: a kube-scheduler, with its leader Lease in the release namespace.
  ['scheduler', 'create', 'pods/binding', 'default', true],
  ['scheduler', 'get', 'leases/module-scheduler', ns, true],
  ['scheduler', 'update', 'leases/module-scheduler', ns, true],
  ['scheduler', 'delete', 'nodes', '', false],
  ['scheduler', 'get', 'secrets', ns, false],
  // module-deployment controller: its watch caches, ReplicaSets, module Services, the link label on
  // nodes, Events and its own leader Lease; nothing it does not call.
  ['module-deployment', 'watch', 'moduledeployments.koupleless.io', '', true],
  ['module-deployment', 'list', 'moduledeployments.koupleless.alipay.com', '', true],
  ['module-deployment', 'patch', 'moduledeployments.koupleless.io', 'default', true],
  ['module-deployment', 'patch', 'moduledeployments.koupleless.alipay.com/status', 'default', true],
  ['module-deployment', 'get', 'moduledeployments.koupleless.io', 'default', false],
  ['module-deployment', 'update', 'moduledeployments.koupleless.io/status', 'default', false],
  ['module-deployment', 'delete', 'moduledeployments.koupleless.io', 'default', false],
  ['module-deployment', 'create', 'replicasets.apps', 'default', true],
  ['module-deployment', 'delete', 'replicasets.apps', 'default', true],
  ['module-deployment', 'get', 'replicasets.apps', 'default', false],
  ['module-deployment', 'list', 'deployments.apps', '', true],
  ['module-deployment', 'patch', 'deployments.apps', 'default', false],
  ['module-deployment', 'watch', 'pods', '', true],
  ['module-deployment', 'create', 'pods', 'default', false],
  ['module-deployment', 'delete', 'pods', 'default', false],
  ['module-deployment', 'patch', 'nodes', '', true],
  ['module-deployment', 'create', 'nodes', '', false],
  ['module-deployment', 'delete', 'nodes', '', false],
  ['module-deployment', 'patch', 'nodes/status', '', false],
  ['module-deployment', 'create', 'services', 'default', true],
  ['module-deployment', 'delete', 'services', 'default', true],
  ['module-deployment', 'create', 'events', 'default', true],
  ['module-deployment', 'create', 'leases', ns, true],
  ['module-deployment', 'get', `leases/${release}-module-deployment`, ns, true],
  ['module-deployment', 'update', `leases/${release}-module-deployment`, ns, true],
  ['module-deployment', 'update', `leases/${release}-bridge`, ns, false],
  ['module-deployment', 'delete', `leases/${release}-module-deployment`, ns, false],
  ['module-deployment', 'list', 'leases', ns, false],
  ['module-deployment', 'create', 'leases', 'default', false],
  ['module-deployment', 'get', 'secrets', ns, false],
  ['module-deployment', 'list', 'secrets', '', false],
  ['module-deployment', 'list', 'configmaps', '', false],
  // broker: no API rights at all.
  ['broker', 'list', 'pods', '', false],
  ['broker', 'get', 'secrets', ns, false],
];

test('RBAC: each component may do exactly what its code does (kubectl auth can-i)', async () => {
  const wrong: string[] = [];
  for (const [who, verb, resource, namespace, allowed] of rbacTable()) {
    const [res, sub] = resource.split('/');
    const target = sub && !['status', 'exec', 'binding'].includes(sub) ? `${res}/${sub}` : res!;
    const args = ['auth', 'can-i', verb, target, '--as', sa(who), ...(sub && ['status', 'exec', 'binding'].includes(sub) ? ['--subresource', sub] : []), ...(namespace ? ['-n', namespace] : ['--all-namespaces'])];
    const r = await cluster.kubectl(args);
    const got = r.stdout.trim() === 'yes';
    if (got !== allowed) wrong.push(`${who} ${verb} ${resource} ${namespace || '(cluster)'}: expected ${allowed ? 'yes' : 'no'}, got ${r.stdout.trim() || r.stderr.trim()}`);
  }
  assert.deepEqual(wrong, []);
});

test('the bridge\'s identity cannot label, taint or delete an ordinary Node, nor touch its Lease', async () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: plainNode, labels: { 'kubernetes.io/hostname': plainNode } }, spec: { unschedulable: true, taints: [{ key: 'test.module-controller/no-schedule', effect: 'NoSchedule' }] } };
  const made = await cluster.kubectl(['create', '-f', '-'], JSON.stringify(node));
  assert.equal(made.code, 0, made.stderr);
  // The policy takes effect once the API server has loaded it.
  const nodePath = `/api/v1/nodes/${plainNode}`;
  await eventually('the bridge policy is in force', async () => {
    const r = await bridgeRequest('PATCH', `${nodePath}?dryRun=All`, { metadata: { labels: { probe: '1' } } });
    return r.status === 403 || r.status === 422 ? true : undefined;
  }, 30_000, 500);
  const attempts: Array<[string, 'PATCH' | 'DELETE', string, unknown]> = [
    ['label', 'PATCH', nodePath, { metadata: { labels: { owned: 'yes' } } }],
    ['label as a virtual node', 'PATCH', nodePath, { metadata: { labels: { [VNODE_COMPONENT_LABEL]: VNODE_COMPONENT_VALUE } } }],
    ['taint', 'PATCH', nodePath, { spec: { taints: [{ key: 'evil', value: 'yes', effect: 'NoExecute' }] } }],
    ['status', 'PATCH', `${nodePath}/status`, { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Forged', message: 'x' }] } }],
    ['delete', 'DELETE', nodePath, undefined],
  ];
  for (const [what, method, path, body] of attempts) {
    const r = await bridgeRequest(method, path, body);
    assert.ok(!ok(r), `${what} must be refused`);
    assert.match(r.message, /only create, change or delete virtual nodes/, what);
  }
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: plainNode, namespace: NODE_LEASE_NAMESPACE }, spec: { holderIdentity: plainNode, leaseDurationSeconds: 40 } };
  const forged = await bridgeRequest('POST', `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases`, lease);
  assert.ok(!ok(forged));
  assert.match(forged.message, /Leases of virtual nodes/);
  const still = await cluster.core.readNode({ name: plainNode });
  assert.equal(still.metadata?.labels?.['owned'], undefined);
  assert.equal(still.metadata?.labels?.[VNODE_COMPONENT_LABEL], undefined);
});

test('in the release namespace the bridge\'s identity writes its own leader, shard and member Leases and no other Lease', async () => {
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
  const lease = (name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: ns }, spec: { holderIdentity: 'probe', leaseDurationSeconds: 10 } });
  // Another component's Lease in the same namespace (made by the admin): the bridge may not touch it.
  const other = `${release}-module-deployment`;
  const made = await cluster.kubectl(['create', '-n', ns, '-f', '-'], JSON.stringify(lease(other)));
  assert.equal(made.code, 0, made.stderr);
  await eventually('the bridge policy refuses a foreign Lease', async () => {
    const r = await bridgeRequest('DELETE', `${leases}/${other}?dryRun=All`);
    return r.status === 403 || r.status === 422 ? true : undefined;
  }, 30_000, 500);
  for (const name of [`${release}-bridge-shard-0`, `${release}-bridge-member-${release}-bridge-abc12`, `${release}-bridge`]) {
    const created = await bridgeRequest('POST', leases, lease(name));
    assert.ok(ok(created), `create ${name}: ${created.status} ${created.message}`);
    const rv = (await cluster.coordination.readNamespacedLease({ name, namespace: ns })).metadata?.resourceVersion;
    const replaced = await bridgeRequest('PUT', `${leases}/${name}`, { ...lease(name), metadata: { name, namespace: ns, resourceVersion: rv }, spec: { holderIdentity: 'probe-2', leaseDurationSeconds: 10 } });
    assert.ok(ok(replaced), `replace ${name}: ${replaced.status} ${replaced.message}`);
    const deleted = await bridgeRequest('DELETE', `${leases}/${name}`);
    assert.ok(ok(deleted), `delete ${name}: ${deleted.status} ${deleted.message}`);
  }
  for (const [what, method, path, body] of [
    ['create a foreign Lease', 'POST', leases, lease('someone-else')],
    ['replace another component\'s Lease', 'PUT', `${leases}/${other}`, { ...lease(other), metadata: { name: other, namespace: ns, resourceVersion: (await cluster.coordination.readNamespacedLease({ name: other, namespace: ns })).metadata?.resourceVersion }, spec: { holderIdentity: 'bridge', leaseDurationSeconds: 10 } }],
    ['delete another component\'s Lease', 'DELETE', `${leases}/${other}`, undefined],
  ] as Array<[string, 'POST' | 'PUT' | 'DELETE', string, unknown]>) {
    const r = await bridgeRequest(method, path, body);
    assert.ok(!ok(r), `${what} must be refused`);
    assert.match(r.message, /may only write its own Leases/, what);
  }
  const still = await cluster.coordination.readNamespacedLease({ name: other, namespace: ns });
  assert.equal(still.spec?.holderIdentity, 'probe');
});

test('the bridge\'s identity still does its job on virtual nodes: create, label, taint, status, Lease, delete', async () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: vnode, labels: { [VNODE_COMPONENT_LABEL]: VNODE_COMPONENT_VALUE } }, spec: { taints: [{ key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' }] } };
  const path = `/api/v1/nodes/${vnode}`;
  const steps: Array<[string, 'POST' | 'PATCH' | 'DELETE', string, unknown]> = [
    ['create', 'POST', '/api/v1/nodes', node],
    ['label', 'PATCH', path, { metadata: { labels: { 'base.koupleless.io/name': 'base1' } } }],
    ['taint', 'PATCH', path, { spec: { taints: [{ key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' }, { key: 'extra', value: 'yes', effect: 'NoSchedule' }] } }],
    ['status', 'PATCH', `${path}/status`, { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'BaseReady', message: 'alive', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }] } }],
    ['node lease', 'POST', `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: vnode, namespace: NODE_LEASE_NAMESPACE }, spec: { holderIdentity: vnode, leaseDurationSeconds: 40 } }],
    ['renew node lease', 'PATCH', `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases/${vnode}`, { spec: { renewTime: new Date().toISOString().replace('Z', '000Z') } }],
  ];
  for (const [what, method, p, body] of steps) {
    const r = await bridgeRequest(method, p, body);
    assert.ok(ok(r), `${what}: ${r.status} ${r.message}`);
  }
  const unlabel = await bridgeRequest('PATCH', path, { metadata: { labels: { [VNODE_COMPONENT_LABEL]: null } } });
  assert.ok(!ok(unlabel), 'a virtual node cannot be turned into an ordinary one');
  assert.match(unlabel.message, /only create, change or delete virtual nodes/);
  for (const p of [`/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases/${vnode}`, path]) {
    const r = await bridgeRequest('DELETE', p);
    assert.ok(ok(r), `delete ${p}: ${r.status} ${r.message}`);
  }
});

test('the bridge\'s identity may patch a module pod\'s status and delete it, but not delete any other pod', async () => {
  // The release namespace is excluded from the webhook, so these pods are created without it.
  for (const [name, labels] of [['module-pod', { [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE }], ['plain-pod', { app: 'plain' }]] as const) {
    const r = await cluster.kubectl(['create', '-f', '-'], restrictedPod(name, labels));
    assert.equal(r.code, 0, r.stderr);
  }
  const pods = `/api/v1/namespaces/${ns}/pods`;
  const status = await bridgeRequest('PATCH', `${pods}/module-pod/status`, { status: { message: 'installing' } });
  assert.ok(ok(status), `${status.status} ${status.message}`);
  const plainStatus = await bridgeRequest('PATCH', `${pods}/plain-pod/status`, { status: { message: 'forged' } });
  assert.ok(!ok(plainStatus));
  assert.match(plainStatus.message, /only change or delete module pods/);
  const relabel = await bridgeRequest('PATCH', `${pods}/plain-pod`, { metadata: { labels: { [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE } } });
  assert.equal(relabel.status, 403, 'RBAC gives the bridge no pod patch');
  const plainDelete = await bridgeRequest('DELETE', `${pods}/plain-pod`);
  assert.ok(!ok(plainDelete));
  assert.match(plainDelete.message, /only change or delete module pods/);
  const moduleDelete = await bridgeRequest('DELETE', `${pods}/module-pod`);
  assert.ok(ok(moduleDelete), `${moduleDelete.status} ${moduleDelete.message}`);
});

test('the bridge\'s identity may only write the Services it manages', async () => {
  const svc = (name: string, labels: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, labels }, spec: { ports: [{ port: 8080 }], selector: { app: 'x' } } });
  const services = `/api/v1/namespaces/${ns}/services`;
  const foreign = await bridgeRequest('POST', services, JSON.parse(svc('foreign', { app: 'x' })));
  assert.ok(!ok(foreign));
  assert.match(foreign.message, /module Services it manages/);
  const own = await bridgeRequest('POST', services, JSON.parse(svc('biz1-service', { [SERVICE_MANAGED_BY_LABEL]: SERVICE_MANAGED_BY_VALUE })));
  assert.ok(ok(own), `${own.status} ${own.message}`);
  const made = await cluster.kubectl(['create', '-f', '-'], svc('users-service', { app: 'x' }));
  assert.equal(made.code, 0, made.stderr);
  const takeOver = await bridgeRequest('DELETE', `${services}/users-service`);
  assert.ok(!ok(takeOver), 'a Service the bridge does not manage is not its to delete');
  assert.match(takeOver.message, /module Services it manages/);
});

test('the ModuleDeployment controller\'s identity may only set or remove the base-deployment label on virtual nodes', async () => {
  const made = await cluster.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: mdNode, labels: { [VNODE_COMPONENT_LABEL]: VNODE_COMPONENT_VALUE, 'base.koupleless.io/name': 'base1' } }, spec: { taints: [{ key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' }] } }));
  assert.equal(made.code, 0, made.stderr);
  const path = `/api/v1/nodes/${mdNode}`;
  // The policy takes effect once the API server has loaded it.
  await eventually('the module-deployment policy is in force', async () => {
    const r = await requestAs('module-deployment', 'PATCH', `${path}?dryRun=All`, { metadata: { labels: { probe: '1' } } });
    return r.status === 403 || r.status === 422 ? true : undefined;
  }, 30_000, 500);
  const link = await requestAs('module-deployment', 'PATCH', path, { metadata: { labels: { [BASE_DEPLOYMENT_LABEL]: 'base-deploy' } } });
  assert.ok(ok(link), `set the link label: ${link.status} ${link.message}`);
  assert.equal((await cluster.core.readNode({ name: mdNode })).metadata?.labels?.[BASE_DEPLOYMENT_LABEL], 'base-deploy');
  const refused: Array<[string, string, unknown, RegExp]> = [
    ['another label', path, { metadata: { labels: { 'base.koupleless.io/name': 'other' } } }, /no other label/],
    ['a new label beside the link', path, { metadata: { labels: { [BASE_DEPLOYMENT_LABEL]: 'x', owned: 'yes' } } }, /no other label/],
    ['unlabel as a virtual node', path, { metadata: { labels: { [VNODE_COMPONENT_LABEL]: null } } }, /only change virtual nodes/],
    ['taint', path, { spec: { taints: [{ key: 'evil', value: 'yes', effect: 'NoExecute' }] } }, /spec, annotations, owners and finalizers must stay/],
    ['cordon', path, { spec: { unschedulable: true } }, /spec, annotations, owners and finalizers must stay/],
    ['annotate', path, { metadata: { annotations: { 'base.koupleless.io/tenant-namespaces': 'x' } } }, /spec, annotations, owners and finalizers must stay/],
    ['link an ordinary node', `/api/v1/nodes/${plainNode}`, { metadata: { labels: { [BASE_DEPLOYMENT_LABEL]: 'base-deploy' } } }, /only change virtual nodes/],
  ];
  for (const [what, p, body, message] of refused) {
    const r = await requestAs('module-deployment', 'PATCH', p, body);
    assert.ok(!ok(r), `${what} must be refused`);
    assert.match(r.message, message, what);
  }
  const unlink = await requestAs('module-deployment', 'PATCH', path, { metadata: { labels: { [BASE_DEPLOYMENT_LABEL]: null } } });
  assert.ok(ok(unlink), `remove the link label: ${unlink.status} ${unlink.message}`);
  const after = await cluster.core.readNode({ name: mdNode });
  assert.equal(after.metadata?.labels?.[BASE_DEPLOYMENT_LABEL], undefined);
  assert.equal(after.metadata?.labels?.['base.koupleless.io/name'], 'base1');
  // The refused taint never landed (kube-controller-manager may add its own not-ready taints to this status-less node meanwhile).
  assert.ok(after.spec?.taints?.some((t) => t.key === 'schedule.koupleless.io/virtual-node'));
  assert.ok(!after.spec?.taints?.some((t) => t.key === 'evil'));
});

test('with the webhook down, module objects are refused (fail closed) and nothing else is blocked', async () => {
  const other = await cluster.createNamespace('chart-fc');
  try {
    const deployment = (name: string, labels: Record<string, string>) => JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: other },
      spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'biz1', image: 'https://example.invalid/biz1.jar' }] } } },
    });
    const pod = (name: string, labels: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: other, labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    const plainDep = await cluster.kubectl(['create', '-f', '-'], deployment('plain', {}));
    assert.equal(plainDep.code, 0, plainDep.stderr);
    const plainPod = await cluster.kubectl(['create', '-f', '-'], pod('plain', { app: 'plain' }));
    assert.equal(plainPod.code, 0, plainPod.stderr);
    const moduleDep = await cluster.kubectl(['create', '-f', '-'], deployment('biz1', { [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE }));
    assert.notEqual(moduleDep.code, 0, 'a module Deployment is not admitted unvalidated');
    assert.match(moduleDep.stderr, /workloads\.validate\.module-controller\.koupleless\.io/);
    const modulePod = await cluster.kubectl(['create', '-f', '-'], pod('biz1', { [MODULE_COMPONENT_LABEL]: MODULE_COMPONENT_VALUE }));
    assert.notEqual(modulePod.code, 0);
    assert.match(modulePod.stderr, /pods\.mutate\.module-controller\.koupleless\.io/);
  } finally {
    await cluster.kubectl(['delete', 'namespace', other, '--wait=false']);
  }
});

test('the optional NetworkPolicies are valid objects for the real API server', async () => {
  const rendered = await runHelm(['template', release, CHART, '-n', ns, '--show-only', 'templates/network-policies.yaml', '--set', 'networkPolicy.enabled=true', '--set', 'networkPolicy.brokerFrom[0].ipBlock.cidr=192.0.2.0/24']);
  assert.equal(rendered.code, 0, rendered.stderr);
  const dry = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], rendered.stdout);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout.trim().split('\n').length, 5, dry.stdout);
});

test('helm upgrade with a new scheduler configuration rolls module-scheduler (config checksum)', async () => {
  const rsCount = async () => (await cluster.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app.kubernetes.io/component=module-scheduler' })).items.length;
  assert.equal(await rsCount(), 1);
  const same = await runHelm(['upgrade', release, CHART, '-n', ns, '--kubeconfig', cluster.kubeconfig, '--reuse-values']);
  assert.equal(same.code, 0, same.stderr);
  const up = await runHelm(['upgrade', release, CHART, '-n', ns, '--kubeconfig', cluster.kubeconfig, '--reuse-values', '--set', 'extender.port=8090']);
  assert.equal(up.code, 0, up.stderr);
  await eventually('a second module-scheduler ReplicaSet', async () => (await rsCount()) === 2 ? true : undefined, 30_000);
  const cm = await cluster.kubectl(['get', 'configmap', `${release}-scheduler`, '-n', ns, '-o', 'jsonpath={.data.config\\.yaml}']);
  assert.match(cm.stdout, /svc:8090"/);
});

test('helm upgrade to an HTTPS extender with client auth: Helm-made Secrets kept on upgrade, module-scheduler configured and mounted, pods created', async () => {
  const secret = async (name: string) => (await cluster.core.readNamespacedSecret({ name, namespace: ns })).data ?? {};
  const up = await runHelm(['upgrade', release, CHART, '-n', ns, '--kubeconfig', cluster.kubeconfig, '--reuse-values', '--set', 'extender.tls.enabled=true', '--set', 'extender.tls.clientAuth=true']);
  assert.equal(up.code, 0, up.stderr);
  const names = [`${release}-extender-ca`, `${release}-extender-tls`, `${release}-scheduler-extender-client`];
  const first = await Promise.all(names.map(secret));
  assert.deepEqual(Object.keys(first[1]!).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
  assert.deepEqual(Object.keys(first[2]!).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
  assert.equal(first[1]!['ca.crt'], first[0]!['ca.crt'], 'the serving certificate carries the CA it was signed by');
  const cm = await cluster.kubectl(['get', 'configmap', `${release}-scheduler`, '-n', ns, '-o', 'jsonpath={.data.config\\.yaml}']);
  assert.match(cm.stdout, new RegExp(`urlPrefix: https://${release}-extender\\.${ns}\\.svc:8090`));
  assert.match(cm.stdout, /enableHTTPS: true/);
  for (const f of ['caFile: /etc/module-scheduler-tls/ca/ca.crt', 'certFile: /etc/module-scheduler-tls/client/tls.crt', 'keyFile: /etc/module-scheduler-tls/client/tls.key']) assert.ok(cm.stdout.includes(f), f);
  const sched = await cluster.apps.readNamespacedDeployment({ name: `${release}-scheduler`, namespace: ns });
  const vols = Object.fromEntries((sched.spec!.template.spec!.volumes ?? []).map((v) => [v.name, v.secret?.secretName]));
  assert.deepEqual(vols, { config: undefined, 'extender-ca': `${release}-extender-tls`, 'extender-client': `${release}-scheduler-extender-client` });
  const ext = await cluster.apps.readNamespacedDeployment({ name: `${release}-extender`, namespace: ns });
  const c = ext.spec!.template.spec!.containers[0]!;
  for (const a of ['--tls-cert-file=/etc/extender-tls/tls.crt', '--tls-key-file=/etc/extender-tls/tls.key', '--tls-client-ca-file=/etc/extender-tls/ca.crt']) assert.ok(c.args!.includes(a), a);
  assert.equal(c.readinessProbe?.httpGet?.scheme, 'HTTPS');
  // kube-controller-manager creates the new pods (nothing runs them: no kubelet).
  await eventually('extender pods of the HTTPS template', async () => {
    const pods = await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=extender' });
    return pods.items.some((p) => p.spec!.volumes?.some((v) => v.secret?.secretName === `${release}-extender-tls`)) ? true : undefined;
  }, 60_000);
  // Another upgrade keeps the certificates (lookup), so module-scheduler and the extender keep trusting each other.
  const again = await runHelm(['upgrade', release, CHART, '-n', ns, '--kubeconfig', cluster.kubeconfig, '--reuse-values']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await Promise.all(names.map(secret)), first);
});

test('helm uninstall removes the cluster-scoped objects', async () => {
  const un = await runHelm(['uninstall', release, '-n', ns, '--kubeconfig', cluster.kubeconfig]);
  assert.equal(un.code, 0, un.stderr);
  installed = false;
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
    const gone = await cluster.kubectl(['get', kind, `${release}-webhook`]);
    assert.notEqual(gone.code, 0, `${kind} left behind`);
  }
  const vap = await cluster.kubectl(['get', 'validatingadmissionpolicy', `${release}-bridge-confinement.module-controller.koupleless.io`]);
  assert.notEqual(vap.code, 0, 'the bridge policy is left behind');
  const role = await cluster.kubectl(['get', 'role', `${release}-bridge-node-leases`, '-n', NODE_LEASE_NAMESPACE]);
  assert.notEqual(role.code, 0, 'the kube-node-lease Role is left behind');
});
