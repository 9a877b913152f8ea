import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPeerMode, planLeavePeerMode, toDesiredReplicas } from '../../moduledeployment/peer-mode.ts';

const cases: Array<[string, { peer?: boolean; replicas?: number }, boolean, number, number | undefined]> = [
  // name, spec, peer mode?, desired with 3 Ready bases, leave peer mode with replicas
  ['peer: true, replicas unset', { peer: true }, true, 3, undefined],
  ['peer: true next to replicas 2 (kubectl scale)', { peer: true, replicas: 2 }, false, 2, 2],
  ['peer: true next to replicas 0 (scaled to zero)', { peer: true, replicas: 0 }, false, 0, 0],
  ['replicas 4', { replicas: 4 }, false, 4, undefined],
  ['peer: false, replicas 4', { peer: false, replicas: 4 }, false, 4, undefined],
  ['nothing set: the default 1', {}, false, 1, undefined],
  ['peer: false, replicas unset: the default 1', { peer: false }, false, 1, undefined],
  ['a negative count that slipped through: 0', { replicas: -1 }, false, 0, undefined],
];
for (const [name, spec, peer, desired, leave] of cases) {
  test(`peer mode: ${name}`, () => {
    assert.equal(isPeerMode(spec), peer);
    assert.equal(toDesiredReplicas(spec, 3), desired);
    assert.equal(planLeavePeerMode(spec)?.replicas, leave);
  });
}
