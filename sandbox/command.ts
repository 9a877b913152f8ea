/**
 * `module-controller sandbox` (`npm start`): everything on this machine with embedded defaults — the
 * real control plane, an in-process MQTT broker, webhook, extender, module-scheduler, bridge and
 * simulated bases. Ctrl-C stops it all.
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
    const dir = path.resolve(v.dir);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    out('starting the local control plane (the first run builds it from source; that takes a while)…');
    const cp = await startControlPlane({ dir, log: (l) => out(`  ${l}`) });
    let broker;
    try {
      broker = await startEmbeddedBroker({ port: v.mqttPort });
    } catch {
      logger.warn({ port: v.mqttPort }, 'MQTT port busy; using a free port');
      broker = await startEmbeddedBroker({ port: 0 });
    }
    const serviceLog = createWriteStream(path.join(dir, 'logs', 'module-controller.log'), { flags: 'a' });
    const stack = await startModuleStack({ dir, binDir: cp.binDir, kubeconfig: cp.kubeconfig, mqttUrl: broker.url, logLevel: v.serviceLogLevel, logTo: serviceLog });
    const fleet = v.bases > 0
      ? await startFleet({ url: broker.url, count: v.bases, name: v.baseName, version: v.baseVersion, ipPrefix: v.ipPrefix, heartbeatPeriodMs: 5_000, installLatencyMs: 300, switching: true })
      : undefined;
    const kubectl = `${path.join(cp.binDir, 'kubectl')} --kubeconfig ${cp.kubeconfig}`;
    out([
      '',
      'module-controller sandbox is up.',
      `  kubeconfig   ${cp.kubeconfig}`,
      `  MQTT broker  ${broker.url}   (env "default": topics koupleless_default/...)`,
      '               UNAUTHENTICATED, loopback only: any local client may command any base (docs/security.md)',
      `  bases        ${fleet ? fleet.bases.map((b) => b.identity).join(', ') : 'none'}  (${v.baseName}:${v.baseVersion})`,
      `  logs         ${path.join(dir, 'logs')}`,
      '',
      'Try:',
      `  ${kubectl} get nodes -o wide`,
      `  ${kubectl} apply -f samples/module-deployment.yaml`,
      `  ${kubectl} get pods -o wide`,
      `  ${kubectl} get pod --field-selector status.podIP=${fleet?.bases[0]?.info.localIP ?? '<baseIP>'}`,
      `  ${kubectl} scale deployment biz1 --replicas=4     # the 4th stays Pending: one replica per base`,
      `  ${kubectl} apply -f samples/invalid-module.yaml    # rejected with a clear message`,
      '',
      'Ctrl-C stops everything.',
    ].join('\n'));
    await untilAborted(signal);
    out('stopping…');
    await fleet?.stop();
    await stack.stop();
    await broker.close();
    await cp.stop();
    serviceLog.end();
  },
});
