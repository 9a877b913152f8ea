/**
 * The ModuleDeployment CustomResourceDefinitions, one per group, from one source: a structural
 * schema (so unknown fields are reported by `kubectl apply`) and CEL rules
 * (`x-kubernetes-validations`) whose messages match the webhook's for module containers
 * (core/module-spec.ts), so a bad spec fails at apply time and says what to fix.
 * scripts/render-crds.ts writes charts/module-controller/crds/ from here.
 */
import { SCHEDULING_POLICIES } from '../core/names.ts';
import { MD_KIND, MD_PLURAL, MD_SHORT_NAME, MD_VERSION, PROGRESS, UPGRADE_POLICIES, type MdGroup } from './types.ts';

type Schema = Record<string, unknown>;

const JAR_HINT = 'set it to the module jar URL (https:// or http://, ending in .jar; file:// only where the cluster jar URL policy allows it)';
const VERSION_HINT = 'set it to the module version from pom.xml';
const NAME_HINT = 'the artifactId in pom.xml';

/** The same patterns as core/module-spec.ts (RE2 syntax, which CEL's matches() uses). */
export const CEL_PATTERNS = Object.freeze({
  bizName: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
  bizVersion: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$',
  jarUrl: '^(?i)(https?|file)://[^?#]*[.]jar([?#].*)?$',
});

function rule(ruleText: string, message: string, messageExpression?: string, reason?: string): Schema {
  return { rule: ruleText, message, ...(messageExpression ? { messageExpression } : {}), ...(reason ? { reason } : {}) };
}

const str = (maxLength: number, extra: Schema = {}): Schema => ({ type: 'string', maxLength, ...extra });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', ...extra });

const moduleSchema: Schema = {
  type: 'object',
  description: 'The module: name = bizName, version = bizVersion, url = the jar URL.',
  properties: {
    name: str(253, {
      description: 'bizName (the artifactId in pom.xml); becomes the container name and a label key.',
      'x-kubernetes-validations': [rule(`self.matches('${CEL_PATTERNS.bizName}')`, 'name is not a valid bizName', `'name "' + self + '" is not a valid bizName; use lower-case letters, digits and \\'-\\', starting and ending with a letter or digit, at most 63 characters (${NAME_HINT})'`)],
    }),
    version: str(256, {
      description: 'bizVersion (the version in pom.xml).',
      'x-kubernetes-validations': [rule(`self.matches('${CEL_PATTERNS.bizVersion}')`, 'version is not a valid version', `'version "' + self + '" is not a valid version; use letters, digits, \\'.\\', \\'_\\', \\'+\\' and \\'-\\' (e.g. 1.0.0 or 0.0.1-SNAPSHOT)'`)],
    }),
    url: str(4096, {
      description: 'The module jar URL (https:// or http://, ending in .jar; file:// only where the cluster allows it: the jar URL policy in docs/webhook.md).',
      'x-kubernetes-validations': [rule(`self.matches('${CEL_PATTERNS.jarUrl}')`, 'url is not a jar URL', `'url "' + self + '" is not a jar URL; ${JAR_HINT}'`)],
    }),
    type: str(64, { description: 'Module type (accepted for v1 compatibility; informational).' }),
    md5: str(64, { description: 'Jar checksum (accepted for v1 compatibility; informational).' }),
  },
  'x-kubernetes-validations': [
    rule('has(self.name) && self.name != ""', `module.name is missing; set it to the module bizName (${NAME_HINT})`),
    rule('has(self.version) && self.version != ""', `module.version is missing; ${VERSION_HINT}`),
    rule('has(self.url) && self.url != ""', `module.url is missing; ${JAR_HINT}`),
  ],
};

const port = (what: string): Schema => int({ description: what, 'x-kubernetes-validations': [rule('self >= 1 && self <= 65535', `${what.split(' ')[0]} must be a port number between 1 and 65535`)] });

const operationStrategySchema: Schema = {
  type: 'object',
  properties: {
    needConfirm: { type: 'boolean', description: 'After every batch but the last, wait until spec.confirmBatchNum equals status.releaseStatus.currentBatch.' },
    useBeta: { type: 'boolean', description: 'The first batch is exactly one replica.' },
    batchCount: int({ default: 1, description: 'Release in this many batches (plus the beta batch with useBeta).', 'x-kubernetes-validations': [rule('self >= 1', 'batchCount must be at least 1 (1 = release everything in one batch)')] }),
    grayTimeBetweenBatchSeconds: int({ description: 'Without needConfirm: wait this long after a batch before the next starts.', 'x-kubernetes-validations': [rule('self >= 0', 'grayTimeBetweenBatchSeconds must be 0 or more seconds')] }),
    upgradePolicy: { type: 'string', enum: [...UPGRADE_POLICIES], default: 'install_then_uninstall', description: 'How a batch replaces old replicas (docs/module-deployment.md).' },
    maxUnavailable: { 'x-kubernetes-int-or-string': true, description: 'Accepted for v1 compatibility; not used.' },
    serviceStrategy: {
      type: 'object',
      description: 'A Service <module name>-service (type NodePort, port "http") selecting this module\'s pods.',
      properties: {
        enableModuleService: { type: 'boolean' },
        port: port('port exposed by the Service'),
        targetPort: port('targetPort on the base (default: port)'),
      },
      'x-kubernetes-validations': [rule('!(has(self.enableModuleService) && self.enableModuleService) || has(self.port)', 'serviceStrategy.port is missing; set the port the module Service exposes (1-65535)')],
    },
  },
};

const specSchema: Schema = {
  type: 'object',
  properties: {
    baseDeploymentName: str(253, { description: 'Which bases: the Deployment running them in this cluster, or bases labelled base.koupleless.io/name=<this> (docs/module-deployment.md).' }),
    template: {
      type: 'object',
      properties: { spec: { type: 'object', properties: { module: moduleSchema } } },
    },
    // The API server requires a scale subresource's replicas field to be set and non-negative
    // (apiextensions-apiserver ValidateScaleSpec), so v1's `replicas: -1` cannot be stored: the
    // webhook rewrites it into peer: true, and in peer mode the controller keeps replicas at the
    // number of matching Ready bases (moduledeployment/peer-mode.ts).
    replicas: int({ default: 1, description: 'Number of module replicas; kubectl scale writes it. -1 (v1) = peer mode: the webhook stores it as peer: true, and replicas then follows the matching Ready bases. Writing another value (kubectl scale) leaves peer mode.', 'x-kubernetes-validations': [rule('self >= 0', 'replicas must be 0 or more, or -1 for one replica per matching Ready base (v1 peer mode, which the module-controller webhook turns into peer: true; is the webhook running?)')] }),
    peer: { type: 'boolean', description: 'Peer mode (v1 replicas: -1): one replica per matching Ready base, following bases joining and leaving; replicas shows that count. kubectl scale to another count sets it to false.' },
    confirmBatchNum: int({ description: 'Confirm a batch waiting for confirmation: set it to status.releaseStatus.currentBatch.', 'x-kubernetes-validations': [rule('self >= 0', 'confirmBatchNum must be 0 or more (set it to status.releaseStatus.currentBatch to confirm that batch)')] }),
    revisionHistoryLimit: int({ default: 10, description: 'Old ReplicaSets (with 0 replicas) kept for going back to an earlier version.', 'x-kubernetes-validations': [rule('self >= 0', 'revisionHistoryLimit must be 0 or more')] }),
    minReadySeconds: int({ description: 'Accepted for v1 compatibility; not used.' }),
    progressDeadlineSeconds: int({ description: 'Accepted for v1 compatibility; not used.' }),
    operationStrategy: operationStrategySchema,
    schedulingStrategy: {
      type: 'object',
      properties: { schedulingPolicy: { type: 'string', enum: [...SCHEDULING_POLICIES], default: 'scatter', description: 'scatter: spread over bases; stacking: fill the bases that already run the most modules first.' } },
    },
  },
  'x-kubernetes-validations': [
    rule('has(self.baseDeploymentName) && self.baseDeploymentName != ""', 'baseDeploymentName is missing; set it to the name of the base Deployment (or the bases\' base.koupleless.io/name label)'),
    rule('has(self.template) && has(self.template.spec) && has(self.template.spec.module)', 'template.spec.module is missing; set name, version and url of the module'),
  ],
};

const conditionSchema: Schema = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: { type: 'string' },
    status: { type: 'string' },
    reason: { type: 'string' },
    message: { type: 'string' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
};

const statusSchema: Schema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64' },
    replicas: int(),
    readyReplicas: int(),
    availableReplicas: int(),
    updatedReplicas: int(),
    ready: { type: 'string' },
    selector: { type: 'string' },
    releaseStatus: {
      type: 'object',
      properties: {
        progress: { type: 'string', enum: [...PROGRESS] },
        currentBatch: int(),
        realBatchCount: int(),
        originalDeltaReplicas: int(),
        batchProgress: { type: 'string' },
        lastTransitionTime: { type: 'string', format: 'date-time' },
        nextReconcileTime: { type: 'string', format: 'date-time' },
        revision: { type: 'string' },
        staleConfirmBatchNum: int(),
        fromReplicas: int({ description: 'Set while (and after) a scale of the same revision: the replicas it started from.' }),
        toReplicas: int({ description: 'The replicas the release or scale moves to.' }),
      },
    },
    conditions: { type: 'array', items: conditionSchema, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
  },
};

export function toModuleDeploymentCrd(group: MdGroup): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${MD_PLURAL}.${group}`, labels: { 'app.kubernetes.io/part-of': 'module-controller' } },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind: MD_KIND, listKind: `${MD_KIND}List`, plural: MD_PLURAL, singular: 'moduledeployment', shortNames: [MD_SHORT_NAME], categories: ['all', 'koupleless'] },
      versions: [
        {
          name: MD_VERSION,
          served: true,
          storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
          additionalPrinterColumns: [
            { name: 'Module', type: 'string', jsonPath: '.spec.template.spec.module.name' },
            { name: 'Version', type: 'string', jsonPath: '.spec.template.spec.module.version' },
            { name: 'Ready', type: 'string', jsonPath: '.status.ready', description: 'Ready replicas / desired replicas' },
            { name: 'Up-To-Date', type: 'integer', jsonPath: '.status.updatedReplicas' },
            { name: 'Progress', type: 'string', jsonPath: '.status.releaseStatus.progress' },
            { name: 'Batch', type: 'string', jsonPath: '.status.releaseStatus.batchProgress', description: 'Current batch / batches of the release' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'Koupleless ModuleDeployment (v1 API): a module released in batches onto bases, served with native ReplicaSets of module pods.',
              required: ['spec'],
              'x-kubernetes-validations': [rule('self.metadata.name.size() <= 52', 'metadata.name must be at most 52 characters: it names the ReplicaSets (<name>-<revision hash>) and labels their pods')],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: specSchema,
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}
