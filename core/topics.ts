/**
 * MQTT topics of the Koupleless base protocol (koupleless-protocol.md "Topics"), in one place.
 * `P` = `koupleless_<env>/<baseIdentity>`. A base identity may contain dots but never '/'.
 */

export type BaseMessageKind =
  | 'heart'
  | 'queryBaseline'
  | 'health'
  | 'simpleBiz'
  | 'biz'
  | 'bizOperation'
  | 'batchInstallBizResponse';

export type CommandKind = 'health' | 'queryAllBiz' | 'installBiz' | 'uninstallBiz' | 'baseline';

export const BASE_MESSAGE_KINDS: readonly BaseMessageKind[] = [
  'heart',
  'queryBaseline',
  'health',
  'simpleBiz',
  'biz',
  'bizOperation',
  'batchInstallBizResponse',
];

export function toTopicRoot(env: string): string {
  return `koupleless_${env.toLowerCase()}`;
}

export function toBasePrefix(env: string, baseIdentity: string): string {
  return `${toTopicRoot(env)}/${baseIdentity}`;
}

/** Topic a controller publishes a command to. `baseline` lives under `base/` (answer to queryBaseline). */
export function toCommandTopic(env: string, baseIdentity: string, kind: CommandKind): string {
  const prefix = toBasePrefix(env, baseIdentity);
  return kind === 'baseline' ? `${prefix}/base/baseline` : `${prefix}/${kind}`;
}

/** Topic a base publishes on. */
export function toBaseTopic(env: string, baseIdentity: string, kind: BaseMessageKind): string {
  return `${toBasePrefix(env, baseIdentity)}/base/${kind}`;
}

/** What a controller subscribes to: every base message of one env. */
export function toControllerSubscriptions(env: string): string[] {
  return [`${toTopicRoot(env)}/+/base/+`];
}

/** What a base subscribes to (koupleless-protocol.md: `P/+` and `P/base/baseline`). */
export function toBaseSubscriptions(env: string, baseIdentity: string): string[] {
  const prefix = toBasePrefix(env, baseIdentity);
  return [`${prefix}/+`, `${prefix}/base/baseline`];
}

export interface ParsedTopic {
  readonly env: string;
  readonly baseIdentity: string;
  /** For base → controller topics, the message kind; for command topics, the command. */
  readonly kind: string;
  readonly direction: 'fromBase' | 'toBase';
}

/** Parses a topic into its parts, or returns undefined when it is not a protocol topic. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  const root = parts[0];
  if (!root?.startsWith('koupleless_') || parts.length < 3) return undefined;
  const env = root.slice('koupleless_'.length);
  const baseIdentity = parts[1];
  if (!env || !baseIdentity) return undefined;
  if (parts.length === 3 && parts[2]) {
    return { env, baseIdentity, kind: parts[2], direction: 'toBase' };
  }
  if (parts.length === 4 && parts[2] === 'base' && parts[3]) {
    const kind = parts[3];
    return { env, baseIdentity, kind, direction: kind === 'baseline' ? 'toBase' : 'fromBase' };
  }
  return undefined;
}
