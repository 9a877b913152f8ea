// The bridge's runtime options: what the chart puts in NODE_OPTIONS must be accepted there (Node
// refuses most V8 flags in NODE_OPTIONS and would not start), and the flags Node refuses there are
// set by the bridge command itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { applyBridgeV8Flags, BRIDGE_NODE_OPTIONS, BRIDGE_V8_FLAGS } from '../../bridge/runtime.ts';

const nodeWith = (nodeOptions: string) => spawnSync(process.execPath, ['-e', ''], { env: { NODE_OPTIONS: nodeOptions }, encoding: 'utf8' });

test('the chart\'s NODE_OPTIONS for the bridge start Node', () => {
  const r = nodeWith(BRIDGE_NODE_OPTIONS);
  assert.equal(r.status, 0, r.stderr);
});

test('the V8 flags the bridge sets on itself are the ones NODE_OPTIONS refuses, and they are set through the given setter', () => {
  for (const f of BRIDGE_V8_FLAGS) assert.match(nodeWith(f).stderr, /not allowed in NODE_OPTIONS/, `${f} could go in NODE_OPTIONS instead`);
  const set: string[] = [];
  assert.deepEqual(applyBridgeV8Flags((f) => set.push(f)), BRIDGE_V8_FLAGS);
  assert.deepEqual(set, ['--optimize-for-size']);
});
