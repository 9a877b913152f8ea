/**
 * The pod ↔ module mapping (design.md "Names"): each container of a module pod is one module —
 * container `name` = bizName, `image` = jar URL, env `BIZ_VERSION` = bizVersion. The rules live
 * here so the webhook rejects exactly what the bridge could not install.
 */
import { BIZ_VERSION_ENV } from './names.ts';
import type { BizModel } from './protocol.ts';

/** Minimal container shape (a subset of V1Container) so pure code needs no client types. */
export interface ContainerLike {
  readonly name?: string | undefined;
  readonly image?: string | undefined;
  readonly env?: ReadonlyArray<{ name?: string; value?: string; valueFrom?: unknown }> | undefined;
}

export interface ModuleSpec {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl: string;
}

export interface ContainerProblem {
  readonly container: string;
  readonly field: 'name' | 'image' | 'env.BIZ_VERSION';
  readonly message: string;
}

// bizName becomes a container name (DNS-1123 label) and the name part of a label key, so it must
// satisfy both: lower-case alphanumerics and '-', at most 63 characters.
const BIZ_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Maven versions: 1.0.0, 0.0.1-SNAPSHOT, 2.1.0.RELEASE, 1.0+build.
const BIZ_VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export function checkBizName(name: string | undefined): string | undefined {
  if (!name) return 'has no name; set it to the module bizName (the artifactId in pom.xml)';
  if (!BIZ_NAME_RE.test(name)) {
    return `name "${name}" is not a valid bizName; use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (the artifactId in pom.xml)`;
  }
  return undefined;
}

export function checkBizVersion(container: ContainerLike): string | undefined {
  const entry = container.env?.find((e) => e.name === BIZ_VERSION_ENV);
  if (!entry) return `env ${BIZ_VERSION_ENV} is missing; set it to the module version from pom.xml`;
  if (entry.valueFrom !== undefined) {
    return `env ${BIZ_VERSION_ENV} uses valueFrom; give it a literal value (the module version from pom.xml)`;
  }
  const v = entry.value ?? '';
  if (v === '') return `env ${BIZ_VERSION_ENV} is empty; set it to the module version from pom.xml`;
  if (!BIZ_VERSION_RE.test(v)) {
    return `env ${BIZ_VERSION_ENV} "${v}" is not a valid version; use letters, digits, '.', '_', '+' and '-' (e.g. 1.0.0 or 0.0.1-SNAPSHOT)`;
  }
  return undefined;
}

export function checkBizUrl(image: string | undefined): string | undefined {
  if (!image) return 'image is missing; set it to the module jar URL (http://, https:// or file://, ending in .jar)';
  let url: URL;
  try {
    url = new URL(image);
  } catch {
    return `image "${image}" is not a jar URL; set it to the module jar URL (http://, https:// or file://, ending in .jar)`;
  }
  if (!['http:', 'https:', 'file:'].includes(url.protocol) || !url.pathname.toLowerCase().endsWith('.jar')) {
    return `image "${image}" is not a jar URL; set it to the module jar URL (http://, https:// or file://, ending in .jar)`;
  }
  return undefined;
}

/** All problems of one container, in field order. */
export function checkModuleContainer(c: ContainerLike, index: number): ContainerProblem[] {
  const label = c.name || `#${index}`;
  const out: ContainerProblem[] = [];
  const name = checkBizName(c.name);
  if (name) out.push({ container: label, field: 'name', message: name });
  const image = checkBizUrl(c.image);
  if (image) out.push({ container: label, field: 'image', message: image });
  const version = checkBizVersion(c);
  if (version) out.push({ container: label, field: 'env.BIZ_VERSION', message: version });
  return out;
}

export interface ModuleParse {
  readonly modules: ModuleSpec[];
  readonly problems: ContainerProblem[];
}

/** Modules of a pod spec's containers plus every problem found (duplicates included). */
export function parseModules(containers: readonly ContainerLike[] | undefined): ModuleParse {
  const modules: ModuleSpec[] = [];
  const problems: ContainerProblem[] = [];
  const seen = new Set<string>();
  (containers ?? []).forEach((c, i) => {
    const found = checkModuleContainer(c, i);
    problems.push(...found);
    if (c.name && seen.has(c.name)) {
      problems.push({
        container: c.name,
        field: 'name',
        message: `bizName "${c.name}" is used by two containers; each module may appear once per pod`,
      });
    }
    if (c.name) seen.add(c.name);
    if (found.length === 0) {
      const version = c.env?.find((e) => e.name === BIZ_VERSION_ENV)?.value ?? '';
      modules.push({ bizName: c.name ?? '', bizVersion: version, bizUrl: c.image ?? '' });
    }
  });
  return { modules, problems };
}

/** arklet's install strategies (InstallRequest.installStrategy): an unknown name means installOnly. */
export type InstallStrategy = 'installOnly' | 'uninstallThenInstall';

export function toBizModel(m: ModuleSpec): BizModel {
  return { bizName: m.bizName, bizVersion: m.bizVersion, bizUrl: m.bizUrl };
}

/** An installBiz payload; `installStrategy` is sent only when given (arklet defaults to installOnly). */
export function toInstallModel(m: ModuleSpec, installStrategy: InstallStrategy | undefined): BizModel {
  return installStrategy ? { ...toBizModel(m), installStrategy } : toBizModel(m);
}

export function toModuleKey(m: { bizName: string; bizVersion: string }): string {
  return `${m.bizName}:${m.bizVersion}`;
}

const parsedBy = new WeakMap<readonly ContainerLike[], ModuleParse>();

/**
 * `parseModules` remembered per containers array: for callers whose pods are never mutated (the
 * bridge's pod cache replaces a pod as a whole on every change), so the many plans made from one
 * version of a pod parse and check its containers once. The result must not be modified.
 */
export function parseModulesOf(containers: readonly ContainerLike[] | undefined): ModuleParse {
  if (containers === undefined) return parseModules(containers);
  let parsed = parsedBy.get(containers);
  if (!parsed) parsedBy.set(containers, (parsed = parseModules(containers)));
  return parsed;
}
