/**
 * Real AdmissionReview shapes, as kube-apiserver 1.34 sends them: objects already defaulted
 * (schedulerName default-scheduler, DefaultTolerationSeconds tolerations, the service-account
 * volume), a ReplicaSet-created pod with generateName and no name, requestKind/userInfo filled in.
 */
import type { V1Pod } from '@kubernetes/client-node';

export type Json = Record<string, unknown>;

export function moduleContainer(name: string, version = '0.0.1-SNAPSHOT', image = `https://repo.example.com/${name}-${version}-ark-biz.jar`): Json {
  return {
    name,
    image,
    env: [{ name: 'BIZ_VERSION', value: version }],
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
    volumeMounts: [{ name: 'kube-api-access-x7k2p', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
  };
}

/** A pod as the ReplicaSet controller creates it, after the built-in mutating admission plugins. */
export function replicaSetPod(opts: { labels?: Record<string, string>; annotations?: Record<string, string>; containers?: Json[]; spec?: Json } = {}): V1Pod {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      generateName: 'biz1-6b9f7c8d5-',
      namespace: 'demo',
      labels: { app: 'biz1', 'pod-template-hash': '6b9f7c8d5', 'module-controller.koupleless.io/component': 'module', ...opts.labels },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'biz1-6b9f7c8d5', uid: '5c1f0a8e-3b52-4d8a-9f61-0d7b2a4c9e11', controller: true, blockOwnerDeletion: true }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: {} }],
    },
    spec: {
      volumes: [{ name: 'kube-api-access-x7k2p', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }], defaultMode: 420 } }],
      containers: (opts.containers ?? [moduleContainer('biz1')]) as never,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      ...opts.spec,
    },
    status: {},
  } as unknown as V1Pod;
}

export function podTemplate(opts: { labels?: Record<string, string>; annotations?: Record<string, string>; containers?: Json[]; spec?: Json } = {}): Json {
  return {
    metadata: {
      labels: { app: 'biz1', 'module-controller.koupleless.io/component': 'module', ...opts.labels },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      containers: opts.containers ?? [moduleContainer('biz1')],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
      ...opts.spec,
    },
  };
}

const APPS = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', ReplicaSet: 'replicasets' } as const;

export function workload(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job' | 'CronJob', template: Json, name = 'biz1'): Json {
  const group = kind === 'Job' || kind === 'CronJob' ? 'batch' : 'apps';
  const spec: Json =
    kind === 'CronJob'
      ? { schedule: '*/5 * * * *', concurrencyPolicy: 'Allow', jobTemplate: { spec: { template: { ...template, spec: { ...(template['spec'] as Json), restartPolicy: 'Never' } } } } }
      : kind === 'Job'
        ? { template: { ...template, spec: { ...(template['spec'] as Json), restartPolicy: 'Never' } }, backoffLimit: 6 }
        : { replicas: 1, selector: { matchLabels: { app: 'biz1' } }, template };
  return { apiVersion: `${group}/v1`, kind, metadata: { name, namespace: 'demo', labels: { app: 'biz1' } }, spec };
}

export function resourceOf(kind: string): string {
  return (APPS as Record<string, string>)[kind] ?? (kind === 'Pod' ? 'pods' : kind === 'Job' ? 'jobs' : kind === 'CronJob' ? 'cronjobs' : `${kind.toLowerCase()}s`);
}

let counter = 0;

/** A full AdmissionReview request envelope around an object. */
export function review(object: Json | V1Pod, opts: { operation?: string; oldObject?: Json | V1Pod; dryRun?: boolean; namespace?: string; group?: string; kind?: string; subResource?: string } = {}): Json {
  const kind = opts.kind ?? String((object as Json)['kind']);
  const group = opts.group ?? (kind === 'Pod' ? '' : kind === 'Job' || kind === 'CronJob' ? 'batch' : 'apps');
  const gvk = { group, version: 'v1', kind };
  const gvr = { group, version: 'v1', resource: resourceOf(kind) };
  const meta = ((object as Json)['metadata'] ?? {}) as Json;
  counter += 1;
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: `0df28fbd-5f5f-11e8-bc74-${String(counter).padStart(12, '0')}`,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      ...(opts.subResource ? { subResource: opts.subResource } : {}),
      name: typeof meta['name'] === 'string' ? meta['name'] : '',
      namespace: opts.namespace ?? 'demo',
      operation: opts.operation ?? 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', uid: 'a7d6c4f0-1e2b-4c3d-9e8f-0a1b2c3d4e5f', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] },
      object,
      oldObject: opts.oldObject ?? null,
      dryRun: opts.dryRun ?? false,
      options: { kind: opts.operation === 'UPDATE' ? 'UpdateOptions' : 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

/** Freezes deeply, so a test fails if a pure function edits its input. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
