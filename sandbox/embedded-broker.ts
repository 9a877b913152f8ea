/**
 * The dev harness's broker: the shipped broker (broker/mqtt-broker.ts) on loopback, open (no
 * credentials, for `npm start` and tests) or with one shared base credential (tests of bases that
 * must log in).
 */
import { createSilentLogger } from '../core/logger.ts';
import { createRegistry } from '../core/ops-routes.ts';
import { createCredentialsSource } from '../broker/credentials-source.ts';
import { startBroker } from '../broker/mqtt-broker.ts';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  readonly port?: number;
  readonly host?: string;
  /** When set, clients must log in with exactly these credentials, as bases (`<prefix>@@@<identity>`). */
  readonly username?: string;
  readonly password?: string;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const auth = opts.username !== undefined
    ? { kind: 'credentials' as const, source: createCredentialsSource({ plain: [{ username: opts.username, password: opts.password ?? '', role: 'base' }] }) }
    : { kind: 'open' as const };
  const b = await startBroker({ auth, host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, logger: createSilentLogger(), registry: createRegistry(false) });
  return { url: b.url, port: b.port!, close: () => b.close() };
}
