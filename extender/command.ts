/**
 * `module-controller extender`: the kube-scheduler extender for module pods. Parses the flags,
 * starts the server (server.ts), reloads the HTTPS certificate, key and client CA when their files
 * change, and stops on the run signal.
 */
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { loadKubeConfig } from '../core/kubeconfig.ts';
import { defineCommand, untilAborted } from '../core/command.ts';
import type { FlagSpec, FlagValues } from '../core/flags.ts';
import { DEFAULTS } from '../core/names.ts';
import { ControllerError, toErrorFields } from '../core/errors.ts';
import { parseBaseTenants } from '../core/base-tenancy.ts';
import { DEFAULT_MAX_ASSUMED } from './placement-memory.ts';
import { startExtenderServer } from './server.ts';

/**
 * 4 MiB: the shipped scheduler configuration (nodeCacheCapable: true) sends node names, about
 * 0.5 MiB at 10,000 virtual nodes, plus one pod (the API server keeps objects under 1.5 MiB), so 4
 * MiB holds the largest real request at 10,000 nodes with room to spare. Full Node objects
 * (nodeCacheCapable: false) are about 3.6 KiB each with their managedFields (the scheduler's node
 * informer keeps them): ~36 MiB at 10,000 nodes; such a setup raises the flag (docs/extender.md).
 * Measured by test/extender/request-size.test.ts.
 */
export const DEFAULT_MAX_REQUEST_MB = 4;

export const EXTENDER_FLAGS = {
  port: { kind: 'int', description: 'Port to serve the extender API, /healthz, /readyz and /metrics on', default: 8080, min: 0, max: 65535 },
  bindAddress: { kind: 'string', description: 'Address to listen on', default: '0.0.0.0' },
  kubeconfig: { kind: 'string', description: 'Kubeconfig file; in-cluster service account when unset' },
  tlsCertFile: { kind: 'string', description: 'Serve HTTPS with this certificate (PEM); reloaded when it changes' },
  tlsKeyFile: { kind: 'string', description: 'Private key (PEM) for --tls-cert-file' },
  tlsClientCaFile: { kind: 'string', description: 'With --tls-cert-file: require a client certificate signed by this CA (PEM) on /filter and /prioritize (the scheduler\'s extender tlsConfig certFile/keyFile); probes and /metrics stay open; reloaded when it changes' },
  maxModulesPerBase: { kind: 'int', description: 'Most modules one base may run; fuller bases are filtered out', default: DEFAULTS.maxModulesPerBase, min: 1 },
  placementTtl: { kind: 'duration', description: 'How long an assumed placement counts before the bind shows up', default: '30s', min: 100 },
  maxAssumedPlacements: { kind: 'int', description: 'Most assumed placements remembered; the oldest is dropped beyond it (counted in module_controller_extender_assumed_placements_evicted_total)', default: DEFAULT_MAX_ASSUMED, min: 1 },
  baseTenants: { kind: 'list', description: 'Bases reserved for namespaces: <baseName>=<ns>|<ns>,… ; their nodes are filtered for every other namespace (give the webhook the same value)', default: [] },
  peerService: { kind: 'string', description: 'The extender\'s Service as <namespace>/<name>: its EndpointSlices list the other replicas, and every assumed placement is pushed to them before the answer goes out, so replicas share the placement memory (the chart sets it); unset: each replica remembers its own' },
  podName: { kind: 'string', description: 'This replica\'s pod name (the chart sets it from the downward API): left out of the peers found through --peer-service' },
  peerTimeout: { kind: 'duration', description: 'Longest an answer waits for a peer to take an assumed placement; a peer that did not is marked down (module_controller_extender_peers) and not waited for until it answers again', default: '50ms', min: 1 },
  maxRequestMb: { kind: 'int', description: 'Largest request body in MiB: 4 holds names-mode requests (nodeCacheCapable: true) far beyond 10,000 nodes; full Node lists (nodeCacheCapable: false) need ~4 MiB per 1,000 nodes', default: DEFAULT_MAX_REQUEST_MB, min: 1 },
} as const satisfies Record<string, FlagSpec>;

export type ExtenderConfig = FlagValues<typeof EXTENDER_FLAGS>;

interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string | undefined;
}

function readTls(files: TlsFiles): { cert: Buffer; key: Buffer; ca?: Buffer } {
  try {
    return { cert: readFileSync(files.cert), key: readFileSync(files.key), ...(files.clientCa ? { ca: readFileSync(files.clientCa) } : {}) };
  } catch (err) {
    const names = `--tls-cert-file ${files.cert} / --tls-key-file ${files.key}${files.clientCa ? ` / --tls-client-ca-file ${files.clientCa}` : ''}`;
    throw new ControllerError('CERT_FAILED', `cannot read ${names}: ${toErrorFields(err).message}`, { cause: err });
  }
}

/** `<namespace>/<name>` of --peer-service, both DNS labels; undefined when it is not that. */
export function parsePeerService(text: string): { readonly namespace: string; readonly service: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z]([-a-z0-9]{0,61}[a-z0-9])?)$/.exec(text);
  return m ? { namespace: m[1]!, service: m[3]! } : undefined;
}

/** Every problem with the TLS, tenancy and peer flags at once. */
export function checkExtenderConfig(config: ExtenderConfig): string[] {
  const problems: string[] = [];
  if (Boolean(config.tlsCertFile) !== Boolean(config.tlsKeyFile)) problems.push('--tls-cert-file and --tls-key-file go together; give both for HTTPS or neither for HTTP');
  if (config.tlsClientCaFile && !config.tlsCertFile) problems.push('--tls-client-ca-file needs --tls-cert-file and --tls-key-file: client certificates are only asked for over HTTPS');
  const tenants = parseBaseTenants(config.baseTenants);
  if (tenants.kind === 'invalid') problems.push(...tenants.problems);
  if (config.peerService !== undefined && !parsePeerService(config.peerService)) problems.push(`--peer-service "${config.peerService}" is not <namespace>/<name> (e.g. koupleless/module-controller-extender)`);
  return problems;
}

export const extenderCommand = defineCommand({
  name: 'extender',
  summary: 'Scheduler extender for module-scheduler: filter and score virtual nodes so module replicas scatter over bases',
  flags: EXTENDER_FLAGS,
  async run(config, { logger, registry, signal }) {
    const problems = checkExtenderConfig(config);
    if (problems.length > 0) throw new ControllerError('CONFIG_INVALID', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    const tenants = parseBaseTenants(config.baseTenants);
    const peerService = config.peerService === undefined ? undefined : parsePeerService(config.peerService);
    const tlsFiles: TlsFiles | undefined = config.tlsCertFile && config.tlsKeyFile ? { cert: config.tlsCertFile, key: config.tlsKeyFile, clientCa: config.tlsClientCaFile } : undefined;
    const server = await startExtenderServer({
      kc: loadKubeConfig(config.kubeconfig),
      logger,
      registry,
      port: config.port,
      host: config.bindAddress,
      maxModulesPerBase: config.maxModulesPerBase,
      placementTtlMs: config.placementTtl,
      maxAssumedPlacements: config.maxAssumedPlacements,
      maxBodyBytes: config.maxRequestMb * 1024 * 1024,
      ...(tenants.kind === 'ok' ? { tenancy: tenants.tenancy } : {}),
      ...(peerService ? { peers: { ...peerService, podName: config.podName, timeoutMs: config.peerTimeout } } : {}),
      ...(tlsFiles ? { tls: readTls(tlsFiles), requireClientCert: Boolean(tlsFiles.clientCa) } : {}),
    });
    // cert-manager and the chart's Secret mounts replace the files in place: pick them up.
    const reload = () => {
      if (!tlsFiles) return;
      try {
        server.setTls(readTls(tlsFiles));
        logger.info('serving certificate reloaded');
      } catch (err) {
        logger.warn({ err: toErrorFields(err) }, 'serving certificate not reloaded; keeping the previous one');
      }
    };
    const watched = tlsFiles ? [tlsFiles.cert, tlsFiles.key, ...(tlsFiles.clientCa ? [tlsFiles.clientCa] : [])] : [];
    for (const f of watched) watchFile(f, { interval: 10_000 }, reload);
    logger.info({ port: server.port, https: Boolean(tlsFiles), clientCertificates: Boolean(tlsFiles?.clientCa), maxModulesPerBase: config.maxModulesPerBase, peerService: config.peerService }, 'extender listening');
    await untilAborted(signal);
    for (const f of watched) unwatchFile(f, reload);
    await server.close();
    logger.info('extender stopped');
  },
});
