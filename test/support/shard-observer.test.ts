// The checks the sharding integration test and benchmark rely on must be able to fail: each one is
// fed a case it has to flag, and one it has to pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toShard } from '../../bridge/shards.ts';
import { basesByOwner, commandsOutsideOwnership, overlappingOwnership, ownedIntervals, ownershipProblems, type ReplicaLog, type ShardOwnership } from './shard-observer.ts';

const T = Date.parse('2026-12-01T00:00:00.000Z');
const at = (s: number) => new Date(T + s * 1000).toISOString();
const acquired = (shard: number, s: number) => ({ msg: 'shard acquired', shard, time: at(s) });
const released = (shard: number, s: number) => ({ msg: 'shard released', shard, reason: 'aboveFairShare', time: at(s) });
const lost = (shard: number, s: number) => ({ msg: 'shard lost', shard, time: at(s) });
const sent = (base: string, s: number) => ({ msg: 'module command sent', base, command: 'install', module: 'a:1', time: at(s) });

// Two bases in different shards of 4.
const bases = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'];
const [b0, b1] = (() => {
  const first = bases[0]!;
  const other = bases.find((b) => toShard(b, 4) !== toShard(first, 4))!;
  return [first, other];
})();
const s0 = toShard(b0!, 4), s1 = toShard(b1!, 4);

test('ownedIntervals: acquired → released/lost closes an interval; an open one ends at death (or never)', () => {
  const log: ReplicaLog = { id: 'a', lines: [acquired(s0, 0), released(s0, 5), acquired(s0, 7), acquired(s1, 1), lost(s1, 3)], diedAt: T + 9_000 };
  assert.deepEqual(ownedIntervals(log).map((i) => [i.shard, (i.from - T) / 1000, (i.to - T) / 1000]).sort(), [[s0, 0, 5], [s0, 7, 9], [s1, 1, 3]].sort());
  assert.equal(ownedIntervals({ id: 'a', lines: [acquired(s0, 0)] })[0]!.to, Number.POSITIVE_INFINITY);
});

test('overlappingOwnership flags two replicas owning one shard at once, not a hand-over', () => {
  const handover: ReplicaLog[] = [{ id: 'a', lines: [acquired(s0, 0), released(s0, 5)] }, { id: 'b', lines: [acquired(s0, 6)] }];
  assert.deepEqual(overlappingOwnership(handover), []);
  const afterDeath: ReplicaLog[] = [{ id: 'a', lines: [acquired(s0, 0)], diedAt: T + 3_000 }, { id: 'b', lines: [acquired(s0, 10)] }];
  assert.deepEqual(overlappingOwnership(afterDeath), []);
  const both: ReplicaLog[] = [{ id: 'a', lines: [acquired(s0, 0)] }, { id: 'b', lines: [acquired(s0, 6)] }];
  assert.equal(overlappingOwnership(both).length, 1);
  assert.match(overlappingOwnership(both)[0]!, new RegExp(`shard ${s0}: a .* and b from`));
});

test('commandsOutsideOwnership flags a command to a base whose shard the sender did not own at that moment', () => {
  const good: ReplicaLog[] = [{ id: 'a', lines: [acquired(s0, 0), sent(b0!, 1), released(s0, 5)] }, { id: 'b', lines: [acquired(s0, 6), sent(b0!, 7)] }];
  assert.deepEqual(commandsOutsideOwnership(good, 4), []);
  const leak: ReplicaLog[] = [{ id: 'a', lines: [acquired(s0, 0), released(s0, 5), sent(b0!, 6), sent(b1!, 2)] }];
  const found = commandsOutsideOwnership(leak, 4);
  assert.equal(found.length, 2, found.join('\n'));
  assert.ok(found.some((f) => f.includes(`to ${b0} (shard ${s0})`)));
  assert.ok(found.some((f) => f.includes(`to ${b1} (shard ${s1})`)));
});

test('ownershipProblems: free, missing and dead-held shards, more than a fair share, and gauges that disagree with the Leases', () => {
  const ids = [b0!, b1!];
  const holders = Array.from({ length: 4 }, (_, k) => (k % 2 === 0 ? 'a' : 'b'));
  const o: ShardOwnership = { shards: 4, holders };
  const owners = basesByOwner(o, ids);
  const view = (id: string, shardsOwned = 2) => ({ id, shardsOwned, basesOwned: owners.get(id)?.length ?? 0 });
  assert.deepEqual(ownershipProblems(o, [view('a'), view('b')], ids), []);
  const broken: ShardOwnership = { shards: 4, holders: ['a', '', undefined, 'dead'] };
  const p = ownershipProblems(broken, [view('a', 1), view('b', 0)], ids);
  for (const want of ['shard 1: free', 'shard 2: no Lease', 'shard 3: held by dead, not a live replica']) assert.ok(p.includes(want), `${want} in ${p.join('; ')}`);
  const greedy: ShardOwnership = { shards: 4, holders: ['a', 'a', 'a', 'b'] };
  assert.ok(ownershipProblems(greedy, [view('a', 3), view('b', 1)], ids).some((x) => x.includes('above its fair share 2')));
  assert.ok(ownershipProblems(o, [view('a', 4), view('b')], ids).some((x) => x.includes('a says it owns 4 shards, its Leases say 2')));
});
