/** `module-controller base-sim`: simulated Koupleless bases speaking the real MQTT protocol. */
import { defineCommand, untilAborted } from '../core/command.ts';
import { FLAG_SPELLINGS, MQTT_URL_SCHEMES, type FlagSpec } from '../core/flags.ts';
import type { Logger } from '../core/logger.ts';
import { DEFAULTS } from '../core/names.ts';
import { FLEET_DEFAULTS, startFleet } from './fleet.ts';
import { createRandom } from './random.ts';
import type { SimEvent } from './sim-base.ts';

const flags = {
  mqttUrl: { kind: 'string', description: 'Broker URL (mqtt:// or mqtts://)', default: 'mqtt://127.0.0.1:1883', url: { schemes: MQTT_URL_SCHEMES } },
  mqttUsername: { kind: 'string', description: 'Broker username (real bases require one)' },
  mqttPassword: { kind: 'string', description: 'Broker password' },
  mqttEnv: { kind: 'string', description: 'Topic env segment: koupleless_<env>/...', default: DEFAULTS.mqttEnv, flag: FLAG_SPELLINGS.env.flag, aliases: FLAG_SPELLINGS.env.was },
  count: { kind: 'int', description: 'Number of bases in this process', default: 1, min: 1, max: 65_024 },
  baseName: { kind: 'string', description: 'Base app name (metadata name, node label base.koupleless.io/name)', default: FLEET_DEFAULTS.name },
  baseVersion: { kind: 'string', description: 'Base version (node label base.koupleless.io/version)', default: FLEET_DEFAULTS.version },
  clusterName: { kind: 'string', description: 'Base cluster name (node label base.koupleless.io/cluster-name)', default: FLEET_DEFAULTS.clusterName },
  identityPrefix: { kind: 'string', description: 'Base identity = <prefix><index>; empty: the base IP, like real bases', default: '' },
  ipPrefix: { kind: 'string', description: '1-3 leading octets of the reported base IPs (nothing listens on them)', default: FLEET_DEFAULTS.ipPrefix },
  firstIndex: { kind: 'int', description: 'Index of the first base (to run several processes side by side)', default: 0, min: 0 },
  clientIdPrefix: { kind: 'string', description: 'MQTT client id prefix: <prefix>@@@<baseIdentity>', default: FLEET_DEFAULTS.clientIdPrefix, flag: FLAG_SPELLINGS.mqttClientIdPrefix.flag, aliases: FLAG_SPELLINGS.mqttClientIdPrefix.was },
  heartbeatPeriod: { kind: 'duration', description: 'Heartbeat period', default: '10s', min: 50 },
  installLatency: { kind: 'duration', description: 'Time an install or uninstall takes before the reply', default: '1s', min: 0 },
  failurePercent: { kind: 'int', description: 'Percent of module starts that fail (reply FAILED)', default: 0, min: 0, max: 100 },
  seed: { kind: 'int', description: 'Seed for the failure dice (reproducible runs); unset: random' },
  moduleSwitching: { kind: 'bool', description: 'Installing name:v2 activates it and deactivates name:v1 (else v2 stays DEACTIVATED)', default: false },
  reportJarVersion: { kind: 'bool', description: 'Install a module under the version in its jar file name <bizName>-<version>-ark-biz.jar (like a real base reading the jar), not the commanded one', default: false },
  keepBrokenModules: { kind: 'bool', description: 'A module that failed to start stays listed as BROKEN (else it is removed)', default: false },
  masterBizState: {
    kind: 'string',
    description: 'Master biz state in health replies (not ACTIVATED = unhealthy base)',
    default: 'ACTIVATED',
    choices: ['ACTIVATED', 'DEACTIVATED', 'RESOLVED', 'BROKEN'],
  },
} as const satisfies Record<string, FlagSpec>;

function toEventLog(logger: Logger): (e: SimEvent) => void {
  return (e) => {
    if (e.kind === 'command' && e.outcome === 'ANSWERED') logger.debug(e, 'answered');
    else if (e.kind === 'command') logger.info(e, `${e.command} ${e.outcome}`);
    else if (e.kind === 'ignored') logger.warn(e, 'ignored a message');
    else logger.debug(e, e.kind);
  };
}

export const baseSimCommand = defineCommand({
  name: 'base-sim',
  summary: 'Simulated Koupleless bases: heartbeats, baseline, health, module list and install/uninstall over the real MQTT protocol',
  flags,
  async run(c, ctx) {
    const started = Date.now();
    const fleet = await startFleet({
      url: c.mqttUrl,
      username: c.mqttUsername,
      password: c.mqttPassword,
      env: c.mqttEnv,
      count: c.count,
      name: c.baseName,
      version: c.baseVersion,
      clusterName: c.clusterName,
      identityPrefix: c.identityPrefix,
      ipPrefix: c.ipPrefix,
      firstIndex: c.firstIndex,
      clientIdPrefix: c.clientIdPrefix,
      heartbeatPeriodMs: c.heartbeatPeriod,
      installLatencyMs: c.installLatency,
      failureRate: c.failurePercent / 100,
      switching: c.moduleSwitching,
      keepBroken: c.keepBrokenModules,
      reportJarVersion: c.reportJarVersion,
      masterBizState: c.masterBizState,
      random: c.seed === undefined ? Math.random : createRandom(c.seed),
      onEvent: toEventLog(ctx.logger),
    });
    const first = fleet.bases[0]!;
    const last = fleet.bases.at(-1)!;
    ctx.logger.info(
      { count: fleet.bases.length, url: c.mqttUrl, env: c.mqttEnv, first: first.identity, last: last.identity, ms: Date.now() - started },
      'bases connected',
    );
    await untilAborted(ctx.signal);
    await fleet.stop();
    ctx.logger.info({ count: fleet.bases.length }, 'bases stopped');
  },
});
