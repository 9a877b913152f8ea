/**
 * The bridge's hot writes without the generated client's object mapping. For every answer the
 * generated CoreV1Api runs ObjectSerializer over the whole object (a typed copy of every field,
 * dates turned into Date objects): at 1,000 module pods that was a fifth of the bridge's CPU,
 * for answers it reads one field of (a status patch's resourceVersion and status) or none (Events).
 *
 * `withLeanWrites(core, kc)` returns `core` with three methods replaced by lean ones of the same
 * call shape: pod status patches and Event creates/patches are sent with the same request path,
 * headers and authentication (`kc.applySecurityAuthentication`: client certificates, tokens, the
 * client-side rate limit) through the same HTTP library, and the answer is plain parsed JSON — the
 * object as a watch delivers it (times as RFC 3339 text), which every reader of the caches takes —
 * or, for Events (fire-and-forget; nobody reads their answer), not parsed at all.
 * Errors are the generated client's `ApiException` (code, body text), so callers' checks stay.
 * The `options` argument's middleware (e.g. `setHeaderOptions('Content-Type', ...)`) is applied.
 */
import * as k8s from '@kubernetes/client-node';
import { keepAliveLibraryOf } from './kubeconfig.ts';

/** The part of `ConfigurationOptions` a lean write honours. */
interface LeanOptions {
  readonly middleware?: ReadonlyArray<{ pre(ctx: k8s.RequestContext): k8s.Observable<k8s.RequestContext> }>;
}

interface Auth {
  applySecurityAuthentication(ctx: k8s.RequestContext): Promise<void>;
}

export interface LeanRequest {
  readonly method: k8s.HttpMethod;
  readonly path: string;
  readonly body: unknown;
  /** Default content type (the options' middleware may override it, as with the generated client). */
  readonly contentType: string;
  readonly options?: LeanOptions | undefined;
  /** `none`: the answer is not parsed (resolves to undefined), for writes whose answer nobody reads. */
  readonly answer?: 'json' | 'none' | undefined;
}

/** Sends one JSON request as the generated clients would and returns the answer as plain JSON. */
export function createLeanSender(kc: k8s.KubeConfig, httpApi: k8s.HttpLibrary = keepAliveLibraryOf(kc) ?? new k8s.IsomorphicFetchHttpLibrary()) {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no current cluster');
  const base = new k8s.ServerConfiguration(server, {});
  const auth = kc as unknown as Auth;
  return async (r: LeanRequest): Promise<unknown> => {
    let ctx = base.makeRequestContext(r.path, r.method);
    ctx.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    ctx.setHeaderParam('Content-Type', r.contentType);
    ctx.setBody(JSON.stringify(r.body));
    await auth.applySecurityAuthentication(ctx);
    for (const m of r.options?.middleware ?? []) ctx = await m.pre(ctx).toPromise();
    const res = await httpApi.send(ctx).toPromise();
    const text = await res.body.text();
    if (res.httpStatusCode < 200 || res.httpStatusCode > 299) {
      throw new k8s.ApiException<string>(res.httpStatusCode, res.httpStatusCode === 401 ? 'Unauthorized' : 'Unknown API Status Code!', text, res.headers);
    }
    return text === '' || r.answer === 'none' ? undefined : JSON.parse(text);
  };
}

const enc = encodeURIComponent;
const JSON_PATCH = 'application/json-patch+json';

/** `core` with lean pod-status patches and Event writes (see the header). */
export function withLeanWrites(core: k8s.CoreV1Api, kc: k8s.KubeConfig): k8s.CoreV1Api {
  const send = createLeanSender(kc);
  const lean = Object.create(core) as k8s.CoreV1Api;
  const overrides = {
    patchNamespacedPodStatus: (p: k8s.CoreV1ApiPatchNamespacedPodStatusRequest, options?: LeanOptions) =>
      send({ method: k8s.HttpMethod.PATCH, path: `/api/v1/namespaces/${enc(p.namespace)}/pods/${enc(p.name)}/status`, body: p.body, contentType: JSON_PATCH, options }),
    createNamespacedEvent: (p: k8s.CoreV1ApiCreateNamespacedEventRequest, options?: LeanOptions) =>
      send({ method: k8s.HttpMethod.POST, path: `/api/v1/namespaces/${enc(p.namespace)}/events`, body: p.body, contentType: 'application/json', options, answer: 'none' }),
    patchNamespacedEvent: (p: k8s.CoreV1ApiPatchNamespacedEventRequest, options?: LeanOptions) =>
      send({ method: k8s.HttpMethod.PATCH, path: `/api/v1/namespaces/${enc(p.namespace)}/events/${enc(p.name)}`, body: p.body, contentType: JSON_PATCH, options, answer: 'none' }),
  };
  return Object.assign(lean, overrides as unknown as Partial<k8s.CoreV1Api>);
}
