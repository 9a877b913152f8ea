/**
 * The KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) of `module-scheduler`: one
 * profile, our extender for filter and prioritize, and leader election under its own Lease so it
 * never competes with the default scheduler's. Two forms of the same thing: `toSchedulerConfig`
 * builds it from options (sandbox, tests, bench), and module-scheduler-config.yaml is the file the
 * chart ships, rendered by `renderSchedulerConfigTemplate`; a test keeps them identical.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { DEFAULTS } from '../core/names.ts';

/**
 * kube-scheduler adds `extenderScore × weight × (MaxNodeScore 100 / MaxExtenderPriority 10)` to
 * the sum of its score plugins. The default profile's score plugins weigh 3+2+1+2+2+1+1+1 = 13
 * (TaintToleration, NodeAffinity, NodeResourcesFit, PodTopologySpread, InterPodAffinity,
 * BalancedAllocation, ImageLocality, VolumeBinding; k8s v1.34 default_plugins.go), at most
 * 13 × 100 = 1300 apart; one extender point at weight 150 is 1500, so our ranking always wins.
 */
export const EXTENDER_WEIGHT = 150;
export const SCHEDULER_LEASE_NAME = 'module-scheduler';
export const TEMPLATE_FILE = fileURLToPath(new URL('./module-scheduler-config.yaml', import.meta.url));

export interface SchedulerConfigOptions {
  /** The extender's base URL; the scheduler POSTs to `<url>/filter` and `<url>/prioritize`. */
  readonly extenderUrl: string;
  /** A kubeconfig file; empty means the in-cluster service account. */
  readonly kubeconfig: string;
  readonly leaseNamespace?: string;
  readonly schedulerName?: string;
  readonly leaderElect?: boolean;
  readonly weight?: number;
  readonly nodeCacheCapable?: boolean;
  readonly ignorable?: boolean;
  readonly httpTimeout?: string;
  /**
   * Set when the extender serves HTTPS: verify it with this CA file (or skip verification), and
   * present this client certificate when the extender requires one (--tls-client-ca-file).
   */
  readonly tls?: { readonly caFile?: string; readonly serverName?: string; readonly insecure?: boolean; readonly certFile?: string; readonly keyFile?: string };
}

export function toSchedulerConfig(opts: SchedulerConfigOptions): Record<string, unknown> {
  const extender: Record<string, unknown> = {
    urlPrefix: opts.extenderUrl,
    filterVerb: 'filter',
    prioritizeVerb: 'prioritize',
    weight: opts.weight ?? EXTENDER_WEIGHT,
    nodeCacheCapable: opts.nodeCacheCapable ?? true,
    ignorable: opts.ignorable ?? false,
    httpTimeout: opts.httpTimeout ?? '5s',
  };
  if (opts.tls) {
    extender['enableHTTPS'] = true;
    extender['tlsConfig'] = {
      ...(opts.tls.caFile ? { caFile: opts.tls.caFile } : {}),
      ...(opts.tls.serverName ? { serverName: opts.tls.serverName } : {}),
      ...(opts.tls.insecure ? { insecure: true } : {}),
      ...(opts.tls.certFile ? { certFile: opts.tls.certFile } : {}),
      ...(opts.tls.keyFile ? { keyFile: opts.tls.keyFile } : {}),
    };
  }
  return {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig: opts.kubeconfig },
    leaderElection: {
      leaderElect: opts.leaderElect ?? true,
      resourceLock: 'leases',
      resourceName: SCHEDULER_LEASE_NAME,
      resourceNamespace: opts.leaseNamespace ?? 'kube-system',
    },
    percentageOfNodesToScore: 100,
    profiles: [{ schedulerName: opts.schedulerName ?? DEFAULTS.schedulerName }],
    extenders: [extender],
  };
}

export function toSchedulerConfigYaml(opts: SchedulerConfigOptions): string {
  return stringify(toSchedulerConfig(opts));
}

/** The shipped file with its placeholders filled (values are written as quoted YAML strings). */
export function renderSchedulerConfigTemplate(values: { extenderUrl: string; kubeconfig: string; leaseNamespace?: string }, template = readFileSync(TEMPLATE_FILE, 'utf8')): string {
  const fill: Record<string, string> = {
    EXTENDER_URL: values.extenderUrl,
    KUBECONFIG_PATH: values.kubeconfig,
    LEASE_NAMESPACE: values.leaseNamespace ?? 'kube-system',
  };
  return template.replace(/"(EXTENDER_URL|KUBECONFIG_PATH|LEASE_NAMESPACE)"/g, (_m, key: string) => JSON.stringify(fill[key]));
}
