// The Helm chart, checked with a real helm: lint, template, every container flag exists in the
// command it runs, and generated parts match their sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { runHelm } from '../support/helm.ts';
import { renderChartWebhooks, CHART_WEBHOOKS_FILE } from '../../scripts/render-chart-webhooks.ts';
import { COMMON_FLAGS, type AnyCommand } from '../../core/command.ts';
import { parseFlags, toFlagName, type FlagSpec } from '../../core/flags.ts';
import { parseAdmissionPolicy, webhookCommand, type WebhookConfig } from '../../webhook/command.ts';
import { checkExtenderConfig, extenderCommand, type ExtenderConfig } from '../../extender/command.ts';
import { bridgeCommand } from '../../bridge/command.ts';
import { brokerCommand } from '../../broker/command.ts';
import { EXTENDER_NODE_OPTIONS } from '../../extender/runtime.ts';
import { BRIDGE_NODE_OPTIONS } from '../../bridge/runtime.ts';
import { toSchedulerConfig } from '../../extender/scheduler-config.ts';
import { toLeaseTimings } from '../../bridge/lease-timings.ts';
import { BASE_DEPLOYMENT_LABEL, MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS, MODULE_COMPONENT_VALUE, NODE_LEASE_NAMESPACE, VNODE_COMPONENT_LABEL, VNODE_COMPONENT_VALUE, toNodeName } from '../../core/names.ts';
import { SERVICE_MANAGED_BY_LABEL, SERVICE_MANAGED_BY_VALUE } from '../../core/service-names.ts';

const CHART = 'charts/module-controller';
const COMMANDS: Record<string, AnyCommand> = { webhook: webhookCommand, extender: extenderCommand, bridge: bridgeCommand, broker: brokerCommand };

async function template(extra: string[] = []): Promise<Array<Record<string, any>>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await runHelm(['template', 'mc', CHART, '-n', 'koupleless', '--kube-version', '1.34.4', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
}

/** Every value that maps to a flag added with the jar URL policy, tenancy, extender TLS and bridge liveness work, set away from its default. */
const ALL_NEW_VALUES = [
  '--set', 'baseTenants.base-a={team-a,team-b}', '--set', 'baseTenants.base-b={team-c}',
  '--set', 'webhook.allowedJarUrlSchemes={https,file}', '--set', 'webhook.allowedJarUrlPrefixes={https://repo.example.com/modules/,file:///opt/jars/}',
  '--set', 'extender.maxAssumedPlacements=500', '--set', 'extender.tls.enabled=true', '--set', 'extender.tls.clientAuth=true',
  '--set', 'bridge.maxClockSkew=0s', '--set', 'bridge.reconnectGrace=45s', '--set', 'bridge.leaderLeaseDuration=15s', '--set', 'bridge.leaderRenewDeadline=7s', '--set', 'bridge.leaderRetryPeriod=2s',
  '--set', 'bridge.kubeApiQps=0', '--set', 'bridge.kubeApiBurst=800',
];

test('helm lint passes', async () => {
  const r = await runHelm(['lint', CHART, '--kube-version', '1.34.4']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('every flag the chart passes exists in the command it runs', async () => {
  const docs = [...await template(), ...await template(['--set', 'webhook.certManager.enabled=true']), ...await template(ALL_NEW_VALUES)];
  const deployments = docs.filter((d) => d['kind'] === 'Deployment');
  assert.ok(deployments.length >= 10);
  let checked = 0;
  for (const d of deployments) {
    for (const c of d['spec']['template']['spec']['containers']) {
      const args: string[] = c.args ?? [];
      const cmd = COMMANDS[args[0] ?? ''];
      if (!cmd) continue;
      const known = new Set(Object.keys({ ...COMMON_FLAGS, ...cmd.flags }).map(toFlagName));
      for (const a of args.slice(1)) {
        const name = /^--([a-z0-9-]+)/.exec(a)?.[1];
        assert.ok(name && known.has(name), `${d['metadata']['name']}: ${a} is not a flag of "${args[0]}"`);
        checked++;
      }
    }
  }
  assert.ok(checked > 30);
});

test('values flow into the manifests and an external broker replaces the in-chart one', async () => {
  const docs = await template(['--set', 'mqtt.url=mqtts://broker.example.invalid:8883', '--set', 'broker.enabled=false', '--set', 'bridge.replicas=3', '--set', 'mqtt.existingSecret=mqtt-auth']);
  const bridge = docs.find((d) => d['kind'] === 'Deployment' && d['metadata']['name'] === 'mc-bridge')!;
  assert.equal(bridge['spec']['replicas'], 3);
  const c = bridge['spec']['template']['spec']['containers'][0];
  assert.ok(c.args.includes('--mqtt-url=mqtts://broker.example.invalid:8883'));
  assert.ok(c.env.some((e: { name: string }) => e.name === 'MC_MQTT_PASSWORD'));
  assert.equal(docs.some((d) => d['metadata']?.['name'] === 'mc-broker'), false);
});

test('a bad value is rejected by the values schema with a message naming it', async () => {
  const r = await runHelm(['template', 'mc', CHART, '--kube-version', '1.34.4', '--set', 'bridge.notReadyAfter=soon']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /notReadyAfter/);
});

test('the chart\'s webhook configurations are generated from webhook/registration.ts', () => {
  assert.equal(readFileSync(CHART_WEBHOOKS_FILE, 'utf8'), renderChartWebhooks(), 'run: node scripts/render-chart-webhooks.ts');
});

test('the chart\'s scheduler configuration is the extender\'s', () => {
  assert.equal(readFileSync(`${CHART}/files/module-scheduler-config.yaml`, 'utf8'), readFileSync('extender/module-scheduler-config.yaml', 'utf8'));
});

test('the extender runs with the runtime options its latency was measured with', async () => {
  const docs = await template();
  const extender = docs.find((d) => d['kind'] === 'Deployment' && d['metadata']['name'] === 'mc-extender')!;
  const env: Array<{ name: string; value: string }> = extender['spec']['template']['spec']['containers'][0].env ?? [];
  assert.equal(env.find((e) => e.name === 'NODE_OPTIONS')?.value, EXTENDER_NODE_OPTIONS);
  const cleared = await template(['--set', 'extender.nodeOptions=']);
  const bare = cleared.find((d) => d['kind'] === 'Deployment' && d['metadata']['name'] === 'mc-extender')!;
  const bareEnv: Array<{ name: string }> = bare['spec']['template']['spec']['containers'][0].env;
  assert.deepEqual(bareEnv.map((e) => e.name), ['MC_POD_NAME'], 'no NODE_OPTIONS');
});

test('extender replicas find each other through their Service and leave themselves out', async () => {
  const docs = await template(['--set', 'extender.peerTimeout=20ms']);
  const extender = named(docs, 'Deployment', 'mc-extender')!;
  const c = extender['spec']['template']['spec']['containers'][0];
  assert.ok(c.args.includes('--peer-service=koupleless/mc-extender'), c.args.join(' '));
  assert.ok(c.args.includes('--peer-timeout=20ms'));
  assert.ok(named(docs, 'Service', 'mc-extender'), 'the Service whose EndpointSlices list the replicas');
  assert.deepEqual(c.env.find((e: Doc) => e['name'] === 'MC_POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  assert.ok(!args(await template(), 'mc-extender').some((a) => a.startsWith('--peer-timeout=')), 'the default is the flag\'s own');
  const role = named(docs, 'Role', 'mc-extender-peers')!;
  assert.deepEqual(role['rules'], [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] }]);
});

test('the bridge runs with the runtime options its memory was measured with', async () => {
  const bridgeOf = (docs: Doc[]) => docs.find((d) => d['kind'] === 'Deployment' && d['metadata']['name'] === 'mc-bridge')!['spec']['template']['spec']['containers'][0];
  const env: Array<{ name: string; value?: string }> = bridgeOf(await template()).env;
  assert.equal(env.find((e) => e.name === 'NODE_OPTIONS')?.value, BRIDGE_NODE_OPTIONS);
  const cleared: Array<{ name: string }> = bridgeOf(await template(['--set', 'bridge.nodeOptions='])).env;
  assert.equal(cleared.find((e) => e.name === 'NODE_OPTIONS'), undefined);
});

// ---- issue #10 / #12: the chart's conventions ----

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const byKind = (docs: Doc[], kind: string) => docs.filter((d) => d['kind'] === kind);
const named = (docs: Doc[], kind: string, name: string) => docs.find((d) => d['kind'] === kind && d['metadata']['name'] === name);
/** Every pod spec the chart renders: the Deployments' templates and the helm test pod. */
function podSpecs(docs: Doc[]): Array<[string, Doc]> {
  return [
    ...byKind(docs, 'Deployment').map((d): [string, Doc] => [d['metadata']['name'], d['spec']['template']['spec']]),
    ...byKind(docs, 'Pod').map((d): [string, Doc] => [d['metadata']['name'], d['spec']]),
  ];
}
const COMPONENT_VALUES: Record<string, string> = { webhook: 'mc-webhook', extender: 'mc-extender', moduleScheduler: 'mc-scheduler', bridge: 'mc-bridge', broker: 'mc-broker' };

test('the project-built helm renders the chart without --kube-version (its default Kubernetes version is set at build time)', async () => {
  const r = await runHelm(['template', 'mc', CHART]);
  assert.equal(r.code, 0, r.stderr);
  // The chart says kubeVersion >=1.30: helm's fallback (v1.20) would fail this.
  const lint = await runHelm(['lint', CHART]);
  assert.equal(lint.code, 0, lint.stdout + lint.stderr);
});

test('the values schema rejects unknown keys at every level, naming the key', async () => {
  for (const [set, key] of [['webhook.replica=3', 'replica'], ['replicas=3', 'replicas'], ['bridge.resources.limit.cpu=1', 'limit'], ['webhook.failurePolicy.mutate=Fail', 'mutate'], ['networkPolicy.enable=true', 'enable'], ['webhook.certManager.issuer=x', 'issuer']] as const) {
    const r = await runHelm(['template', 'mc', CHART, '--set', set]);
    assert.notEqual(r.code, 0, `--set ${set} must fail`);
    assert.match(r.stderr, new RegExp(`additional properties '${key}' not allowed`), set);
  }
  const bad = await runHelm(['template', 'mc', CHART, '--set', 'webhook.failurePolicy.validating=Maybe']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /validating/);
});

test('every pod is Pod Security "restricted": RuntimeDefault seccomp, non-root, read-only root, no privilege escalation, no capabilities', async () => {
  const docs = await template(['--set', 'webhook.certManager.enabled=true']);
  const specs = podSpecs(docs);
  assert.ok(specs.length >= 6, 'every Deployment and the helm test pod');
  for (const [name, spec] of specs) {
    assert.equal(spec['securityContext']['seccompProfile']['type'], 'RuntimeDefault', name);
    assert.equal(spec['securityContext']['runAsNonRoot'], true, name);
    for (const c of spec['containers']) {
      const sc = c.securityContext;
      assert.deepEqual([sc.allowPrivilegeEscalation, sc.readOnlyRootFilesystem, sc.runAsNonRoot, sc.capabilities.drop, sc.seccompProfile.type], [false, true, true, ['ALL'], 'RuntimeDefault'], `${name}/${c.name}`);
    }
  }
  // The security contexts are values.
  const custom = await template(['--set', 'podSecurityContext.runAsUser=1234', '--set', 'securityContext.readOnlyRootFilesystem=false']);
  for (const [name, spec] of podSpecs(custom)) {
    assert.equal(spec['securityContext']['runAsUser'], 1234, name);
    assert.equal(spec['containers'][0].securityContext.readOnlyRootFilesystem, false, name);
  }
});

test('imagePullSecrets reach every pod, kube-scheduler and the broker included', async () => {
  const docs = await template(['--set', 'imagePullSecrets[0].name=regcred']);
  for (const [name, spec] of podSpecs(docs)) assert.deepEqual(spec['imagePullSecrets'], [{ name: 'regcred' }], name);
});

test('per component: scheduling, pod metadata, extra args and env flow into its pods', async () => {
  const set: string[] = [];
  for (const c of Object.keys(COMPONENT_VALUES)) {
    set.push(
      '--set', `${c}.nodeSelector.pool=${c}`,
      '--set', `${c}.tolerations[0].key=dedicated`, '--set', `${c}.tolerations[0].operator=Exists`,
      '--set', `${c}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=zone`,
      '--set', `${c}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists`,
      '--set', `${c}.topologySpreadConstraints[0].maxSkew=1`, '--set', `${c}.topologySpreadConstraints[0].topologyKey=zone`, '--set', `${c}.topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway`,
      '--set', `${c}.priorityClassName=prio-${c.toLowerCase()}`,
      '--set', `${c}.podAnnotations.note=${c}`,
      '--set', `${c}.podLabels.team=${c}`,
      '--set', `${c}.extraArgs[0]=--extra-${c.toLowerCase()}=1`,
      '--set', `${c}.extraEnv[0].name=EXTRA`, '--set', `${c}.extraEnv[0].value=${c}`,
    );
  }
  const docs = await template(set);
  for (const [c, name] of Object.entries(COMPONENT_VALUES)) {
    const d = named(docs, 'Deployment', name)!;
    const tpl = d['spec']['template'];
    const spec = tpl['spec'];
    assert.deepEqual(spec['nodeSelector'], { pool: c }, name);
    assert.deepEqual(spec['tolerations'], [{ key: 'dedicated', operator: 'Exists' }], name);
    assert.equal(spec['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms'][0]['matchExpressions'][0]['key'], 'zone', name);
    assert.equal(spec['topologySpreadConstraints'][0]['topologyKey'], 'zone', name);
    assert.equal(spec['priorityClassName'], `prio-${c.toLowerCase()}`, name);
    assert.equal(tpl['metadata']['annotations']['note'], c, name);
    assert.equal(tpl['metadata']['labels']['team'], c, name);
    // Selector labels stay as they were: podLabels never change what a Deployment selects.
    assert.deepEqual(Object.keys(d['spec']['selector']['matchLabels']).sort(), ['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
    const container = spec['containers'][0];
    const args: string[] = container.args ?? container.command;
    assert.equal(args.at(-1), `--extra-${c.toLowerCase()}=1`, name);
    assert.ok(container.env.some((e: { name: string; value: string }) => e.name === 'EXTRA' && e.value === c), name);
  }
});

test('nameOverride and fullnameOverride', async () => {
  const docs = await template(['--set', 'fullnameOverride=koup', '--set', 'nameOverride=mctl']);
  const deps = byKind(docs, 'Deployment').map((d) => d['metadata']['name']).sort();
  assert.deepEqual(deps, ['koup-bridge', 'koup-broker', 'koup-extender', 'koup-module-deployment', 'koup-scheduler', 'koup-webhook']);
  for (const d of byKind(docs, 'Deployment')) assert.equal(d['spec']['template']['metadata']['labels']['app.kubernetes.io/name'], 'mctl');
  const mwc = byKind(docs, 'MutatingWebhookConfiguration')[0]!;
  assert.equal(mwc['webhooks'][0]['clientConfig']['service']['name'], 'koup-webhook');
  const webhook = named(docs, 'Deployment', 'koup-webhook')!;
  assert.ok(webhook['spec']['template']['spec']['containers'][0].args.includes('--mutating-config-name=koup-webhook'));
});

test('a PodDisruptionBudget only for components with more than one replica', async () => {
  const pdbs = async (extra: string[]) => byKind(await template(extra), 'PodDisruptionBudget').map((d) => d['metadata']['name']).sort();
  assert.deepEqual(await pdbs([]), ['mc-bridge', 'mc-extender', 'mc-module-deployment', 'mc-webhook']);
  assert.deepEqual(await pdbs(['--set', 'webhook.replicas=1', '--set', 'bridge.replicas=1', '--set', 'moduleDeployment.replicas=1']), ['mc-extender']);
  assert.deepEqual(await pdbs(['--set', 'moduleScheduler.replicas=2']), ['mc-bridge', 'mc-extender', 'mc-module-deployment', 'mc-module-scheduler', 'mc-webhook']);
  assert.deepEqual(await pdbs(['--set', 'podDisruptionBudget.enabled=false']), []);
});

test('the scheduler configuration checksum follows the rendered configuration', async () => {
  const checksum = async (extra: string[]) => named(await template(extra), 'Deployment', 'mc-scheduler')!['spec']['template']['metadata']['annotations']['checksum/config'];
  const a = await checksum([]);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(await checksum([]), a);
  assert.notEqual(await checksum(['--set', 'extender.port=8090']), a, 'a new extender URL rolls module-scheduler');
});

test('webhook failure policies are values, on every webhook of each configuration', async () => {
  const policies = (docs: Doc[]) => [byKind(docs, 'MutatingWebhookConfiguration')[0]!, byKind(docs, 'ValidatingWebhookConfiguration')[0]!].map((c) => [...new Set(c['webhooks'].map((w: Doc) => w['failurePolicy']))]);
  assert.deepEqual(policies(await template()), [['Fail'], ['Fail']]);
  assert.deepEqual(policies(await template(['--set', 'webhook.failurePolicy.validating=Ignore'])), [['Fail'], ['Ignore']]);
  // Fail closed only for module objects: every webhook is narrowed by labels or a template condition.
  for (const c of [...byKind(await template(), 'MutatingWebhookConfiguration'), ...byKind(await template(), 'ValidatingWebhookConfiguration')]) {
    for (const w of c['webhooks']) assert.ok(w['objectSelector'] || w['matchConditions']?.length, w['name']);
  }
});

test('cert-manager: a Certificate, CA injection on both configurations, TLS files for the webhook and no API rights for it', async () => {
  const docs = await template(['--set', 'webhook.certManager.enabled=true']);
  const cert = named(docs, 'Certificate', 'mc-webhook')!;
  assert.equal(cert['spec']['secretName'], 'mc-webhook-tls');
  assert.ok(cert['spec']['dnsNames'].includes('mc-webhook.koupleless.svc'));
  assert.equal(cert['spec']['issuerRef']['name'], 'mc-webhook-ca');
  assert.deepEqual(byKind(docs, 'Issuer').map((d) => d['metadata']['name']).sort(), ['mc-webhook-ca', 'mc-webhook-selfsigned']);
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    assert.equal(byKind(docs, kind)[0]!['metadata']['annotations']['cert-manager.io/inject-ca-from'], 'koupleless/mc-webhook', kind);
  }
  const spec = named(docs, 'Deployment', 'mc-webhook')!['spec']['template']['spec'];
  const args: string[] = spec['containers'][0].args;
  assert.ok(args.includes('--tls-cert-file=/etc/webhook-tls/tls.crt') && args.includes('--tls-key-file=/etc/webhook-tls/tls.key'));
  assert.ok(!args.some((a) => a.startsWith('--ca-secret-name')));
  assert.equal(spec['automountServiceAccountToken'], false);
  assert.deepEqual(spec['volumes'], [{ name: 'tls', secret: { secretName: 'mc-webhook-tls' } }]);
  assert.equal(docs.some((d) => d['kind']?.endsWith('Role') && d['metadata']['name'] === 'mc-webhook'), false);
  const own = await template(['--set', 'webhook.certManager.enabled=true', '--set', 'webhook.certManager.issuerRef.name=corp-ca', '--set', 'webhook.certManager.issuerRef.kind=ClusterIssuer']);
  assert.deepEqual(byKind(own, 'Issuer'), []);
  assert.deepEqual(named(own, 'Certificate', 'mc-webhook')!['spec']['issuerRef'], { name: 'corp-ca', kind: 'ClusterIssuer' });
  // Self-managed (default): no cert-manager objects, no annotation.
  const plain = await template();
  assert.deepEqual(byKind(plain, 'Certificate'), []);
  assert.equal(byKind(plain, 'MutatingWebhookConfiguration')[0]!['metadata']['annotations'], undefined);
});

test('RBAC: no wildcard, no cluster-wide Lease or Secret rights, Leases only in kube-node-lease and the release namespace', async () => {
  const docs = await template();
  for (const r of [...byKind(docs, 'ClusterRole'), ...byKind(docs, 'Role')]) {
    for (const rule of r['rules']) {
      assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*') && !rule.apiGroups.includes('*'), r['metadata']['name']);
      if (r['kind'] === 'ClusterRole') assert.ok(!rule.resources.includes('leases') && !rule.resources.includes('secrets'), `${r['metadata']['name']} is cluster-wide`);
    }
  }
  const leaseRoles = byKind(docs, 'Role').filter((r) => r['rules'].some((x: Doc) => x['resources'].includes('leases')));
  assert.deepEqual([...new Set(leaseRoles.map((r) => r['metadata']['namespace']))].sort(), ['koupleless', NODE_LEASE_NAMESPACE].sort());
  const noServices = await template(['--set', 'bridge.moduleServices=false']);
  const bridgeRole = named(noServices, 'ClusterRole', 'mc-bridge')!;
  assert.ok(!bridgeRole['rules'].some((r: Doc) => r['resources'].includes('services')), 'no Service rights without module Services');
});

test('the bridge confinement policy speaks the one vocabulary (core/names.ts) and matches only the bridge', async () => {
  const docs = await template();
  const vap = byKind(docs, 'ValidatingAdmissionPolicy').find((d) => d['metadata']['name'] === 'mc-bridge-confinement.module-controller.koupleless.io')!;
  const text = JSON.stringify(vap);
  for (const s of [VNODE_COMPONENT_LABEL, `'${VNODE_COMPONENT_VALUE}'`, MODULE_COMPONENT_LABEL, MODULE_COMPONENT_LABEL_ALIAS, `'${MODULE_COMPONENT_VALUE}'`, SERVICE_MANAGED_BY_LABEL, `'${SERVICE_MANAGED_BY_VALUE}'`, `'${NODE_LEASE_NAMESPACE}'`]) assert.ok(text.includes(s), s);
  assert.ok(text.includes(`startsWith('${toNodeName('x').slice(0, -1)}')`), 'virtual node Lease prefix is toNodeName\'s');
  assert.deepEqual(vap['spec']['matchConditions'], [{ name: 'bridge-service-account', expression: "request.userInfo.username == 'system:serviceaccount:koupleless:mc-bridge'" }]);
  assert.equal(vap['spec']['failurePolicy'], 'Fail');
  const binding = byKind(docs, 'ValidatingAdmissionPolicyBinding').find((d) => d['spec']['policyName'] === vap['metadata']['name'])!;
  assert.deepEqual(binding['spec']['validationActions'], ['Deny']);
  assert.deepEqual(byKind(await template(['--set', 'bridge.confinementPolicy=false']), 'ValidatingAdmissionPolicy'), []);
});

test('the ModuleDeployment controller\'s confinement policy: only the base-deployment label on virtual nodes, only its own identity', async () => {
  const docs = await template();
  const name = 'mc-module-deployment-confinement.module-controller.koupleless.io';
  const vap = byKind(docs, 'ValidatingAdmissionPolicy').find((d) => d['metadata']['name'] === name)!;
  assert.ok(vap, 'rendered by default');
  const text = JSON.stringify(vap);
  for (const s of [VNODE_COMPONENT_LABEL, `'${VNODE_COMPONENT_VALUE}'`, `'${BASE_DEPLOYMENT_LABEL}'`]) assert.ok(text.includes(s), s);
  assert.deepEqual(vap['spec']['matchConditions'], [{ name: 'module-deployment-service-account', expression: "request.userInfo.username == 'system:serviceaccount:koupleless:mc-module-deployment'" }]);
  assert.deepEqual(vap['spec']['matchConstraints']['resourceRules'].map((r: Doc) => r['resources']), [['nodes', 'nodes/status']]);
  assert.equal(vap['spec']['failurePolicy'], 'Fail');
  const binding = byKind(docs, 'ValidatingAdmissionPolicyBinding').find((d) => d['spec']['policyName'] === name)!;
  assert.deepEqual(binding['spec']['validationActions'], ['Deny']);
  for (const off of [['--set', 'bridge.confinementPolicy=false'], ['--set', 'moduleDeployment.enabled=false']]) {
    assert.ok(!byKind(await template(off), 'ValidatingAdmissionPolicy').some((d) => d['metadata']['name'] === name), off.join(' '));
  }
});

test('NetworkPolicies: broker open to bases, webhook and extender only to their callers, bridge only to scrapes', async () => {
  assert.deepEqual(byKind(await template(), 'NetworkPolicy'), []);
  const docs = await template(['--set', 'networkPolicy.enabled=true']);
  const pol = (c: string) => named(docs, 'NetworkPolicy', `mc-${c}`)!['spec'];
  assert.deepEqual(byKind(docs, 'NetworkPolicy').map((d) => d['metadata']['name']).sort(), ['mc-bridge', 'mc-broker', 'mc-extender', 'mc-module-scheduler', 'mc-webhook']);
  for (const d of byKind(docs, 'NetworkPolicy')) assert.deepEqual(d['spec']['policyTypes'], ['Ingress']);
  assert.deepEqual(pol('broker')['ingress'][0], { ports: [{ port: 1883, protocol: 'TCP' }] }, 'bases connect from anywhere by default');
  assert.deepEqual(pol('webhook')['ingress'], [{ ports: [{ port: 9443, protocol: 'TCP' }] }], 'the API server is not a pod: any source, serving port only');
  const extenderFrom = pol('extender')['ingress'][0]['from'].map((p: Doc) => p['podSelector']['matchLabels']['app.kubernetes.io/component']);
  assert.deepEqual(extenderFrom, ['module-scheduler', 'extender', 'test'], 'the scheduler, the other extender replicas (assumed placements), the chart test');
  assert.deepEqual(pol('module-scheduler')['ingress'], []);
  const narrowed = await template(['--set', 'networkPolicy.enabled=true', '--set', 'networkPolicy.brokerFrom[0].ipBlock.cidr=192.0.2.0/24', '--set', 'networkPolicy.apiServerFrom[0].ipBlock.cidr=192.0.2.10/32']);
  const brokerFrom = named(narrowed, 'NetworkPolicy', 'mc-broker')!['spec']['ingress'][0]['from'];
  assert.deepEqual(brokerFrom[0], { ipBlock: { cidr: '192.0.2.0/24' } });
  assert.equal(brokerFrom[1]['podSelector']['matchLabels']['app.kubernetes.io/component'], 'bridge', 'the bridge always reaches the broker');
  assert.deepEqual(named(narrowed, 'NetworkPolicy', 'mc-webhook')!['spec']['ingress'][0]['from'][0], { ipBlock: { cidr: '192.0.2.10/32' } });
});

/** Metric names the components define, read from their sources. */
function definedMetrics(): Set<string> {
  const files = ['bridge/metrics.ts', 'webhook/metrics.ts', 'extender/metrics.ts', 'bridge/services/service-metrics.ts', 'broker/metrics.ts', 'moduledeployment/metrics.ts'];
  return new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/['"](module_[a-z_]+)['"]/g)].map((m) => m[1]!)));
}
/** Metric names used in PromQL text; a `module_(controller_)?x` regex counts as both spellings. */
function usedMetrics(promql: string): string[] {
  const plain = [...promql.matchAll(/\b(module_controller_[a-z_]+|module_extender_[a-z_]+)\b/g)].map((m) => m[1]!);
  const regex = [...promql.matchAll(/module_\(controller_\)\?([a-z_]+)/g)].flatMap((m) => [`module_controller_${m[1]}`, `module_${m[1]}`]);
  return [...plain, ...regex].map((n) => n.replace(/_(bucket|sum|count)$/, ''));
}

test('monitoring: a ServiceMonitor per component on a real metrics port, alerts and dashboard on metrics that exist', async () => {
  const off = await template();
  assert.deepEqual(['ServiceMonitor', 'PrometheusRule'].flatMap((k) => byKind(off, k)), []);
  assert.equal(named(off, 'ConfigMap', 'mc-dashboard'), undefined);
  const docs = await template(['--set', 'serviceMonitor.enabled=true', '--set', 'prometheusRule.enabled=true', '--set', 'grafanaDashboard.enabled=true']);
  const monitors = byKind(docs, 'ServiceMonitor');
  assert.deepEqual(monitors.map((m) => m['metadata']['name']).sort(), ['mc-bridge', 'mc-broker', 'mc-extender', 'mc-module-deployment', 'mc-webhook']);
  // The ModuleDeployment controller's endpoint only (its metric names are the controller's business).
  assert.equal(named(docs, 'ServiceMonitor', 'mc-module-deployment')!['spec']['endpoints'][0]['port'], 'http');
  assert.ok(!byKind(await template(['--set', 'serviceMonitor.enabled=true', '--set', 'moduleDeployment.enabled=false']), 'ServiceMonitor').some((m) => m['metadata']['name'] === 'mc-module-deployment'));
  for (const m of monitors) {
    const wanted: Record<string, string> = m['spec']['selector']['matchLabels'];
    const services = byKind(docs, 'Service').filter((s) => Object.entries(wanted).every(([k, v]) => s['metadata']['labels']?.[k] === v));
    assert.equal(services.length, 1, `${m['metadata']['name']} selects one Service`);
    const port = m['spec']['endpoints'][0]['port'];
    assert.ok(services[0]!['spec']['ports'].some((p: Doc) => p['name'] === port), `${m['metadata']['name']}: port ${port}`);
  }
  const defined = definedMetrics();
  assert.ok(defined.has('module_controller_bridge_bases'), 'metric sources read');
  const rule = byKind(docs, 'PrometheusRule')[0]!;
  const alerts: Doc[] = rule['spec']['groups'].flatMap((g: Doc) => g['rules']);
  assert.deepEqual(alerts.map((a) => a['alert']).sort(), ['ModuleControllerBasesNotReady', 'ModuleControllerBrokerCertExpiring', 'ModuleControllerExtenderCertExpiring', 'ModuleControllerExtenderSlow', 'ModuleControllerInstallFailures', 'ModuleControllerNoBridgeLeader', 'ModuleControllerWebhookCertExpiring', 'ModuleControllerWebhookErrors', 'ModuleControllerWebhookSlow']);
  for (const a of alerts) {
    const used = usedMetrics(a['expr']);
    assert.ok(used.length > 0 && used.some((n) => defined.has(n)), `${a['alert']}: ${a['expr']}`);
    for (const n of usedMetrics(a['expr']).filter((x) => !x.includes('extender'))) assert.ok(defined.has(n), `${a['alert']} uses ${n}, which no component exports`);
    assert.ok(a['annotations']['description'].length > 20, `${a['alert']} says what to check`);
  }
  const cm = named(docs, 'ConfigMap', 'mc-dashboard')!;
  assert.equal(cm['metadata']['labels']['grafana_dashboard'], '1');
  const dashboard = JSON.parse(cm['data']['module-controller.json']);
  const titles: string[] = dashboard['panels'].map((p: Doc) => p['title']);
  for (const t of [/^Bases/, /Module pods by phase/, /Install latency/, /Webhook latency/, /Extender latency/]) assert.ok(titles.some((x) => t.test(x)), String(t));
  for (const p of dashboard['panels']) {
    for (const target of p['targets']) {
      const used = usedMetrics(target['expr']);
      if (used.length === 0) continue; // kube-state-metrics panels
      assert.ok(used.some((n) => defined.has(n)), `${p['title']}: ${target['expr']}`);
    }
  }
});

test('helm test: a hook pod that checks every component\'s /healthz through Services the chart renders', async () => {
  const docs = await template();
  const pod = byKind(docs, 'Pod')[0]!;
  assert.equal(pod['metadata']['annotations']['helm.sh/hook'], 'test');
  const urls: string[] = pod['spec']['containers'][0].env.find((e: Doc) => e['name'] === 'URLS').value.split(' ');
  assert.equal(urls.length, 5);
  assert.ok(urls.includes('http://mc-module-deployment-metrics.koupleless.svc:8084/healthz'), 'the ModuleDeployment controller');
  for (const u of urls) {
    const url = new URL(u);
    assert.equal(url.pathname, '/healthz');
    const [svcName, svcNs] = url.hostname.split('.');
    assert.equal(svcNs, 'koupleless');
    const svc = named(docs, 'Service', svcName!);
    assert.ok(svc, `${u}: Service ${svcName} exists`);
    assert.ok(svc['spec']['ports'].some((p: Doc) => String(p['port']) === url.port || (url.port === '' && p['port'] === 443)), `${u}: port`);
  }
  const withoutMd = byKind(await template(['--set', 'moduleDeployment.enabled=false']), 'Pod')[0]!;
  assert.doesNotMatch(withoutMd['spec']['containers'][0].env.find((e: Doc) => e['name'] === 'URLS').value, /module-deployment/);
  assert.deepEqual(byKind(await template(['--set', 'tests.enabled=false']), 'Pod'), []);
});

test('the chart README documents every value (the MQTT and broker settings are the README\'s credentials section)', async () => {
  const { parse } = await import('yaml');
  const values = parse(readFileSync(`${CHART}/values.yaml`, 'utf8')) as Record<string, unknown>;
  const readme = readFileSync(`${CHART}/README.md`, 'utf8');
  const COMMON = ['resources', 'nodeSelector', 'tolerations', 'affinity', 'topologySpreadConstraints', 'priorityClassName', 'podAnnotations', 'podLabels', 'extraArgs', 'extraEnv'];
  const PASS_THROUGH = new Set(['podSecurityContext', 'securityContext', 'image', 'issuerRef', 'labels', 'annotations']);
  const missing: string[] = [];
  const walk = (prefix: string, v: unknown, depth: number) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && depth > 0 && !PASS_THROUGH.has(prefix.split('.').at(-1)!) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, child, depth - 1);
      return;
    }
    const [top, key] = prefix.split('.');
    if (top === 'mqtt' || (top === 'broker' && !COMMON.includes(key!))) return;
    if (key && COMMON.includes(key) && ['webhook', 'extender', 'moduleScheduler', 'bridge', 'broker', 'moduleDeployment'].includes(top!)) {
      if (!readme.includes(`\`<component>.${key}\``)) missing.push(prefix);
      return;
    }
    if (!readme.includes(`\`${prefix}`)) missing.push(prefix);
  };
  walk('', values, 3);
  assert.deepEqual(missing, []);
});

// ---- flags added by the jar URL policy, tenancy, extender TLS and bridge liveness work ----

const args = (docs: Doc[], name: string): string[] => named(docs, 'Deployment', name)!['spec']['template']['spec']['containers'][0].args;
const schedulerConfig = async (docs: Doc[]): Promise<Doc> => (await import('yaml')).parse(named(docs, 'ConfigMap', 'mc-scheduler')!['data']['config.yaml']);
const NEW_FLAGS = ['--allowed-jar-url-schemes', '--allowed-jar-url-prefixes', '--base-tenants', '--max-assumed-placements', '--tls-cert-file', '--tls-key-file', '--tls-client-ca-file', '--max-clock-skew', '--reconnect-grace', '--leader-lease-duration', '--leader-renew-deadline', '--leader-retry-period', '--kube-api-qps', '--kube-api-burst'];

test('the new values default to their flags\' own defaults, and a default install passes none of the flags', async () => {
  const { parse } = await import('yaml');
  const values = parse(readFileSync(`${CHART}/values.yaml`, 'utf8')) as Doc;
  const w = webhookCommand.flags as Record<string, { default?: unknown }>;
  const e = extenderCommand.flags as Record<string, { default?: unknown }>;
  const b = bridgeCommand.flags as Record<string, { default?: unknown }>;
  assert.deepEqual(values['webhook']['allowedJarUrlSchemes'], w['allowedJarUrlSchemes']!.default);
  assert.deepEqual(values['webhook']['allowedJarUrlPrefixes'], w['allowedJarUrlPrefixes']!.default);
  assert.deepEqual(w['baseTenants']!.default, []);
  assert.deepEqual(e['baseTenants']!.default, []);
  assert.deepEqual(values['baseTenants'], {});
  assert.equal(values['extender']['maxAssumedPlacements'], e['maxAssumedPlacements']!.default);
  for (const k of ['maxClockSkew', 'reconnectGrace', 'leaderLeaseDuration', 'kubeApiQps', 'kubeApiBurst']) assert.equal(values['bridge'][k], b[k]!.default, `bridge.${k}`);
  for (const k of ['leaderRenewDeadline', 'leaderRetryPeriod']) {
    assert.equal(b[k]!.default, undefined, `--${k} has no default (derived from the lease duration)`);
    assert.equal(values['bridge'][k], '', `bridge.${k}`);
  }
  const docs = await template();
  for (const d of byKind(docs, 'Deployment')) {
    for (const c of d['spec']['template']['spec']['containers']) {
      for (const a of (c.args ?? []) as string[]) assert.ok(!NEW_FLAGS.some((f) => a.startsWith(`${f}=`)), `${d['metadata']['name']}: ${a} in a default install`);
    }
  }
});

test('each new value reaches its flag', async () => {
  const docs = await template(ALL_NEW_VALUES);
  const webhook = args(docs, 'mc-webhook');
  const tenants = '--base-tenants=base-a=team-a|team-b,base-b=team-c';
  for (const a of ['--allowed-jar-url-schemes=https,file', '--allowed-jar-url-prefixes=https://repo.example.com/modules/,file:///opt/jars/', tenants]) assert.ok(webhook.includes(a), `webhook: ${a}`);
  const extender = args(docs, 'mc-extender');
  for (const a of ['--max-assumed-placements=500', tenants, '--tls-cert-file=/etc/extender-tls/tls.crt', '--tls-key-file=/etc/extender-tls/tls.key', '--tls-client-ca-file=/etc/extender-tls/ca.crt']) assert.ok(extender.includes(a), `extender: ${a}`);
  const bridge = args(docs, 'mc-bridge');
  for (const a of ['--max-clock-skew=0s', '--reconnect-grace=45s', '--leader-lease-duration=15s', '--leader-renew-deadline=7s', '--leader-retry-period=2s', '--kube-api-qps=0', '--kube-api-burst=800']) assert.ok(bridge.includes(a), `bridge: ${a}`);
  // The components accept what the chart wrote: their own flag parsers and start-up checks.
  const parse = (cmd: AnyCommand, argv: string[]) => {
    const r = parseFlags({ ...COMMON_FLAGS, ...cmd.flags } as Record<string, FlagSpec>, argv.slice(1), {});
    assert.equal(r.kind, 'ok', `${argv[0]}: ${JSON.stringify(r)}`);
    return (r as { values: Doc }).values;
  };
  const wv = parse(webhookCommand, webhook);
  assert.deepEqual([wv['allowedJarUrlSchemes'], wv['allowedJarUrlPrefixes']], [['https', 'file'], ['https://repo.example.com/modules/', 'file:///opt/jars/']]);
  const policy = parseAdmissionPolicy(wv as WebhookConfig);
  assert.equal(policy.kind, 'ok', JSON.stringify(policy));
  const ev = parse(extenderCommand, extender);
  assert.equal(ev['maxAssumedPlacements'], 500);
  assert.deepEqual(checkExtenderConfig(ev as ExtenderConfig), []);
  const bv = parse(bridgeCommand, bridge);
  assert.deepEqual([bv['maxClockSkew'], bv['reconnectGrace'], bv['kubeApiQps'], bv['kubeApiBurst']], [0, 45_000, 0, 800]);
  assert.deepEqual(toLeaseTimings({ leaseDurationMs: bv['leaderLeaseDuration'], renewDeadlineMs: bv['leaderRenewDeadline'], retryPeriodMs: bv['leaderRetryPeriod'] }), { leaseDurationMs: 15_000, renewDeadlineMs: 7_000, retryPeriodMs: 2_000 });
  // The webhook and the extender get the same reservation, always.
  assert.deepEqual(webhook.filter((a) => a.startsWith('--base-tenants=')), extender.filter((a) => a.startsWith('--base-tenants=')));
  // The values the components parse are the ones the chart wrote (the real flag parsers).
  const { parseBaseTenants } = await import('../../core/base-tenancy.ts');
  const parsed = parseBaseTenants(tenants.slice('--base-tenants='.length).split(','));
  assert.equal(parsed.kind, 'ok');
  assert.deepEqual(parsed.kind === 'ok' ? Object.fromEntries(parsed.tenancy) : {}, { 'base-a': ['team-a', 'team-b'], 'base-b': ['team-c'] });
  // A value equal to the default, or removed (null), passes nothing: the component's own default holds.
  for (const v of ['webhook.allowedJarUrlSchemes={https,http}', 'webhook.allowedJarUrlSchemes=null']) assert.ok(!args(await template(['--set', v]), 'mc-webhook').some((a) => a.startsWith('--allowed-jar-url-schemes')), v);
  for (const v of ['bridge.kubeApiQps=200', 'bridge.kubeApiQps=null', 'bridge.maxClockSkew=null']) assert.ok(!args(await template(['--set', v]), 'mc-bridge').some((a) => /^--(kube-api-qps|max-clock-skew)=/.test(a)), v);
  assert.ok(!args(await template(['--set', 'extender.maxAssumedPlacements=null']), 'mc-extender').some((a) => a.startsWith('--max-assumed-placements')));
});

test('the values schema rejects bad new values, naming them', async () => {
  const cases: Array<[string, RegExp]> = [
    ['webhook.allowedJarUrlSchemes={ftp}', /allowedJarUrlSchemes/],
    ['webhook.allowedJarUrlSchemes={}', /allowedJarUrlSchemes/],
    ['webhook.allowedJarUrlPrefixes={repo.example.com}', /allowedJarUrlPrefixes/],
    ['baseTenants.base-a={Team_A}', /baseTenants/],
    ['baseTenants.base-a=team-a', /baseTenants/],
    ['extender.maxAssumedPlacements=0', /maxAssumedPlacements/],
    ['extender.tls.certificates=vault', /certificates/],
    ['extender.tls.enable=true', /additional properties 'enable' not allowed/],
    ['extender.tls.helm.caValidity=1', /additional properties 'caValidity' not allowed/],
    ['bridge.maxClockSkew=1', /maxClockSkew/],
    ['bridge.reconnectGrace=soon', /reconnectGrace/],
    ['bridge.leaderRenewDeadline=7', /leaderRenewDeadline/],
    ['bridge.leaderRetryPeriod=2x', /leaderRetryPeriod/],
    ['bridge.kubeApiQps=-1', /kubeApiQps/],
    ['bridge.kubeApiBurst=0', /kubeApiBurst/],
  ];
  for (const [set, message] of cases) {
    const r = await runHelm(['template', 'mc', CHART, '--kube-version', '1.34.4', '--set', set]);
    assert.notEqual(r.code, 0, `--set ${set} must fail`);
    assert.match(r.stderr, message, set);
  }
});

/** The rendered Secret's data, decoded. */
const secretData = (docs: Doc[], name: string): Record<string, string> => Object.fromEntries(Object.entries(named(docs, 'Secret', name)!['data'] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

test('extender TLS: https urlPrefix and a tlsConfig equal to toSchedulerConfig\'s, the CA and client certificate mounted, HTTPS probes, Service and scrapes', async () => {
  const plain = await template();
  const docs = await template(['--set', 'extender.tls.enabled=true', '--set', 'serviceMonitor.enabled=true']);
  const cfg = await schedulerConfig(docs);
  assert.deepEqual(cfg, toSchedulerConfig({ extenderUrl: 'https://mc-extender.koupleless.svc:8080', kubeconfig: '', leaseNamespace: 'koupleless', tls: { caFile: '/etc/module-scheduler-tls/ca/ca.crt' } }));
  assert.deepEqual(await schedulerConfig(plain), toSchedulerConfig({ extenderUrl: 'http://mc-extender.koupleless.svc:8080', kubeconfig: '', leaseNamespace: 'koupleless' }));
  const sched = named(docs, 'Deployment', 'mc-scheduler')!['spec']['template'];
  const mounts = Object.fromEntries(sched['spec']['containers'][0].volumeMounts.map((m: Doc) => [m['name'], m['mountPath']]));
  assert.deepEqual(mounts, { config: '/etc/module-scheduler', 'extender-ca': '/etc/module-scheduler-tls/ca' });
  const volumes = Object.fromEntries(sched['spec']['volumes'].map((v: Doc) => [v['name'], v]));
  assert.deepEqual(volumes['extender-ca']['secret'], { secretName: 'mc-extender-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }] }, 'the scheduler gets only the CA, never the extender\'s key');
  assert.notEqual(sched['metadata']['annotations']['checksum/config'], named(plain, 'Deployment', 'mc-scheduler')!['spec']['template']['metadata']['annotations']['checksum/config'], 'turning TLS on rolls module-scheduler');
  const ext = named(docs, 'Deployment', 'mc-extender')!['spec']['template']['spec'];
  const c = ext['containers'][0];
  assert.ok(!c.args.some((a: string) => a.startsWith('--tls-client-ca-file')), 'no client CA without clientAuth');
  assert.deepEqual(c.ports, [{ name: 'https', containerPort: 8080 }]);
  assert.equal(c.readinessProbe.httpGet.scheme, 'HTTPS');
  assert.equal(c.livenessProbe.httpGet.port, 'https');
  assert.deepEqual(c.volumeMounts, [{ name: 'tls', mountPath: '/etc/extender-tls', readOnly: true }]);
  assert.deepEqual(ext['volumes'], [{ name: 'tls', secret: { secretName: 'mc-extender-tls' } }]);
  assert.deepEqual(named(docs, 'Service', 'mc-extender')!['spec']['ports'], [{ name: 'https', port: 8080, targetPort: 'https' }]);
  const monitor = named(docs, 'ServiceMonitor', 'mc-extender')!['spec']['endpoints'][0];
  assert.deepEqual([monitor['port'], monitor['scheme']], ['https', 'https']);
  const urls: string = byKind(docs, 'Pod')[0]!['spec']['containers'][0].env.find((e: Doc) => e['name'] === 'URLS').value;
  assert.ok(urls.split(' ').includes('https://mc-extender.koupleless.svc:8080/healthz'), urls);
  assert.deepEqual(byKind(docs, 'Secret').map((s) => s['metadata']['name']).filter((n: string) => n.includes('extender')).sort(), ['mc-extender-ca', 'mc-extender-tls']);
  // Off (the default): plain HTTP, no extender Secrets, no mounts.
  assert.equal(named(plain, 'Deployment', 'mc-extender')!['spec']['template']['spec']['volumes'], undefined);
  assert.ok(!byKind(plain, 'Secret').some((s) => s['metadata']['name'].includes('extender')));
});

test('extender TLS with client auth: the scheduler presents its own certificate (tlsConfig certFile/keyFile) and the extender checks it', async () => {
  const docs = await template(['--set', 'extender.tls.enabled=true', '--set', 'extender.tls.clientAuth=true']);
  const cfg = await schedulerConfig(docs);
  assert.deepEqual(cfg, toSchedulerConfig({
    extenderUrl: 'https://mc-extender.koupleless.svc:8080', kubeconfig: '', leaseNamespace: 'koupleless',
    tls: { caFile: '/etc/module-scheduler-tls/ca/ca.crt', certFile: '/etc/module-scheduler-tls/client/tls.crt', keyFile: '/etc/module-scheduler-tls/client/tls.key' },
  }));
  const sched = named(docs, 'Deployment', 'mc-scheduler')!['spec']['template']['spec'];
  assert.ok(sched['containers'][0].volumeMounts.some((m: Doc) => m['name'] === 'extender-client' && m['mountPath'] === '/etc/module-scheduler-tls/client'));
  assert.equal(sched['volumes'].find((v: Doc) => v['name'] === 'extender-client')['secret']['secretName'], 'mc-scheduler-extender-client');
  assert.ok(args(docs, 'mc-extender').includes('--tls-client-ca-file=/etc/extender-tls/ca.crt'));
});

test('extender TLS: the Helm-made certificates work with the real extender (serving name of the urlPrefix, client auth on /filter)', async () => {
  const docs = await template(['--set', 'extender.tls.enabled=true', '--set', 'extender.tls.clientAuth=true']);
  const serving = secretData(docs, 'mc-extender-tls');
  const client = secretData(docs, 'mc-scheduler-extender-client');
  const ca = secretData(docs, 'mc-extender-ca');
  assert.equal(serving['ca.crt'], ca['ca.crt']);
  const { X509Certificate } = await import('node:crypto');
  const cert = new X509Certificate(serving['tls.crt']!);
  const host = new URL((await schedulerConfig(docs))['extenders'][0]['urlPrefix']).hostname;
  assert.equal(cert.checkHost(host), host, 'the serving certificate names the urlPrefix host');
  assert.ok(cert.verify(new X509Certificate(ca['ca.crt']!).publicKey));
  const https = await import('node:https');
  const k8s = await import('@kubernetes/client-node');
  const { startExtenderServer } = await import('../../extender/server.ts');
  const { createSilentLogger } = await import('../../core/logger.ts');
  const { createRegistry } = await import('../../core/ops-routes.ts');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'u', token: 'x' }], contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }], currentContext: 'ctx' });
  // As `module-controller extender` reads its mounted files: cert, key, and ca.crt as the client CA.
  const server = await startExtenderServer({ kc, logger: createSilentLogger(), registry: createRegistry(false), port: 0, host: '127.0.0.1', maxModulesPerBase: 100, placementTtlMs: 30_000, maxBodyBytes: 1 << 20, tls: { cert: serving['tls.crt']!, key: serving['tls.key']!, ca: serving['ca.crt']! }, requireClientCert: true });
  const post = (withCert: boolean) => new Promise<number>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/filter', servername: host, ca: client['ca.crt'], agent: false, headers: { 'content-type': 'application/json' }, ...(withCert ? { cert: client['tls.crt'], key: client['tls.key'] } : {}) }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(JSON.stringify({ Pod: { metadata: { name: 'p', namespace: 'default' } }, NodeNames: ['a'] }));
  });
  try {
    assert.equal(await post(true), 200, 'module-scheduler\'s certificate is accepted (the server is verified against the same CA the scheduler mounts)');
    assert.equal(await post(false), 401, 'without it, /filter is refused');
  } finally {
    await server.close();
  }
});

test('extender TLS from your own Secrets (certificates=secret): required names, no Helm-made Secrets', async () => {
  const missing = await runHelm(['template', 'mc', CHART, '--kube-version', '1.34.4', '--set', 'extender.tls.enabled=true', '--set', 'extender.tls.certificates=secret']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /extender\.tls\.existingSecret \(tls\.crt, tls\.key, ca\.crt\) is required/);
  const noClient = await runHelm(['template', 'mc', CHART, '--kube-version', '1.34.4', '--set', 'extender.tls.enabled=true', '--set', 'extender.tls.certificates=secret', '--set', 'extender.tls.existingSecret=ext-tls', '--set', 'extender.tls.clientAuth=true']);
  assert.notEqual(noClient.code, 0);
  assert.match(noClient.stderr, /extender\.tls\.clientSecret .* is required/);
  const docs = await template(['--set', 'extender.tls.enabled=true', '--set', 'extender.tls.certificates=secret', '--set', 'extender.tls.existingSecret=ext-tls', '--set', 'extender.tls.clientAuth=true', '--set', 'extender.tls.clientSecret=sched-client']);
  assert.ok(!byKind(docs, 'Secret').some((s) => s['metadata']['name'].includes('extender')));
  assert.deepEqual(named(docs, 'Deployment', 'mc-extender')!['spec']['template']['spec']['volumes'], [{ name: 'tls', secret: { secretName: 'ext-tls' } }]);
  const volumes = named(docs, 'Deployment', 'mc-scheduler')!['spec']['template']['spec']['volumes'];
  assert.equal(volumes.find((v: Doc) => v['name'] === 'extender-ca')['secret']['secretName'], 'ext-tls');
  assert.equal(volumes.find((v: Doc) => v['name'] === 'extender-client')['secret']['secretName'], 'sched-client');
});
