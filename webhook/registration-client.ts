/**
 * Writes the webhook configurations: full registration (`--registration url|service`) and, in every
 * mode, keeping `caBundle` equal to the CAs the webhook is served from (someone re-applying a chart
 * with an empty caBundle is repaired on the next check).
 */
import { ApiException, type AdmissionregistrationV1Api, type V1MutatingWebhookConfiguration, type V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.ts';
import { ControllerError } from '../core/errors.ts';
import type { WebhookConfigurations } from './registration.ts';

type AnyConfiguration = V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration;

/** The configuration with every webhook's caBundle set to the bundle, or undefined if all already are. */
export function planCaBundle<T extends AnyConfiguration>(config: T, bundlePem: string): T | undefined {
  const caBundle = Buffer.from(bundlePem).toString('base64');
  if ((config.webhooks ?? []).every((w) => w.clientConfig.caBundle === caBundle)) return undefined;
  const next = structuredClone(config);
  for (const w of next.webhooks ?? []) w.clientConfig.caBundle = caBundle;
  return next;
}

function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

interface ConfigurationApi<T> {
  readonly kind: string;
  read(name: string): Promise<T>;
  create(body: T): Promise<unknown>;
  replace(name: string, body: T): Promise<unknown>;
}

function mutatingApi(api: AdmissionregistrationV1Api): ConfigurationApi<V1MutatingWebhookConfiguration> {
  return {
    kind: 'MutatingWebhookConfiguration',
    read: (name) => api.readMutatingWebhookConfiguration({ name }),
    create: (body) => api.createMutatingWebhookConfiguration({ body }),
    replace: (name, body) => api.replaceMutatingWebhookConfiguration({ name, body }),
  };
}

function validatingApi(api: AdmissionregistrationV1Api): ConfigurationApi<V1ValidatingWebhookConfiguration> {
  return {
    kind: 'ValidatingWebhookConfiguration',
    read: (name) => api.readValidatingWebhookConfiguration({ name }),
    create: (body) => api.createValidatingWebhookConfiguration({ body }),
    replace: (name, body) => api.replaceValidatingWebhookConfiguration({ name, body }),
  };
}

async function readOrUndefined<T>(c: ConfigurationApi<T>, name: string): Promise<T | undefined> {
  try {
    return await c.read(name);
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw new ControllerError('KUBE_UNAVAILABLE', `reading ${c.kind} ${name} failed`, { cause: err });
  }
}

async function upsert<T extends AnyConfiguration>(c: ConfigurationApi<T>, desired: T): Promise<'created' | 'replaced'> {
  const name = desired.metadata!.name!;
  const existing = await readOrUndefined(c, name);
  try {
    if (!existing) {
      await c.create(desired);
      return 'created';
    }
    await c.replace(name, { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata?.resourceVersion } });
    return 'replaced';
  } catch (err) {
    throw new ControllerError(isStatus(err, 409) ? 'KUBE_CONFLICT' : 'KUBE_UNAVAILABLE', `writing ${c.kind} ${name} failed`, { cause: err });
  }
}

/** Creates or replaces both configurations as built by toWebhookConfigurations. */
export async function applyWebhookConfigurations(api: AdmissionregistrationV1Api, configs: WebhookConfigurations, logger: Logger): Promise<void> {
  const m = await upsert(mutatingApi(api), configs.mutating);
  const v = await upsert(validatingApi(api), configs.validating);
  logger.info({ mutating: `${configs.mutating.metadata!.name} ${m}`, validating: `${configs.validating.metadata!.name} ${v}` }, 'webhook configurations registered');
}

async function injectOne<T extends AnyConfiguration>(c: ConfigurationApi<T>, name: string, bundlePem: string, logger: Logger): Promise<boolean> {
  const existing = await readOrUndefined(c, name);
  if (!existing) {
    logger.warn({ kind: c.kind, name }, 'webhook configuration not found; its caBundle will be set once it exists');
    return false;
  }
  const next = planCaBundle(existing, bundlePem);
  if (!next) return true;
  try {
    await c.replace(name, next);
  } catch (err) {
    throw new ControllerError(isStatus(err, 409) ? 'KUBE_CONFLICT' : 'KUBE_UNAVAILABLE', `updating the caBundle of ${c.kind} ${name} failed`, { cause: err });
  }
  logger.info({ kind: c.kind, name }, 'caBundle updated');
  return true;
}

/** Sets caBundle on every webhook of both named configurations; true when both exist and are current. */
export async function applyCaBundle(api: AdmissionregistrationV1Api, names: { mutating: string; validating: string }, bundlePem: string, logger: Logger): Promise<boolean> {
  const m = await injectOne(mutatingApi(api), names.mutating, bundlePem, logger);
  const v = await injectOne(validatingApi(api), names.validating, bundlePem, logger);
  return m && v;
}
