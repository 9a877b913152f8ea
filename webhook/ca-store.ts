/**
 * Where the webhook's CA lives. In a cluster: a Secret shared by every webhook replica, written
 * with resourceVersion preconditions so two replicas rotating at once cannot both win. Locally:
 * memory (one process, a new CA per start).
 */
import { ApiException, type CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import type { KeyPair } from '../core/pki.ts';
import { ControllerError } from '../core/errors.ts';

export interface StoredCa {
  readonly ca: KeyPair;
  /** The retired CA certificate, still trusted until it expires. */
  readonly previousCertPem?: string;
}

export interface VersionedCa extends StoredCa {
  /** Opaque write precondition (the Secret's resourceVersion). */
  readonly version: string;
}

export interface CaStore {
  load(): Promise<VersionedCa | undefined>;
  /** Writes unless someone else wrote since `version` was read (undefined = must not exist yet). */
  save(next: StoredCa, version: string | undefined): Promise<'saved' | 'conflict'>;
  readonly description: string;
}

export function createMemoryCaStore(): CaStore {
  let state: VersionedCa | undefined;
  let counter = 0;
  return {
    description: 'memory',
    load: () => Promise.resolve(state),
    save(next, version) {
      if (version !== state?.version) return Promise.resolve('conflict');
      counter += 1;
      state = { ...next, version: String(counter) };
      return Promise.resolve('saved');
    },
  };
}

const KEYS = { cert: 'ca.crt', key: 'ca.key', previous: 'ca-previous.crt' } as const;

function decode(secret: V1Secret): VersionedCa | undefined {
  const data = secret.data ?? {};
  const get = (k: string) => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
  const certPem = get(KEYS.cert);
  const keyPem = get(KEYS.key);
  if (!certPem || !keyPem) return undefined;
  const previous = get(KEYS.previous);
  return { ca: { certPem, keyPem }, ...(previous ? { previousCertPem: previous } : {}), version: secret.metadata?.resourceVersion ?? '' };
}

function encode(next: StoredCa): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    [KEYS.cert]: b64(next.ca.certPem),
    [KEYS.key]: b64(next.ca.keyPem),
    ...(next.previousCertPem ? { [KEYS.previous]: b64(next.previousCertPem) } : {}),
  };
}

function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

export function createSecretCaStore(core: CoreV1Api, namespace: string, name: string): CaStore {
  return {
    description: `Secret ${namespace}/${name}`,
    async load() {
      try {
        const secret = await core.readNamespacedSecret({ name, namespace });
        // A Secret without our keys (e.g. created empty by a chart) is "no CA yet" but must be replaced, not created.
        return decode(secret) ?? { ca: { certPem: '', keyPem: '' }, version: secret.metadata?.resourceVersion ?? '' };
      } catch (err) {
        if (isStatus(err, 404)) return undefined;
        throw new ControllerError('KUBE_UNAVAILABLE', `reading Secret ${namespace}/${name} failed`, { cause: err });
      }
    },
    async save(next, version) {
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'module-controller' }, ...(version ? { resourceVersion: version } : {}) },
        type: 'Opaque',
        data: encode(next),
      };
      try {
        if (version === undefined) await core.createNamespacedSecret({ namespace, body });
        else await core.replaceNamespacedSecret({ name, namespace, body });
        return 'saved';
      } catch (err) {
        if (isStatus(err, 409)) return 'conflict';
        throw new ControllerError('KUBE_UNAVAILABLE', `writing Secret ${namespace}/${name} failed`, { cause: err });
      }
    },
  };
}
