/** `module-controller webhook`: flags → a running webhook (server.ts), stopped on SIGINT/SIGTERM. */
import * as k8s from '@kubernetes/client-node';
import { loadKubeConfig } from '../core/kubeconfig.ts';
import { defineCommand, untilAborted } from '../core/command.ts';
import { ControllerError } from '../core/errors.ts';
import type { FlagSpec, FlagValues } from '../core/flags.ts';
import { DEFAULTS } from '../core/names.ts';
import { DEFAULT_MAX_BODY_BYTES } from './app.ts';
import { createMemoryCaStore, createSecretCaStore } from './ca-store.ts';
import { checkCertPolicy, type CertPolicy } from './cert-plan.ts';
import { parseBaseTenants } from '../core/base-tenancy.ts';
import { DEFAULT_JAR_URL_SCHEMES, parseJarUrlPolicy } from './jar-url-policy.ts';
import type { AdmissionPolicy } from './policy.ts';
import { toServingNames } from './registration.ts';
import { startWebhookServer, type RegistrationTarget, type TlsSource } from './server.ts';

export const WEBHOOK_FLAGS = {
  port: { kind: 'int', description: 'HTTPS port (0 = any free port)', default: 9443, min: 0, max: 65535 },
  bindAddress: { kind: 'string', description: 'Address to listen on', default: '0.0.0.0' },
  tlsCertFile: { kind: 'string', description: 'Serving certificate (PEM); with --tls-key-file replaces self-managed certificates; reloaded when the file changes' },
  tlsKeyFile: { kind: 'string', description: 'Private key (PEM) of --tls-cert-file' },
  tlsCaFile: { kind: 'string', description: 'CA (PEM) written into the configurations\' caBundle with --tls-cert-file; leave unset when cert-manager injects it' },
  manageCerts: { kind: 'bool', description: 'Without --tls-cert-file: create a CA (kept in --ca-secret-name) and short-lived serving certificates, rotated without restart', default: true },
  caSecretName: { kind: 'string', description: 'Secret holding the self-managed CA, shared by all replicas; empty = in memory (one local process)', default: 'module-controller-webhook-ca' },
  caSecretNamespace: { kind: 'string', description: 'Namespace of --ca-secret-name (default: --namespace)' },
  caValidity: { kind: 'duration', description: 'Lifetime of the self-managed CA; renewed with a third left', default: '8760h', min: 3_600_000 },
  certValidity: { kind: 'duration', description: 'Lifetime of a serving certificate', default: '24h', min: 120_000 },
  certRenewBefore: { kind: 'duration', description: 'Renew a serving certificate this long before it expires', default: '8h', min: 60_000 },
  certCheckInterval: { kind: 'duration', description: 'How often certificates, certificate files and caBundles are checked', default: '1m', min: 1_000 },
  kubeconfig: { kind: 'string', description: 'kubeconfig file (default: in-cluster configuration)' },
  namespace: { kind: 'string', description: 'The controller\'s own namespace: never sent to the webhook; default namespace of the CA Secret and Service', default: 'module-controller' },
  excludedNamespaces: { kind: 'list', description: 'Namespaces never sent to the webhook besides kube-system and --namespace', default: [] },
  registration: { kind: 'string', description: 'Create/update the webhook configurations at start: none (only keep their caBundle), url (https://--url-host:<port>), service (--service-name)', default: 'none', choices: ['none', 'url', 'service'] },
  urlHost: { kind: 'string', description: 'Host the API server reaches the webhook at with --registration url', default: '127.0.0.1' },
  serviceName: { kind: 'string', description: 'Service in front of the webhook (--registration service; certificate names)', default: 'module-controller-webhook' },
  serviceNamespace: { kind: 'string', description: 'Namespace of --service-name (default: --namespace)' },
  servicePort: { kind: 'int', description: 'Port of --service-name', default: 443, min: 1, max: 65535 },
  mutatingConfigName: { kind: 'string', description: 'Name of the MutatingWebhookConfiguration', default: 'module-controller-webhook' },
  validatingConfigName: { kind: 'string', description: 'Name of the ValidatingWebhookConfiguration', default: 'module-controller-webhook' },
  timeoutSeconds: { kind: 'int', description: 'timeoutSeconds of every webhook in the configurations', default: 5, min: 1, max: 30 },
  stack: { kind: 'string', description: 'base.koupleless.io/stack for module pods that name none (empty = no stack term)', default: DEFAULTS.stack },
  baseName: { kind: 'string', description: 'base.koupleless.io/name for module pods that name none (empty = no term)', default: '' },
  baseVersion: { kind: 'string', description: 'base.koupleless.io/version for module pods that name none (empty = no term)', default: '' },
  schedulerName: { kind: 'string', description: 'schedulerName set on module pods that chose none (empty = leave it)', default: DEFAULTS.schedulerName },
  allowedJarUrlSchemes: { kind: 'list', description: 'Jar URL schemes module containers may use (https, http, file); add file only when bases may load jars from their own disk', default: DEFAULT_JAR_URL_SCHEMES },
  allowedJarUrlPrefixes: { kind: 'list', description: 'When set, jar URLs must start with one of these URLs (e.g. https://repo.example.com/modules/); empty = any host', default: [] },
  baseTenants: { kind: 'list', description: 'Bases reserved for namespaces: <baseName>=<ns>|<ns>,… ; a module from another namespace naming only such bases is refused (give the extender the same value)', default: [] },
  keepAliveTimeout: { kind: 'duration', description: 'Idle keep-alive timeout; longer than the API server\'s 90 s idle timeout so it reuses connections', default: '120s', min: 1_000 },
  maxRequestBytes: { kind: 'int', description: 'Largest AdmissionReview accepted', default: DEFAULT_MAX_BODY_BYTES, min: 1024 },
} as const satisfies Record<string, FlagSpec>;

export type WebhookConfig = FlagValues<typeof WEBHOOK_FLAGS>;

export type AdmissionPolicyParse = { readonly kind: 'ok'; readonly policy: AdmissionPolicy } | { readonly kind: 'invalid'; readonly problems: readonly string[] };

/** The admission policy from the flags, or every problem with the jar URL and tenancy flags. */
export function parseAdmissionPolicy(c: WebhookConfig): AdmissionPolicyParse {
  const jar = parseJarUrlPolicy(c.allowedJarUrlSchemes, c.allowedJarUrlPrefixes);
  const tenants = parseBaseTenants(c.baseTenants);
  const problems = [...(jar.kind === 'invalid' ? jar.problems : []), ...(tenants.kind === 'invalid' ? tenants.problems : [])];
  if (jar.kind === 'invalid' || tenants.kind === 'invalid') return { kind: 'invalid', problems };
  return { kind: 'ok', policy: Object.freeze({ stack: c.stack, baseName: c.baseName, baseVersion: c.baseVersion, schedulerName: c.schedulerName, jarUrls: jar.policy, tenancy: tenants.tenancy }) };
}

/** parseAdmissionPolicy for flags known to be valid (throws CONFIG_INVALID otherwise). */
export function toAdmissionPolicy(c: WebhookConfig): AdmissionPolicy {
  const parsed = parseAdmissionPolicy(c);
  if (parsed.kind === 'invalid') throw invalid([...parsed.problems]);
  return parsed.policy;
}

function invalid(problems: string[]): ControllerError {
  return new ControllerError('CONFIG_INVALID', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

export const webhookCommand = defineCommand({
  name: 'webhook',
  summary: 'Admission webhook (HTTPS, AdmissionReview v1): injects toleration, base affinity, module labels and the module scheduler into module pods, and rejects invalid module workloads at apply time.',
  flags: WEBHOOK_FLAGS,
  async run(c, ctx) {
    const problems: string[] = [];
    const policy = parseAdmissionPolicy(c);
    if (policy.kind === 'invalid') problems.push(...policy.problems);
    if (/[/:]/.test(c.urlHost) && !/^[0-9a-f:]+$/i.test(c.urlHost)) problems.push(`--url-host: "${c.urlHost}" is not a host name or IP address; give the host only (e.g. 127.0.0.1), the webhook builds https://<host>:<port>/mutate itself`);
    const files = c.tlsCertFile !== undefined || c.tlsKeyFile !== undefined;
    if (files && (!c.tlsCertFile || !c.tlsKeyFile)) problems.push('--tls-cert-file and --tls-key-file go together');
    if (!files && !c.manageCerts) problems.push('no certificate: give --tls-cert-file/--tls-key-file or keep --manage-certs');
    const serviceNamespace = c.serviceNamespace ?? c.namespace;
    const names = c.registration === 'service' || (c.registration === 'none' && !files) ? toServingNames({ kind: 'service', name: c.serviceName, namespace: serviceNamespace }) : toServingNames({ kind: 'url', host: c.urlHost });
    const certPolicy: CertPolicy = { caValidityMs: c.caValidity, servingValidityMs: c.certValidity, renewBeforeMs: c.certRenewBefore, commonName: c.serviceName, ...names };
    if (!files) problems.push(...checkCertPolicy(certPolicy));
    const needsKube = c.kubeconfig !== undefined || c.registration !== 'none' || (files ? c.tlsCaFile !== undefined : c.caSecretName !== '');
    if (needsKube && c.kubeconfig === undefined && !ctx.env['KUBERNETES_SERVICE_HOST']) {
      problems.push('not running in a cluster and no --kubeconfig; give --kubeconfig, or run without Kubernetes with --ca-secret-name "" --registration none');
    }
    if (problems.length > 0) throw invalid(problems);

    let kc: k8s.KubeConfig | undefined;
    if (needsKube) {
      kc = loadKubeConfig(c.kubeconfig);
    }
    const tls: TlsSource = files
      ? { kind: 'files', certFile: c.tlsCertFile!, keyFile: c.tlsKeyFile!, ...(c.tlsCaFile ? { caFile: c.tlsCaFile } : {}) }
      : {
          kind: 'managed',
          certPolicy,
          store: c.caSecretName && kc ? createSecretCaStore(kc.makeApiClient(k8s.CoreV1Api), c.caSecretNamespace ?? c.namespace, c.caSecretName) : createMemoryCaStore(),
        };
    const registration: RegistrationTarget =
      c.registration === 'url' ? { mode: 'url', host: c.urlHost } : c.registration === 'service' ? { mode: 'service', name: c.serviceName, namespace: serviceNamespace, port: c.servicePort } : { mode: 'none' };
    const running = await startWebhookServer({
      policy: toAdmissionPolicy(c),
      host: c.bindAddress,
      port: c.port,
      keepAliveTimeoutMs: c.keepAliveTimeout,
      maxBodyBytes: c.maxRequestBytes,
      tls,
      checkIntervalMs: c.certCheckInterval,
      ...(kc ? { admissionApi: kc.makeApiClient(k8s.AdmissionregistrationV1Api) } : {}),
      registration,
      mutatingName: c.mutatingConfigName,
      validatingName: c.validatingConfigName,
      excludedNamespaces: ['kube-system', c.namespace, ...c.excludedNamespaces],
      timeoutSeconds: c.timeoutSeconds,
      logger: ctx.logger,
      registry: ctx.registry,
      now: () => new Date(),
    });
    ctx.out(`webhook serving on ${running.url}`);
    await untilAborted(ctx.signal);
    await running.close();
  },
});
