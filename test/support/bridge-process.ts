/**
 * The bridge as a real child process (`node cli/main.ts bridge ...`), so a fault test can `kill -9`
 * it or stop it with SIGTERM like Kubernetes does, and read its JSON log afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '../../sandbox/free-port.ts';
import { BRIDGE_FLAGS } from '../../bridge/config.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Test-speed timings (4 s to NotReady, 1 s polls) as bridge flags. */
export const FAST_BRIDGE_ARGS: readonly string[] = Object.freeze([
  '--not-ready-after', '4s',
  '--delete-after', '60s',
  '--health-poll-period', '1s',
  '--module-list-period', '2s',
  '--node-lease-renew', '2s',
  '--command-timeout', '3s',
  '--retry-backoff-base', '500ms',
  '--retry-backoff-max', '4s',
  '--leader-lease-duration', '4s',
  '--max-modules-per-base', '10',
  '--module-services=false',
]);

/**
 * Fast values for flags that only some builds of the bridge have (the liveness work adds
 * --reconnect-grace, default 15 s): passed only when this build's flag table has them, so the
 * harness runs against the bridge before and after that change.
 */
export const OPTIONAL_FAST_BRIDGE_ARGS: Readonly<Record<string, string>> = Object.freeze({
  reconnectGrace: '2s',
});

/** The subset of OPTIONAL_FAST_BRIDGE_ARGS this build of the bridge understands, as flags. */
export function optionalFastArgs(): string[] {
  const known: Record<string, unknown> = BRIDGE_FLAGS;
  return Object.entries(OPTIONAL_FAST_BRIDGE_ARGS)
    .filter(([key]) => key in known)
    .flatMap(([key, value]) => [`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, value]);
}

export interface BridgeProcessOptions {
  readonly kubeconfig: string;
  readonly mqttUrl: string;
  /** Koupleless env: each fault test uses its own, so its bridge sees only its own virtual nodes. */
  readonly env: string;
  readonly instanceId: string;
  readonly leaseName: string;
  /** Replaces FAST_BRIDGE_ARGS' value of the same flag, or adds a flag. */
  readonly args?: readonly string[];
  readonly logLevel?: string;
}

export interface BridgeProcess {
  readonly instanceId: string;
  readonly port: number;
  readonly logFile: string;
  readonly pid: number;
  /** Exited (for whatever reason)? */
  exited(): boolean;
  /** SIGKILL: no cleanup, the Lease stays until it expires. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit; returns how long the stop took and the exit code. */
  terminate(timeoutMs?: number): Promise<{ ms: number; code: number | null; signal: NodeJS.Signals | null }>;
  /** The gauge module_controller_bridge_is_leader (false when /metrics does not answer). */
  isLeader(): Promise<boolean>;
  /** /readyz answers 200. */
  isReady(): Promise<boolean>;
  /** The value of an unlabelled metric (gauge/counter) from /metrics; undefined when absent or /metrics does not answer. */
  metric(name: string): Promise<number | undefined>;
  /** The log so far, one parsed JSON object per line (non-JSON lines as { msg }). */
  log(): Array<Record<string, unknown>>;
  /** Log lines at warn or above, or matching `re` anywhere, as short text (for failure messages). */
  notable(re?: RegExp): string[];
}

/** Merges flag lists: a flag in `over` replaces the same flag (and its value) in `base`. */
export function mergeFlags(base: readonly string[], over: readonly string[]): string[] {
  const name = (f: string) => f.split('=')[0]!;
  const parse = (list: readonly string[]) => {
    const out: string[][] = [];
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      if (f.includes('=') || list[i + 1] === undefined || list[i + 1]!.startsWith('--')) out.push([f]);
      else out.push([f, list[++i]!]);
    }
    return out;
  };
  const overs = parse(over);
  const replaced = new Set(overs.map((g) => name(g[0]!)));
  return [...parse(base).filter((g) => !replaced.has(name(g[0]!))), ...overs].flat();
}

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

export async function startBridgeProcess(o: BridgeProcessOptions): Promise<BridgeProcess> {
  const port = await findFreePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), `mc-bridge-${o.instanceId}-`));
  const logFile = path.join(dir, 'bridge.log');
  const fd = openSync(logFile, 'a');
  const args = [
    path.join(REPO_ROOT, 'cli', 'main.ts'), 'bridge',
    '--kubeconfig', o.kubeconfig,
    '--mqtt-url', o.mqttUrl,
    '--env', o.env,
    '--instance-id', o.instanceId,
    '--leader-elect',
    '--leader-lease-name', o.leaseName,
    '--port', String(port),
    // MC_TEST_LOG=debug (as for the in-process harness) makes the child bridge log at debug too.
    '--log-level', o.logLevel ?? process.env['MC_TEST_LOG'] ?? 'info',
    ...mergeFlags([...FAST_BRIDGE_ARGS, ...optionalFastArgs()], o.args ?? []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => { exit = { code, signal }; resolve(); }));
  process.on('exit', () => { if (!exit) { try { child.kill('SIGKILL'); } catch { /* gone */ } } });
  const log = () => readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => {
    try { return JSON.parse(l) as Record<string, unknown>; } catch { return { msg: l }; }
  });
  const bp: BridgeProcess = {
    instanceId: o.instanceId,
    port,
    logFile,
    pid: child.pid ?? 0,
    exited: () => exit !== undefined,
    async kill9() {
      if (exit) return;
      child.kill('SIGKILL');
      await exited;
    },
    async terminate(timeoutMs = 30_000) {
      const t0 = Date.now();
      if (!exit) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(timeoutMs)]);
        if (!exit) { child.kill('SIGKILL'); await exited; }
      }
      return { ms: Date.now() - t0, code: exit!.code, signal: exit!.signal };
    },
    async isLeader() {
      const r = await get(`http://127.0.0.1:${port}/metrics`);
      return r?.status === 200 && /^module_controller_bridge_is_leader 1$/m.test(r.body);
    },
    async isReady() {
      return (await get(`http://127.0.0.1:${port}/readyz`))?.status === 200;
    },
    async metric(name) {
      const r = await get(`http://127.0.0.1:${port}/metrics`);
      if (r?.status !== 200) return undefined;
      const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(r.body);
      return m ? Number(m[1]) : undefined;
    },
    log,
    notable(re) {
      return log()
        .filter((l) => (typeof l['level'] === 'number' && l['level'] >= 40) || (re && re.test(JSON.stringify(l))))
        .map((l) => { const { time: _t, pid: _p, hostname: _h, name: _n, ...rest } = l; return JSON.stringify(rest); });
    },
  };
  // Up when /healthz answers (it listens only after startBridge is wired); fail fast if it exits.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exit) throw new Error(`bridge ${o.instanceId} exited at start (code ${exit.code}): ${readFileSync(logFile, 'utf8').slice(-2_000)}`);
    if ((await get(`http://127.0.0.1:${port}/healthz`))?.status === 200) return bp;
    await sleep(200);
  }
  await bp.kill9();
  throw new Error(`bridge ${o.instanceId} did not serve /healthz within 30 s; log: ${logFile}`);
}

/** The one replica (of those still running) that says it leads, once exactly one does. */
export async function currentLeader(bridges: readonly BridgeProcess[]): Promise<BridgeProcess | undefined> {
  const live = bridges.filter((b) => !b.exited());
  const flags = await Promise.all(live.map((b) => b.isLeader()));
  const leaders = live.filter((_, i) => flags[i]);
  return leaders.length === 1 ? leaders[0] : undefined;
}
