/**
 * The running webhook: the app served over HTTPS with certificates that change without a restart,
 * and the webhook configurations kept pointing at it with the right caBundle. Used by the
 * `webhook` command, the sandbox and the integration test, so all three run the same code.
 */
import { readFile } from 'node:fs/promises';
import type https from 'node:https';
import type { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { listen } from '../core/http-server.ts';
import type { KeyPair } from '../core/pki.ts';
import { toErrorFields } from '../core/errors.ts';
import { toLatestExpiry } from '../core/cert-expiry.ts';
import { createWebhookApp } from './app.ts';
import type { CaStore } from './ca-store.ts';
import { createCertFileWatcher } from './cert-files.ts';
import type { CertPolicy } from './cert-plan.ts';
import { createCertRotator } from './cert-rotation.ts';
import { createWebhookMetrics } from './metrics.ts';
import type { AdmissionPolicy } from './policy.ts';
import { applyCaBundle, applyWebhookConfigurations } from './registration-client.ts';
import { toWebhookConfigurations, type WebhookClient } from './registration.ts';

export type TlsSource =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string; readonly caFile?: string }
  | { readonly kind: 'managed'; readonly store: CaStore; readonly certPolicy: CertPolicy };

export type RegistrationTarget =
  | { readonly mode: 'none' }
  /** URL mode: `https://<host>:<listening port>`, for local runs and tests. */
  | { readonly mode: 'url'; readonly host: string }
  | { readonly mode: 'service'; readonly name: string; readonly namespace: string; readonly port: number };

export interface WebhookServerOptions {
  readonly policy: AdmissionPolicy;
  readonly host: string;
  readonly port: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxBodyBytes?: number;
  readonly tls: TlsSource;
  readonly checkIntervalMs: number;
  /** Without it nothing is registered or injected (serving only). */
  readonly admissionApi?: AdmissionregistrationV1Api;
  readonly registration: RegistrationTarget;
  readonly mutatingName: string;
  readonly validatingName: string;
  readonly excludedNamespaces: readonly string[];
  readonly timeoutSeconds: number;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly now: () => Date;
}

export interface RunningWebhook {
  readonly port: number;
  /** `https://<host>:<port>` as registered in URL mode. */
  readonly url: string;
  /** The CA bundle (PEM) the API server must trust, when known. */
  caBundlePem(): string | undefined;
  close(): Promise<void>;
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<RunningWebhook> {
  const { logger } = opts;
  const metrics = createWebhookMetrics(opts.registry);
  // Set once listening; the callbacks above run before and after that.
  const live: { server?: https.Server; client?: WebhookClient } = {};
  let pair: KeyPair | undefined;
  let bundlePem: string | undefined;
  let registered = false;
  let published = opts.admissionApi === undefined;

  const useCert = (next: KeyPair, notAfter?: Date) => {
    pair = next;
    live.server?.setSecureContext({ cert: next.certPem, key: next.keyPem });
    const expiry = notAfter ?? toLatestExpiry(next.certPem);
    if (expiry) metrics.setCertNotAfter(expiry);
  };

  /** Keeps the configurations (registration modes) or just their caBundle (mode none) current. */
  const publish = async (pem: string | undefined) => {
    bundlePem = pem;
    const caExpiry = pem ? toLatestExpiry(pem) : undefined;
    if (caExpiry) metrics.setCaNotAfter(caExpiry);
    const api = opts.admissionApi;
    if (!api || !live.client) return;
    const client = live.client;
    const names = { mutating: opts.mutatingName, validating: opts.validatingName };
    if (opts.registration.mode !== 'none' && !registered) {
      const configs = toWebhookConfigurations({ mutatingName: names.mutating, validatingName: names.validating, client, caBundlePem: pem ?? '', excludedNamespaces: opts.excludedNamespaces, timeoutSeconds: opts.timeoutSeconds });
      await applyWebhookConfigurations(api, configs, logger);
      registered = true;
      published = true;
      return;
    }
    if (!pem) {
      published = true; // nothing to inject (TLS files without a CA file: cert-manager's cainjector does it)
      return;
    }
    const current = await applyCaBundle(api, names, pem, logger);
    if (!current && opts.registration.mode !== 'none') registered = false; // deleted under us: register again next time
    published ||= current;
  };

  let check: () => Promise<void>;
  if (opts.tls.kind === 'files') {
    const { caFile } = opts.tls;
    const watcher = createCertFileWatcher({ certFile: opts.tls.certFile, keyFile: opts.tls.keyFile, logger, onChange: (p) => useCert(p) });
    check = async () => {
      await watcher.check();
      await publish(caFile ? await readFile(caFile, 'utf8') : undefined);
    };
    await watcher.check();
    bundlePem = caFile ? await readFile(caFile, 'utf8') : undefined;
  } else {
    const rotator = createCertRotator({
      store: opts.tls.store,
      policy: opts.tls.certPolicy,
      now: opts.now,
      logger,
      onServingCert: (c) => useCert(c.pair, c.info.notAfter),
      onCaBundle: publish,
    });
    check = async () => {
      await rotator.tick();
    };
    try {
      await rotator.tick();
    } catch (err) {
      if (!rotator.serving()) throw err;
    }
  }

  const listening = await listen(createWebhookApp({ policy: opts.policy, registry: opts.registry, logger, metrics, maxBodyBytes: opts.maxBodyBytes, ready: () => (!pair ? 'no serving certificate' : !published ? 'webhook configurations not updated yet' : undefined) }), {
    port: opts.port,
    host: opts.host,
    tls: { cert: pair!.certPem, key: pair!.keyPem },
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
  });
  live.server = listening.server as https.Server;
  const reg = opts.registration;
  const urlHost = reg.mode === 'url' ? reg.host : opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  const url = `https://${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${listening.port}`;
  live.client = reg.mode === 'service' ? { kind: 'service', name: reg.name, namespace: reg.namespace, port: reg.port } : { kind: 'url', baseUrl: url };
  logger.info({ url, registration: reg.mode }, 'webhook serving');

  try {
    await publish(bundlePem);
  } catch (err) {
    if (reg.mode !== 'none') {
      await listening.close();
      throw err;
    }
    logger.warn({ err: toErrorFields(err) }, 'caBundle could not be set yet; retrying');
  }

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = () => {
    timer = setTimeout(() => {
      check()
        .catch((err: unknown) => logger.warn({ err: toErrorFields(err) }, 'certificate check failed; retrying'))
        .finally(() => {
          if (!stopped) loop();
        });
    }, opts.checkIntervalMs);
    timer.unref();
  };
  loop();

  return {
    port: listening.port,
    url,
    caBundlePem: () => bundlePem,
    async close() {
      stopped = true;
      clearTimeout(timer);
      await listening.close();
    },
  };
}
