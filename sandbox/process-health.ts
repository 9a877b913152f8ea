/** Waiting for control-plane processes to be healthy, and stopping them. */
import type { ChildProcess } from 'node:child_process';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControllerError } from '../core/errors.ts';

export async function waitForReady(url: string, ca: string, cert: string, key: string, what: string, timeoutMs: number, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) break;
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = https.get(url, { ca, cert, key, timeout: 2000 }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error('timeout')));
      });
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new ControllerError('CONTROL_PLANE_FAILED', `${what} did not become ready (${last || 'process exited'}); see its log`);
}

export async function waitForHealthz(port: number, what: string, proc: ChildProcess | undefined, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) break;
    const ok = await new Promise<boolean>((resolve) => {
      const req = https.get(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
    if (ok) return;
    await sleep(250);
  }
  throw new ControllerError('CONTROL_PLANE_FAILED', `${what} did not become healthy on port ${port}; see logs/${what}.log`);
}

export async function waitForEtcd(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new ControllerError('CONTROL_PLANE_FAILED', 'etcd did not become healthy; see logs/etcd.log');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`. Called in reverse start order and one at a time: the API
 * server hangs in its shutdown if etcd goes first.
 */
export async function terminate(pid: number, graceMs = 10_000): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return true;
}

