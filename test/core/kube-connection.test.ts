// Reading a kubeconfig or the in-cluster service account without the client library: what is read,
// what is refused and how the message says to fix it, and token files re-read as they rotate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ControllerError } from '../../core/errors.ts';
import { inClusterConnection, loadKubeConnection, SERVICE_ACCOUNT_DIR, TOKEN_REREAD_MS, toKubeConnection } from '../../core/kube-connection.ts';

const kubeconfig = (cluster: string, user: string, extra = '') => `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: { cluster: k, user: u }
clusters:
- name: k
  cluster:
${cluster}
users:
- name: u
  user:
${user}
${extra}`;

const files = (map: Record<string, string>) => (f: string) => {
  const v = map[f];
  if (v === undefined) throw Object.assign(new Error(`ENOENT: no such file ${f}`), { code: 'ENOENT' });
  return Buffer.from(v);
};

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ControllerError, `a ControllerError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.message;
  }
  assert.fail('expected a CONFIG_INVALID error');
}

test('client certificates and CA embedded as data; server without trailing slash', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const c = toKubeConnection(kubeconfig(`    server: https://127.0.0.1:6443/\n    certificate-authority-data: ${b64('CA')}`, `    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}`), '/etc/kc.yaml');
  assert.equal(c.server, 'https://127.0.0.1:6443');
  assert.equal(c.tls?.ca?.toString(), 'CA');
  assert.equal(c.tls?.cert?.toString(), 'CERT');
  assert.equal(c.tls?.key?.toString(), 'KEY');
  assert.equal(c.tls?.rejectUnauthorized, true);
  assert.deepEqual(await c.headers(), {});
  assert.equal(c.source, '/etc/kc.yaml');
});

test('file paths are relative to the kubeconfig folder; insecure-skip-tls-verify and tls-server-name', () => {
  const read = files({ '/cfg/pki/ca.crt': 'CA', '/cfg/pki/admin.crt': 'CERT', '/abs/admin.key': 'KEY' });
  const c = toKubeConnection(kubeconfig('    server: https://h:6443\n    certificate-authority: pki/ca.crt\n    insecure-skip-tls-verify: true\n    tls-server-name: api.internal', '    client-certificate: pki/admin.crt\n    client-key: /abs/admin.key'), '/cfg/kc.yaml', { readFile: read });
  assert.equal(c.tls?.ca?.toString(), 'CA');
  assert.equal(c.tls?.cert?.toString(), 'CERT');
  assert.equal(c.tls?.key?.toString(), 'KEY');
  assert.equal(c.tls?.rejectUnauthorized, false);
  assert.equal(c.tls?.servername, 'api.internal');
});

test('bearer token, basic auth and plain http', async () => {
  const t = toKubeConnection(kubeconfig('    server: http://127.0.0.1:8080', '    token: abc'), 'kc');
  assert.equal(t.tls, undefined);
  assert.deepEqual(await t.headers(), { Authorization: 'Bearer abc' });
  const b = toKubeConnection(kubeconfig('    server: https://h', '    username: me\n    password: pw'), 'kc');
  assert.deepEqual(await b.headers(), { Authorization: `Basic ${Buffer.from('me:pw').toString('base64')}` });
});

test('a tokenFile is re-read once its reuse time is over (rotating tokens)', async () => {
  let clock = 0;
  const store: Record<string, string> = { '/cfg/token': 'one\n' };
  const c = toKubeConnection(kubeconfig('    server: https://h', '    tokenFile: token'), '/cfg/kc.yaml', { readFile: files(store), now: () => clock });
  assert.deepEqual(await c.headers(), { Authorization: 'Bearer one' });
  store['/cfg/token'] = 'two';
  clock = TOKEN_REREAD_MS - 1;
  assert.deepEqual(await c.headers(), { Authorization: 'Bearer one' }, 'still the cached token');
  clock = TOKEN_REREAD_MS;
  assert.deepEqual(await c.headers(), { Authorization: 'Bearer two' });
  delete store['/cfg/token'];
  clock = 3 * TOKEN_REREAD_MS;
  assert.deepEqual(await c.headers(), { Authorization: 'Bearer two' }, 'a failed re-read keeps the last token');
});

test('exec plugins and auth providers are delegated (the client library is loaded only for them)', async () => {
  const asked: string[] = [];
  const c = toKubeConnection(kubeconfig('    server: https://h', '    exec:\n      command: get-token\n      apiVersion: client.authentication.k8s.io/v1'), '/cfg/kc.yaml', {
    delegatedHeaders: async (f) => {
      asked.push(f);
      return { Authorization: 'Bearer from-exec' };
    },
  });
  assert.deepEqual(await c.headers(), { Authorization: 'Bearer from-exec' });
  assert.deepEqual(asked, ['/cfg/kc.yaml']);
});

test('bad kubeconfigs are refused with what is wrong and how to fix it', () => {
  assert.match(configError(() => toKubeConnection('{ not yaml', 'kc')), /not valid YAML.*kubectl config view/);
  assert.match(configError(() => toKubeConnection('- a\n- b', 'kc')), /not a kubeconfig/);
  assert.match(configError(() => toKubeConnection(kubeconfig('    server: https://h', '    token: t').replace('current-context: c', ''), 'kc')), /no current-context.*use-context/);
  assert.match(configError(() => toKubeConnection(kubeconfig('    server: https://h', '    token: t').replace('current-context: c', 'current-context: other'), 'kc')), /"other" is not among its contexts/);
  assert.match(configError(() => toKubeConnection(kubeconfig('    insecure-skip-tls-verify: true', '    token: t'), 'kc')), /has no server.*https:\/\/<host>:<port>/);
  assert.match(configError(() => toKubeConnection(kubeconfig('    server: ftp://h', '    token: t'), 'kc')), /neither https: nor http:/);
  assert.match(configError(() => toKubeConnection(kubeconfig('    server: "::bad"', '    token: t'), 'kc')), /is not a URL/);
  assert.match(configError(() => toKubeConnection(kubeconfig('    server: https://h\n    proxy-url: http://p:3128', '    token: t'), 'kc')), /proxy-url.*not support/);
  assert.match(configError(() => toKubeConnection(kubeconfig('    server: https://h', '    client-certificate-data: Q0VSVA=='), 'kc')), /without its key/);
  assert.match(configError(() => toKubeConnection(kubeconfig('    server: https://h\n    certificate-authority: missing.crt', '    token: t'), '/cfg/kc.yaml', { readFile: files({}) })), new RegExp(`cannot read certificate-authority ${path.resolve('/cfg/missing.crt').replaceAll('/', '\\/')}`));
  assert.match(configError(() => toKubeConnection(kubeconfig('    server: https://h', '    token: t').replace('user: u }', 'user: nobody }'), 'kc')), /names user "nobody"/);
  assert.match(configError(() => loadKubeConnection('/nope/kc.yaml', { readFile: files({}) })), /\/nope\/kc.yaml: cannot be read.*--kubeconfig/);
});

test('in-cluster: the service host and port, its CA and its token', async () => {
  let clock = 0;
  const store: Record<string, string> = { [`${SERVICE_ACCOUNT_DIR}/ca.crt`]: 'CA', [`${SERVICE_ACCOUNT_DIR}/token`]: 'sa-1' };
  const c = inClusterConnection({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, readFile: files(store), now: () => clock });
  assert.equal(c.server, 'https://[fd00::1]:443');
  assert.equal(c.tls?.ca?.toString(), 'CA');
  assert.deepEqual(await c.headers(), { Authorization: 'Bearer sa-1' });
  store[`${SERVICE_ACCOUNT_DIR}/token`] = 'sa-2';
  clock = TOKEN_REREAD_MS;
  assert.deepEqual(await c.headers(), { Authorization: 'Bearer sa-2' });
  assert.equal(loadKubeConnection(undefined, { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '6443' }, readFile: files(store) }).server, 'https://10.0.0.1:6443');
  assert.match(configError(() => inClusterConnection({ env: {}, readFile: files(store) })), /KUBERNETES_SERVICE_HOST.*--kubeconfig/);
  assert.match(configError(() => inClusterConnection({ env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' }, readFile: files({}) })), /ca\.crt.*automountServiceAccountToken/);
});
