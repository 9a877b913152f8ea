/**
 * When to renew what, as pure functions of (certificates, now, policy), so rotation is tested
 * without waiting. A CA is renewed when a third of its life is left and stays in the caBundle as
 * "previous" until it expires; a serving certificate is renewed `renewBefore` ahead of its expiry or
 * when the CA that signed it has left the bundle. So a serving certificate never outlives trust,
 * and the API server trusts a new CA long before anything is served from it.
 */
import forge from 'node-forge';

export interface CertPolicy {
  readonly caValidityMs: number;
  readonly servingValidityMs: number;
  readonly renewBeforeMs: number;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
}

export interface CertInfo {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export function readCertInfo(certPem: string): CertInfo {
  const cert = forge.pki.certificateFromPem(certPem);
  return { notBefore: cert.validity.notBefore, notAfter: cert.validity.notAfter };
}

/** Problems with a policy (empty = fine); `--help` names the flags. */
export function checkCertPolicy(p: CertPolicy): string[] {
  const out: string[] = [];
  if (p.renewBeforeMs >= p.servingValidityMs) out.push('--cert-renew-before must be shorter than --cert-validity');
  if (p.servingValidityMs * 3 > p.caValidityMs) out.push('--cert-validity must be at most a third of --ca-validity (a retired CA stays trusted for a third of its life)');
  return out;
}

export function isCaDue(ca: CertInfo | undefined, now: Date, policy: CertPolicy): boolean {
  if (!ca) return true;
  return now.getTime() >= ca.notAfter.getTime() - policy.caValidityMs / 3;
}

export interface ServingView {
  readonly info: CertInfo;
  /** PEM of the CA that signed it. */
  readonly caCertPem: string;
}

export function isServingDue(serving: ServingView | undefined, bundleCertPems: readonly string[], now: Date, policy: CertPolicy): boolean {
  if (!serving) return true;
  if (!bundleCertPems.includes(serving.caCertPem)) return true;
  return now.getTime() >= serving.info.notAfter.getTime() - policy.renewBeforeMs;
}

/** The CAs the API server should trust now: the current one and a retired one not yet expired. */
export function toTrustedCas(currentPem: string, previousPem: string | undefined, now: Date): string[] {
  if (!previousPem || previousPem === currentPem) return [currentPem];
  return readCertInfo(previousPem).notAfter.getTime() > now.getTime() ? [currentPem, previousPem] : [currentPem];
}

/** Serving validity capped at the CA's own expiry. */
export function toServingValidityMs(ca: CertInfo, now: Date, policy: CertPolicy): number {
  return Math.min(policy.servingValidityMs, ca.notAfter.getTime() - now.getTime());
}
