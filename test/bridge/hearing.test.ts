import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALWAYS_HEARD, HearingTracker, isDeaf, pruneHearing, recordLinkDown, recordLinkUp, toDeafMs, toHeardSilenceMs, toHearingResumesAt, toLeadershipHealth, toStartHearing,
} from '../../bridge/hearing.ts';
import { T0 } from './fixtures.ts';

const GRACE = 15_000;

test('a started bridge is deaf until its first subscription, then for one grace', () => {
  let h = toStartHearing(T0);
  assert.equal(isDeaf(h, T0 + 60_000), true);
  assert.equal(toHearingResumesAt(h, T0 + 60_000), undefined, 'no end known while down');
  h = recordLinkUp(h, T0 + 2_000, GRACE);
  assert.deepEqual(h, { downSince: undefined, spans: [{ from: T0, to: T0 + 2_000 + GRACE }] });
  assert.equal(isDeaf(h, T0 + 2_000 + GRACE - 1), true);
  assert.equal(isDeaf(h, T0 + 2_000 + GRACE), false);
  assert.equal(toHearingResumesAt(h, T0 + 3_000), T0 + 2_000 + GRACE);
  assert.equal(toHearingResumesAt(h, T0 + 30_000), T0 + 30_000);
});

test('heard silence: time since the heartbeat minus the deaf time in between', () => {
  // Heard at T0; link down from +10 s to +70 s, grace 15 s: deaf [10, 85).
  let h = recordLinkUp(recordLinkDown(ALWAYS_HEARD, T0 + 10_000), T0 + 70_000, GRACE);
  const cases: Array<[string, number, number]> = [
    ['before the outage', T0 + 5_000, 5_000],
    ['inside the outage: frozen', T0 + 60_000, 10_000],
    ['inside the grace: still frozen', T0 + 80_000, 10_000],
    ['after the grace: counts again', T0 + 95_000, 20_000],
  ];
  for (const [name, at, want] of cases) assert.equal(toHeardSilenceMs(h, T0, at), want, name);
  // A heartbeat heard after the outage is unaffected by it.
  assert.equal(toHeardSilenceMs(h, T0 + 90_000, T0 + 100_000), 10_000);
  // An open outage freezes silence for as long as it lasts.
  h = recordLinkDown(h, T0 + 200_000);
  assert.equal(toHeardSilenceMs(h, T0 + 190_000, T0 + 10_000_000), 10_000);
  assert.equal(toDeafMs(h, T0, T0 + 300_000), 75_000 + 100_000);
});

test('flaps inside a grace merge into one span; link up twice or down twice changes nothing', () => {
  let h = recordLinkUp(recordLinkDown(ALWAYS_HEARD, T0), T0 + 1_000, GRACE);
  h = recordLinkUp(recordLinkDown(h, T0 + 5_000), T0 + 6_000, GRACE);
  assert.deepEqual(h.spans, [{ from: T0, to: T0 + 6_000 + GRACE }]);
  assert.equal(recordLinkUp(h, T0 + 7_000, GRACE), h);
  const down = recordLinkDown(h, T0 + 50_000);
  assert.equal(recordLinkDown(down, T0 + 60_000), down);
});

test('pruneHearing drops spans that ended before the cut, keeps the rest', () => {
  let h = recordLinkUp(recordLinkDown(ALWAYS_HEARD, T0), T0 + 1_000, 0);
  h = recordLinkUp(recordLinkDown(h, T0 + 100_000), T0 + 101_000, 0);
  assert.deepEqual(pruneHearing(h, T0 + 50_000).spans, [{ from: T0 + 100_000, to: T0 + 101_000 }]);
  assert.equal(pruneHearing(h, T0 - 1), h);
});

test('HearingTracker follows the link on an injected clock and stays bounded', () => {
  let now = T0;
  const t = new HearingTracker(() => now, GRACE, 60_000);
  assert.equal(t.isHearing(), false);
  for (let i = 0; i < 1_000; i++) {
    now += 1_000;
    t.up();
    now += 100_000;
    t.down();
  }
  now += 1_000;
  t.up();
  assert.equal(t.isHearing(), true);
  assert.ok(t.get().spans.length <= 2, `${t.get().spans.length} spans kept`);
});

test('HearingTracker.deafForMs: how long the link has been down, 0 while hearing', () => {
  let now = T0;
  const t = new HearingTracker(() => now, GRACE, 60_000);
  now += 3_000;
  assert.equal(t.deafForMs(), 3_000, 'deaf since the start');
  t.up();
  assert.equal(t.deafForMs(), 0);
  t.down();
  now += 7_000;
  assert.equal(t.deafForMs(), 7_000);
});

test('leadership follows hearing: a connected replica is healthy; a deaf one only after 2 lease durations', () => {
  const LEASE = 15_000;
  const cases: Array<[string, boolean, number, boolean]> = [
    ['connected', true, 0, true],
    ['connected, a stale deaf figure is ignored', true, 60_000, true],
    ['just cut off', false, 0, false],
    ['deaf for one lease duration: gives up', false, LEASE, false],
    ['deaf just under 2 durations: still gives up', false, 2 * LEASE - 1, false],
    ['deaf for 2 durations: may lead again (the broker is gone for everyone)', false, 2 * LEASE, true],
    ['deaf for longer', false, 10 * LEASE, true],
  ];
  for (const [name, connected, deafMs, want] of cases) assert.equal(toLeadershipHealth(connected, deafMs, LEASE), want, name);
});
