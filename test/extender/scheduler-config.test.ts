import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { EXTENDER_WEIGHT, renderSchedulerConfigTemplate, TEMPLATE_FILE, toSchedulerConfig, toSchedulerConfigYaml } from '../../extender/scheduler-config.ts';
import { DEFAULTS } from '../../core/names.ts';

test('toSchedulerConfig: module-scheduler profile, the extender, its own lease', () => {
  const c = toSchedulerConfig({ extenderUrl: 'http://127.0.0.1:8080', kubeconfig: '/k' }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(c.apiVersion, 'kubescheduler.config.k8s.io/v1');
  assert.equal(c.kind, 'KubeSchedulerConfiguration');
  assert.deepEqual(c.profiles, [{ schedulerName: DEFAULTS.schedulerName }]);
  assert.deepEqual(c.clientConnection, { kubeconfig: '/k' });
  assert.deepEqual(c.leaderElection, { leaderElect: true, resourceLock: 'leases', resourceName: 'module-scheduler', resourceNamespace: 'kube-system' });
  assert.equal(c.percentageOfNodesToScore, 100);
  assert.deepEqual(c.extenders, [
    { urlPrefix: 'http://127.0.0.1:8080', filterVerb: 'filter', prioritizeVerb: 'prioritize', weight: EXTENDER_WEIGHT, nodeCacheCapable: true, ignorable: false, httpTimeout: '5s' },
  ]);
});

test('the weight makes one extender point outweigh every default score plugin together', () => {
  const maxPluginSum = (3 + 2 + 1 + 2 + 2 + 1 + 1 + 1) * 100;
  assert.ok(EXTENDER_WEIGHT * 10 > maxPluginSum);
});

test('options: HTTPS to the extender, full Node objects, no leader election', () => {
  const c = toSchedulerConfig({
    extenderUrl: 'https://ext:8443',
    kubeconfig: '',
    nodeCacheCapable: false,
    leaderElect: false,
    leaseNamespace: 'koupleless',
    ignorable: true,
    httpTimeout: '2s',
    weight: 7,
    schedulerName: 'ms2',
    tls: { caFile: '/ca.crt', serverName: 'ext' },
  }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(c.extenders[0], {
    urlPrefix: 'https://ext:8443', filterVerb: 'filter', prioritizeVerb: 'prioritize', weight: 7, nodeCacheCapable: false, ignorable: true, httpTimeout: '2s',
    enableHTTPS: true, tlsConfig: { caFile: '/ca.crt', serverName: 'ext' },
  });
  assert.equal(c.leaderElection.leaderElect, false);
  assert.equal(c.leaderElection.resourceNamespace, 'koupleless');
  assert.equal(c.profiles[0].schedulerName, 'ms2');
  assert.deepEqual(parse(toSchedulerConfigYaml({ extenderUrl: 'x', kubeconfig: '' })), toSchedulerConfig({ extenderUrl: 'x', kubeconfig: '' }));
});

test('the shipped YAML file renders to exactly toSchedulerConfig with defaults', () => {
  for (const values of [
    { extenderUrl: 'http://module-extender.koupleless:8080', kubeconfig: '' },
    { extenderUrl: 'http://127.0.0.1:1234', kubeconfig: '/tmp/a "quoted" path/kubeconfig', leaseNamespace: 'koupleless' },
  ]) {
    const rendered = renderSchedulerConfigTemplate(values);
    assert.doesNotMatch(rendered, /"(EXTENDER_URL|KUBECONFIG_PATH|LEASE_NAMESPACE)"/);
    assert.deepEqual(parse(rendered), toSchedulerConfig(values));
  }
});

test('the template keeps KUBECONFIG_PATH as test/support/cluster.ts startScheduler expects', () => {
  const text = readFileSync(TEMPLATE_FILE, 'utf8');
  assert.match(text, /kubeconfig: "KUBECONFIG_PATH"/);
  const forTests = renderSchedulerConfigTemplate({ extenderUrl: 'http://127.0.0.1:1', kubeconfig: 'KUBECONFIG_PATH' });
  assert.equal(parse(forTests.replaceAll('KUBECONFIG_PATH', '/real/kubeconfig')).clientConnection.kubeconfig, '/real/kubeconfig');
});

test('options: a client certificate for an extender that requires one', () => {
  const c = toSchedulerConfig({ extenderUrl: 'https://ext:8443', kubeconfig: '', tls: { caFile: '/ca.crt', certFile: '/tls.crt', keyFile: '/tls.key' } }) as { extenders: Array<Record<string, unknown>> };
  assert.deepEqual(c.extenders[0]!['tlsConfig'], { caFile: '/ca.crt', certFile: '/tls.crt', keyFile: '/tls.key' });
});
