/**
 * The test suite's real control plane. scripts/run-tests.ts starts one per test run and names its
 * state file in MC_TEST_CONTROL_PLANE; a test file run on its own starts a private one instead.
 * Each test file works in fresh namespaces from `createNamespace`.
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { startControlPlane, runKubectl, type ControlPlaneState } from '../../sandbox/control-plane.ts';
import { findFreePort } from '../../sandbox/free-port.ts';
import { withSharedAgents } from '../../core/kubeconfig.ts';

export interface TestCluster {
  readonly state: ControlPlaneState;
  readonly kubeconfig: string;
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly coordination: k8s.CoordinationV1Api;
  kubectl(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A fresh namespace whose default ServiceAccount exists (pods can be created in it). */
  createNamespace(prefix: string): Promise<string>;
  /**
   * Starts one more kube-scheduler from the cached binary with a KubeSchedulerConfiguration
   * (YAML text; `KUBECONFIG_PATH` in it is replaced by the admin kubeconfig). Stop it when done.
   */
  startScheduler(name: string, configYaml: string): Promise<{ stop(): void; logFile: string }>;
}

let cached: Promise<TestCluster> | undefined;

async function load(): Promise<TestCluster> {
  let state: ControlPlaneState;
  const stateFile = process.env['MC_TEST_CONTROL_PLANE'];
  if (stateFile) {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as ControlPlaneState;
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-cp-'));
    const cp = await startControlPlane({ dir, nodeMonitorGracePeriod: '20s', log: (l) => process.stderr.write(`${l}\n`) });
    process.on('exit', () => {
      for (const pid of Object.values(cp.pids)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    });
    state = cp;
  }
  return connectTestCluster(state);
}

/** A TestCluster over a running control plane (the shared one, or a private one a fault test started). */
export function connectTestCluster(state: ControlPlaneState): TestCluster {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  withSharedAgents(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const schedulers: ChildProcess[] = [];
  process.on('exit', () => { for (const s of schedulers) { try { s.kill('SIGTERM'); } catch { /* gone */ } } });
  return {
    state,
    kubeconfig: state.kubeconfig,
    kc,
    core,
    apps,
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    kubectl: (args, input) => runKubectl(state.binDir, state.kubeconfig, args, input),
    async createNamespace(prefix) {
      const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
      await core.createNamespace({ body: { metadata: { name } } });
      for (let i = 0; i < 200; i++) {
        try {
          await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
          return name;
        } catch {
          await sleep(100);
        }
      }
      throw new Error(`default ServiceAccount never appeared in ${name}`);
    },
    async startScheduler(name, configYaml) {
      const dir = mkdtempSync(path.join(os.tmpdir(), `mc-${name}-`));
      const cfg = path.join(dir, 'config.yaml');
      writeFileSync(cfg, configYaml.replaceAll('KUBECONFIG_PATH', state.kubeconfig));
      const port = await findFreePort();
      const logFile = path.join(dir, 'scheduler.log');
      const { openSync } = await import('node:fs');
      const fd = openSync(logFile, 'a');
      const child = spawn(path.join(state.binDir, 'kube-scheduler'), [
        `--config=${cfg}`, `--secure-port=${port}`, '--bind-address=127.0.0.1',
        `--authentication-kubeconfig=${state.kubeconfig}`, `--authorization-kubeconfig=${state.kubeconfig}`,
      ], { stdio: ['ignore', fd, fd] });
      schedulers.push(child);
      return { stop: () => child.kill('SIGTERM'), logFile };
    },
  };
}

export function getTestCluster(): Promise<TestCluster> {
  cached ??= load();
  return cached;
}

/** Polls `fn` until it returns a non-undefined value or the timeout passes (then throws with `what`). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** The real external broker's URL when the runner started Mosquitto (MC_TEST_MOSQUITTO_URL). */
export function mosquittoUrlFromEnv(): string | undefined {
  return process.env['MC_TEST_MOSQUITTO_URL'];
}
