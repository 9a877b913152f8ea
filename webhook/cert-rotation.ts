/**
 * Self-managed certificates. One `tick()` reads the CA from its store, renews the CA or the serving
 * certificate when the plan (cert-plan.ts) says so, hands the trusted bundle to `onCaBundle` (which
 * keeps the webhook configurations' caBundle up to date) before anything is served from a new CA,
 * and hands new serving certificates to `onServingCert` (an https server's setSecureContext), so
 * rotation needs no restart. `now` is injected: tests move time instead of waiting.
 */
import type { Logger } from '../core/logger.ts';
import { createCa, issueCert, type IssueOptions, type KeyPair } from '../core/pki.ts';
import type { CaStore, StoredCa } from './ca-store.ts';
import { isCaDue, isServingDue, readCertInfo, toServingValidityMs, toTrustedCas, type CertInfo, type CertPolicy, type ServingView } from './cert-plan.ts';

export interface ServingCert extends ServingView {
  readonly pair: KeyPair;
}

export interface CertRotatorDeps {
  readonly store: CaStore;
  readonly policy: CertPolicy;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly onServingCert: (cert: ServingCert) => void;
  /** Keeps the trusted CAs (PEM bundle) where the API server reads them; may throw (retried next tick). */
  readonly onCaBundle: (bundlePem: string) => Promise<void>;
  readonly createCa?: (commonName: string, validForMs: number, now: Date) => KeyPair;
  readonly issueCert?: (ca: KeyPair, opts: IssueOptions) => KeyPair;
}

export interface TickOutcome {
  readonly caCreated: boolean;
  readonly servingIssued: boolean;
  readonly bundlePem: string;
}

export interface CertRotator {
  tick(): Promise<TickOutcome>;
  serving(): ServingCert | undefined;
}

export function createCertRotator(deps: CertRotatorDeps): CertRotator {
  const makeCa = deps.createCa ?? createCa;
  const issue = deps.issueCert ?? issueCert;
  let serving: ServingCert | undefined;

  /** The CA to use now, renewing (and storing) it when due; a lost race adopts the winner's CA. */
  async function resolveCa(now: Date): Promise<{ stored: StoredCa; info: CertInfo; created: boolean }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const loaded = await deps.store.load();
      const current = loaded?.ca.certPem ? loaded : undefined;
      const info = current ? readCertInfo(current.ca.certPem) : undefined;
      if (current && info && !isCaDue(info, now, deps.policy)) return { stored: current, info, created: false };
      const ca = makeCa(`${deps.policy.commonName}-ca`, deps.policy.caValidityMs, now);
      const next: StoredCa = { ca, ...(current ? { previousCertPem: current.ca.certPem } : {}) };
      if ((await deps.store.save(next, loaded?.version)) === 'saved') {
        deps.logger.info({ store: deps.store.description, rotated: Boolean(current) }, current ? 'webhook CA rotated' : 'webhook CA created');
        return { stored: next, info: readCertInfo(ca.certPem), created: true };
      }
      deps.logger.debug({ store: deps.store.description }, 'another replica wrote the CA first; reloading');
    }
    throw new Error(`the CA in ${deps.store.description} kept changing under us`);
  }

  return {
    serving: () => serving,
    async tick() {
      const now = deps.now();
      const { stored, info, created } = await resolveCa(now);
      const trusted = toTrustedCas(stored.ca.certPem, stored.previousCertPem, now);
      const bundlePem = trusted.join('');
      let servingIssued = false;
      let bundleError: unknown;
      try {
        await deps.onCaBundle(bundlePem);
      } catch (err) {
        bundleError = err;
      }
      // Never move to a CA the API server may not trust yet; renewing from the same CA is always safe.
      const mayIssue = bundleError === undefined || !serving || serving.caCertPem === stored.ca.certPem;
      if (mayIssue && isServingDue(serving, trusted, now, deps.policy)) {
        const pair = issue(stored.ca, {
          commonName: deps.policy.commonName,
          dnsNames: deps.policy.dnsNames,
          ips: deps.policy.ips,
          validForMs: toServingValidityMs(info, now, deps.policy),
          usage: 'server',
          now,
        });
        serving = { pair, info: readCertInfo(pair.certPem), caCertPem: stored.ca.certPem };
        deps.onServingCert(serving);
        servingIssued = true;
        deps.logger.info({ notAfter: serving.info.notAfter.toISOString() }, 'webhook serving certificate issued');
      }
      if (bundleError !== undefined) throw bundleError;
      return { caCreated: created, servingIssued, bundlePem };
    },
  };
}
