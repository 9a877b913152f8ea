/**
 * Whether the bridge could hear its bases, on the bridge's own clock. The bridge hears only while its
 * MQTT link is connected AND subscribed; a base's silence counts only while the bridge could have heard
 * it. This is the node lifecycle controller's full-disruption idea turned inwards: when the observer
 * itself is cut off, silence says nothing about the observed, so nobody is judged by it.
 *
 * A deaf span runs from the link going down (or the bridge starting) to the link coming back plus a
 * grace of one base heartbeat period: right after a reconnect, a live base has not had the chance to
 * send its next heartbeat yet. Pure values and functions; `HearingTracker` is the one mutable holder.
 */

export interface DeafSpan {
  readonly from: number;
  /** Exclusive end: link back + grace. */
  readonly to: number;
}

export interface Hearing {
  /** Set while the link is down (or not yet subscribed): an open deaf span from then on. */
  readonly downSince: number | undefined;
  /** Closed deaf spans, oldest first. */
  readonly spans: readonly DeafSpan[];
}

/** Always hearing: what pure callers use when they do not track the link (tests, planners of one base). */
export const ALWAYS_HEARD: Hearing = Object.freeze({ downSince: undefined, spans: Object.freeze([]) as readonly DeafSpan[] });

/** A bridge that just started hears nothing until its first subscription is granted. */
export function toStartHearing(now: number): Hearing {
  return { downSince: now, spans: [] };
}

export function recordLinkDown(h: Hearing, now: number): Hearing {
  return h.downSince !== undefined ? h : { downSince: now, spans: h.spans };
}

export function recordLinkUp(h: Hearing, now: number, graceMs: number): Hearing {
  if (h.downSince === undefined) return h;
  const span = { from: h.downSince, to: now + graceMs };
  const last = h.spans.at(-1);
  // A flap inside the previous grace merges with it.
  const spans = last && last.to >= span.from ? [...h.spans.slice(0, -1), { from: last.from, to: Math.max(last.to, span.to) }] : [...h.spans, span];
  return { downSince: undefined, spans };
}

/** How long of [from, to) the bridge could not hear. */
export function toDeafMs(h: Hearing, from: number, to: number): number {
  let ms = 0;
  const overlap = (a: number, b: number) => Math.max(0, Math.min(b, to) - Math.max(a, from));
  for (const s of h.spans) ms += overlap(s.from, s.to);
  if (h.downSince !== undefined) ms += overlap(h.downSince, Number.POSITIVE_INFINITY);
  return ms;
}

/** Silence the bridge could have heard: time since `since` minus the deaf time in between. */
export function toHeardSilenceMs(h: Hearing, since: number, now: number): number {
  return Math.max(0, now - since - toDeafMs(h, since, now));
}

/** True while the link is down or within the grace after it came back. */
export function isDeaf(h: Hearing, now: number): boolean {
  return h.downSince !== undefined || h.spans.some((s) => s.from <= now && now < s.to);
}

/** When heard silence starts growing again: `now` when hearing, the grace's end, or undefined while down. */
export function toHearingResumesAt(h: Hearing, now: number): number | undefined {
  if (h.downSince !== undefined) return undefined;
  const span = h.spans.find((s) => s.from <= now && now < s.to);
  return span ? span.to : now;
}

/**
 * Drops spans that ended before `before`. Safe with `before = now - deleteAfter`: a base whose
 * silence spans such an old gap has been heard-silent for longer than deleteAfter since then anyway.
 */
export function pruneHearing(h: Hearing, before: number): Hearing {
  const spans = h.spans.filter((s) => s.to >= before);
  return spans.length === h.spans.length ? h : { downSince: h.downSince, spans };
}

/**
 * Whether this replica may hold (or try for) leadership. A replica that cannot hear the broker must
 * not lead: a standby that hears should. But when the broker is gone for every replica, someone must
 * still renew the node Leases (else Kubernetes marks every node Unknown and evicts): after 2 lease
 * durations deaf, a replica may lead again (it cannot take a lease a hearing replica holds).
 * See docs/bridge.md "Leadership follows hearing".
 */
export function toLeadershipHealth(linkConnected: boolean, deafForMs: number, leaseDurationMs: number): boolean {
  return linkConnected || deafForMs >= 2 * leaseDurationMs;
}

/** The bridge's one mutable holder of its hearing; the MQTT link reports into it. */
export class HearingTracker {
  private state: Hearing;
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly keepMs: number;
  constructor(now: () => number, graceMs: number, keepMs: number) {
    this.now = now;
    this.graceMs = graceMs;
    this.keepMs = keepMs;
    this.state = toStartHearing(now());
  }
  get(): Hearing {
    return this.state;
  }
  isHearing(): boolean {
    return this.state.downSince === undefined;
  }
  /** How long the link has been down (0 while hearing). */
  deafForMs(): number {
    return this.state.downSince === undefined ? 0 : Math.max(0, this.now() - this.state.downSince);
  }
  down(): void {
    this.state = recordLinkDown(this.state, this.now());
  }
  up(): void {
    const now = this.now();
    this.state = pruneHearing(recordLinkUp(this.state, now, this.graceMs), now - this.keepMs);
  }
}
