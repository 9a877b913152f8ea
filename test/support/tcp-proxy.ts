/**
 * A byte-level TCP forwarder for fault tests: clients connect to it instead of a real server (the
 * real kube-apiserver here; TLS stays end to end), and the test can cut the link — every open
 * connection reset, new ones reset on accept — and heal it. It is a network fault, not a fake server.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Resets every connection and refuses new ones until heal(). */
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let broken = false;
  const server = net.createServer((client) => {
    if (broken) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut() {
      broken = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    heal() {
      broken = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
