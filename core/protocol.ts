/**
 * Payloads of the Koupleless base protocol (koupleless-protocol.md "Payloads") and their parsers.
 * `parse*` turns wire bytes into domain values and never throws: a malformed payload is a value
 * (`{ ok: false, reason }`) so callers can count and log it without side effects.
 */
import { z } from 'zod';

export const bizModelSchema = z.object({
  bizName: z.string().min(1),
  bizVersion: z.string().min(1),
  bizUrl: z.string().optional(),
  installStrategy: z.enum(['installOnly', 'uninstallThenInstall']).optional(),
  args: z.array(z.string()).optional(),
  envs: z.record(z.string(), z.string()).optional(),
});
export type BizModel = z.infer<typeof bizModelSchema>;

export const baseMetadataSchema = z.object({
  identity: z.string().min(1),
  name: z.string().default(''),
  version: z.string().default(''),
  clusterName: z.string().default(''),
});
export type BaseMetadata = z.infer<typeof baseMetadataSchema>;

export const baseStatusSchema = z.object({
  baseMetadata: baseMetadataSchema,
  localIP: z.string().min(1),
  localHostName: z.string().default(''),
  port: z.number().default(0),
  state: z.string().min(1),
});
export type BaseStatus = z.infer<typeof baseStatusSchema>;

const stateRecordSchema = z.object({
  changeTime: z.union([z.number(), z.string()]).optional(),
  state: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type StateRecord = z.infer<typeof stateRecordSchema>;

export const simpleBizInfoSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  state: z.string().min(1),
  latestStateRecord: stateRecordSchema.nullish(),
});
export type SimpleBizInfo = z.infer<typeof simpleBizInfoSchema>;

export const arkBizInfoSchema = z.object({
  bizName: z.string().min(1),
  bizVersion: z.string().min(1),
  bizState: z.string().min(1),
  mainClass: z.string().optional(),
  webContextPath: z.string().optional(),
  bizStateRecords: z.array(stateRecordSchema).nullish(),
});
export type ArkBizInfo = z.infer<typeof arkBizInfoSchema>;

export const outputSchema = z.object({
  code: z.string().min(1),
  message: z.string().nullish(),
  data: z.unknown().optional(),
});
export type Output = z.infer<typeof outputSchema>;

/** sofa-ark ClientResponse inside an install/uninstall Output's `data`. */
export const arkResponseSchema = z.object({
  code: z.string().optional(),
  message: z.string().nullish(),
  bizInfos: z
    .array(z.object({ bizName: z.string(), bizVersion: z.string(), bizState: z.string() }).loose())
    .nullish(),
  elapsedSpace: z.number().optional(),
});
export type ArkResponse = z.infer<typeof arkResponseSchema>;

export const bizOperationSchema = z.object({
  command: z.enum(['installBiz', 'uninstallBiz']),
  bizName: z.string().min(1),
  bizVersion: z.string().min(1),
  response: outputSchema,
});
export type BizOperation = z.infer<typeof bizOperationSchema>;

export const batchInstallResponseSchema = z.object({
  command: z.literal('batchInstallBiz'),
  response: outputSchema,
});

// arklet's JVM and CPU indicators mix strings ("java version", "java home", cpu "type") with the
// figures; a record of numbers only would reject every real health reply, so keep just the numbers.
const healthFiguresSchema = z
  .record(z.string(), z.unknown())
  .optional()
  .transform((r) => Object.fromEntries(Object.entries(r ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number')));

export const healthDataSchema = z.object({
  jvm: healthFiguresSchema,
  cpu: healthFiguresSchema,
  masterBizInfo: z
    .object({ bizName: z.string(), bizState: z.string(), bizVersion: z.string() })
    .optional(),
});
export type HealthData = z.infer<typeof healthDataSchema>;

const healthOutputSchema = outputSchema.extend({
  data: z.object({ healthData: healthDataSchema }).loose().optional(),
});
const healthEnvelopeDataSchema = z.union([
  // What arklet sends: an Output whose data wraps another Output-like object with healthData.
  z.object({ code: z.string(), data: healthOutputSchema }).loose(),
  healthOutputSchema,
]);

const bizListOutputSchema = z.object({
  code: z.string(),
  message: z.string().nullish(),
  data: z.array(arkBizInfoSchema).nullish(),
});

export interface Envelope<T> {
  readonly publishTimestamp: number;
  readonly data: T;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

// `data` optional here so a missing one gets its own reason ("envelope has no data").
const envelopeSchema = z.object({ publishTimestamp: z.number(), data: z.unknown().optional() });

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

function parseJson(payload: Buffer | string): Parsed<unknown> {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  if (text.trim() === '') return { ok: false, reason: 'empty payload' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
}

function parseEnvelope<S extends z.ZodType>(payload: Buffer | string, schema: S): Parsed<Envelope<z.infer<S>>> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const env = envelopeSchema.safeParse(json.value);
  if (!env.success) return { ok: false, reason: `bad envelope: ${describeIssues(env.error)}` };
  if (env.data.data === undefined || env.data.data === null) return { ok: false, reason: 'envelope has no data' };
  const data = schema.safeParse(env.data.data);
  if (!data.success) return { ok: false, reason: `bad data: ${describeIssues(data.error)}` };
  return { ok: true, value: { publishTimestamp: env.data.publishTimestamp, data: data.data as z.infer<S> } };
}

export const parseHeartbeat = (p: Buffer | string): Parsed<Envelope<BaseStatus>> => parseEnvelope(p, baseStatusSchema);
export const parseQueryBaseline = (p: Buffer | string): Parsed<Envelope<BaseMetadata>> =>
  parseEnvelope(p, baseMetadataSchema);
export const parseBizOperation = (p: Buffer | string): Parsed<Envelope<BizOperation>> =>
  parseEnvelope(p, bizOperationSchema);
export const parseBatchInstallResponse = (p: Buffer | string) => parseEnvelope(p, batchInstallResponseSchema);
export const parseSimpleBizList = (p: Buffer | string): Parsed<Envelope<SimpleBizInfo[]>> =>
  parseEnvelope(p, z.array(simpleBizInfoSchema));

/** Module as the bridge sees it on a base, whichever reply it came from. */
export interface ReportedModule {
  readonly bizName: string;
  readonly bizVersion: string;
  /** Upper-cased sofa-ark state. */
  readonly state: string;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  readonly changeTime?: number | undefined;
}

function toChangeTime(v: number | string | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    // Number('') is 0: a blank time is no time, not the epoch.
    if (v.trim() === '') return undefined;
    const n = Number(v);
    if (Number.isFinite(n)) return n;
    const d = Date.parse(v);
    return Number.isNaN(d) ? undefined : d;
  }
  return undefined;
}

export function toReportedModuleFromSimple(b: SimpleBizInfo): ReportedModule {
  return {
    bizName: b.name,
    bizVersion: b.version,
    state: b.state.toUpperCase(),
    reason: b.latestStateRecord?.reason ?? undefined,
    message: b.latestStateRecord?.message ?? undefined,
    changeTime: toChangeTime(b.latestStateRecord?.changeTime),
  };
}

export function toReportedModuleFromArk(b: ArkBizInfo): ReportedModule {
  const last = b.bizStateRecords?.at(-1);
  return {
    bizName: b.bizName,
    bizVersion: b.bizVersion,
    state: b.bizState.toUpperCase(),
    reason: last?.reason ?? undefined,
    message: last?.message ?? undefined,
    changeTime: toChangeTime(last?.changeTime),
  };
}

/** Parses a module list from either `base/simpleBiz` (real bases) or `base/biz` (older/full reply). */
export function parseModuleList(kind: 'simpleBiz' | 'biz', payload: Buffer | string): Parsed<Envelope<ReportedModule[]>> {
  if (kind === 'simpleBiz') {
    const r = parseSimpleBizList(payload);
    return r.ok ? { ok: true, value: { ...r.value, data: r.value.data.map(toReportedModuleFromSimple) } } : r;
  }
  const r = parseEnvelope(payload, bizListOutputSchema);
  if (!r.ok) return r;
  if (r.value.data.code.toUpperCase() !== 'SUCCESS') {
    return { ok: false, reason: `module list reply code ${r.value.data.code}: ${r.value.data.message ?? ''}` };
  }
  return { ok: true, value: { ...r.value, data: (r.value.data.data ?? []).map(toReportedModuleFromArk) } };
}

/** Parses a `base/health` reply down to its health data; a non-SUCCESS code is a failed parse. */
export function parseHealth(payload: Buffer | string): Parsed<Envelope<HealthData>> {
  const r = parseEnvelope(payload, healthEnvelopeDataSchema);
  if (!r.ok) return r;
  const outer = r.value.data as { code: string; data?: unknown };
  if (outer.code.toUpperCase() !== 'SUCCESS') return { ok: false, reason: `health reply code ${outer.code}` };
  const inner = (outer.data ?? {}) as { healthData?: HealthData; data?: { healthData?: HealthData } };
  const health = inner.healthData ?? inner.data?.healthData;
  if (!health) return { ok: false, reason: 'health reply has no healthData' };
  return { ok: true, value: { publishTimestamp: r.value.publishTimestamp, data: health } };
}

/** Wraps a base → controller payload (what base-sim sends). */
export function toEnvelope<T>(data: T, now: number): Envelope<T> {
  return { publishTimestamp: now, data };
}
