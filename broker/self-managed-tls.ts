/**
 * `--tls-self-managed-dir`: the broker keeps its own CA and serving certificate as files in a
 * folder (ca.crt, ca.key, tls.crt, tls.key), made with core/pki.ts on first start and the serving
 * certificate renewed when a third of its lifetime is left. Bases and the bridge trust `ca.crt`.
 * The mqtts listener then serves the files like any others (tls-files.ts reloads them).
 * `now` is injected so renewal is testable without waiting.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, issueCert, type KeyPair } from '../core/pki.ts';

export interface SelfManagedTlsOptions {
  readonly dir: string;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  readonly caValidityMs: number;
  readonly certValidityMs: number;
  readonly now: () => Date;
}

export interface SelfManagedTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export type RenewalPlan = 'keep' | 'issue-cert' | 'create-ca';

/** Pure: what to do given the current CA's and certificate's validity (undefined = missing). */
export function planSelfManagedTls(now: Date, ca: { notBefore: Date; notAfter: Date } | undefined, cert: { notBefore: Date; notAfter: Date } | undefined): RenewalPlan {
  const due = (c: { notBefore: Date; notAfter: Date }) => now.getTime() >= c.notAfter.getTime() - (c.notAfter.getTime() - c.notBefore.getTime()) / 3;
  if (!ca || now >= ca.notAfter) return 'create-ca';
  if (!cert || due(cert) || cert.notAfter > ca.notAfter) return 'issue-cert';
  return 'keep';
}

function validity(pem: string): { notBefore: Date; notAfter: Date } {
  const x = new X509Certificate(pem);
  return { notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) };
}

/** Written next to the target and renamed, so a reader never sees half a file. */
function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function toSelfManagedTlsFiles(dir: string): SelfManagedTlsFiles {
  return { caFile: path.join(dir, 'ca.crt'), certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key') };
}

/** Makes or renews the files when due; returns what it did. */
export function ensureSelfManagedTls(o: SelfManagedTlsOptions): RenewalPlan {
  const files = toSelfManagedTlsFiles(o.dir);
  const caKeyFile = path.join(o.dir, 'ca.key');
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : undefined);
  const caPem = read(files.caFile);
  const caKey = read(caKeyFile);
  const certPem = read(files.certFile);
  const now = o.now();
  const plan = planSelfManagedTls(now, caPem && caKey ? validity(caPem) : undefined, certPem && read(files.keyFile) ? validity(certPem) : undefined);
  if (plan === 'keep') return plan;
  let ca: KeyPair = { certPem: caPem ?? '', keyPem: caKey ?? '' };
  if (plan === 'create-ca') {
    ca = createCa('module-controller-broker-ca', o.caValidityMs, now);
    writeAtomic(caKeyFile, ca.keyPem);
    writeAtomic(files.caFile, ca.certPem);
  }
  const caLeft = validity(ca.certPem).notAfter.getTime() - now.getTime();
  const cert = issueCert(ca, { commonName: o.dnsNames[0] ?? 'module-controller-broker', dnsNames: o.dnsNames, ips: o.ips, validForMs: Math.min(o.certValidityMs, caLeft), usage: 'server', now });
  // Key first: the watcher ignores a mismatched pair until both are written.
  writeAtomic(files.keyFile, cert.keyPem);
  writeAtomic(files.certFile, cert.certPem);
  return plan;
}
