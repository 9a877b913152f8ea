/**
 * The broker the bridge starts in-process with `--mqtt-url embedded`: the same broker and rules as
 * `module-controller broker`, with the bases' credentials from a file and the bridge's own link
 * admitted as the bridge (its --mqtt-username/--mqtt-password, or a random credential made at start).
 */
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { ControllerError } from '../core/errors.ts';
import type { FlagSpec, FlagValues } from '../core/flags.ts';
import type { Logger } from '../core/logger.ts';
import { createCredentialsSource } from './credentials-source.ts';
import type { RunningBroker } from './mqtt-broker.ts';

/** The broker (Aedes, node-forge for its TLS) is loaded only when a bridge embeds one: a bridge on an external broker never pays for it. */
const loadBroker = async () => (await import('./mqtt-broker.ts')).startBroker;

export const EMBEDDED_BROKER_FLAGS = {
  embeddedBrokerCredentialsFile: { kind: 'string', description: 'Credentials file of the embedded broker (same format as "broker --credentials-file"); the bridge itself is admitted with --mqtt-username/--mqtt-password or a random credential' },
  embeddedBrokerAllowAnonymous: { kind: 'bool', description: 'Run the embedded broker without credentials: any client may command any base (trusted networks and tests only)', default: false },
} as const satisfies Record<string, FlagSpec>;

export type EmbeddedBrokerFlagValues = FlagValues<typeof EMBEDDED_BROKER_FLAGS>;

export interface EmbeddedBrokerForBridge {
  readonly broker: RunningBroker;
  /** What the bridge's own MQTT link connects with. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

export async function startEmbeddedBrokerForBridge(
  v: EmbeddedBrokerFlagValues & { readonly embeddedBrokerPort: number; readonly mqttUsername?: string | undefined; readonly mqttPassword?: string | undefined },
  deps: { readonly logger: Logger; readonly registry: Registry; readonly host?: string },
): Promise<EmbeddedBrokerForBridge> {
  const file = v.embeddedBrokerCredentialsFile;
  if (file === undefined && !v.embeddedBrokerAllowAnonymous) {
    throw new ControllerError('CONFIG_INVALID', '--mqtt-url embedded starts a broker that bases connect to: give --embedded-broker-credentials-file (docs/security.md), or --embedded-broker-allow-anonymous on a trusted network, or --mqtt-url of your broker');
  }
  if (file !== undefined && v.embeddedBrokerAllowAnonymous) throw new ControllerError('CONFIG_INVALID', '--embedded-broker-allow-anonymous cannot be combined with --embedded-broker-credentials-file; drop one');
  const host = deps.host ?? '0.0.0.0';
  if (file === undefined) {
    const startBroker = await loadBroker();
    const broker = await startBroker({ auth: { kind: 'open' }, host, port: v.embeddedBrokerPort, logger: deps.logger, registry: deps.registry });
    deps.logger.warn('embedded MQTT broker without credentials (--embedded-broker-allow-anonymous): any client may command any base');
    return { broker, username: v.mqttUsername, password: v.mqttPassword };
  }
  const username = v.mqttUsername ?? `module-controller-bridge-${randomBytes(4).toString('hex')}`;
  const password = v.mqttUsername !== undefined ? (v.mqttPassword ?? '') : randomBytes(24).toString('base64url');
  if (!password) throw new ControllerError('CONFIG_INVALID', '--mqtt-username needs --mqtt-password for the embedded broker');
  const source = createCredentialsSource({ file, plain: [{ username, password, role: 'bridge' }] });
  const startBroker = await loadBroker();
  const broker = await startBroker({ auth: { kind: 'credentials', source }, host, port: v.embeddedBrokerPort, logger: deps.logger, registry: deps.registry });
  return { broker, username, password };
}
