/**
 * The extender's answers in nodeCacheCapable mode as JSON bytes, written straight into one Buffer.
 *
 * Such an answer is thousands of node names: a filter answer lists the feasible ones (and a reason
 * for each of the others), a prioritize answer is `[{"Host":…,"Score":…},…]`. Building those as
 * objects, then JSON.stringify, then a UTF-8 copy cost more than the decisions themselves
 * (bench/extender.ts). Instead each node's pieces are encoded once, when the snapshot first sees
 * the node (`NodeWire`), and an answer is a sequence of copies of ready bytes. Names the snapshot
 * does not know are encoded on the spot. The bytes are exactly what JSON.stringify writes for the
 * same answer (test/extender/wire.test.ts compares them).
 */

/** A node name's JSON pieces, encoded once per node. */
export interface NodeWire {
  /** `"name"` */
  readonly name: Buffer;
  /** `{"Host":"name","Score":` */
  readonly host: Buffer;
}

export function toNodeWire(name: string): NodeWire {
  const quoted = JSON.stringify(name);
  return { name: Buffer.from(quoted, 'utf8'), host: Buffer.from(`{"Host":${quoted},"Score":`, 'utf8') };
}

const SMALL_SCORES = 10;
const [COMMA, COLON, OPEN_LIST, CLOSE_LIST, CLOSE_OBJECT, ZERO] = [0x2c, 0x3a, 0x5b, 0x5d, 0x7d, 0x30];

/** `[{"Host":"a","Score":3},…]`: hosts, scores and (where known) their wire pieces, aligned. */
export function encodeHostPriorities(hosts: readonly string[], scores: readonly number[], wire: ReadonlyArray<NodeWire | undefined>): Buffer {
  const n = hosts.length;
  const pieces = new Array<Buffer>(n);
  // Whole scores 0..10 (all the extender gives) are written as digits; anything else as JSON text.
  let odd: Map<number, Buffer> | undefined;
  let size = 2;
  for (let i = 0; i < n; i++) {
    const piece = wire[i]?.host ?? toNodeWire(hosts[i]!).host;
    pieces[i] = piece;
    const s = scores[i]!;
    if (Number.isInteger(s) && s >= 0 && s <= SMALL_SCORES) size += piece.length + 4;
    else {
      const text = Buffer.from(JSON.stringify(s), 'latin1');
      (odd ??= new Map()).set(i, text);
      size += piece.length + text.length + 2;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  out[o++] = OPEN_LIST;
  for (let i = 0; i < n; i++) {
    if (i > 0) out[o++] = COMMA;
    const piece = pieces[i]!;
    out.set(piece, o);
    o += piece.length;
    const text = odd?.get(i);
    if (text) {
      out.set(text, o);
      o += text.length;
    } else {
      const s = scores[i]!;
      if (s >= 10) {
        out[o++] = ZERO + 1;
        out[o++] = ZERO;
      } else out[o++] = ZERO + s;
    }
    out[o++] = CLOSE_OBJECT;
  }
  out[o++] = CLOSE_LIST;
  return out.subarray(0, o);
}

/** What a names-mode filter answer is made of: every name sent, its wire pieces and its verdict (undefined = fits), aligned. */
export interface FilterVerdicts {
  readonly names: readonly string[];
  readonly wire: ReadonlyArray<NodeWire | undefined>;
  readonly rejections: ReadonlyArray<{ readonly message: string; readonly resolvable: boolean } | undefined>;
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const FILTER_HEAD = latin1('{"Nodes":null,"NodeNames":[');
const FAILED_KEY = latin1('],"FailedNodes":{');
const UNRESOLVABLE_KEY = latin1('},"FailedAndUnresolvableNodes":{');
const FILTER_TAIL = latin1('},"Error":""}');

/**
 * An ExtenderFilterResult for a scheduler that sent names: `Nodes` null, the feasible names in
 * the order sent, and `"name":"reason"` for the others. A name sent twice is listed twice in
 * NodeNames (as sent) and keyed twice in the reasons (JSON readers keep the last one, as
 * JSON.stringify of an object would have kept it once with the same value).
 */
export function encodeFilterNames(v: FilterVerdicts): Buffer {
  const n = v.names.length;
  const names = new Array<Buffer>(n);
  // Thousands of rejections usually share a handful of messages: encode each once per answer.
  const messages = new Map<string, Buffer>();
  let size = FILTER_HEAD.length + FAILED_KEY.length + UNRESOLVABLE_KEY.length + FILTER_TAIL.length;
  for (let i = 0; i < n; i++) {
    const name = v.wire[i]?.name ?? toNodeWire(v.names[i]!).name;
    names[i] = name;
    size += name.length + 1;
    const r = v.rejections[i];
    if (r) {
      let text = messages.get(r.message);
      if (!text) messages.set(r.message, (text = Buffer.from(JSON.stringify(r.message), 'utf8')));
      size += text.length + 1;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  out.set(FILTER_HEAD, o);
  o += FILTER_HEAD.length;
  let first = true;
  for (let i = 0; i < n; i++) {
    if (v.rejections[i]) continue;
    if (!first) out[o++] = COMMA;
    first = false;
    out.set(names[i]!, o);
    o += names[i]!.length;
  }
  const writeReasons = (resolvable: boolean) => {
    let firstReason = true;
    for (let i = 0; i < n; i++) {
      const r = v.rejections[i];
      if (!r || r.resolvable !== resolvable) continue;
      if (!firstReason) out[o++] = COMMA;
      firstReason = false;
      out.set(names[i]!, o);
      o += names[i]!.length;
      out[o++] = COLON;
      const text = messages.get(r.message)!;
      out.set(text, o);
      o += text.length;
    }
  };
  out.set(FAILED_KEY, o);
  o += FAILED_KEY.length;
  writeReasons(true);
  out.set(UNRESOLVABLE_KEY, o);
  o += UNRESOLVABLE_KEY.length;
  writeReasons(false);
  out.set(FILTER_TAIL, o);
  o += FILTER_TAIL.length;
  return out.subarray(0, o);
}
