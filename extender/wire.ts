/**
 * The extender's answers in nodeCacheCapable mode as JSON bytes, written straight into one Buffer.
 *
 * Such an answer is thousands of node names: a filter answer lists the feasible ones (and a
 * reason for each of the others), a prioritize answer is `[{"Host":…,"Score":…},…]`. Building
 * those as objects, then JSON.stringify, then a UTF-8 copy cost more than the decisions themselves
 * (bench/extender.ts). But the scheduler sends the same list call after call (node-list-cache.ts
 * hands the same array back for it), so the bytes that depend only on the list are encoded once
 * per list (`ListWire`):
 *
 * - the names as `"a","b",…`: a filter answer copies each run of consecutive feasible names in one
 *   piece (usually a few runs, not thousands of names);
 * - the prioritize answer with a two-byte slot per score, `{"Host":"a","Score": 7}`: an answer is
 *   one copy and two bytes per host. Scores are 0..10, written as ` 0`..` 9` and `10` (JSON allows
 *   the space; Go's decoder, like every JSON reader, ignores it).
 *
 * A list seen for the first time (say, a feasible subset that changes with every bind) is
 * encoded the plain way, objects through JSON.stringify: preparing bytes for reuse only pays
 * from the second time. Answers read back exactly as the objects they stand for
 * (test/extender/wire.test.ts).
 */
import type { Allocate } from '../core/buffer-pool.ts';
import { subListOf, toRunsWhere } from './sub-list.ts';
import type { ListText } from './node-list-cache.ts';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const [COMMA, COLON, ZERO, SPACE, OPEN_LIST, CLOSE_LIST] = [0x2c, 0x3a, 0x30, 0x20, 0x5b, 0x5d];

/** The bytes of one node list that do not depend on the answer, built once per list (see the top). */
export class ListWire {
  static readonly #byList = new WeakMap<readonly string[], ListWire>();
  static readonly #seenOnce = new WeakSet<readonly string[]>();
  /** `"a","b",…,"z",`: name i is `names[starts[i] .. starts[i + 1] - 1)`, each followed by a comma. */
  readonly names: Buffer;
  readonly starts: Int32Array;
  /** Each name as JSON text, kept until the prioritize template is built from them. */
  #quoted: string[] | undefined;
  #priorities: { readonly template: Buffer; readonly slots: Int32Array } | undefined;

  private constructor(list: readonly string[]) {
    const n = list.length;
    const quoted = new Array<string>(n);
    for (let i = 0; i < n; i++) quoted[i] = JSON.stringify(list[i]);
    const text = n > 0 ? `${quoted.join(',')},` : '';
    this.names = Buffer.from(text, 'utf8');
    // Node names are ASCII (DNS names), so string lengths are byte lengths; anything else is measured.
    const ascii = this.names.length === text.length;
    this.starts = new Int32Array(n + 1);
    let at = 0;
    for (let i = 0; i < n; i++) {
      this.starts[i] = at;
      at += (ascii ? quoted[i]!.length : Buffer.byteLength(quoted[i]!, 'utf8')) + 1;
    }
    this.starts[n] = at;
    this.#quoted = quoted;
  }

  /** The list's bytes, kept as long as the list itself (node lists recognised by node-list-cache.ts come back as the same array). */
  static of(list: readonly string[]): ListWire {
    let wire = ListWire.#byList.get(list);
    if (!wire) ListWire.#byList.set(list, (wire = new ListWire(list)));
    return wire;
  }

  /**
   * The list's bytes once the same list comes a second time; undefined the first time. A list the
   * scheduler sends once (a feasible subset that changes with every bind) is cheaper to encode
   * directly than to prepare for reuse.
   */
  static ifRecurring(list: readonly string[]): ListWire | undefined {
    const wire = ListWire.#byList.get(list);
    if (wire || ListWire.#seenOnce.has(list)) return wire ?? ListWire.of(list);
    ListWire.#seenOnce.add(list);
    return undefined;
  }

  /**
   * The JSON text of the part of this list in the `[start, end)` runs (sub-list.ts), `["a",…]`,
   * compared in place against this list's bytes (a run of consecutive names is one memcmp) instead
   * of kept as a copy: a Deployment's scale-up makes a new one per replica, and a fresh 100 kB copy
   * each time is memory outside the heap that only a full collection gives back (core/buffer-pool.ts).
   */
  partText(runs: Int32Array): ListText {
    let size = 2 + Math.max(0, runs.length / 2 - 1);
    for (let r = 0; r < runs.length; r += 2) size += this.starts[runs[r + 1]!]! - this.starts[runs[r]!]! - 1;
    return {
      size,
      equals: (bytes) => {
        if (bytes.length !== size || bytes[0] !== OPEN_LIST || bytes[size - 1] !== CLOSE_LIST) return false;
        let o = 1;
        for (let r = 0; r < runs.length; r += 2) {
          if (r > 0 && bytes[o++] !== COMMA) return false;
          const from = this.starts[runs[r]!]!;
          const to = this.starts[runs[r + 1]!]! - 1;
          if (bytes.compare(this.names, from, to, o, o + (to - from)) !== 0) return false;
          o += to - from;
        }
        return o === size - 1;
      },
    };
  }

  /** True when the list's bytes were built already. */
  static known(list: readonly string[]): boolean {
    return ListWire.#byList.has(list);
  }

  /** Name i as JSON text (without its comma). */
  name(i: number): Buffer {
    return this.names.subarray(this.starts[i]!, this.starts[i + 1]! - 1);
  }

  /** `[{"Host":"a","Score":__},…]` and where each two-byte score slot is; built as one string, encoded once. */
  get priorities(): { readonly template: Buffer; readonly slots: Int32Array } {
    if (this.#priorities) return this.#priorities;
    const quoted = this.#quoted!;
    const n = quoted.length;
    const parts = new Array<string>(n);
    for (let i = 0; i < n; i++) parts[i] = `{"Host":${quoted[i]!},"Score":__}`;
    const template = Buffer.from(`[${parts.join(',')}]`, 'utf8');
    const slots = new Int32Array(n);
    // `{"Host":` (8 bytes) + name + `,"Score":` (9) + slot (2) + `}` (1), a comma between entries.
    let at = 1;
    for (let i = 0; i < n; i++) {
      const nameBytes = this.starts[i + 1]! - this.starts[i]! - 1;
      slots[i] = at + 8 + nameBytes + 9;
      at += 8 + nameBytes + 9 + 3 + 1;
    }
    this.#priorities = { template, slots };
    this.#quoted = undefined;
    return this.#priorities;
  }
}

const allocate: Allocate = (size) => Buffer.allocUnsafe(size);

/** True when every score fits a two-byte slot: whole numbers 0..10, as the extender gives. */
function slotted(scores: ArrayLike<number>): boolean {
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(Number.isInteger(s) && s >= 0 && s <= 10)) return false;
  }
  return true;
}

/** `[{"Host":"a","Score": 3},…]`, hosts and scores aligned. */
export function encodeHostPriorities(hosts: readonly string[], scores: ArrayLike<number>, alloc: Allocate = allocate): Buffer {
  const ok = slotted(scores);
  // A list sent again (the same pod retried, nothing changed) has its own template: one copy. A
  // part of a known list sent for the first time (a Deployment's next replica) is copied in runs.
  const wire = ok ? ListWire.ifRecurring(hosts) : undefined;
  const part = ok && !wire ? subListOf(hosts) : undefined;
  if (part && ListWire.known(part.parent)) return encodePartPriorities(ListWire.of(part.parent), part.runs, scores, alloc);
  if (!wire) return Buffer.from(JSON.stringify(Array.from(hosts, (Host, i) => ({ Host, Score: scores[i]! }))), 'utf8');
  const { template, slots } = wire.priorities;
  const out = alloc(template.length);
  out.set(template, 0);
  for (let i = 0; i < slots.length; i++) {
    const s = scores[i]!;
    const at = slots[i]!;
    out[at] = s === 10 ? ZERO + 1 : SPACE;
    out[at + 1] = s === 10 ? ZERO : ZERO + s;
  }
  return out.subarray(0, template.length);
}

/** Writes a score into its two-byte slot. */
function writeScore(out: Buffer, at: number, s: number): void {
  out[at] = s === 10 ? ZERO + 1 : SPACE;
  out[at + 1] = s === 10 ? ZERO : ZERO + s;
}

/**
 * The prioritize answer for a part of a known list (sub-list.ts): each run of consecutive
 * positions is one copy out of the parent's `[{"Host":…,"Score":__},…]`, then the slots are filled.
 */
function encodePartPriorities(parent: ListWire, runs: Int32Array, scores: ArrayLike<number>, alloc: Allocate): Buffer {
  const { template, slots } = parent.priorities;
  // Entry i of the parent is template[entry(i) .. entry(i + 1) - 1) (a comma between entries).
  const entry = (i: number) => (i < slots.length ? slots[i]! - 8 - (parent.starts[i + 1]! - parent.starts[i]! - 1) - 9 : template.length);
  let size = 2;
  for (let r = 0; r < runs.length; r += 2) size += entry(runs[r + 1]!) - entry(runs[r]!);
  const out = alloc(size);
  out[0] = 0x5b;
  let o = 1;
  let k = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const from = entry(runs[r]!);
    // Without the parent's comma (or closing bracket) after the run's last entry: one between runs.
    const to = entry(runs[r + 1]!) - 1;
    if (r > 0) out[o++] = COMMA;
    o += template.copy(out, o, from, to);
    for (let i = runs[r]!; i < runs[r + 1]!; i++) writeScore(out, slots[i]! - from + o - (to - from), scores[k++]!);
  }
  out[o++] = 0x5d;
  return out.subarray(0, o);
}

/** The JSON text of the feasible names in a filter answer, `["a",…]`: the list the scheduler sends to prioritize next. */
export function toFeasibleListBytes(answer: Buffer): Buffer | undefined {
  const start = FILTER_HEAD.length - 1;
  if (answer.length < FILTER_HEAD.length || !answer.subarray(0, FILTER_HEAD.length).equals(FILTER_HEAD)) return undefined;
  // `],"FailedNodes"` cannot occur inside the names: a `"` inside a JSON string is escaped.
  const end = answer.indexOf(FAILED_KEY, start);
  return end < 0 ? undefined : answer.subarray(start, end + 1);
}

/** What a names-mode filter answer is made of: every name sent and its verdict (undefined = fits), aligned. */
export interface FilterVerdicts {
  readonly names: readonly string[];
  /** Arrays qualify, as do the filter's Verdicts. */
  readonly rejections: { readonly length: number; at(i: number): { readonly message: string; readonly resolvable: boolean } | undefined; fitRuns?(): Int32Array };
}

/** The feasible candidates as `[start, end)` runs: the filter's own (Verdicts.fitRuns) or found by looking at every verdict. */
export function toFitRuns(v: FilterVerdicts): Int32Array {
  const r = v.rejections;
  return r.fitRuns ? r.fitRuns() : toRunsWhere(v.names.length, (i) => !r.at(i));
}

const FILTER_HEAD = latin1('{"Nodes":null,"NodeNames":[');
const FAILED_KEY = latin1('],"FailedNodes":{');
const UNRESOLVABLE_KEY = latin1('},"FailedAndUnresolvableNodes":{');
const FILTER_TAIL = latin1('},"Error":""}');

/**
 * `"name":"reason"` for the rejections of one class, from `at`; returns the new offset. The
 * rejected candidates are the gaps between the feasible runs, visited in order.
 */
function writeReasons(out: Buffer, at: number, v: FilterVerdicts, runs: Int32Array, wire: ListWire, messages: ReadonlyMap<string, Buffer>, resolvable: boolean): number {
  let o = at;
  let first = true;
  const n = v.names.length;
  let from = 0;
  for (let g = 0; g <= runs.length; g += 2) {
    const to = g < runs.length ? runs[g]! : n;
    for (let i = from; i < to; i++) {
      const r = v.rejections.at(i);
      if (!r || r.resolvable !== resolvable) continue;
      if (!first) out[o++] = COMMA;
      first = false;
      o += wire.names.copy(out, o, wire.starts[i]!, wire.starts[i + 1]! - 1);
      out[o++] = COLON;
      const text = messages.get(r.message)!;
      out.set(text, o);
      o += text.length;
    }
    if (g < runs.length) from = runs[g + 1]!;
  }
  return o;
}

/**
 * An ExtenderFilterResult for a scheduler that sent names: `Nodes` null, the feasible names in
 * the order sent, and `"name":"reason"` for the others. A name sent twice is listed twice in
 * NodeNames (as sent) and keyed twice in the reasons (JSON readers keep the last one, as
 * JSON.stringify of an object would have kept it once with the same value). Walks the feasible
 * runs and the rejected candidates between them, not every candidate (most of thousands fit).
 */
export function encodeFilterNames(v: FilterVerdicts, alloc: Allocate = allocate): Buffer {
  const n = v.names.length;
  const wire = ListWire.ifRecurring(v.names);
  if (!wire) return encodeFilterOnce(v);
  const runs = toFitRuns(v);
  // Thousands of rejections usually share a handful of messages: encode each once per answer.
  const messages = new Map<string, Buffer>();
  let size = FILTER_HEAD.length + FAILED_KEY.length + UNRESOLVABLE_KEY.length + FILTER_TAIL.length + wire.names.length;
  let from = 0;
  for (let g = 0; g <= runs.length; g += 2) {
    const to = g < runs.length ? runs[g]! : n;
    for (let i = from; i < to; i++) {
      const r = v.rejections.at(i);
      if (!r) continue;
      let text = messages.get(r.message);
      if (!text) messages.set(r.message, (text = Buffer.from(JSON.stringify(r.message), 'utf8')));
      size += text.length + 1;
    }
    if (g < runs.length) from = runs[g + 1]!;
  }
  const out = alloc(size);
  out.set(FILTER_HEAD, 0);
  let o = FILTER_HEAD.length;
  // Feasible names in runs: each run of consecutive ones is one copy of the list's bytes.
  for (let r = 0; r < runs.length; r += 2) {
    if (r > 0) out[o++] = COMMA;
    o += wire.names.copy(out, o, wire.starts[runs[r]!]!, wire.starts[runs[r + 1]!]! - 1);
  }
  out.set(FAILED_KEY, o);
  o += FAILED_KEY.length;
  o = writeReasons(out, o, v, runs, wire, messages, true);
  out.set(UNRESOLVABLE_KEY, o);
  o += UNRESOLVABLE_KEY.length;
  o = writeReasons(out, o, v, runs, wire, messages, false);
  out.set(FILTER_TAIL, o);
  o += FILTER_TAIL.length;
  return out.subarray(0, o);
}

/** The names sent, split by verdict: the feasible ones in order, and the reasons of the others by class. */
export function splitVerdicts(v: FilterVerdicts): { readonly feasible: string[]; readonly failed: Record<string, string>; readonly unresolvable: Record<string, string> } {
  const feasible: string[] = [];
  // No prototype: a name like `__proto__` from a malformed request stays an ordinary key.
  const failed = Object.create(null) as Record<string, string>;
  const unresolvable = Object.create(null) as Record<string, string>;
  for (let i = 0; i < v.names.length; i++) {
    const r = v.rejections.at(i);
    if (!r) feasible.push(v.names[i]!);
    else (r.resolvable ? failed : unresolvable)[v.names[i]!] = r.message;
  }
  return { feasible, failed, unresolvable };
}

/** A filter answer for a list seen for the first time: the answer's objects through JSON.stringify. */
function encodeFilterOnce(v: FilterVerdicts): Buffer {
  const { feasible, failed, unresolvable } = splitVerdicts(v);
  return Buffer.from(JSON.stringify({ Nodes: null, NodeNames: feasible, FailedNodes: failed, FailedAndUnresolvableNodes: unresolvable, Error: '' }), 'utf8');
}
