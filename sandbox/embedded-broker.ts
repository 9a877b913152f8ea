/** The embedded default MQTT broker: Aedes (MQTT 3.1.1) in-process, on a TCP port. */
import net from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  readonly port?: number;
  readonly host?: string;
  /** When set, clients must present exactly these credentials (real bases require auth). */
  readonly username?: string;
  readonly password?: string;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  if (opts.username !== undefined) {
    aedes.authenticate = (_client, username, password, done) => {
      const ok = username === opts.username && (password?.toString() ?? '') === (opts.password ?? '');
      done(null, ok);
    };
  }
  const server = net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
