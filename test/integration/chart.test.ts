// `helm install` of the chart into the real local control plane: the API server accepts every object
// (RBAC, webhook configurations, PDBs...). Nothing runs (no kubelet), so the release is removed at once
// after the check: its webhook configurations would otherwise catch other tests' module pods.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { getTestCluster } from '../support/cluster.ts';
import { runHelm } from '../support/helm.ts';

const cluster = await getTestCluster();
const release = `mc${Math.random().toString(36).slice(2, 6)}`;
const ns = await cluster.createNamespace('chart');
after(async () => {
  await runHelm(['uninstall', release, '-n', ns, '--kubeconfig', cluster.kubeconfig, '--wait=false']);
});

test('helm install creates every object of the chart in a real API server, and uninstall removes them', async () => {
  const r = await runHelm(['install', release, 'charts/module-controller', '-n', ns, '--kubeconfig', cluster.kubeconfig]);
  assert.equal(r.code, 0, r.stderr);
  const mwc = await cluster.kubectl(['get', 'mutatingwebhookconfiguration', `${release}-webhook`, '-o', 'jsonpath={.webhooks[*].name}']);
  assert.equal(mwc.code, 0, mwc.stderr);
  assert.match(mwc.stdout, /pods\.mutate\.module-controller\.koupleless\.io/);
  const deps = await cluster.kubectl(['get', 'deployments', '-n', ns, '-o', 'name']);
  assert.deepEqual(deps.stdout.trim().split('\n').sort(), [`deployment.apps/${release}-bridge`, `deployment.apps/${release}-broker`, `deployment.apps/${release}-extender`, `deployment.apps/${release}-module-deployment`, `deployment.apps/${release}-scheduler`, `deployment.apps/${release}-webhook`]);
  // crds/ is installed by helm (and kept on uninstall, as Helm does with CRDs).
  const crds = await cluster.kubectl(['get', 'crd', 'moduledeployments.koupleless.io', 'moduledeployments.koupleless.alipay.com', '-o', 'name']);
  assert.equal(crds.code, 0, crds.stderr);
  const cm = await cluster.kubectl(['get', 'configmap', `${release}-scheduler`, '-n', ns, '-o', 'jsonpath={.data.config\\.yaml}']);
  assert.match(cm.stdout, new RegExp(`urlPrefix: "http://${release}-extender\\.${ns}\\.svc:8080"`));
  const un = await runHelm(['uninstall', release, '-n', ns, '--kubeconfig', cluster.kubeconfig]);
  assert.equal(un.code, 0, un.stderr);
  const gone = await cluster.kubectl(['get', 'mutatingwebhookconfiguration', `${release}-webhook`]);
  assert.notEqual(gone.code, 0);
});
