import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderCrds, CRDS_DIR } from '../../scripts/render-crds.ts';
import { CEL_PATTERNS, toModuleDeploymentCrd } from '../../moduledeployment/crd.ts';
import { checkBizName, checkBizUrl, checkBizVersion } from '../../core/module-spec.ts';

test('the committed CRDs are what scripts/render-crds.ts writes (run it after changing moduledeployment/crd.ts)', () => {
  for (const [name, text] of renderCrds()) assert.equal(readFileSync(new URL(name, CRDS_DIR), 'utf8'), text, `${name} is stale`);
});

test('both groups, same names, scale and status subresources', () => {
  for (const group of ['koupleless.io', 'koupleless.alipay.com'] as const) {
    const crd = toModuleDeploymentCrd(group) as { spec: { group: string; names: { shortNames: string[] }; versions: Array<{ subresources: { scale: Record<string, string> } }> } };
    assert.equal(crd.spec.group, group);
    assert.deepEqual(crd.spec.names.shortNames, ['mddeploy']);
    assert.deepEqual(crd.spec.versions[0]!.subresources.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
  }
});

// The CEL patterns must agree with core/module-spec.ts (JavaScript RegExp is close enough to RE2 for these).
test('CEL patterns accept and reject what core/module-spec.ts does', () => {
  const toJs = (re: string) => new RegExp(re.replace('(?i)', ''), re.includes('(?i)') ? 'i' : '');
  for (const name of ['biz1', 'a', 'a-b', 'Bad_Name', '-x', 'x'.repeat(64)]) assert.equal(toJs(CEL_PATTERNS.bizName).test(name), checkBizName(name) === undefined, name);
  for (const v of ['1.0.0', '0.0.1-SNAPSHOT', '2.1.0.RELEASE', 'not a version', '.1']) assert.equal(toJs(CEL_PATTERNS.bizVersion).test(v), checkBizVersion({ env: [{ name: 'BIZ_VERSION', value: v }] }) === undefined, v);
  for (const u of ['https://x.invalid/a-ark-biz.jar', 'http://x/a.JAR', 'file:///tmp/a.jar', 'https://x/a.jar?sig=1', 'nginx:latest', 'ftp://x/a.jar', 'https://x/a.zip']) assert.equal(toJs(CEL_PATTERNS.jarUrl).test(u), checkBizUrl(u) === undefined, u);
});
