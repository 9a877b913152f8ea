/**
 * The MQTT broker that ships with module-controller: Aedes (MQTT 3.1.1) on a plain TCP listener
 * and/or an mqtts listener, every client authenticated against the credentials and every publish and
 * subscription checked by authorize.ts. The Aedes hooks only translate; the decisions are pure.
 * Used by `module-controller broker`, the bridge's `--mqtt-url embedded` and (open) the sandbox.
 */
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { Registry } from 'prom-client';
import { toErrorFields } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { parseTopic } from '../core/topics.ts';
import { authorizePublish, authorizeSubscribe, type Decision, type Principal } from './authorize.ts';
import { authenticateClient, createPasswordChecker } from './authenticate.ts';
import type { CredentialTable } from './credentials.ts';
import type { CredentialsSource } from './credentials-source.ts';
import { createBrokerMetrics, type MessageDirection } from './metrics.ts';
import { ensureSelfManagedTls, type SelfManagedTlsOptions } from './self-managed-tls.ts';
import { createTlsFileWatcher, type TlsFiles } from './tls-files.ts';

export type BrokerAuth =
  /** No authentication and no topic rules: the sandbox on loopback, or --allow-anonymous. */
  | { readonly kind: 'open' }
  | { readonly kind: 'credentials'; readonly source: CredentialsSource };

export interface BrokerOptions {
  readonly auth: BrokerAuth;
  readonly host?: string;
  /** Plain MQTT port (0 = any free port); undefined = no plain listener. */
  readonly port?: number | undefined;
  /** mqtts listener: files and port; with selfManaged the broker makes and renews those files itself. */
  readonly tls?: (TlsFiles & { readonly port: number; readonly selfManaged?: SelfManagedTlsOptions | undefined }) | undefined;
  /** How often the TLS files and the credentials file are re-read. */
  readonly checkIntervalMs?: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

export interface RunningBroker {
  /** `mqtt://host:port` of the plain listener, else the mqtts URL. */
  readonly url: string;
  readonly port: number | undefined;
  readonly tlsUrl: string | undefined;
  readonly tlsPort: number | undefined;
  /** Re-reads certificate and credentials files now (otherwise every checkIntervalMs). */
  check(): Promise<void>;
  close(): Promise<void>;
}

type AuthError = Error & { returnCode: number };
function authError(message: string, returnCode: number): AuthError {
  return Object.assign(new Error(message), { returnCode });
}
/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
const RC = { identifierRejected: 2, serverUnavailable: 3, badCredentials: 4, notAuthorized: 5 } as const;

function toDirection(topic: string): MessageDirection {
  const t = parseTopic(topic);
  return t === undefined ? 'other' : t.direction === 'fromBase' ? 'base_to_bridge' : 'bridge_to_base';
}

async function listenOn(server: net.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const { logger } = opts;
  const metrics = createBrokerMetrics(opts.registry);
  const host = opts.host ?? '127.0.0.1';
  const principals = new WeakMap<Client, Principal>();
  let table: CredentialTable = new Map();
  const checker = createPasswordChecker();
  const source = opts.auth.kind === 'credentials' ? opts.auth.source : undefined;
  if (source) table = await source.load();

  const refuse = (stage: 'connect' | 'publish' | 'subscribe', d: Extract<Decision<unknown>, { allow: false }>, client: Client | null, username?: string) => {
    metrics.authFailures.inc({ stage, code: d.code });
    logger.warn({ stage, code: d.code, clientId: client?.id, username: username ?? (client ? principalName(principals.get(client)) : undefined) }, `MQTT ${stage} refused: ${d.reason}`);
  };

  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (!source) {
        principals.set(client, { role: 'open', clientId: client.id });
        done(null, true);
        return;
      }
      authenticateClient(() => table, checker, client.id, username, password).then(
        (d) => {
          if (d.allow) {
            principals.set(client, d.value);
            done(null, true);
            return;
          }
          refuse('connect', d, client, username);
          const rc = d.code === 'bad_credentials' ? RC.badCredentials : d.code === 'no_identity' ? RC.identifierRejected : RC.notAuthorized;
          done(authError(d.code === 'bad_credentials' ? 'bad username or password' : d.reason, rc), null);
        },
        (err: unknown) => {
          logger.error({ err: toErrorFields(err) }, 'password check failed');
          done(authError('server unavailable', RC.serverUnavailable), null);
        },
      );
    },
    authorizePublish: (client, packet, done) => {
      const principal = client ? principals.get(client) : undefined;
      if (!client) return done(null); // the broker's own $SYS messages
      const d: Decision = principal ? authorizePublish(principal, packet.topic) : { allow: false, code: 'bad_credentials', reason: 'not authenticated' };
      if (d.allow) return done(null);
      refuse('publish', d, client);
      // MQTT 3.1.1 has no negative PUBACK: Aedes closes the connection of a client whose publish fails.
      done(new Error(d.reason));
    },
    authorizeSubscribe: (client, sub, done) => {
      const principal = principals.get(client);
      const d: Decision = principal ? authorizeSubscribe(principal, sub.topic) : { allow: false, code: 'bad_credentials', reason: 'not authenticated' };
      if (d.allow) return done(null, sub);
      refuse('subscribe', d, client);
      done(null, null); // SUBACK 0x80 for this filter; the client stays connected
    },
  });
  const countClients = () => metrics.clients.set(aedes.connectedClients);
  aedes.on('client', countClients);
  aedes.on('clientDisconnect', countClients);
  aedes.on('publish', (packet, client) => {
    if (client) metrics.messages.inc({ direction: toDirection(packet.topic) });
  });
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'MQTT client error'));

  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const servers: net.Server[] = [];
  const closeAll = async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.filter((srv) => srv.listening).map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  };
  try {
    return await listenAll();
  } catch (err) {
    await closeAll();
    throw err;
  }

  async function listenAll(): Promise<RunningBroker> {
    let port: number | undefined;
    if (opts.port !== undefined) {
      const plain = net.createServer(aedes.handle);
      plain.on('connection', track);
      servers.push(plain);
      port = await listenOn(plain, opts.port, host);
    }

    let tlsPort: number | undefined;
    let tlsServer: tls.Server | undefined;
    const tlsOpts = opts.tls;
    const watcher = tlsOpts
      ? createTlsFileWatcher(tlsOpts, logger, (m) => {
          tlsServer?.setSecureContext({ cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}) });
          const notAfter = new Date(new X509Certificate(m.cert).validTo).getTime();
          if (!Number.isNaN(notAfter)) metrics.certNotAfter.set({ listener: 'mqtts' }, notAfter / 1000);
        })
      : undefined;
    const renewSelfManaged = () => {
      if (!tlsOpts?.selfManaged) return;
      const plan = ensureSelfManagedTls(tlsOpts.selfManaged);
      if (plan !== 'keep') logger.info({ dir: tlsOpts.selfManaged.dir, plan }, plan === 'create-ca' ? 'MQTT CA and serving certificate created' : 'MQTT serving certificate issued');
    };
    if (tlsOpts && watcher) {
      renewSelfManaged();
      await watcher.check();
      const m = watcher.current()!;
      const mutual = tlsOpts.clientCaFile !== undefined;
      tlsServer = tls.createServer({ cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}), requestCert: mutual, rejectUnauthorized: mutual }, aedes.handle);
      tlsServer.on('secureConnection', track);
      tlsServer.on('tlsClientError', (err, s) => {
        metrics.authFailures.inc({ stage: 'connect', code: 'tls_handshake' });
        logger.warn({ stage: 'connect', code: 'tls_handshake', remote: s.remoteAddress, err: err.message }, 'MQTT TLS handshake refused');
      });
      servers.push(tlsServer);
      tlsPort = await listenOn(tlsServer, tlsOpts.port, host);
    }

    const check = async () => {
      try {
        renewSelfManaged();
      } catch (err) {
        logger.warn({ code: 'CERT_FAILED', err: toErrorFields(err) }, 'MQTT serving certificate could not be renewed; retrying');
      }
      await watcher?.check();
      if (source) {
        try {
          const next = await source.load();
          if (next !== table) {
            table = next;
            checker.clear();
            logger.info({ users: table.size }, 'MQTT credentials reloaded');
          }
        } catch (err) {
          logger.warn({ err: toErrorFields(err) }, 'MQTT credentials could not be reloaded; keeping the previous ones');
        }
      }
    };
    const timer = setInterval(() => {
      check().catch((err: unknown) => logger.warn({ err: toErrorFields(err) }, 'broker file check failed'));
    }, opts.checkIntervalMs ?? 30_000);
    timer.unref();

    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const tlsUrl = tlsPort !== undefined ? `mqtts://${urlHost}:${tlsPort}` : undefined;
    logger.info({ port, tlsPort, mutualTls: tlsOpts?.clientCaFile !== undefined, auth: opts.auth.kind, credentials: source?.description }, 'MQTT broker listening');
    return {
      url: port !== undefined ? `mqtt://${urlHost}:${port}` : tlsUrl!,
      port,
      tlsUrl,
      tlsPort,
      check,
      close: async () => {
        clearInterval(timer);
        await closeAll();
      },
    };
  }
}

function principalName(p: Principal | undefined): string | undefined {
  return p && p.role !== 'open' ? p.username : undefined;
}
