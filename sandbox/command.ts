/**
 * `module-controller sandbox` (`npm start`): everything on this machine with embedded defaults — the
 * real control plane, an in-process MQTT broker, webhook, extender, module-scheduler, bridge and
 * simulated bases. Ctrl-C, SIGTERM or closing the terminal (SIGHUP) stops it all, the detached
 * control-plane processes included. Every log goes under <dir>/logs.
 */
import { mkdirSync, rmSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import { defineCommand, untilAborted } from '../core/command.ts';
import { startFleet } from '../base-sim/fleet.ts';
import { startControlPlane } from './control-plane.ts';
import { startEmbeddedBroker } from './embedded-broker.ts';
import { startModuleStack } from './module-stack.ts';

export const sandboxCommand = defineCommand({
  name: 'sandbox',
  summary: 'Runs a complete local module-controller: control plane, MQTT broker, webhook, extender, module-scheduler, bridge and simulated bases.',
  flags: {
    dir: { kind: 'string', description: 'Folder for the control plane\'s data, kubeconfig and logs (emptied at start)', default: '.sandbox' },
    bases: { kind: 'int', description: 'Number of simulated bases', default: 3, min: 0, max: 1000 },
    baseName: { kind: 'string', description: 'Name of the simulated bases', default: 'base' },
    baseVersion: { kind: 'string', description: 'Version of the simulated bases', default: '1.0.0' },
    ipPrefix: { kind: 'string', description: 'Leading octets of the simulated base IPs (a documentation range: nothing is ever sent there)', default: '192.0.2' },
    mqttPort: { kind: 'int', description: 'Port of the embedded MQTT broker (0 = any free port)', default: 1883, min: 0, max: 65535 },
    serviceLogLevel: { kind: 'string', description: 'Log level of the services (their JSON logs go to <dir>/logs)', default: 'info' },
  },
  async run(v, { logger, signal, out }) {
    // After a closed terminal, writes to it fail (EIO/EPIPE): that must not crash the shutdown.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    const dir = path.resolve(v.dir);
    const logs = path.join(dir, 'logs');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(logs, { recursive: true });
    out('starting the local control plane (the first run builds it from source: 10-30 minutes on 2 cores; later runs start in seconds)…');
    const cp = await startControlPlane({ dir, log: (l) => out(`  ${l}`), stopOnExit: true });
    let broker;
    try {
      broker = await startEmbeddedBroker({ port: v.mqttPort });
    } catch {
      logger.warn({ port: v.mqttPort }, 'MQTT port busy; using a free port');
      broker = await startEmbeddedBroker({ port: 0 });
    }
    const serviceLog = createWriteStream(path.join(logs, 'module-controller.log'), { flags: 'a' });
    const stack = await startModuleStack({ dir, logDir: logs, binDir: cp.binDir, kubeconfig: cp.kubeconfig, mqttUrl: broker.url, logLevel: v.serviceLogLevel, logTo: serviceLog });
    const fleet = v.bases > 0
      ? await startFleet({ url: broker.url, count: v.bases, name: v.baseName, version: v.baseVersion, ipPrefix: v.ipPrefix, heartbeatPeriodMs: 5_000, installLatencyMs: 300 })
      : undefined;
    out(toSandboxBanner({
      kubeconfig: cp.kubeconfig,
      kubectlDir: cp.binDir,
      logs,
      services: [
        { name: 'kube-apiserver', url: cp.apiServerUrl, paths: '/readyz, /metrics (client certificate: the kubeconfig\'s)' },
        { name: 'webhook', url: stack.webhookUrl, paths: '/healthz, /readyz, /metrics' },
        { name: 'extender', url: stack.extenderUrl, paths: '/healthz, /readyz, /metrics' },
        { name: 'bridge', url: `http://127.0.0.1:${stack.bridgePort}`, paths: '/healthz, /readyz, /metrics' },
        { name: 'module-scheduler', url: `https://127.0.0.1:${stack.schedulerPort}`, paths: '/healthz' },
        { name: 'MQTT broker', url: broker.url, paths: 'env "default": topics koupleless_default/… (in-process, UNAUTHENTICATED: loopback only, any local client may command any base; docs/security.md)' },
      ],
      bases: fleet ? fleet.bases.map((b) => b.identity) : [],
      baseLabel: `${v.baseName}:${v.baseVersion}`,
      firstBaseIp: fleet?.bases[0]?.info.localIP,
    }));
    await untilAborted(signal);
    out('stopping…');
    await fleet?.stop();
    await stack.stop();
    await broker.close();
    await cp.stop();
    serviceLog.end();
  },
});

export interface SandboxBannerInput {
  readonly kubeconfig: string;
  readonly kubectlDir: string;
  readonly logs: string;
  readonly services: ReadonlyArray<{ readonly name: string; readonly url: string; readonly paths: string }>;
  readonly bases: readonly string[];
  readonly baseLabel: string;
  readonly firstBaseIp: string | undefined;
}

/** What `npm start` prints once everything is up: every address, one export line, short commands. */
export function toSandboxBanner(b: SandboxBannerInput): string {
  const width = Math.max(...b.services.map((s) => s.name.length));
  return [
    '',
    'module-controller sandbox is up.',
    ...b.services.map((s) => `  ${s.name.padEnd(width)}  ${s.url}   ${s.paths}`),
    `  ${'bases'.padEnd(width)}  ${b.bases.length > 0 ? b.bases.join(', ') : 'none'}  (${b.baseLabel})`,
    `  ${'logs'.padEnd(width)}  ${b.logs}`,
    '',
    'In another terminal:',
    `  export KUBECONFIG=${b.kubeconfig} PATH=${b.kubectlDir}:$PATH`,
    '',
    'Try:',
    '  kubectl get nodes -o wide',
    '  kubectl apply -f samples/module-deployment.yaml',
    '  kubectl get pods -o wide',
    `  kubectl get pod --field-selector status.podIP=${b.firstBaseIp ?? '<baseIP>'}`,
    '  kubectl scale deployment biz1 --replicas=4     # the 4th stays Pending: one replica per base',
    '  kubectl apply -f samples/invalid-module.yaml    # rejected with a clear message',
    '  kubectl apply -f samples/upstream-quick-start-deployment.yaml   # a Koupleless quick-start manifest, as written',
    '',
    'Ctrl-C (or closing this terminal) stops everything.',
  ].join('\n');
}
