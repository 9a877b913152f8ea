/**
 * A real local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler (built by scripts/build-control-plane.sh) on loopback, with RBAC, service-account
 * keys and an admin kubeconfig. No kubelet: module pods live on virtual nodes served by the bridge.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCerts, toKubeconfig } from './control-plane-pki.ts';
import { terminate, waitForEtcd, waitForHealthz, waitForReady } from './process-health.ts';
import { ControllerError } from '../core/errors.ts';
import { findFreePort } from './free-port.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD_SCRIPT = path.join(REPO_ROOT, 'scripts', 'build-control-plane.sh');

export interface ControlPlaneOptions {
  /** Folder for certs, etcd data, logs, pids and the kubeconfig. */
  readonly dir: string;
  /** Extra kube-scheduler instances, e.g. module-scheduler, each with its own config file. */
  readonly extraSchedulers?: ReadonlyArray<{ name: string; configFile: string }>;
  /** kube-controller-manager --node-monitor-grace-period (how long before an unheard node is NotReady). */
  readonly nodeMonitorGracePeriod?: string;
  readonly log?: (line: string) => void;
  /**
   * Also stop the processes when this process exits however it exits (the sandbox). They run
   * detached in their own process group, so a closed terminal's SIGHUP never reaches them; off for
   * `npm run cluster:up`, whose control plane outlives the command.
   */
  readonly stopOnExit?: boolean;
}

export interface ControlPlaneState {
  readonly dir: string;
  readonly binDir: string;
  readonly kubeconfig: string;
  readonly apiServerUrl: string;
  readonly ports: Record<string, number>;
  readonly pids: Record<string, number>;
}

export interface ControlPlane extends ControlPlaneState {
  stop(): Promise<void>;
  /** Stops only kube-apiserver (SIGTERM, then SIGKILL) and waits until it has exited (fault tests). */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port with the same arguments; resolves when /readyz is 200. */
  startApiServer(): Promise<void>;
}

/** Builds (or finds cached) binaries; returns their folder. Prints progress to stderr. */
export async function ensureControlPlaneBinaries(log: (line: string) => void = () => {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim() && !line.startsWith('go: downloading')) log(line);
    });
    child.on('error', (err) => reject(new ControllerError('CONTROL_PLANE_FAILED', 'could not run the build script', { cause: err })));
    child.on('exit', (code) => {
      const bin = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && bin) resolve(bin);
      else reject(new ControllerError('CONTROL_PLANE_FAILED', `building the control plane failed (exit ${code}); see the output above`));
    });
  });
}

function start(binDir: string, dir: string, name: string, args: string[]): ChildProcess {
  const logFd = openSync(path.join(dir, 'logs', `${name}.log`), 'a');
  const child = spawn(path.join(binDir, name.startsWith('kube-scheduler') ? 'kube-scheduler' : name), args, {
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  child.unref();
  return child;
}

/** Starts the control plane and waits until the API answers /readyz. */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const binDir = await ensureControlPlaneBinaries(log);
  const dir = path.resolve(opts.dir);
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const { files, ca, admin } = writeCerts(dir);
  const ports: Record<string, number> = {};
  for (const p of ['etcd', 'etcdPeer', 'apiserver', 'controllerManager', 'scheduler']) ports[p] = await findFreePort();
  const apiServerUrl = `https://127.0.0.1:${ports['apiserver']}`;
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, toKubeconfig(apiServerUrl, ca.certPem, admin), { mode: 0o600 });
  const procs: Record<string, ChildProcess> = {};
  // Last resort on any exit (an uncaught error included): SIGTERM, synchronously, what still runs.
  const killOnExit = () => {
    for (const p of Object.values(procs).reverse()) if (p.pid && p.exitCode === null) { try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ } }
  };
  if (opts.stopOnExit) process.on('exit', killOnExit);
  const stopAll = async () => {
    for (const p of Object.values(procs).reverse()) if (p.pid) await terminate(p.pid);
    process.off('exit', killOnExit);
  };
  const apiServerArgs: string[] = [];
  const startApiServer = async () => {
    procs['kube-apiserver'] = start(binDir, dir, 'kube-apiserver', apiServerArgs);
    await waitForReady(`${apiServerUrl}/readyz`, ca.certPem, admin.certPem, admin.keyPem, 'kube-apiserver', 90_000, procs['kube-apiserver']);
  };
  const stopApiServer = async () => {
    const pid = procs['kube-apiserver']?.pid;
    if (pid) await terminate(pid);
  };
  try {
    log(`starting etcd on 127.0.0.1:${ports['etcd']}`);
    procs['etcd'] = start(binDir, dir, 'etcd', [
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${ports['etcd']}`,
      `--advertise-client-urls=http://127.0.0.1:${ports['etcd']}`,
      `--listen-peer-urls=http://127.0.0.1:${ports['etcdPeer']}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports['etcdPeer']}`,
      `--initial-cluster=default=http://127.0.0.1:${ports['etcdPeer']}`,
      '--unsafe-no-fsync',
      '--quota-backend-bytes=4294967296',
      '--log-level=warn',
    ]);
    await waitForEtcd(ports['etcd']!, 30_000);
    log(`starting kube-apiserver on ${apiServerUrl}`);
    apiServerArgs.push(
      `--etcd-servers=http://127.0.0.1:${ports['etcd']}`,
      `--secure-port=${ports['apiserver']}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--tls-cert-file=${files.servingCert}`,
      `--tls-private-key-file=${files.servingKey}`,
      `--client-ca-file=${files.ca}`,
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/16',
      '--service-node-port-range=30000-32767',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=0',
    );
    await startApiServer();
    log('starting kube-controller-manager');
    procs['kube-controller-manager'] = start(binDir, dir, 'kube-controller-manager', [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--secure-port=${ports['controllerManager']}`,
      '--bind-address=127.0.0.1',
      `--service-account-private-key-file=${files.saKey}`,
      `--root-ca-file=${files.ca}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      `--node-monitor-grace-period=${opts.nodeMonitorGracePeriod ?? '40s'}`,
      '--node-monitor-period=2s',
      '--concurrent-deployment-syncs=10',
      '--concurrent-replicaset-syncs=10',
      '--profiling=false',
    ]);
    log('starting kube-scheduler');
    procs['kube-scheduler'] = start(binDir, dir, 'kube-scheduler', [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--secure-port=${ports['scheduler']}`,
      '--bind-address=127.0.0.1',
      '--leader-elect=false',
      '--profiling=false',
    ]);
    for (const s of opts.extraSchedulers ?? []) {
      ports[s.name] = await findFreePort();
      log(`starting ${s.name} (kube-scheduler --config ${s.configFile})`);
      procs[`kube-scheduler-${s.name}`] = start(binDir, dir, `kube-scheduler-${s.name}`, [
        `--config=${s.configFile}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        `--secure-port=${ports[s.name]}`,
        '--bind-address=127.0.0.1',
        '--profiling=false',
      ]);
    }
    // kube-controller-manager and the schedulers serve /healthz (allowed without credentials) once up.
    for (const [name, key] of [['kube-controller-manager', 'controllerManager'], ['kube-scheduler', 'scheduler'], ...(opts.extraSchedulers ?? []).map((x) => [`kube-scheduler-${x.name}`, x.name])] as const) {
      await waitForHealthz(ports[key]!, name, procs[name]);
    }
    const pids = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.pid ?? 0]));
    const state: ControlPlaneState = { dir, binDir, kubeconfig, apiServerUrl, ports, pids };
    writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state, null, 2));
    log(`control plane ready: kubeconfig ${kubeconfig}`);
    return {
      ...state,
      stop: stopAll,
      stopApiServer,
      startApiServer: async () => {
        await startApiServer();
        // Keep state.json naming the running process, so `cluster:down` stops the restarted one.
        const restarted = { ...state, pids: { ...state.pids, 'kube-apiserver': procs['kube-apiserver']?.pid ?? 0 } };
        writeFileSync(path.join(dir, 'state.json'), JSON.stringify(restarted, null, 2));
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Stops exactly the processes a `state.json` names (what `npm run cluster:down` does). */
export async function stopControlPlaneFromState(dir: string): Promise<string[]> {
  const file = path.join(dir, 'state.json');
  if (!existsSync(file)) return [];
  const state = JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneState;
  const stopped: string[] = [];
  for (const [name, pid] of Object.entries(state.pids).reverse()) {
    if (await terminate(pid)) stopped.push(`${name} (pid ${pid})`);
  }
  return stopped;
}

/** Runs the cached kubectl against a kubeconfig. */
export function runKubectl(binDir: string, kubeconfig: string, args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(path.join(binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
