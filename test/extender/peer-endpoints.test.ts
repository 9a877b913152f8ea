import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { toPeerEndpoints } from '../../extender/peer-endpoints.ts';

const slice = (addressType: string, port: number | undefined, endpoints: V1EndpointSlice['endpoints']): V1EndpointSlice => ({ addressType, ports: port === undefined ? [] : [{ name: 'http', port, protocol: 'TCP' }], endpoints });
const pod = (name: string) => ({ kind: 'Pod', name, namespace: 'koupleless' });

test('peers: every endpoint of the Service but this replica, starting ones included, gone ones not', () => {
  const slices = [
    slice('IPv4', 8080, [
      { addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false }, targetRef: pod('ext-a') },
      { addresses: ['10.0.0.2'], conditions: { ready: true }, targetRef: pod('ext-b') },
      // Starting: not ready, not serving, not terminating.
      { addresses: ['10.0.0.3'], conditions: { ready: false, serving: false, terminating: false }, targetRef: pod('ext-c') },
      // Terminating but still serving, and terminating and done.
      { addresses: ['10.0.0.4'], conditions: { ready: false, serving: true, terminating: true }, targetRef: pod('ext-d') },
      { addresses: ['10.0.0.5'], conditions: { ready: false, serving: false, terminating: true }, targetRef: pod('ext-e') },
      { addresses: [], targetRef: pod('ext-f') },
    ]),
    slice('IPv6', 8443, [{ addresses: ['fd00::7'], targetRef: pod('ext-g') }]),
    slice('FQDN', 8080, [{ addresses: ['ext.example.com'] }]),
    slice('IPv4', undefined, [{ addresses: ['10.0.0.9'] }]),
    // The same endpoint in two slices (during an update) is one peer.
    slice('IPv4', 8080, [{ addresses: ['10.0.0.2'], targetRef: pod('ext-b') }]),
  ];
  assert.deepEqual(toPeerEndpoints(slices, 'ext-a').map((p) => [p.key, p.podName]), [
    ['10.0.0.2:8080', 'ext-b'],
    ['10.0.0.3:8080', 'ext-c'],
    ['10.0.0.4:8080', 'ext-d'],
    ['[fd00::7]:8443', 'ext-g'],
  ]);
  assert.equal(toPeerEndpoints(slices, undefined).length, 5, 'without a pod name nothing is left out');
  assert.deepEqual(toPeerEndpoints([], 'ext-a'), []);
});
