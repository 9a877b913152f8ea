/**
 * Where the Kubernetes API server is and how to authenticate to it, read from a kubeconfig file or
 * from the in-cluster service account, without @kubernetes/client-node (whose loading alone costs the
 * bridge ~60 MiB of RSS: it imports every generated model). core/kube-http.ts sends over it.
 *
 * Covered here, as kubectl reads them: the current context's cluster (`server`,
 * `certificate-authority(-data)`, `insecure-skip-tls-verify`, `tls-server-name`) and user
 * (`client-certificate(-data)`, `client-key(-data)`, `token`, `tokenFile`, `username`/`password`),
 * paths relative to the kubeconfig's folder. The in-cluster service account token is re-read once
 * a minute (bound tokens rotate; client-go re-reads it too). A user with an `exec` plugin or an
 * `auth-provider` is handed to @kubernetes/client-node's KubeConfig, loaded only then.
 * Not supported: `proxy-url` (a clear CONFIG_INVALID error says so).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ControllerError } from './errors.ts';

export interface KubeTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
}

export interface KubeConnection {
  /** The API server's base URL without a trailing slash, e.g. https://127.0.0.1:6443. */
  readonly server: string;
  /** TLS options for node:https; undefined for an http: server. */
  readonly tls: KubeTls | undefined;
  /** Headers for the next request (Authorization); token files are re-read as they rotate. */
  headers(): Promise<Record<string, string>>;
  /** The kubeconfig file, or "(in-cluster)": for messages. */
  readonly source: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long a token read from a file is used before the file is read again. */
export const TOKEN_REREAD_MS = 60_000;

export interface KubeConnectionDeps {
  readonly readFile?: (file: string) => Buffer;
  /** The process environment, as the command got it (in-cluster needs KUBERNETES_SERVICE_HOST/PORT). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
  /** Headers from @kubernetes/client-node for exec plugins and auth providers (loaded lazily by default). */
  readonly delegatedHeaders?: (file: string) => Promise<Record<string, string>>;
}

type Yaml = Record<string, unknown>;

const fail = (source: string, what: string, fix: string, cause?: unknown): never => {
  throw new ControllerError('CONFIG_INVALID', `kubeconfig ${source}: ${what}; ${fix}`, cause === undefined ? undefined : { cause });
};

function asRecord(v: unknown): Yaml | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Yaml) : undefined;
}

function str(o: Yaml | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The entry of a named list (`clusters`, `users`, `contexts`) with this name: its inner object. */
function named(doc: Yaml, list: string, inner: string, name: string): Yaml | undefined {
  const items = doc[list];
  if (!Array.isArray(items)) return undefined;
  for (const item of items) {
    const r = asRecord(item);
    if (r && r['name'] === name) return asRecord(r[inner]) ?? {};
  }
  return undefined;
}

/** A token read from a file, re-read at most once per TOKEN_REREAD_MS (and at once after a failed read). */
function tokenFromFile(file: string, readFile: (f: string) => Buffer, now: () => number): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (now() - readAt >= TOKEN_REREAD_MS || token === '') {
      try {
        token = readFile(file).toString('utf8').trim();
        readAt = now();
      } catch (err) {
        // A rotation in progress: keep the last token, try again on the next request.
        if (token === '') throw new ControllerError('CONFIG_INVALID', `cannot read the API token file ${file}: ${(err as Error).message}`, { cause: err });
      }
    }
    return token;
  };
}

/** Parses a kubeconfig's text (pure but for reading the files it names). */
export function toKubeConnection(text: string, file: string, deps: KubeConnectionDeps = {}): KubeConnection {
  const readFile = deps.readFile ?? ((f: string) => fs.readFileSync(f));
  const now = deps.now ?? Date.now;
  let doc: Yaml | undefined;
  try {
    doc = asRecord(parseYaml(text));
  } catch (err) {
    fail(file, `not valid YAML (${(err as Error).message.split('\n')[0]})`, 'pass a kubeconfig file (kubectl config view --raw shows one)', err);
  }
  if (!doc) return fail(file, 'not a kubeconfig (a YAML mapping with clusters, users and contexts)', 'pass a kubeconfig file (kubectl config view --raw shows one)');
  const contextName = str(doc, 'current-context');
  if (!contextName) return fail(file, 'has no current-context', 'set one with kubectl config use-context <name>');
  const context = named(doc, 'contexts', 'context', contextName);
  if (!context) return fail(file, `current-context "${contextName}" is not among its contexts`, 'set an existing one with kubectl config use-context <name>');
  const clusterName = str(context, 'cluster');
  const cluster = clusterName ? named(doc, 'clusters', 'cluster', clusterName) : undefined;
  if (!cluster) return fail(file, `context "${contextName}" names no cluster of the file (${clusterName ?? 'none'})`, 'add the cluster or fix the context');
  const userName = str(context, 'user');
  const user = userName ? (named(doc, 'users', 'user', userName) ?? fail(file, `context "${contextName}" names user "${userName}", which the file does not have`, 'add the user or fix the context')) : {};

  const server = str(cluster, 'server')?.replace(/\/+$/, '');
  if (!server) return fail(file, `cluster "${clusterName}" has no server`, 'set clusters[].cluster.server to https://<host>:<port>');
  let url: URL;
  try {
    url = new URL(server);
  } catch (err) {
    return fail(file, `cluster "${clusterName}" server "${server}" is not a URL`, 'set it to https://<host>:<port>', err);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(file, `cluster "${clusterName}" server "${server}" is neither https: nor http:`, 'set it to https://<host>:<port>');
  if (str(cluster, 'proxy-url')) fail(file, `cluster "${clusterName}" has a proxy-url, which this component does not support`, 'reach the API server directly');

  const dir = path.dirname(path.resolve(file));
  const bytes = (obj: Yaml, dataKey: string, fileKey: string): Buffer | undefined => {
    const data = str(obj, dataKey);
    if (data) return Buffer.from(data, 'base64');
    const f = str(obj, fileKey);
    if (!f) return undefined;
    const p = path.resolve(dir, f);
    try {
      return readFile(p);
    } catch (err) {
      return fail(file, `cannot read ${fileKey} ${p} (${(err as Error).message})`, 'fix the path or embed it as ' + dataKey, err);
    }
  };

  let tls: KubeTls | undefined;
  if (url.protocol === 'https:') {
    const ca = bytes(cluster, 'certificate-authority-data', 'certificate-authority');
    const cert = bytes(user, 'client-certificate-data', 'client-certificate');
    const key = bytes(user, 'client-key-data', 'client-key');
    if ((cert === undefined) !== (key === undefined)) fail(file, `user "${userName}" has a client certificate without its key or a key without its certificate`, 'give both client-certificate(-data) and client-key(-data)');
    const servername = str(cluster, 'tls-server-name');
    tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true, ...(servername ? { servername } : {}) };
  }

  let headers: () => Promise<Record<string, string>>;
  if (user['exec'] !== undefined || user['auth-provider'] !== undefined) {
    const delegated = deps.delegatedHeaders ?? clientLibraryHeaders;
    headers = () => delegated(file);
  } else {
    const token = str(user, 'token');
    const tokenFile = str(user, 'tokenFile');
    const username = str(user, 'username');
    const password = str(user, 'password');
    if (token) {
      const h = { Authorization: `Bearer ${token}` };
      headers = () => Promise.resolve(h);
    } else if (tokenFile) {
      const read = tokenFromFile(path.resolve(dir, tokenFile), readFile, now);
      headers = () => Promise.resolve({ Authorization: `Bearer ${read()}` });
    } else if (username && password) {
      const h = { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
      headers = () => Promise.resolve(h);
    } else {
      headers = () => Promise.resolve({});
    }
  }
  return { server, tls, headers, source: file };
}

/** An exec plugin's or auth provider's headers, through @kubernetes/client-node (imported only here). */
async function clientLibraryHeaders(file: string): Promise<Record<string, string>> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  const opts: { headers?: Record<string, string> } = { headers: {} };
  await kc.applyToHTTPSOptions(opts as never);
  return { ...(opts.headers ?? {}) };
}

/** The in-cluster service account: KUBERNETES_SERVICE_HOST/PORT, its CA and its (rotating) token. */
export function inClusterConnection(deps: KubeConnectionDeps = {}): KubeConnection {
  const env = deps.env ?? {};
  const readFile = deps.readFile ?? ((f: string) => fs.readFileSync(f));
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  const source = '(in-cluster)';
  if (!host || !port) fail(source, 'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod)', 'pass --kubeconfig <file>');
  let ca: Buffer;
  try {
    ca = readFile(path.join(SERVICE_ACCOUNT_DIR, 'ca.crt'));
  } catch (err) {
    return fail(source, `cannot read ${SERVICE_ACCOUNT_DIR}/ca.crt (${(err as Error).message})`, 'mount the service account token (automountServiceAccountToken) or pass --kubeconfig <file>', err);
  }
  const token = tokenFromFile(path.join(SERVICE_ACCOUNT_DIR, 'token'), readFile, deps.now ?? Date.now);
  token();
  const hostPart = host!.includes(':') ? `[${host}]` : host;
  return { server: `https://${hostPart}:${port}`, tls: { ca, rejectUnauthorized: true }, headers: () => Promise.resolve({ Authorization: `Bearer ${token()}` }), source };
}

/** A kubeconfig file, or the in-cluster service account when no file is given. */
export function loadKubeConnection(file: string | undefined, deps: KubeConnectionDeps = {}): KubeConnection {
  if (file === undefined || file === '') return inClusterConnection(deps);
  let text: string;
  try {
    text = (deps.readFile ?? ((f: string) => fs.readFileSync(f)))(file).toString('utf8');
  } catch (err) {
    return fail(file, `cannot be read (${(err as Error).message})`, 'pass --kubeconfig <file> naming a readable kubeconfig', err);
  }
  return toKubeConnection(text, file, deps);
}
