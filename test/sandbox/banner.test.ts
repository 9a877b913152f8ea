import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toSandboxBanner } from '../../sandbox/command.ts';

test('the banner: every service\'s address, one export line, kubectl commands without flags', () => {
  const text = toSandboxBanner({
    kubeconfig: '/w/.sandbox/kubeconfig',
    kubectlDir: '/c/bin',
    logs: '/w/.sandbox/logs',
    services: [
      { name: 'kube-apiserver', url: 'https://127.0.0.1:6443', paths: '/readyz' },
      { name: 'webhook', url: 'https://127.0.0.1:9443', paths: '/healthz, /readyz, /metrics' },
      { name: 'extender', url: 'http://127.0.0.1:8080', paths: '/healthz, /readyz, /metrics' },
      { name: 'bridge', url: 'http://127.0.0.1:8081', paths: '/healthz, /readyz, /metrics' },
    ],
    bases: ['sim-0', 'sim-1'],
    baseLabel: 'base:1.0.0',
    firstBaseIp: '192.0.2.10',
  });
  for (const want of ['webhook         https://127.0.0.1:9443', 'extender        http://127.0.0.1:8080', 'bridge          http://127.0.0.1:8081', 'logs            /w/.sandbox/logs']) assert.ok(text.includes(want), want);
  assert.match(text, /^ {2}export KUBECONFIG=\/w\/\.sandbox\/kubeconfig PATH=\/c\/bin:\$PATH$/m);
  assert.match(text, /^ {2}kubectl get nodes -o wide$/m);
  assert.match(text, /status\.podIP=192\.0\.2\.10/);
  assert.doesNotMatch(text, /--kubeconfig/, 'the export line makes the flags unnecessary');
  assert.match(text, /closing this terminal\) stops everything/);
});
