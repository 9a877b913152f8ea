/**
 * The version of module-controller, read once from its package.json (the nearest one up from this
 * file: `core/` in a checkout, `dist/core/` in the packed package). Used by `module-controller
 * version`, the startup log and the `module_controller_build_info` gauge.
 */
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  readonly name: string;
  readonly version: string;
  /** The Node.js running it, e.g. v24.21.0. */
  readonly node: string;
}

function findPackage(): { name: string; version: string } {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'module-controller' && typeof pkg.version === 'string') return { name: pkg.name, version: pkg.version };
    } catch {
      // not there: try the next level up
    }
  }
  return { name: 'module-controller', version: 'unknown' };
}

let cached: BuildInfo | undefined;

export function readBuildInfo(): BuildInfo {
  cached ??= Object.freeze({ ...findPackage(), node: process.version });
  return cached;
}

/** `module-controller 0.1.0 (node v24.21.0)`. */
export function toVersionText(info: BuildInfo = readBuildInfo()): string {
  return `${info.name} ${info.version} (node ${info.node})`;
}
