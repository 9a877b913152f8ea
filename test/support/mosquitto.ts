/** A real Mosquitto broker (Debian's package) on a free loopback port, for tests and benchmarks. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '../../sandbox/free-port.ts';

export function findMosquitto(): string | undefined {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return undefined;
}

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  stop(): void;
  /** Resolves when the process has exited (the port is free again). */
  readonly stopped: Promise<void>;
}

/** `port`: listen there (e.g. to restart a stopped broker on the same URL); default a free port. */
export async function startMosquitto(opts: { port?: number } = {}): Promise<Mosquitto> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed; run: apt-get install -y mosquitto (.ci/run does this)');
  const port = opts.port ?? await findFreePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
  const child = spawn(bin, ['-c', conf], { stdio: 'ignore', detached: true });
  child.unref();
  const stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) {
      return { url: `mqtt://127.0.0.1:${port}`, port, stopped, stop: () => { try { process.kill(child.pid!, 'SIGTERM'); } catch { /* gone */ } } };
    }
    await sleep(100);
  }
  throw new Error(`mosquitto did not listen on ${port}`);
}
