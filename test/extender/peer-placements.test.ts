import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MODULES_PER_POD, MAX_PUSHED_PLACEMENTS, parsePeerPlacements, toPeerPlacementsBody, type PeerPlacement } from '../../extender/peer-placements.ts';

const placement: PeerPlacement = {
  podUid: 'uid-1',
  nodeName: 'virtual-node-1',
  modules: [
    { bizName: 'demo', bizVersion: '1.0.0', holder: { workload: 'Deployment/ns/demo', revision: 'abc', deleting: false } },
    { bizName: 'other', bizVersion: '0.0.1-SNAPSHOT' },
  ],
  ttlMs: 30_000,
};

test('a push reads back as the placements sent, its TTL capped at the receiver\'s', () => {
  const body = JSON.parse(toPeerPlacementsBody([placement]));
  assert.deepEqual(parsePeerPlacements(body, 60_000), { kind: 'ok', placements: [placement] });
  const capped = parsePeerPlacements(body, 5_000);
  assert.equal(capped.kind === 'ok' && capped.placements[0]!.ttlMs, 5_000);
  // A holder without workload or revision (a pod being deleted) keeps them undefined.
  const deleting = { ...placement, modules: [{ bizName: 'demo', bizVersion: '1.0.0', holder: { workload: undefined, revision: undefined, deleting: true } }] };
  assert.deepEqual(parsePeerPlacements(JSON.parse(toPeerPlacementsBody([deleting])), 60_000), { kind: 'ok', placements: [deleting] });
});

test('hostile or broken pushes are refused with what is wrong', () => {
  const wire = JSON.parse(toPeerPlacementsBody([placement])).placements[0];
  const cases: Array<[unknown, RegExp]> = [
    [null, /must be \{"placements"/],
    [[], /must be \{"placements"/],
    [{ placements: {} }, /must be \{"placements"/],
    [{ placements: Array.from({ length: MAX_PUSHED_PLACEMENTS + 1 }, () => wire) }, /at most 64 placements/],
    [{ placements: [42] }, /placements\[0\] is not an object/],
    [{ placements: [{ ...wire, podUid: '' }] }, /podUid must be a pod UID/],
    [{ placements: [{ ...wire, podUid: 'x'.repeat(129) }] }, /podUid must be a pod UID/],
    [{ placements: [{ ...wire, nodeName: 7 }] }, /nodeName must be a node name/],
    [{ placements: [{ ...wire, nodeName: 'n'.repeat(254) }] }, /nodeName must be a node name/],
    [{ placements: [{ ...wire, ttlMs: -1 }] }, /ttlMs must be a number/],
    [{ placements: [{ ...wire, ttlMs: 'soon' }] }, /ttlMs must be a number/],
    [{ placements: [{ ...wire, modules: 'demo' }] }, /modules must be a list of at most 64/],
    [{ placements: [{ ...wire, modules: Array.from({ length: MAX_MODULES_PER_POD + 1 }, () => wire.modules[1]) }] }, /modules must be a list of at most 64/],
    [{ placements: [{ ...wire, modules: [{ bizName: 'Bad Name', bizVersion: '1' }] }] }, /modules\[0\]\.bizName name "Bad Name" is not a valid bizName/],
    [{ placements: [{ ...wire, modules: [{ bizName: 'demo', bizVersion: 'x\ny' }] }] }, /modules\[0\]\.bizVersion is not a module version/],
    [{ placements: [{ ...wire, modules: [{ bizName: 'demo', bizVersion: '1', holder: { deleting: 'no' } }] }] }, /holder must be/],
    [{ placements: [{ ...wire, modules: [{ bizName: 'demo', bizVersion: '1', holder: { deleting: false, workload: 'w'.repeat(513) } }] }] }, /holder must be/],
  ];
  for (const [body, why] of cases) {
    const parsed = parsePeerPlacements(body, 60_000);
    assert.equal(parsed.kind, 'invalid', JSON.stringify(body).slice(0, 80));
    assert.match(parsed.kind === 'invalid' ? parsed.error : '', why);
  }
  assert.deepEqual(parsePeerPlacements({ placements: [] }, 60_000), { kind: 'ok', placements: [] });
});
