/**
 * `module-controller broker`: the shipped MQTT broker (Aedes, MQTT 3.1.1) as its own service, with
 * authenticated clients and per-topic rules (docs/security.md). `--hash-password` prints the hash of
 * a password read from stdin, for the credentials file.
 */
import express from 'express';
import { defineCommand, untilAborted } from '../core/command.ts';
import { ControllerError } from '../core/errors.ts';
import type { FlagSpec, FlagValues } from '../core/flags.ts';
import { listen } from '../core/http-server.ts';
import { addOpsRoutes } from '../core/ops-routes.ts';
import { hashPassword } from './credentials.ts';
import { createCredentialsSource, type PlainCredential } from './credentials-source.ts';
import { startBroker, type BrokerOptions } from './mqtt-broker.ts';
import { toSelfManagedTlsFiles } from './self-managed-tls.ts';

export const BROKER_FLAGS = {
  port: { kind: 'int', description: 'Plain MQTT port', default: 1883, min: 0, max: 65535 },
  plainListener: { kind: 'bool', description: 'Serve plain MQTT on --port; set false with --tls-cert-file to serve mqtts only', default: true },
  bindAddress: { kind: 'string', description: 'Address to listen on', default: '0.0.0.0' },
  opsPort: { kind: 'int', description: 'Port of /healthz, /readyz and /metrics', default: 8082, min: 0, max: 65535 },
  credentialsFile: { kind: 'string', description: 'Credentials file: lines "<username> <bridge|base|base:<identity>> <scrypt hash>" (docs/security.md); re-read when it changes' },
  bridgeUsername: { kind: 'string', description: 'A bridge credential given in plain (e.g. from a Secret), besides --credentials-file' },
  bridgePassword: { kind: 'string', description: 'Password of --bridge-username' },
  baseUsername: { kind: 'string', description: 'A shared base credential given in plain (e.g. from a Secret), besides --credentials-file' },
  basePassword: { kind: 'string', description: 'Password of --base-username' },
  allowAnonymous: { kind: 'bool', description: 'Run without any credentials: every client may publish and subscribe anything (trusted networks and tests only)', default: false },
  tlsPort: { kind: 'int', description: 'mqtts port (with --tls-cert-file)', default: 8883, min: 0, max: 65535 },
  tlsCertFile: { kind: 'string', description: 'Serving certificate (PEM) of the mqtts listener; reloaded when the file changes' },
  tlsKeyFile: { kind: 'string', description: 'Private key (PEM) of --tls-cert-file' },
  tlsSelfManagedDir: { kind: 'string', description: 'Instead of --tls-cert-file: keep a CA and a serving certificate in this folder (ca.crt for bases and the bridge), made at first start and renewed with a third of their lifetime left' },
  tlsDnsNames: { kind: 'list', description: 'DNS names of the self-managed serving certificate (the names bases connect to)', default: ['localhost'] },
  tlsIps: { kind: 'list', description: 'IP addresses of the self-managed serving certificate', default: ['127.0.0.1'] },
  tlsCertValidity: { kind: 'duration', description: 'Lifetime of a self-managed serving certificate', default: '2160h', min: 3_600_000 },
  tlsCaValidity: { kind: 'duration', description: 'Lifetime of the self-managed CA', default: '87600h', min: 3_600_000 },
  tlsClientCaFile: { kind: 'string', description: 'Require client certificates signed by this CA (PEM) on the mqtts listener (mutual TLS); reloaded when it changes' },
  fileCheckInterval: { kind: 'duration', description: 'How often the TLS files and the credentials file are re-read', default: '30s', min: 1000 },
  hashPassword: { kind: 'bool', description: 'Print the scrypt hash of the password on stdin (one line) for --credentials-file, and exit', default: false },
} as const satisfies Record<string, FlagSpec>;

export type BrokerFlagValues = FlagValues<typeof BROKER_FLAGS>;

/** Plain credentials from flags, or the problems with them. */
export function toPlainCredentials(v: Pick<BrokerFlagValues, 'bridgeUsername' | 'bridgePassword' | 'baseUsername' | 'basePassword'>, problems: string[]): PlainCredential[] {
  const out: PlainCredential[] = [];
  for (const [role, user, pass] of [['bridge', v.bridgeUsername, v.bridgePassword], ['base', v.baseUsername, v.basePassword]] as const) {
    if (!user && !pass) continue;
    if (!user || !pass) problems.push(`--${role}-username and --${role}-password go together (both non-empty)`);
    else out.push({ username: user, password: pass, role });
  }
  if (out.length === 2 && out[0]!.username === out[1]!.username) problems.push('--bridge-username and --base-username must differ');
  return out;
}

/** The broker options from flags, or every problem with them at once. */
export function toBrokerOptions(v: BrokerFlagValues, problems: string[] = []): Omit<BrokerOptions, 'logger' | 'registry'> {
  const plain = toPlainCredentials(v, problems);
  const hasCredentials = v.credentialsFile !== undefined || plain.length > 0;
  if (!hasCredentials && !v.allowAnonymous) {
    problems.push('no credentials: give --credentials-file (and/or --bridge-username/--base-username with passwords), or --allow-anonymous to let any client publish and subscribe anything (trusted networks only); see docs/security.md');
  }
  if (hasCredentials && v.allowAnonymous) problems.push('--allow-anonymous cannot be combined with credentials; drop one');
  const selfDir = v.tlsSelfManagedDir;
  if ((v.tlsCertFile === undefined) !== (v.tlsKeyFile === undefined)) problems.push('--tls-cert-file and --tls-key-file go together');
  if (selfDir !== undefined && v.tlsCertFile !== undefined) problems.push('--tls-self-managed-dir and --tls-cert-file exclude each other; choose one');
  const tlsOn = v.tlsCertFile !== undefined || selfDir !== undefined;
  if (v.tlsClientCaFile !== undefined && !tlsOn) problems.push('--tls-client-ca-file needs --tls-cert-file/--tls-key-file or --tls-self-managed-dir');
  if (!v.plainListener && !tlsOn) problems.push('--plain-listener=false leaves no listener; give --tls-cert-file/--tls-key-file or --tls-self-managed-dir');
  if (problems.length > 0) throw new ControllerError('CONFIG_INVALID', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return {
    auth: hasCredentials ? { kind: 'credentials', source: createCredentialsSource({ file: v.credentialsFile, plain }) } : { kind: 'open' },
    host: v.bindAddress,
    port: v.plainListener ? v.port : undefined,
    tls: selfDir !== undefined
      ? {
          port: v.tlsPort,
          ...toSelfManagedTlsFiles(selfDir),
          clientCaFile: v.tlsClientCaFile,
          selfManaged: { dir: selfDir, dnsNames: v.tlsDnsNames, ips: v.tlsIps, certValidityMs: v.tlsCertValidity, caValidityMs: v.tlsCaValidity, now: () => new Date() },
        }
      : v.tlsCertFile !== undefined && v.tlsKeyFile !== undefined ? { port: v.tlsPort, certFile: v.tlsCertFile, keyFile: v.tlsKeyFile, clientCaFile: v.tlsClientCaFile } : undefined,
    checkIntervalMs: v.fileCheckInterval,
  };
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

export const brokerCommand = defineCommand({
  name: 'broker',
  summary: 'The MQTT 3.1.1 broker (Aedes) for bases and the bridge: every client authenticated, every topic authorised (the bridge alone commands; a base speaks only for its own identity); optional mqtts with client certificates.',
  flags: BROKER_FLAGS,
  async run(v, { logger, registry, signal, out }) {
    if (v.hashPassword) {
      const password = await readStdinLine();
      if (!password) throw new ControllerError('CONFIG_INVALID', 'no password on stdin; e.g.: printf %s "$PASSWORD" | module-controller broker --hash-password');
      out(hashPassword(password));
      return;
    }
    const options = toBrokerOptions(v);
    const broker = await startBroker({ ...options, logger, registry });
    if (options.auth.kind === 'open') logger.warn('MQTT broker running with --allow-anonymous: any client may command any base and speak for any base');
    const app = express();
    app.disable('x-powered-by');
    addOpsRoutes(app, registry, () => undefined);
    const ops = await listen(app, { port: v.opsPort });
    logger.info({ mqttPort: broker.port, mqttsPort: broker.tlsPort, opsPort: ops.port }, 'MQTT broker ready');
    await untilAborted(signal);
    await ops.close();
    await broker.close();
  },
});
