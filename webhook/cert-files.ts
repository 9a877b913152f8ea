/**
 * `--tls-cert-file/--tls-key-file`: serve the given pair and pick up a new one when the files
 * change (cert-manager or a mounted Secret renews them in place). Files are polled by content, not
 * watched: a mounted Secret changes through a symlink swap that fs.watch reports unreliably. A pair
 * that does not load (half-written, key and cert mismatched) is ignored until the next check.
 */
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import type { Logger } from '../core/logger.ts';
import { ControllerError } from '../core/errors.ts';
import type { KeyPair } from '../core/pki.ts';

export interface CertFileWatcherDeps {
  readonly certFile: string;
  readonly keyFile: string;
  readonly logger: Logger;
  readonly onChange: (pair: KeyPair) => void;
  readonly read?: (path: string) => Promise<string>;
}

export interface CertFileWatcher {
  /** Loads the files; calls onChange when their content changed and loads. Returns whether it did. */
  check(): Promise<boolean>;
  current(): KeyPair | undefined;
}

export function createCertFileWatcher(deps: CertFileWatcherDeps): CertFileWatcher {
  const read = deps.read ?? ((p: string) => readFile(p, 'utf8'));
  let current: KeyPair | undefined;
  return {
    current: () => current,
    async check() {
      let pair: KeyPair;
      try {
        const [certPem, keyPem] = await Promise.all([read(deps.certFile), read(deps.keyFile)]);
        pair = { certPem, keyPem };
        if (current && current.certPem === certPem && current.keyPem === keyPem) return false;
        tls.createSecureContext({ cert: certPem, key: keyPem });
      } catch (err) {
        const message = `TLS files ${deps.certFile} / ${deps.keyFile} could not be loaded: ${(err as Error).message}`;
        if (!current) throw new ControllerError('CERT_FAILED', message, { cause: err });
        deps.logger.warn({ code: 'CERT_FAILED' }, `${message}; still serving the previous certificate`);
        return false;
      }
      const first = current === undefined;
      current = pair;
      deps.onChange(pair);
      deps.logger.info({ certFile: deps.certFile }, first ? 'serving certificate loaded' : 'serving certificate reloaded');
      return true;
    },
  };
}
