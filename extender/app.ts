/**
 * The extender's HTTP app, built without listening (tests call it in-process).
 *
 * The transport only limits, decodes and encodes. /filter always answers 200 with a well-formed
 * ExtenderFilterResult: the scheduler only reads `Error` from a 200 and then shows it on the pod,
 * which is more useful than its generic "code 400". /prioritize has no error field in its wire type
 * (a bare HostPriority list), so a bad request gets a non-200 with `{"Error": …}`: the scheduler
 * logs it and schedules on its own plugins' scores for that cycle, which is what it does with any
 * prioritize failure.
 *
 * POST /filter and /prioritize take a direct path: the raw body is read into a reused buffer,
 * decoded with the node list recognised when the scheduler sends it again (node-list-cache.ts),
 * and names-mode answers are written as bytes into reused buffers (wire.ts) with their
 * content-length; express serves everything else (/healthz, /readyz, /metrics, other methods,
 * 404s). At 5,000 nodes express's body parser and JSON.stringify had cost more than the decisions
 * (bench/extender.ts, docs/extender.md).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import zlib from 'node:zlib';
import express from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { addOpsRoutes } from '../core/ops-routes.ts';
import { toErrorFields } from '../core/errors.ts';
import { BodyTooLargeError, readBody } from '../core/read-body.ts';
import { parseExtenderArgs, toFilterError, type ExtenderArgs } from './extender-args.ts';
import { planFilter, planPrioritize, toFilterResult, toHostPriorities } from './decisions.ts';
import { NodeListCache } from './node-list-cache.ts';
import { rememberFeasibleList } from './feasible-list.ts';
import { BufferPool } from '../core/buffer-pool.ts';
import { encodeFilterNames, encodeHostPriorities } from './wire.ts';
import type { FilterConfig } from './filter-nodes.ts';
import type { ExtenderView } from './snapshot.ts';
import type { ExtenderMetrics } from './metrics.ts';
import type { Assumption } from './decisions.ts';
import { MAX_PUSH_BYTES, parsePeerPlacements } from './peer-placements.ts';
import { PEER_PATH } from './peer-push.ts';

export interface ExtenderAppDeps {
  readonly view: ExtenderView;
  readonly config: FilterConfig;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly metrics: ExtenderMetrics;
  /** Largest request body accepted; full NodeLists of thousands of nodes are megabytes. */
  readonly maxBodyBytes: number;
  /** Refuse /filter, /prioritize and peers' pushes from clients without a verified TLS client certificate (server.ts). */
  readonly requireClientCert?: boolean;
  /**
   * Hands an assumed placement to the other replicas (peer-push.ts); the answer waits for it, so
   * the scheduler's next call finds it on whichever replica it lands. Never rejects.
   */
  readonly share?: (assumed: Assumption) => Promise<void>;
}

type Verb = 'filter' | 'prioritize' | 'assume';
type Outcome = 'ok' | 'bad_request' | 'not_ready' | 'unauthorized' | 'error';

function send(res: ServerResponse, status: number, answer: unknown): void {
  // One encode: the Buffer's length is the content-length (no second pass over a 100 kB string).
  sendBytes(res, status, Buffer.from(JSON.stringify(answer), 'utf8'));
}

/** An answer written into a reusable buffer: the buffer goes back once the socket has taken all of it. */
function sendAnswer(res: ServerResponse, buffers: BufferPool, bytes: Buffer): void {
  res.once('finish', () => buffers.give(bytes));
  sendBytes(res, 200, bytes);
}

function sendBytes(res: ServerResponse, status: number, bytes: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
  res.end(bytes);
}

/** Request bodies a client compressed, as express.json accepted them (kube-scheduler never compresses). */
const INFLATE: Readonly<Record<string, ((b: Buffer, o: { maxOutputLength: number }) => Buffer) | undefined>> = {
  gzip: zlib.gunzipSync,
  deflate: zlib.inflateSync,
  br: zlib.brotliDecompressSync,
};

/** The body as ExtenderArgs JSON, or why it is not; an empty body reads as `{}` (as express.json did). */
function decodeBody(body: Buffer, encoding: string | undefined, limit: number, lists: NodeListCache): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string } {
  try {
    let raw = body;
    if (encoding && encoding !== 'identity') {
      const inflate = Object.hasOwn(INFLATE, encoding) ? INFLATE[encoding] : undefined;
      if (!inflate) return { ok: false, error: `the body's content-encoding ${encoding} is not supported` };
      try {
        raw = inflate(body, { maxOutputLength: limit });
      } catch (err) {
        const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
        return { ok: false, error: tooLarge ? `${toTooLargeText(limit)} once decompressed` : `the ${encoding} body could not be decompressed (${toErrorFields(err).message})` };
      }
    }
    if (raw.length === 0) return { ok: true, value: {} };
    return { ok: true, value: lists.parse(raw) };
  } catch (err) {
    return { ok: false, error: `the body is not valid ExtenderArgs JSON (${toErrorFields(err).message})` };
  }
}

/**
 * Why a body was refused, with the numbers a user needs: the shipped scheduler configuration sends
 * node names (nodeCacheCapable: true), about 0.5 MiB at 10,000 nodes; full Node objects are about
 * 3.6 KiB each, so ~36 MiB at 10,000 (test/extender/request-size.test.ts, docs/extender.md).
 */
function toTooLargeText(limit: number): string {
  const size = limit >= 1024 * 1024 ? `${Math.round((limit / 1024 / 1024) * 100) / 100} MiB` : `${limit} bytes`;
  return `the request body is larger than the extender's limit of ${size} (--max-request-mb). With nodeCacheCapable: true a request at 10,000 nodes is about 0.5 MiB; only a scheduler sending full Node objects (nodeCacheCapable: false) needs more, about 4 MiB per 1,000 nodes`;
}

export function createExtenderApp(deps: ExtenderAppDeps): RequestListener {
  const { view, config, logger, metrics } = deps;
  const buffers = new BufferPool();
  const bodies = new BufferPool();
  const lists = new NodeListCache();

  const reject = (res: ServerResponse, verb: Verb, status: number, error: string, outcome: Exclude<Outcome, 'ok'>) => {
    logger.warn({ verb, error }, 'extender request rejected');
    if (verb === 'filter') send(res, 200, toFilterError(error));
    else send(res, status, { Error: error });
    return outcome;
  };

  const answerFilter = async (args: ExtenderArgs, res: ServerResponse) => {
    const plan = planFilter(args, view, config);
    if (plan.assumed) {
      view.assume(plan.assumed);
      if (deps.share) await deps.share(plan.assumed);
    }
    // One inc per reason, from the verdicts' own counts: thousands of labelled incs (or even a pass
    // over the nodes) cost more than the decisions.
    const fits = plan.rejections.fitCount;
    if (fits > 0) metrics.nodeDecisions.inc({ reason: 'fits' }, fits);
    for (const [reason, n] of plan.rejections.countByCode()) metrics.nodeDecisions.inc({ reason }, n);
    if (logger.isLevelEnabled('debug')) logger.debug({ pod: podKey(args.pod), decisions: plan.names.map((n, i) => [n, plan.rejections.at(i)?.code ?? 'fits']) }, 'filter');
    // Names mode (the one that matters at scale) is written from the verdicts; Node objects go through JSON.
    if (plan.answerNames && !plan.nodes) {
      const answer = encodeFilterNames(plan, buffers.take);
      rememberFeasibleList(lists, plan, answer);
      sendAnswer(res, buffers, answer);
    } else send(res, 200, toFilterResult(plan));
  };

  const answerPrioritize = async (args: ExtenderArgs, res: ServerResponse) => {
    const plan = planPrioritize(args, view);
    if (plan.assumed) {
      view.assume(plan.assumed);
      if (deps.share) await deps.share(plan.assumed);
    }
    if (logger.isLevelEnabled('debug')) logger.debug({ pod: podKey(args.pod), scores: toHostPriorities(plan) }, 'prioritize');
    sendAnswer(res, buffers, encodeHostPriorities(plan.hosts, plan.scores, buffers.take));
  };

  /** True when the request was refused for want of a client certificate (answered and counted). */
  const refuseUnauthorized = (verb: Verb, req: IncomingMessage, res: ServerResponse, end: (labels: { outcome: Outcome }) => void): boolean => {
    if (!deps.requireClientCert || (req.socket as TLSSocket).authorized) return false;
    // Not the scheduler nor a peer: no extender answer, not even a filter one, and nothing is read or assumed.
    const why = (req.socket as Partial<TLSSocket>).authorizationError;
    logger.warn({ verb, why: why ? String(why) : 'no client certificate' }, 'extender request without a valid client certificate refused');
    req.resume();
    send(res, 401, { Error: 'EXTENDER_UNAUTHORIZED: a client certificate signed by --tls-client-ca-file is required (the scheduler\'s extender tlsConfig certFile/keyFile)' });
    end({ outcome: 'unauthorized' });
    return true;
  };

  /** A peer replica's assumed placement (peer-push.ts): into the same bounded memory as our own. */
  const handleAssume = async (req: IncomingMessage, res: ServerResponse) => {
    const end = metrics.requestSeconds.startTimer({ verb: 'assume' });
    if (refuseUnauthorized('assume', req, res, end)) return;
    let outcome: Outcome = 'ok';
    try {
      const body = await readBody(req, MAX_PUSH_BYTES);
      let value: unknown;
      try {
        value = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch (err) {
        value = new Error(toErrorFields(err).message);
      }
      const parsed = value instanceof Error ? { kind: 'invalid' as const, error: `the body is not JSON (${value.message})` } : parsePeerPlacements(value, Number.MAX_SAFE_INTEGER);
      if (parsed.kind === 'invalid') outcome = reject(res, 'assume', 400, `EXTENDER_BAD_REQUEST: ${parsed.error}`, 'bad_request');
      else {
        for (const p of parsed.placements) view.assume(p, p.ttlMs);
        res.writeHead(204).end();
      }
    } catch (err) {
      const tooLarge = err instanceof BodyTooLargeError;
      outcome = reject(res, 'assume', tooLarge ? 413 : 400, `EXTENDER_BAD_REQUEST: ${tooLarge ? `a push is at most ${MAX_PUSH_BYTES} bytes` : `the body could not be read (${toErrorFields(err).message})`}`, 'bad_request');
    }
    end({ outcome });
  };

  const handle = (verb: Verb, answer: (args: ExtenderArgs, res: ServerResponse) => Promise<void>) => async (req: IncomingMessage, res: ServerResponse) => {
    const end = metrics.requestSeconds.startTimer({ verb });
    let outcome: Outcome = 'ok';
    let body: Buffer | undefined;
    if (refuseUnauthorized(verb, req, res, end)) return;
    try {
      body = await readBody(req, deps.maxBodyBytes, bodies.take);
    } catch (err) {
      // Like any bad body, still a well-formed answer (the scheduler shows `Error` on the pod).
      const tooLarge = err instanceof BodyTooLargeError;
      const why = tooLarge ? toTooLargeText(deps.maxBodyBytes) : `the body could not be read (${toErrorFields(err).message})`;
      outcome = reject(res, verb, tooLarge ? 413 : 400, `EXTENDER_BAD_REQUEST: ${why}`, 'bad_request');
    }
    if (body) {
      const decoded = decodeBody(body, req.headers['content-encoding']?.toLowerCase(), deps.maxBodyBytes, lists);
      // Decoding copied what it keeps (strings, remembered lists): the body's memory can serve the next request.
      bodies.give(body);
      const parsed = decoded.ok ? parseExtenderArgs(decoded.value) : { kind: 'invalid' as const, error: decoded.error };
      const notReady = view.notReadyReason();
      if (parsed.kind === 'invalid') outcome = reject(res, verb, 400, `EXTENDER_BAD_REQUEST: ${parsed.error}`, 'bad_request');
      else if (notReady) outcome = reject(res, verb, 503, `module extender is starting: ${notReady}`, 'not_ready');
      else {
        try {
          await answer(parsed.args, res);
        } catch (err) {
          // A shape the light parse let through (say, containers that are not a list) or a bug:
          // still a well-formed answer, and the details in the log.
          logger.error({ verb, err: toErrorFields(err) }, 'extender request failed');
          outcome = reject(res, verb, 500, `INTERNAL: the extender could not decide for this pod (${toErrorFields(err).message})`, 'error');
        }
      }
    }
    end({ outcome });
  };
  // A Map, not an object literal: `/constructor` must not find a prototype member.
  const verbs = new Map<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>([
    ['/filter', handle('filter', answerFilter)],
    ['/prioritize', handle('prioritize', answerPrioritize)],
    [PEER_PATH, handleAssume],
  ]);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  addOpsRoutes(app, deps.registry, () => view.notReadyReason());

  return (req, res) => {
    // The scheduler calls `<urlPrefix>/<verb>`; a query or a trailing slash is the same path.
    const path = (req.url?.split('?', 1)[0] ?? '').replace(/(.)\/$/, '$1');
    const verb = req.method === 'POST' ? verbs.get(path) : undefined;
    if (!verb) {
      app(req, res);
      return;
    }
    verb(req, res).catch((err: unknown) => {
      logger.error({ err: toErrorFields(err) }, 'extender request failed');
      if (!res.headersSent) send(res, 500, { Error: `INTERNAL: ${toErrorFields(err).message}` });
      else res.destroy();
    });
  };
}

function podKey(pod: { metadata?: { namespace?: string; name?: string; generateName?: string } }): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? pod.metadata?.generateName ?? ''}`;
}
