/**
 * Who may connect, publish and subscribe on the shipped broker: pure decisions that return allow or
 * deny with a stable code and a reason (docs/security.md "MQTT"). Topics follow
 * koupleless-protocol.md: `P` = `koupleless_<env>/<identity>`; the bridge publishes `P/<command>`
 * and `P/base/baseline` and reads `P/base/<kind>`; a base publishes `P/base/<kind>` for its own
 * identity and reads `P/+` and `P/base/baseline`.
 */
import type { CommandKind } from '../core/topics.ts';
import type { CredentialEntry } from './credentials.ts';

/** An authenticated client. `open` is a broker started with --allow-anonymous: no rules at all. */
export type Principal =
  | { readonly role: 'bridge'; readonly username: string; readonly clientId: string }
  | { readonly role: 'base'; readonly username: string; readonly clientId: string; readonly identity: string }
  | { readonly role: 'open'; readonly clientId: string };

export type DenyCode =
  | 'bad_credentials'
  | 'no_identity'
  | 'identity_mismatch'
  | 'not_a_protocol_topic'
  | 'other_base'
  | 'base_cannot_command'
  | 'bridge_publishes_commands_only'
  | 'bridge_reads_replies_only'
  | 'base_reads_own_commands_only';

export type Decision<T = undefined> =
  | { readonly allow: true; readonly value: T }
  | { readonly allow: false; readonly code: DenyCode; readonly reason: string };

/** Client id separator of the Koupleless protocol: `<prefix>@@@<identity>`. */
export const CLIENT_ID_SEPARATOR = '@@@';

const COMMANDS: ReadonlySet<string> = new Set<CommandKind>(['installBiz', 'uninstallBiz', 'health', 'queryAllBiz']);
const BASELINE = 'baseline';

function deny<T>(code: DenyCode, reason: string): Decision<T> {
  return { allow: false, code, reason };
}
const allow: Decision = { allow: true, value: undefined };

/** The identity in `<prefix>@@@<identity>` (after the first separator), or undefined. */
export function parseClientIdentity(clientId: string): string | undefined {
  const at = clientId.indexOf(CLIENT_ID_SEPARATOR);
  if (at < 0) return undefined;
  const identity = clientId.slice(at + CLIENT_ID_SEPARATOR.length);
  return identity && !/[/+#]/.test(identity) ? identity : undefined;
}

/** The principal of a client whose password matched `entry` (or deny when its client id does not fit the entry). */
export function toPrincipal(entry: CredentialEntry, clientId: string): Decision<Principal> {
  if (entry.role === 'bridge') return { allow: true, value: { role: 'bridge', username: entry.username, clientId } };
  const identity = parseClientIdentity(clientId);
  if (identity === undefined) return deny('no_identity', `a base's client id must be <prefix>@@@<identity> (identity without '/', '+', '#'); got "${clientId}"`);
  if (entry.identity !== undefined && entry.identity !== identity) return deny('identity_mismatch', `username "${entry.username}" may only connect as identity "${entry.identity}", not "${identity}"`);
  return { allow: true, value: { role: 'base', username: entry.username, clientId, identity } };
}

interface TopicParts {
  readonly root: string;
  readonly identity: string;
  /** The levels after the identity. */
  readonly rest: readonly string[];
}

/** `koupleless_<env>/<identity>/...` with a literal, non-empty env, or undefined. */
function splitTopic(topic: string): TopicParts | undefined {
  const levels = topic.split('/');
  const [root, identity, ...rest] = levels;
  if (!root || !/^koupleless_[^+#]+$/.test(root) || !identity || rest.length === 0) return undefined;
  return { root, identity, rest };
}

function isCommand(rest: readonly string[]): boolean {
  return (rest.length === 1 && COMMANDS.has(rest[0]!)) || (rest.length === 2 && rest[0] === 'base' && rest[1] === BASELINE);
}

function isBaseReply(rest: readonly string[]): boolean {
  return rest.length === 2 && rest[0] === 'base' && rest[1] !== BASELINE && rest[1] !== '' && !/[+#]/.test(rest[1]!);
}

export function authorizePublish(principal: Principal, topic: string): Decision {
  if (principal.role === 'open') return allow;
  const t = splitTopic(topic);
  if (!t || /[+#]/.test(topic)) return deny('not_a_protocol_topic', `"${topic}" is not a koupleless_<env>/<identity>/... topic`);
  if (principal.role === 'bridge') {
    return isCommand(t.rest) ? allow : deny('bridge_publishes_commands_only', `the bridge publishes only commands (installBiz, uninstallBiz, health, queryAllBiz, base/baseline), not "${topic}"`);
  }
  if (isCommand(t.rest)) return deny('base_cannot_command', `a base cannot publish the command "${topic}"`);
  if (t.identity !== principal.identity) return deny('other_base', `identity "${principal.identity}" cannot publish for "${t.identity}" ("${topic}")`);
  return isBaseReply(t.rest) ? allow : deny('not_a_protocol_topic', `a base publishes only ${t.root}/${principal.identity}/base/<kind>, not "${topic}"`);
}

export function authorizeSubscribe(principal: Principal, filter: string): Decision {
  if (principal.role === 'open') return allow;
  const t = splitTopic(filter);
  if (principal.role === 'bridge') {
    // `koupleless_<env>/<identity|+>/base/<kind|+>`: base replies only (`#` would take in base/baseline).
    const ok = t !== undefined && (t.identity === '+' || !/[+#]/.test(t.identity)) && t.rest.length === 2 && t.rest[0] === 'base' && (t.rest[1] === '+' || isBaseReply(t.rest));
    return ok ? allow : deny('bridge_reads_replies_only', `the bridge reads only base replies (koupleless_<env>/+/base/+), not "${filter}"`);
  }
  if (!t || (t.identity !== principal.identity && /[+#]/.test(t.identity))) return deny('base_reads_own_commands_only', `a base subscribes only koupleless_<env>/${principal.identity}/+ and .../base/baseline, not "${filter}"`);
  if (t.identity !== principal.identity) return deny('other_base', `identity "${principal.identity}" cannot read the topics of "${t.identity}" ("${filter}")`);
  const ok = (t.rest.length === 1 && (t.rest[0] === '+' || COMMANDS.has(t.rest[0]!))) || (t.rest.length === 2 && t.rest[0] === 'base' && t.rest[1] === BASELINE);
  return ok ? allow : deny('base_reads_own_commands_only', `a base subscribes only ${t.root}/${principal.identity}/+ and ${t.root}/${principal.identity}/base/baseline, not "${filter}"`);
}
