import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Lease, V1Node } from '@kubernetes/client-node';
import { BASE_IDENTITY_ANNOTATION, BASE_LAST_HEARD_ANNOTATION, BASE_NAME_LABEL, BASE_VERSION_LABEL, BASE_CLUSTER_LABEL, toNodeName } from '../../core/names.ts';
import { planAdoption } from '../../bridge/adopt-nodes.ts';
import { BaseRegistry } from '../../bridge/base-registry.ts';
import { toLiveness } from '../../bridge/plan-node.ts';
import { recordLinkUp, toStartHearing } from '../../bridge/hearing.ts';
import { SETTINGS, T0 } from './fixtures.ts';

const S = SETTINGS;

function node(identity: string, ready: { status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string; lastHeartbeatTime?: Date } | undefined): V1Node {
  return {
    metadata: {
      name: toNodeName(identity),
      annotations: { [BASE_IDENTITY_ANNOTATION]: identity },
      labels: { [BASE_NAME_LABEL]: 'base', [BASE_VERSION_LABEL]: '1.0.0', [BASE_CLUSTER_LABEL]: 'c1' },
    },
    status: {
      addresses: [{ type: 'InternalIP', address: '192.0.2.7' }, { type: 'Hostname', address: 'base-0' }],
      conditions: ready ? [{ type: 'Ready', status: ready.status, reason: ready.reason ?? '', message: ready.message ?? '', ...(ready.lastHeartbeatTime ? { lastHeartbeatTime: ready.lastHeartbeatTime } : {}) }] : [],
    },
  };
}

const lease = (identity: string, lastHeard: string | undefined): [string, V1Lease] => [toNodeName(identity), { metadata: { name: toNodeName(identity), annotations: lastHeard ? { [BASE_LAST_HEARD_ANNOTATION]: lastHeard } : {} } }];

test('planAdoption: last heard from the Lease, else the Ready condition, never "now"', () => {
  const nodes = [
    node('a', { status: 'True', lastHeartbeatTime: new Date(T0 - 50_000) }),
    node('b', { status: 'False', reason: 'BaseUnreachable', message: 'no heartbeat for 90s', lastHeartbeatTime: new Date(T0 - 5_000) }),
    node('c', { status: 'True' }),
    node('d', { status: 'True' }),
    { metadata: { name: 'real-node' } } as V1Node,
  ];
  const leases = new Map([
    lease('a', new Date(T0 - 4_000).toISOString()),
    lease('b', new Date(T0 - 90_000).toISOString()),
    lease('d', new Date(T0 + 3_600_000).toISOString()),
  ]);
  const plan = planAdoption(nodes, leases, T0, S.notReadyAfterMs);
  assert.deepEqual(plan.map((a) => [a.identity, a.lastHeardAt - T0, a.heardFrom, a.adopted.ready]), [
    ['a', -4_000, 'lease', true],
    ['b', -90_000, 'lease', false],
    ['c', -S.notReadyAfterMs, 'none', true],
    // A last-heard time ahead of this replica's clock is capped at now.
    ['d', 0, 'lease', true],
  ]);
  const b = plan[1]!;
  assert.deepEqual(b.adopted, { ready: false, reason: 'BaseUnreachable', message: 'no heartbeat for 90s' });
  assert.deepEqual(b.metadata, { identity: 'b', name: 'base', version: '1.0.0', clusterName: 'c1' });
  assert.equal(b.localIP, '192.0.2.7');
  assert.equal(b.hostName, 'base-0');
  // Without a Lease annotation the condition's time is used.
  assert.equal(planAdoption([nodes[0]!], new Map(), T0, S.notReadyAfterMs)[0]!.lastHeardAt, T0 - 50_000);
});

test('an adopted dead base stays NotReady and its delete timer runs on from the recorded time', () => {
  const registry = new BaseRegistry();
  const dead = node('dead', { status: 'False', reason: 'BaseUnreachable', message: 'silent' });
  const leases = new Map([lease('dead', new Date(T0 - S.deleteAfterMs + 60_000).toISOString())]);
  for (const a of planAdoption([dead], leases, T0, S.notReadyAfterMs)) registry.adopt(a.identity, a);
  const base = registry.get('dead')!;
  const up = recordLinkUp(toStartHearing(T0), T0 + 1_000, S.reconnectGraceMs);
  assert.equal(toLiveness(base, T0 + 1_000, S, up).kind, 'notReady');
  // Deleted deleteAfter after it was last heard (plus the bridge's own deaf start-up): not a fresh 10 minutes.
  assert.equal(toLiveness(base, T0 + 60_000 + 1_000 + S.reconnectGraceMs - 1, S, up).kind, 'notReady');
  assert.equal(toLiveness(base, T0 + 60_000 + 1_000 + S.reconnectGraceMs, S, up).kind, 'dead');
});
