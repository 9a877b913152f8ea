/**
 * The module-controller services on a running control plane, in this process: extender, webhook
 * (URL registration with its own CA), bridge, and the module-scheduler (kube-scheduler calling the
 * extender). Shared by `npm start` (sandbox) and the end-to-end tests.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { extenderCommand } from '../extender/command.ts';
import { webhookCommand } from '../webhook/command.ts';
import { bridgeCommand } from '../bridge/command.ts';
import { moduleDeploymentCommand } from '../moduledeployment/command.ts';
import { installModuleDeploymentCrds } from '../moduledeployment/install-crds.ts';
import { renderSchedulerConfigTemplate } from '../extender/scheduler-config.ts';
import { ControllerError } from '../core/errors.ts';
import * as k8s from '@kubernetes/client-node';
import { loadKubeConfig } from '../core/kubeconfig.ts';
import { findFreePort } from './free-port.ts';
import { runInProcess } from './run-in-process.ts';

export interface ModuleStackOptions {
  readonly dir: string;
  readonly binDir: string;
  readonly kubeconfig: string;
  readonly mqttUrl: string;
  readonly logLevel: string;
  readonly logTo?: Writable;
  /** Extra flags per service (test-speed timings, defaults...). */
  readonly webhookArgs?: readonly string[];
  readonly extenderArgs?: readonly string[];
  readonly bridgeArgs?: readonly string[];
  readonly moduleDeploymentArgs?: readonly string[];
  /** Install the ModuleDeployment CRDs and run their controller (default true). */
  readonly moduleDeployment?: boolean;
  /** Unique names so several stacks in one cluster's lifetime do not collide (tests). */
  readonly suffix?: string;
  /** Where the module-scheduler's log goes (default: `dir`). */
  readonly logDir?: string;
}

export interface ModuleStack {
  readonly extenderUrl: string;
  readonly bridgePort: number;
  /** Port of the module-deployment controller's /healthz, /readyz, /metrics (0 when not run). */
  readonly moduleDeploymentPort: number;
  readonly webhookConfigName: string;
  readonly schedulerLog: string;
  /** `https://127.0.0.1:<port>` of the webhook (its /healthz, /readyz, /metrics too). */
  readonly webhookUrl: string;
  /** The module-scheduler's secure port (/healthz, /metrics over HTTPS). */
  readonly schedulerPort: number;
  stop(): Promise<void>;
}

async function waitHttp(url: string, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new ControllerError('INTERNAL', `${what} did not become ready at ${url}`);
}

export async function startModuleStack(o: ModuleStackOptions): Promise<ModuleStack> {
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  const fail = (what: string) => (err: unknown) => {
    process.stderr.write(`${what} stopped with an error: ${(err as Error).message}\n`);
  };
  const common = ['--log-level', o.logLevel];
  const suffix = o.suffix ?? '';
  const webhookName = `module-controller-webhook${suffix}`;

  const extenderPort = await findFreePort();
  const extenderUrl = `http://127.0.0.1:${extenderPort}`;
  running.push(runInProcess(extenderCommand, [...common, '--port', String(extenderPort), '--bind-address', '127.0.0.1', '--kubeconfig', o.kubeconfig, ...(o.extenderArgs ?? [])], { signal: stop.signal, logTo: o.logTo }).catch(fail('extender')));
  await waitHttp(`${extenderUrl}/readyz`, 'extender');

  let webhookUrl = '';
  const webhookReady = new Promise<void>((resolve) => {
    running.push(
      runInProcess(
        webhookCommand,
        [...common, '--port', '0', '--bind-address', '127.0.0.1', '--kubeconfig', o.kubeconfig, '--registration', 'url', '--url-host', '127.0.0.1', '--ca-secret-name', '', '--mutating-config-name', webhookName, '--validating-config-name', webhookName, ...(o.webhookArgs ?? [])],
        { signal: stop.signal, logTo: o.logTo, out: (line) => { webhookUrl = /https:\/\/\S+/.exec(line)?.[0] ?? webhookUrl; resolve(); } },
      ).catch(fail('webhook')),
    );
  });
  await Promise.race([webhookReady, sleep(30_000).then(() => { throw new ControllerError('INTERNAL', 'webhook did not start'); })]);

  const bridgePort = await findFreePort();
  // The bridge shares this process with every other component: it must not set its process-wide V8 flags (bridge/runtime.ts) on them.
  running.push(runInProcess(bridgeCommand, [...common, '--port', String(bridgePort), '--kubeconfig', o.kubeconfig, '--mqtt-url', o.mqttUrl, '--leader-elect=false', '--optimize-for-size=false', ...(o.bridgeArgs ?? [])], { signal: stop.signal, logTo: o.logTo }).catch(fail('bridge')));
  await waitHttp(`http://127.0.0.1:${bridgePort}/readyz`, 'bridge');

  let moduleDeploymentPort = 0;
  if (o.moduleDeployment ?? true) {
    await installModuleDeploymentCrds(loadKubeConfig(o.kubeconfig));
    moduleDeploymentPort = await findFreePort();
    running.push(runInProcess(moduleDeploymentCommand, [...common, '--port', String(moduleDeploymentPort), '--kubeconfig', o.kubeconfig, '--leader-elect=false', ...(o.moduleDeploymentArgs ?? [])], { signal: stop.signal, logTo: o.logTo }).catch(fail('module-deployment')));
    await waitHttp(`http://127.0.0.1:${moduleDeploymentPort}/readyz`, 'module-deployment controller');
  }

  const configFile = path.join(o.dir, `module-scheduler${suffix}.yaml`);
  writeFileSync(configFile, renderSchedulerConfigTemplate({ extenderUrl, kubeconfig: o.kubeconfig, leaseNamespace: 'kube-system' }).replace('resourceName: module-scheduler', `resourceName: module-scheduler${suffix}`));
  const schedulerLog = path.join(o.logDir ?? o.dir, `module-scheduler${suffix}.log`);
  const fd = openSync(schedulerLog, 'a');
  const schedulerPort = await findFreePort();
  const scheduler: ChildProcess = spawn(path.join(o.binDir, 'kube-scheduler'), [`--config=${configFile}`, `--secure-port=${schedulerPort}`, '--bind-address=127.0.0.1', `--authentication-kubeconfig=${o.kubeconfig}`, `--authorization-kubeconfig=${o.kubeconfig}`], { stdio: ['ignore', fd, fd] });
  return {
    extenderUrl,
    bridgePort,
    moduleDeploymentPort,
    webhookConfigName: webhookName,
    schedulerLog,
    webhookUrl,
    schedulerPort,
    stop: async () => {
      scheduler.kill('SIGTERM');
      stop.abort();
      await Promise.all(running);
      // URL-registered configurations would point at a closed port; remove them with the stack.
      const api = loadKubeConfig(o.kubeconfig).makeApiClient(k8s.AdmissionregistrationV1Api);
      await api.deleteMutatingWebhookConfiguration({ name: webhookName }).catch(() => undefined);
      await api.deleteValidatingWebhookConfiguration({ name: webhookName }).catch(() => undefined);
    },
  };
}
