/**
 * The extender's HTTP app, built without listening (tests call it in-process).
 *
 * The transport only limits, decodes and encodes. /filter always answers 200 with a well-formed
 * ExtenderFilterResult: the scheduler only reads `Error` from a 200 and then shows it on the pod,
 * which is more useful than its generic "code 400". /prioritize has no error field in its wire type
 * (a bare HostPriority list), so a bad request gets a non-200 with `{"Error": …}`: the scheduler
 * logs it and schedules on its own plugins' scores for that cycle, which is what it does with any
 * prioritize failure.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { addOpsRoutes } from '../core/ops-routes.ts';
import { toErrorFields } from '../core/errors.ts';
import { parseExtenderArgs, toFilterError, type ArgsParse } from './extender-args.ts';
import { planFilter, planPrioritize } from './decisions.ts';
import type { FilterConfig } from './filter-nodes.ts';
import type { ExtenderView } from './snapshot.ts';
import type { ExtenderMetrics } from './metrics.ts';

export interface ExtenderAppDeps {
  readonly view: ExtenderView;
  readonly config: FilterConfig;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly metrics: ExtenderMetrics;
  /** Largest request body accepted; full NodeLists of thousands of nodes are megabytes. */
  readonly maxBodyBytes: number;
}

type Verb = 'filter' | 'prioritize';

export function createExtenderApp(deps: ExtenderAppDeps): Express {
  const { view, config, logger, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  // No ETag: hashing a 100 kB answer per call costs more than deciding it, and nobody revalidates.
  app.set('etag', false);
  addOpsRoutes(app, deps.registry, () => view.notReadyReason());
  // The scheduler sends application/json; accept any type so curl and hand-written clients work too.
  const json = express.json({ limit: deps.maxBodyBytes, type: () => true, strict: false });

  type Outcome = 'ok' | 'bad_request' | 'not_ready' | 'error';
  const reject = (res: Response, verb: Verb, status: number, error: string, outcome: Exclude<Outcome, 'ok'>) => {
    logger.warn({ verb, error }, 'extender request rejected');
    if (verb === 'filter') res.status(200).json(toFilterError(error));
    else res.status(status).json({ Error: error });
    return outcome;
  };

  const handle = (verb: Verb, answer: (parsed: Extract<ArgsParse, { kind: 'ok' }>, res: Response) => void) => (req: Request, res: Response) => {
    const end = metrics.requestSeconds.startTimer({ verb });
    let outcome: Outcome = 'ok';
    const parsed = parseExtenderArgs(req.body);
    const notReady = view.notReadyReason();
    if (parsed.kind === 'invalid') outcome = reject(res, verb, 400, `EXTENDER_BAD_REQUEST: ${parsed.error}`, 'bad_request');
    else if (notReady) outcome = reject(res, verb, 503, `module extender is starting: ${notReady}`, 'not_ready');
    else {
      try {
        answer(parsed, res);
      } catch (err) {
        // A shape the light parse let through (say, containers that are not a list) or a bug:
        // still a well-formed answer, and the details in the log.
        logger.error({ verb, err: toErrorFields(err) }, 'extender request failed');
        outcome = reject(res, verb, 500, `INTERNAL: the extender could not decide for this pod (${toErrorFields(err).message})`, 'error');
      }
    }
    end({ outcome });
  };

  app.post(
    '/filter',
    json,
    handle('filter', ({ args }, res) => {
      const plan = planFilter(args, view, config);
      if (plan.assumed) view.assume(plan.assumed);
      // Count locally, then one inc per reason: thousands of labelled incs cost more than the decisions.
      const byReason = new Map<string, number>();
      for (const r of plan.rejections) {
        const reason = r?.code ?? 'fits';
        byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
      }
      for (const [reason, n] of byReason) metrics.nodeDecisions.inc({ reason }, n);
      if (logger.isLevelEnabled('debug')) logger.debug({ pod: podKey(args.pod), decisions: plan.names.map((n, i) => [n, plan.rejections[i]?.code ?? 'fits']) }, 'filter');
      res.json(plan.result);
    }),
  );

  app.post(
    '/prioritize',
    json,
    handle('prioritize', ({ args }, res) => {
      const plan = planPrioritize(args, view);
      if (plan.assumed) view.assume(plan.assumed);
      if (logger.isLevelEnabled('debug')) logger.debug({ pod: podKey(args.pod), scores: plan.result }, 'prioritize');
      res.json(plan.result);
    }),
  );

  // Body-parser failures (bad JSON, too large) still get a well-formed answer.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const verb: Verb | undefined = req.path === '/filter' ? 'filter' : req.path === '/prioritize' ? 'prioritize' : undefined;
    const status = (err as { status?: number }).status ?? 500;
    const message = toErrorFields(err).message;
    if (!verb) {
      res.status(status).json({ Error: message });
      return;
    }
    const end = metrics.requestSeconds.startTimer({ verb });
    reject(res, verb, status >= 400 && status < 500 ? status : 400, `EXTENDER_BAD_REQUEST: the body is not valid ExtenderArgs JSON (${message})`, 'bad_request');
    end({ outcome: 'bad_request' });
  });
  return app;
}

function podKey(pod: { metadata?: { namespace?: string; name?: string; generateName?: string } }): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? pod.metadata?.generateName ?? ''}`;
}
