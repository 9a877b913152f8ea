/**
 * The mqtts listener's files: certificate, key and (for client-certificate verification) a CA, read
 * by content on every check so a renewed cert-manager Secret or a rotated file is picked up without a
 * restart (a mounted Secret changes through a symlink swap that fs.watch reports unreliably). A set
 * that does not load (half-written, key and certificate mismatched) is ignored until the next check,
 * and the previous one keeps being served.
 */
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { ControllerError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA that client certificates must chain to (mutual TLS). */
  readonly clientCaFile?: string | undefined;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string | undefined;
}

export interface TlsFileWatcher {
  /** Loads the files; calls onChange when they changed and load. Throws only when nothing was ever loaded. */
  check(): Promise<boolean>;
  current(): TlsMaterial | undefined;
}

export function createTlsFileWatcher(files: TlsFiles, logger: Logger, onChange: (m: TlsMaterial) => void, read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8')): TlsFileWatcher {
  let current: TlsMaterial | undefined;
  return {
    current: () => current,
    async check() {
      let next: TlsMaterial;
      try {
        const [cert, key, ca] = await Promise.all([read(files.certFile), read(files.keyFile), files.clientCaFile ? read(files.clientCaFile) : Promise.resolve(undefined)]);
        next = { cert, key, ca };
        if (current && current.cert === cert && current.key === key && current.ca === ca) return false;
        tls.createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
      } catch (err) {
        const message = `MQTT TLS files ${[files.certFile, files.keyFile, files.clientCaFile].filter(Boolean).join(', ')} could not be loaded: ${(err as Error).message}`;
        if (!current) throw new ControllerError('CERT_FAILED', message, { cause: err });
        logger.warn({ code: 'CERT_FAILED' }, `${message}; still serving the previous certificate`);
        return false;
      }
      const first = current === undefined;
      current = next;
      onChange(next);
      logger.info({ certFile: files.certFile, clientCaFile: files.clientCaFile }, first ? 'MQTT TLS certificate loaded' : 'MQTT TLS certificate reloaded');
      return true;
    },
  };
}
