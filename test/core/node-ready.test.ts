import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNodeReadiness } from '../../core/node-ready.ts';

test('readNodeReadiness: only Ready=True is ready, with the reason otherwise', () => {
  const table: Array<[unknown, boolean, RegExp?]> = [
    [{ conditions: [{ type: 'Ready', status: 'True' }] }, true],
    [{ conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }] }, true],
    [{ conditions: [{ type: 'Ready', status: 'False', reason: 'BaseHeartbeatLost' }] }, false, /^Ready is False \(BaseHeartbeatLost\)$/],
    [{ conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }] }, false, /^Ready is Unknown \(NodeStatusUnknown\)$/],
    [{ conditions: [] }, false, /not reported a Ready condition/],
    [undefined, false, /not reported a Ready condition/],
  ];
  for (const [status, ready, reason] of table) {
    const r = readNodeReadiness(status as never);
    assert.equal(r.ready, ready);
    if (!r.ready) assert.match(r.reason, reason!);
  }
});
