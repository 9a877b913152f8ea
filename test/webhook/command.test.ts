import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { parseFlags, toHelpText } from '../../core/flags.ts';
import { createSilentLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/ops-routes.ts';
import { toAdmissionPolicy, WEBHOOK_FLAGS, webhookCommand, type WebhookConfig } from '../../webhook/command.ts';

function config(argv: string[]): WebhookConfig {
  const parsed = parseFlags(WEBHOOK_FLAGS, argv, {});
  assert.equal(parsed.kind, 'ok', JSON.stringify(parsed));
  return (parsed as { values: WebhookConfig }).values;
}

function context(env: Record<string, string> = {}) {
  const controller = new AbortController();
  const lines: string[] = [];
  return { controller, lines, ctx: { logger: createSilentLogger(), registry: createRegistry(false), signal: controller.signal, env, out: (l: string) => lines.push(l) } };
}

test('flags: defaults documented in --help; policy from flags', () => {
  const help = toHelpText(webhookCommand.name, webhookCommand.summary, WEBHOOK_FLAGS);
  for (const flag of ['--port', '--tls-cert-file', '--tls-key-file', '--kubeconfig', '--manage-certs', '--ca-secret-name', '--mutating-config-name', '--validating-config-name', '--registration', '--service-name', '--stack', '--base-name', '--base-version', '--scheduler-name', '--cert-validity', '--cert-renew-before']) {
    assert.ok(help.includes(flag), flag);
  }
  const noJarRules = { schemes: ['https', 'http'], prefixes: [] };
  assert.deepEqual(toAdmissionPolicy(config([])), { stack: 'java', baseName: '', baseVersion: '', schedulerName: 'module-scheduler', jarUrls: noJarRules, tenancy: new Map() });
  assert.deepEqual(toAdmissionPolicy(config(['--stack', '', '--base-name', 'b', '--base-version', '1', '--scheduler-name', 's'])), { stack: '', baseName: 'b', baseVersion: '1', schedulerName: 's', jarUrls: noJarRules, tenancy: new Map() });
  const strict = toAdmissionPolicy(config(['--allowed-jar-url-schemes', 'https,file', '--allowed-jar-url-prefixes', 'https://repo.example.com', '--base-tenants', 'base-a=team-a|team-b,base-b=team-c']));
  assert.deepEqual(strict.jarUrls, { schemes: ['https', 'file'], prefixes: ['https://repo.example.com/'] });
  assert.deepEqual(strict.tenancy, new Map([['base-a', ['team-a', 'team-b']], ['base-b', ['team-c']]]));
});

const invalid: Array<[string, string[], RegExp]> = [
  ['cert without key', ['--tls-cert-file', '/x.crt', '--ca-secret-name', ''], /--tls-cert-file and --tls-key-file go together/],
  ['no certificate source', ['--manage-certs=false'], /no certificate/],
  ['renew-before longer than validity', ['--ca-secret-name', '', '--cert-validity', '1h', '--cert-renew-before', '2h'], /--cert-renew-before must be shorter/],
  ['Kubernetes needed but none configured', ['--registration', 'url'], /no --kubeconfig/],
  ['an unknown jar URL scheme', ['--ca-secret-name', '', '--allowed-jar-url-schemes', 'https,ftp'], /"ftp" is not a scheme a base can fetch a jar from; use https, http, file/],
  ['a jar URL prefix of a scheme not allowed', ['--ca-secret-name', '', '--allowed-jar-url-prefixes', 'file:///opt/'], /uses scheme file, which --allowed-jar-url-schemes does not allow/],
  ['a URL where a host belongs', ['--ca-secret-name', '', '--url-host', 'https://127.0.0.1:9443'], /--url-host: "https:\/\/127\.0\.0\.1:9443" is not a host name or IP address; give the host only/],
  ['a malformed --base-tenants entry', ['--ca-secret-name', '', '--base-tenants', 'base-a'], /"base-a" is not <baseName>=<namespace>\|<namespace>/],
];
for (const [name, argv, message] of invalid) {
  test(`run: ${name} → CONFIG_INVALID naming the flag`, async () => {
    const { ctx } = context();
    await assert.rejects(webhookCommand.run(config(argv), ctx), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && message.test(err.message));
  });
}

test('run without Kubernetes (in-memory CA): serves HTTPS until the signal, then stops', async () => {
  const { ctx, controller, lines } = context();
  const done = webhookCommand.run(config(['--port', '0', '--bind-address', '127.0.0.1', '--ca-secret-name', '']), ctx);
  const deadline = Date.now() + 10_000;
  while (lines.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const url = /webhook serving on (https:\/\/\S+)/.exec(lines[0] ?? '')?.[1];
  assert.ok(url, lines.join('\n'));
  const status = await new Promise<number>((resolve, reject) => {
    https.get(`${url}/healthz`, { rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.equal(status, 200);
  controller.abort();
  await done;
});
