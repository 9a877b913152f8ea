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

export interface RestartableMosquitto {
  readonly url: string;
  readonly port: number;
  /** Running right now? */
  isRunning(): boolean;
  /** SIGTERM and wait until the process has exited (its clients see the TCP connection close). */
  stop(): Promise<void>;
  /** SIGKILL (a crashed broker) and wait until it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same config; resolves once it accepts connections. */
  start(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/**
 * A Mosquitto the fault tests really stop and start again on the same port (persistence off, like
 * the runner's broker: a restart loses every session and subscription, as a crashed broker does).
 */
export async function startRestartableMosquitto(): Promise<RestartableMosquitto> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed; run: apt-get install -y mosquitto (.ci/run does this)');
  const port = await findFreePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
  let child: ReturnType<typeof spawn> | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    if (child) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const c = spawn(bin, ['-c', conf], { stdio: 'ignore' });
      child = c;
      exited = new Promise<void>((resolve) => c.once('exit', () => { if (child === c) child = undefined; resolve(); }));
      for (let i = 0; i < 100 && child === c; i++) {
        if (await canConnect(port)) return;
        await sleep(100);
      }
      // Exited at once: the port may still be held for a moment after the last stop; try again.
      await sleep(500);
    }
    throw new Error(`mosquitto did not listen on ${port} again`);
  };
  const signal = async (sig: NodeJS.Signals) => {
    const c = child;
    if (!c) return;
    c.kill(sig);
    await exited;
  };
  process.on('exit', () => { try { child?.kill('SIGKILL'); } catch { /* gone */ } });
  await start();
  return { url: `mqtt://127.0.0.1:${port}`, port, isRunning: () => child !== undefined, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL'), start };
}
