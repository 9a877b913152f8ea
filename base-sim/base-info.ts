/**
 * Who simulated base number `index` is: its identity, reported IP and host name. A real base's
 * identity is its first non-loopback IPv4 address (koupleless-protocol.md "Connection"), so by
 * default a simulated base's identity is its reported IP; nothing listens on these addresses.
 */

export interface SimBaseInfo {
  readonly identity: string;
  readonly name: string;
  readonly version: string;
  readonly clusterName: string;
  readonly localIP: string;
  readonly localHostName: string;
}

export interface BaseInfoOptions {
  /** Base app name, version and cluster, as the base's metadata hook reports them. */
  readonly name: string;
  readonly version: string;
  readonly clusterName: string;
  /** Empty: the identity is the IP (like real bases). Otherwise `<prefix><index>`. */
  readonly identityPrefix: string;
  /** 1 to 3 leading octets, e.g. "127.1"; the index fills the rest. */
  readonly ipPrefix: string;
}

const OCTET_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// A topic segment: no '/', and no MQTT wildcards; kept to characters a node name can carry.
const IDENTITY_PREFIX_RE = /^[A-Za-z0-9._-]*$/;

/** How many bases an IP prefix has room for (the last octet skips 0 and 255), or a problem. */
export function checkIpPrefix(prefix: string): number | string {
  const octets = prefix.split('.');
  if (octets.length < 1 || octets.length > 3 || !octets.every((o) => OCTET_RE.test(o))) {
    return `IP prefix "${prefix}" must be 1 to 3 octets, e.g. 127.1 or 10.0.0`;
  }
  return 254 * 256 ** (3 - octets.length);
}

export function checkIdentityPrefix(prefix: string): string | undefined {
  return IDENTITY_PREFIX_RE.test(prefix)
    ? undefined
    : `identity prefix "${prefix}" may only hold letters, digits, '.', '_' and '-' (it becomes an MQTT topic segment)`;
}

/** The index-th address under the prefix: 127.1 → 127.1.0.1 … 127.1.0.254, 127.1.1.1, … */
export function toSimIp(prefix: string, index: number): string {
  const fixed = prefix.split('.');
  const free = 4 - fixed.length;
  const last = (index % 254) + 1;
  let rest = Math.floor(index / 254);
  const middle: number[] = [];
  for (let i = 0; i < free - 1; i++) {
    middle.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  }
  return [...fixed, ...middle.map(String), String(last)].join('.');
}

export function toSimBaseInfo(index: number, o: BaseInfoOptions): SimBaseInfo {
  const localIP = toSimIp(o.ipPrefix, index);
  const identity = o.identityPrefix ? `${o.identityPrefix}${index}` : localIP;
  return {
    identity,
    name: o.name,
    version: o.version,
    clusterName: o.clusterName,
    localIP,
    // Looks like the pod name a base Deployment gives its pods.
    localHostName: `${o.name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-sim-${index}`,
  };
}
