// The Helm chart, checked with a real helm: lint, template, every container flag exists in the
// command it runs, and generated parts match their sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { runHelm } from '../support/helm.ts';
import { renderChartWebhooks, CHART_WEBHOOKS_FILE } from '../../scripts/render-chart-webhooks.ts';
import { COMMON_FLAGS, type AnyCommand } from '../../core/command.ts';
import { toFlagName } from '../../core/flags.ts';
import { webhookCommand } from '../../webhook/command.ts';
import { extenderCommand } from '../../extender/command.ts';
import { bridgeCommand } from '../../bridge/command.ts';
import { brokerCommand } from '../../broker/command.ts';
import { EXTENDER_NODE_OPTIONS } from '../../extender/runtime.ts';

const CHART = 'charts/module-controller';
const COMMANDS: Record<string, AnyCommand> = { webhook: webhookCommand, extender: extenderCommand, bridge: bridgeCommand, broker: brokerCommand };

async function template(extra: string[] = []): Promise<Array<Record<string, any>>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await runHelm(['template', 'mc', CHART, '-n', 'koupleless', '--kube-version', '1.34.4', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
}

test('helm lint passes', async () => {
  const r = await runHelm(['lint', CHART, '--kube-version', '1.34.4']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('every flag the chart passes exists in the command it runs', async () => {
  const docs = await template();
  const deployments = docs.filter((d) => d['kind'] === 'Deployment');
  assert.equal(deployments.length, 6); // webhook, extender, module-scheduler, bridge, broker, module-deployment
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
  assert.equal(bare['spec']['template']['spec']['containers'][0].env, undefined);
});
