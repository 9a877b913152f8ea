/**
 * The wire form of an assumed placement one extender replica pushes to the others
 * (`POST /assumed-placements`, peers.ts), and its strict parse.
 *
 * The body is `{"placements":[{"podUid","nodeName","modules":[{"bizName","bizVersion","holder"?}],"ttlMs"}]}`.
 * `ttlMs` is what is left of the assumption's TTL: clocks of two pods are not compared, and the
 * receiver never keeps an assumption longer than its own --placement-ttl. Whoever can reach the
 * extender's port can send this, as they can send /prioritize (with --tls-client-ca-file neither
 * is answered without a client certificate): it goes into the same bounded placement memory, and
 * everything in it is bounded and checked here, so a hostile body can cost a 400, not memory.
 */
import { BIZ_VERSION_ENV } from '../core/names.ts';
import { checkBizName, checkBizVersion } from '../core/module-spec.ts';
import type { ModuleHolder, ModuleRef } from './node-load.ts';

export interface PeerPlacement {
  readonly podUid: string;
  readonly nodeName: string;
  readonly modules: readonly ModuleRef[];
  /** How much longer the assumption counts, in ms (clamped to the receiver's TTL). */
  readonly ttlMs: number;
}

/** Most placements in one push (a replica sends one per answer) and most modules per pod. */
export const MAX_PUSHED_PLACEMENTS = 64;
export const MAX_MODULES_PER_POD = 64;
/** Largest push body read: 64 placements of 64 modules fit many times over. */
export const MAX_PUSH_BYTES = 256 * 1024;

const MAX_UID = 128;
const MAX_NODE_NAME = 253;
const MAX_HOLDER_TEXT = 512;

export type PeerPlacementsParse = { readonly kind: 'ok'; readonly placements: readonly PeerPlacement[] } | { readonly kind: 'invalid'; readonly error: string };

export function toPeerPlacementsBody(placements: readonly PeerPlacement[]): string {
  return JSON.stringify({ placements: placements.map((p) => ({ podUid: p.podUid, nodeName: p.nodeName, modules: p.modules.map(toWireModule), ttlMs: Math.max(0, Math.round(p.ttlMs)) })) });
}

function toWireModule(m: ModuleRef): Record<string, unknown> {
  return m.holder ? { bizName: m.bizName, bizVersion: m.bizVersion, holder: { workload: m.holder.workload ?? null, revision: m.holder.revision ?? null, deleting: m.holder.deleting } } : { bizName: m.bizName, bizVersion: m.bizVersion };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

function optionalText(v: unknown): string | undefined | false {
  if (v === null || v === undefined) return undefined;
  return isText(v, MAX_HOLDER_TEXT) ? v : false;
}

function parseHolder(v: unknown): ModuleHolder | undefined | false {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || typeof v['deleting'] !== 'boolean') return false;
  const workload = optionalText(v['workload']);
  const revision = optionalText(v['revision']);
  if (workload === false || revision === false) return false;
  return { workload, revision, deleting: v['deleting'] };
}

function parseModule(v: unknown, where: string): ModuleRef | string {
  if (!isObject(v)) return `${where} is not an object`;
  const bizName = typeof v['bizName'] === 'string' ? v['bizName'] : undefined;
  const nameProblem = checkBizName(bizName);
  if (nameProblem) return `${where}.bizName ${nameProblem}`;
  const bizVersion = typeof v['bizVersion'] === 'string' ? v['bizVersion'] : '';
  if (checkBizVersion({ env: [{ name: BIZ_VERSION_ENV, value: bizVersion }] })) return `${where}.bizVersion is not a module version`;
  const holder = parseHolder(v['holder']);
  if (holder === false) return `${where}.holder must be {"workload", "revision", "deleting": boolean} with texts of at most ${MAX_HOLDER_TEXT} characters`;
  return holder ? { bizName: bizName!, bizVersion, holder } : { bizName: bizName!, bizVersion };
}

/** The placements of a push body, or what is wrong with it; `maxTtlMs` caps every TTL. */
export function parsePeerPlacements(body: unknown, maxTtlMs: number): PeerPlacementsParse {
  const invalid = (error: string): PeerPlacementsParse => ({ kind: 'invalid', error });
  if (!isObject(body) || !Array.isArray(body['placements'])) return invalid('the body must be {"placements": [...]}');
  const raw: unknown[] = body['placements'];
  if (raw.length > MAX_PUSHED_PLACEMENTS) return invalid(`at most ${MAX_PUSHED_PLACEMENTS} placements per push, got ${raw.length}`);
  const placements: PeerPlacement[] = [];
  for (let i = 0; i < raw.length; i++) {
    const p = raw[i];
    const where = `placements[${i}]`;
    if (!isObject(p)) return invalid(`${where} is not an object`);
    if (!isText(p['podUid'], MAX_UID)) return invalid(`${where}.podUid must be a pod UID (1–${MAX_UID} characters)`);
    if (!isText(p['nodeName'], MAX_NODE_NAME)) return invalid(`${where}.nodeName must be a node name (1–${MAX_NODE_NAME} characters)`);
    const ttl = p['ttlMs'];
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) return invalid(`${where}.ttlMs must be a number of milliseconds ≥ 0`);
    const mods = p['modules'];
    if (!Array.isArray(mods) || mods.length > MAX_MODULES_PER_POD) return invalid(`${where}.modules must be a list of at most ${MAX_MODULES_PER_POD} modules`);
    const modules: ModuleRef[] = [];
    for (let j = 0; j < mods.length; j++) {
      const m = parseModule(mods[j], `${where}.modules[${j}]`);
      if (typeof m === 'string') return invalid(m);
      modules.push(m);
    }
    placements.push({ podUid: p['podUid'], nodeName: p['nodeName'], modules, ttlMs: Math.min(ttl, maxTtlMs) });
  }
  return { kind: 'ok', placements };
}
