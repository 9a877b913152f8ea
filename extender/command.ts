/**
 * `module-controller extender`: the kube-scheduler extender for module pods. Parses the flags,
 * starts the server (server.ts), reloads the HTTPS certificate when its file changes, and stops on
 * the run signal.
 */
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { loadKubeConfig } from '../core/kubeconfig.ts';
import { defineCommand, untilAborted } from '../core/command.ts';
import type { FlagSpec, FlagValues } from '../core/flags.ts';
import { DEFAULTS } from '../core/names.ts';
import { ControllerError } from '../core/errors.ts';
import { startExtenderServer } from './server.ts';

export const EXTENDER_FLAGS = {
  port: { kind: 'int', description: 'Port to serve the extender API, /healthz, /readyz and /metrics on', default: 8080, min: 0, max: 65535 },
  bindAddress: { kind: 'string', description: 'Address to listen on', default: '0.0.0.0' },
  kubeconfig: { kind: 'string', description: 'Kubeconfig file; in-cluster service account when unset' },
  tlsCertFile: { kind: 'string', description: 'Serve HTTPS with this certificate (PEM); reloaded when it changes' },
  tlsKeyFile: { kind: 'string', description: 'Private key (PEM) for --tls-cert-file' },
  maxModulesPerBase: { kind: 'int', description: 'Most modules one base may run; fuller bases are filtered out', default: DEFAULTS.maxModulesPerBase, min: 1 },
  placementTtl: { kind: 'duration', description: 'How long an assumed placement counts before the bind shows up', default: '30s', min: 100 },
  maxRequestMb: { kind: 'int', description: 'Largest request body in MiB (full NodeLists when nodeCacheCapable is false)', default: 64, min: 1 },
} as const satisfies Record<string, FlagSpec>;

export type ExtenderConfig = FlagValues<typeof EXTENDER_FLAGS>;

function readTls(files: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(files.cert), key: readFileSync(files.key) };
  } catch (err) {
    throw new ControllerError('CERT_FAILED', `cannot read --tls-cert-file ${files.cert} / --tls-key-file ${files.key}`, { cause: err });
  }
}

export const extenderCommand = defineCommand({
  name: 'extender',
  summary: 'Scheduler extender for module-scheduler: filter and score virtual nodes so module replicas scatter over bases',
  flags: EXTENDER_FLAGS,
  async run(config, { logger, registry, signal }) {
    if (Boolean(config.tlsCertFile) !== Boolean(config.tlsKeyFile)) {
      throw new ControllerError('CONFIG_INVALID', '--tls-cert-file and --tls-key-file go together; give both for HTTPS or neither for HTTP');
    }
    const tlsFiles = config.tlsCertFile && config.tlsKeyFile ? { cert: config.tlsCertFile, key: config.tlsKeyFile } : undefined;
    const server = await startExtenderServer({
      kc: loadKubeConfig(config.kubeconfig),
      logger,
      registry,
      port: config.port,
      host: config.bindAddress,
      maxModulesPerBase: config.maxModulesPerBase,
      placementTtlMs: config.placementTtl,
      maxBodyBytes: config.maxRequestMb * 1024 * 1024,
      ...(tlsFiles ? { tls: readTls(tlsFiles) } : {}),
    });
    // cert-manager and the chart's Secret mounts replace the files in place: pick them up.
    const reload = () => {
      if (!tlsFiles) return;
      try {
        server.setTls(readTls(tlsFiles));
        logger.info('serving certificate reloaded');
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'serving certificate not reloaded; keeping the previous one');
      }
    };
    if (tlsFiles) watchFile(tlsFiles.cert, { interval: 10_000 }, reload);
    logger.info({ port: server.port, https: Boolean(tlsFiles), maxModulesPerBase: config.maxModulesPerBase }, 'extender listening');
    await untilAborted(signal);
    if (tlsFiles) unwatchFile(tlsFiles.cert, reload);
    await server.close();
    logger.info('extender stopped');
  },
});
