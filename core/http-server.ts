/** Listening is kept apart from building apps, so tests can call apps in-process with supertest. */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import type { SecureContextOptions } from 'node:tls';

export interface ListeningServer {
  readonly port: number;
  readonly server: http.Server | https.Server;
  /** Stops accepting, lets in-flight requests finish, then closes idle keep-alive sockets. */
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly port: number;
  readonly host?: string;
  /** Serve HTTPS with this context; `setSecureContext` can swap it later (cert rotation). */
  readonly tls?: SecureContextOptions;
  /** The apiserver keeps connections open; outlive its idle timeout so it reuses them. */
  readonly keepAliveTimeoutMs?: number;
}

export async function listen(app: RequestListener, opts: ListenOptions): Promise<ListeningServer> {
  const server = opts.tls ? https.createServer({ ...opts.tls }, app) : http.createServer(app);
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
  server.headersTimeout = server.keepAliveTimeout + 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
  };
}
