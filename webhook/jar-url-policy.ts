/**
 * Which jar URLs a cluster accepts (docs/webhook.md "Jar URL policy"). A module's jar is fetched
 * and run inside a production JVM, so the URL is a trust decision: by default only `https` and
 * `http`; `file` (a path on the base's own disk) only when an operator enables it; optionally
 * only URLs under given prefixes (an internal repository). Pure: parsed once from the flags,
 * then one check per container.
 */

/** Schemes a base can fetch a module from (koupleless-protocol.md: installBiz bizUrl). */
export const JAR_URL_SCHEMES = ['https', 'http', 'file'] as const;
export const DEFAULT_JAR_URL_SCHEMES: readonly string[] = Object.freeze(['https', 'http']);

export interface JarUrlPolicy {
  /** Allowed schemes without the colon, e.g. `https`. */
  readonly schemes: readonly string[];
  /** Normalised URL prefixes (`new URL().href`); empty = any URL of an allowed scheme. */
  readonly prefixes: readonly string[];
}

export const DEFAULT_JAR_URL_POLICY: JarUrlPolicy = Object.freeze({ schemes: DEFAULT_JAR_URL_SCHEMES, prefixes: Object.freeze([]) });

export type JarUrlPolicyParse =
  | { readonly kind: 'ok'; readonly policy: JarUrlPolicy }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

/**
 * Flags → policy. A prefix is normalised like the URLs it is compared with, so
 * `https://repo.example.com` becomes `https://repo.example.com/` and cannot match
 * `https://repo.example.com.evil.test/…` nor `https://repo.example.com@evil.test/…`.
 */
export function parseJarUrlPolicy(schemes: readonly string[], prefixes: readonly string[]): JarUrlPolicyParse {
  const problems: string[] = [];
  const wanted = schemes.map((s) => s.toLowerCase().replace(/:(\/\/)?$/, ''));
  for (const s of wanted) {
    if (!(JAR_URL_SCHEMES as readonly string[]).includes(s)) {
      problems.push(`--allowed-jar-url-schemes: "${s}" is not a scheme a base can fetch a jar from; use ${JAR_URL_SCHEMES.join(', ')}`);
    }
  }
  if (wanted.length === 0) problems.push(`--allowed-jar-url-schemes is empty, so no module could be installed; give at least one of ${JAR_URL_SCHEMES.join(', ')}`);
  const normalised: string[] = [];
  for (const p of prefixes) {
    let url: URL;
    try {
      url = new URL(p);
    } catch {
      problems.push(`--allowed-jar-url-prefixes: "${p}" is not a URL; give a prefix like https://repo.example.com/modules/`);
      continue;
    }
    const scheme = url.protocol.slice(0, -1);
    if (!wanted.includes(scheme)) problems.push(`--allowed-jar-url-prefixes: "${p}" uses scheme ${scheme}, which --allowed-jar-url-schemes does not allow`);
    else normalised.push(url.href);
  }
  if (problems.length > 0) return { kind: 'invalid', problems };
  return { kind: 'ok', policy: Object.freeze({ schemes: Object.freeze([...new Set(wanted)]), prefixes: Object.freeze(normalised) }) };
}

/** Why the cluster refuses this jar URL, or undefined when it is allowed. The URL is already known to parse (checkBizUrl). */
export function checkJarUrl(image: string, policy: JarUrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(image);
  } catch {
    return undefined; // not a URL at all: checkBizUrl reports it
  }
  const scheme = url.protocol.slice(0, -1);
  if (!policy.schemes.includes(scheme)) {
    return `image "${image}" uses ${scheme}://, which this cluster does not allow; allowed schemes: ${policy.schemes.join(', ')} (webhook flag --allowed-jar-url-schemes)`;
  }
  if (policy.prefixes.length > 0 && !policy.prefixes.some((p) => url.href.startsWith(p))) {
    return `image "${image}" is not under an allowed jar location; allowed prefixes: ${policy.prefixes.join(', ')} (webhook flag --allowed-jar-url-prefixes)`;
  }
  return undefined;
}
