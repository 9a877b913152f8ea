// The chart's side of bridge sharding (issue #13): `bridge.shards` reaches `--shards` (and only when
// it is not the flag's default), the schema bounds it like the flag does, the bridge's Role covers
// the shard and member Leases, the confinement policy names them with core/names.ts' functions, and
// the bridge gets a PodDisruptionBudget only above one replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, parse } from 'yaml';
import { runHelm } from '../support/helm.ts';
import { COMMON_FLAGS } from '../../core/command.ts';
import { parseFlags, type FlagSpec } from '../../core/flags.ts';
import { bridgeCommand } from '../../bridge/command.ts';
import { toMemberLeaseName, toShardLeaseName } from '../../core/names.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const CHART = 'charts/module-controller';

async function template(extra: string[] = []): Promise<Doc[]> {
  const r = await runHelm(['template', 'mc', CHART, '-n', 'koupleless', '--kube-version', '1.34.4', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
}
const named = (docs: Doc[], kind: string, name: string) => docs.find((d) => d['kind'] === kind && d['metadata']['name'] === name);
const bridgeArgs = (docs: Doc[]): string[] => named(docs, 'Deployment', 'mc-bridge')!['spec']['template']['spec']['containers'][0].args;
const flags = bridgeCommand.flags as Record<string, { default?: unknown; min?: number; max?: number }>;

test('bridge.shards defaults to --shards\' own default and is passed only when changed; the bridge parses what the chart wrote', async () => {
  const values = parse(readFileSync(`${CHART}/values.yaml`, 'utf8')) as Doc;
  assert.ok(flags['shards'], 'the bridge has a --shards flag');
  assert.equal(values['bridge']['shards'], flags['shards']!.default);
  assert.ok(!bridgeArgs(await template()).some((a) => a.startsWith('--shards')), 'a default install passes no --shards');
  const args = bridgeArgs(await template(['--set', 'bridge.shards=64']));
  assert.ok(args.includes('--shards=64'), args.join(' '));
  const r = parseFlags({ ...COMMON_FLAGS, ...bridgeCommand.flags } as Record<string, FlagSpec>, args.slice(1), {});
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  assert.equal((r as { values: Doc }).values['shards'], 64);
});

test('the values schema bounds bridge.shards like the flag (1..1024, whole numbers) and names it when refused', async () => {
  const schema = JSON.parse(readFileSync(`${CHART}/values.schema.json`, 'utf8')) as Doc;
  const s = schema['properties']['bridge']['properties']['shards'];
  assert.deepEqual([s['minimum'], s['maximum']], [flags['shards']!.min ?? 1, flags['shards']!.max ?? 1024]);
  for (const bad of ['0', '1025', '2.5', 'many']) {
    const r = await runHelm(['template', 'mc', CHART, '--kube-version', '1.34.4', '--set', `bridge.shards=${bad}`]);
    assert.notEqual(r.code, 0, `bridge.shards=${bad} accepted`);
    assert.match(r.stderr, /shards/, bad);
  }
});

test('the bridge\'s Role in the release namespace covers its shard and member Leases (list, watch, create, update, delete) and only there', async () => {
  const docs = await template();
  const role = named(docs, 'Role', 'mc-bridge-leader')!;
  assert.equal(role['metadata']['namespace'], 'koupleless');
  const rights = new Set<string>();
  for (const r of role['rules']) for (const v of r['verbs']) rights.add(`${v}${r['resourceNames'] ? ` ${r['resourceNames'].join(',')}` : ''}`);
  for (const v of ['list', 'watch', 'create', 'update', 'delete']) assert.ok(rights.has(v), `${v} leases in the release namespace`);
  assert.ok(rights.has('get mc-bridge'), 'get of the leader Lease');
  const binding = named(docs, 'RoleBinding', 'mc-bridge-leader')!;
  assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'mc-bridge', namespace: 'koupleless' }]);
  // No other Role gives the bridge Lease rights outside kube-node-lease and the release namespace.
  for (const b of docs.filter((d) => d['kind'] === 'RoleBinding' && d['subjects'].some((x: Doc) => x['name'] === 'mc-bridge'))) {
    assert.ok(['koupleless', 'kube-node-lease'].includes(b['metadata']['namespace']), b['metadata']['name']);
  }
});

test('the confinement policy lets the bridge write only its own leader, shard and member Leases in the release namespace, named as core/names.ts names them', async () => {
  const docs = await template();
  const vap = named(docs, 'ValidatingAdmissionPolicy', 'mc-bridge-confinement.module-controller.koupleless.io')!;
  const rule = vap['spec']['validations'].map((v: Doc) => v['expression'] as string).find((e: string) => e.includes("request.namespace != 'koupleless'"));
  assert.ok(rule, 'a Lease rule for the release namespace');
  const shardPrefix = toShardLeaseName('mc-bridge', 7).slice(0, -'7'.length);
  const memberPrefix = toMemberLeaseName('mc-bridge', 'x').slice(0, -'x'.length);
  assert.ok(rule.includes(`startsWith('${shardPrefix}')`), `shard prefix ${shardPrefix} in ${rule}`);
  assert.ok(rule.includes(`startsWith('${memberPrefix}')`), `member prefix ${memberPrefix} in ${rule}`);
  assert.ok(rule.includes("request.name == 'mc-bridge'"), 'the leader Lease');
  // The rule is on Lease writes (create, update, delete) only.
  const leaseRule = vap['spec']['matchConstraints']['resourceRules'].find((r: Doc) => r['resources'].includes('leases'));
  assert.deepEqual(leaseRule['operations'], ['CREATE', 'UPDATE', 'DELETE']);
});

test('a PodDisruptionBudget for the bridge only above one replica (at one, minAvailable 1 would block drains)', async () => {
  assert.ok(named(await template(), 'PodDisruptionBudget', 'mc-bridge'), 'default (2 replicas)');
  assert.ok(named(await template(['--set', 'bridge.replicas=3']), 'PodDisruptionBudget', 'mc-bridge'));
  assert.equal(named(await template(['--set', 'bridge.replicas=1']), 'PodDisruptionBudget', 'mc-bridge'), undefined);
});
