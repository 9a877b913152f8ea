/**
 * The webhook's HTTP app, built without listening (tests call it in-process with supertest).
 * The transport only limits, decodes and encodes: every POST to /mutate or /validate is answered
 * with HTTP 200 and a well-formed AdmissionReview — a malformed request gets a 400-class status
 * inside the envelope, which the API server reports to the user instead of a bare transport error.
 *
 * Admission POSTs take a direct path; express serves everything else (/healthz, /readyz, /metrics,
 * other methods, 404s). Express's per-request setup cost more than the admission decision itself
 * and kept /mutate under 0.7× a bare HTTPS echo (bench/webhook-mutate.ts, docs/webhook.md).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { addOpsRoutes, type ReadinessCheck } from '../core/ops-routes.ts';
import { toErrorFields } from '../core/errors.ts';
import type { ErrorCode } from '../core/errors.ts';
import { parseAdmissionReview, toAdmissionReview, type AdmissionHandler, type AdmissionResult, type ReviewParse } from './admission.ts';
import { createMutateHandler, createValidateHandler } from './handlers.ts';
import { createModuleDeploymentMutateHandler } from './mutate-module-deployment.ts';
import { MODULE_DEPLOYMENT_MUTATE_PATH, MODULE_DEPLOYMENT_VALIDATE_PATH } from './registration-module-deployment.ts';
import { createModuleDeploymentValidateHandler } from './validate-module-deployment.ts';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.ts';
import type { AdmissionPolicy } from './policy.ts';
import { BodyTooLargeError, readBody } from '../core/read-body.ts';

/**
 * The API server caps a request body at 3 MiB and an AdmissionReview carries object and oldObject,
 * so a real UPDATE can be twice that.
 */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface WebhookAppOptions {
  readonly policy: AdmissionPolicy;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly ready?: ReadinessCheck;
  readonly maxBodyBytes?: number;
  /** Pass metrics already created on the registry (one registry can hold them only once). */
  readonly metrics?: WebhookMetrics;
}

function send(res: ServerResponse, uid: string, result: AdmissionResult): void {
  const text = JSON.stringify(toAdmissionReview(uid, result));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function toLogFields(endpoint: string, uid: string, parsed: ReviewParse | undefined, result: AdmissionResult): Record<string, unknown> {
  const r = parsed?.kind === 'ok' ? parsed.request : undefined;
  return {
    endpoint,
    uid,
    result: result.kind,
    // `objectName`, not `name`: pino already writes the logger's name there.
    ...(r ? { kind: r.kind.kind, operation: r.operation, namespace: r.namespace, objectName: r.name, dryRun: r.dryRun === true } : {}),
    ...(result.kind === 'allowed' ? { reason: result.reason } : {}),
    ...(result.kind === 'patched' ? { changes: result.changes } : {}),
    ...(result.kind === 'denied' || result.kind === 'errored' ? { message: result.message } : {}),
    ...(parsed?.kind === 'invalid' ? { code: 'ADMISSION_BAD_REQUEST' satisfies ErrorCode } : {}),
  };
}

export function createWebhookApp(opts: WebhookAppOptions): RequestListener {
  const { logger } = opts;
  const metrics = opts.metrics ?? createWebhookMetrics(opts.registry);
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const finish = (endpoint: string, res: ServerResponse, start: number, uid: string, parsed: ReviewParse | undefined, result: AdmissionResult) => {
    send(res, uid, result);
    metrics.observeReview(endpoint, result.kind, (performance.now() - start) / 1000);
    const quiet = result.kind === 'allowed' || result.kind === 'patched';
    if (logger.isLevelEnabled(quiet ? 'debug' : 'info')) {
      const fields = toLogFields(endpoint, uid, parsed, result);
      if (quiet) logger.debug(fields, 'admission review');
      else logger.info(fields, `admission review ${result.kind}`);
    }
  };

  const review = (endpoint: string, handle: AdmissionHandler) => async (req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (err) {
      // Raw bytes for every content type: the decoder judges the content type and can still
      // answer with the request's UID; only an unreadable body leaves the UID unknown.
      const code = err instanceof BodyTooLargeError ? 413 : 400;
      const message = err instanceof BodyTooLargeError ? err.message : `the request could not be read: ${toErrorFields(err).message}`;
      finish(endpoint, res, start, '', undefined, { kind: 'errored', code, message });
      return;
    }
    const parsed = parseAdmissionReview(req.headers['content-type'], body);
    if (parsed.kind === 'invalid') {
      finish(endpoint, res, start, parsed.uid, parsed, parsed.result);
      return;
    }
    let result: AdmissionResult;
    try {
      result = handle(parsed.request);
    } catch (err) {
      logger.error({ err: toErrorFields(err), uid: parsed.request.uid, endpoint }, 'admission handler failed');
      result = { kind: 'errored', code: 500, message: `internal error: ${toErrorFields(err).message}` };
    }
    finish(endpoint, res, start, parsed.request.uid, parsed, result);
  };
  const admission: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    '/mutate': review('mutate', createMutateHandler(opts.policy)),
    '/validate': review('validate', createValidateHandler(opts.policy)),
    [MODULE_DEPLOYMENT_MUTATE_PATH]: review('mutate-module-deployment', createModuleDeploymentMutateHandler()),
    [MODULE_DEPLOYMENT_VALIDATE_PATH]: review('validate-module-deployment', createModuleDeploymentValidateHandler(opts.policy)),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  addOpsRoutes(app, opts.registry, opts.ready ?? (() => undefined));
  for (const path of Object.keys(admission)) {
    app.all(path, (req, res) => {
      send(res, '', { kind: 'errored', code: 405, message: `${req.method} is not supported; POST an AdmissionReview` });
    });
  }

  return (req, res) => {
    // The API server calls `<path>?timeout=5s`; a trailing slash is the same path to express too.
    const path = (req.url?.split('?', 1)[0] ?? '').replace(/(.)\/$/, '$1');
    const handle = req.method === 'POST' ? admission[path] : undefined;
    if (!handle) {
      app(req, res);
      return;
    }
    handle(req, res).catch((err: unknown) => {
      logger.error({ err: toErrorFields(err) }, 'admission request failed');
      if (!res.headersSent) send(res, '', { kind: 'errored', code: 500, message: 'internal error' });
      else res.destroy();
    });
  };
}
