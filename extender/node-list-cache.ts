/**
 * Parses ExtenderArgs JSON without parsing again a node list the scheduler sent a moment ago.
 *
 * A nodeCacheCapable kube-scheduler sends every /filter the same few thousand names in the same
 * order (and /prioritize the same feasible subset while nothing changes), encoded by Go as
 * `{"Pod":{…},"Nodes":null,"NodeNames":["…",…]}`. Parsing that list again (thousands of new
 * strings per request) costs more than deciding for the pod. So the body is split where the list
 * starts: the head (the pod) is parsed as usual with `null` in place of the list, and the list is
 * either recognised byte for byte from the last few lists or parsed on its own and remembered.
 * The result equals JSON.parse of the whole body (test/extender/node-list-cache.test.ts);
 * anything that does not have exactly this shape is simply parsed whole.
 *
 * Why the split is sound: the key is searched as `"NodeNames":[` right after a `{` or `,` and
 * the list must run to the body's last `}`. Inside a JSON string every `"` is escaped, so a `"`
 * after `{` or `,` opens a key or a value, never continues a string; a head that parses with
 * `null` at that place therefore holds `"NodeNames"` as the last member of the outermost object,
 * and a list that parses on its own is exactly one JSON value, the one JSON.parse would give it.
 * Recognised lists are shared between requests, and more caches key on them by identity (the
 * list's JSON bytes in wire.ts, its resolved entries in snapshot.ts, its validation in
 * extender-args.ts): they are typed readonly and nothing may write them (not frozen: V8's array
 * builtins lose their fast paths on frozen arrays, measured).
 */
import { sameRuns, subListOf, takeRuns } from './sub-list.ts';

const KEY = Buffer.from('"NodeNames":', 'latin1');
const [OPEN_OBJECT, COMMA, OPEN_LIST, CLOSE_LIST, CLOSE_OBJECT] = [0x7b, 0x2c, 0x5b, 0x5d, 0x7d];

function isJsonSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** A list's JSON text as the cache compares it: its size, and whether a body's list bytes are exactly it. */
export interface ListText {
  readonly size: number;
  equals(bytes: Buffer): boolean;
  /** The text itself, when it is kept as bytes (a part of a known list is compared in place instead). */
  readonly bytes?: Buffer;
}

/** A list's text kept as its own copy of the bytes. */
export function toBytesText(bytes: Buffer): ListText {
  const copy = Buffer.from(bytes);
  return { size: copy.length, bytes: copy, equals: (b) => b.equals(copy) };
}

interface KnownList {
  readonly text: ListText;
  readonly names: readonly string[];
}

export class NodeListCache {
  /** Most recently used first. */
  #known: KnownList[] = [];
  readonly #keep: number;
  #hits = 0;
  #misses = 0;

  /** Remembers the last `keep` lists (the scheduler alternates the full list and the feasible one). */
  constructor(keep = 4) {
    this.#keep = keep;
  }

  /** JSON.parse of the body (same result, same SyntaxError on bad JSON). */
  parse(body: Buffer): unknown {
    let end = body.length;
    while (end > 0 && isJsonSpace(body[end - 1])) end--;
    if (end < 2 || body[end - 1] !== CLOSE_OBJECT || body[end - 2] !== CLOSE_LIST) return parseWhole(body);
    const key = body.lastIndexOf(KEY, end - 1);
    const start = key + KEY.length;
    if (key < 1 || (body[key - 1] !== OPEN_OBJECT && body[key - 1] !== COMMA) || body[start] !== OPEN_LIST) return parseWhole(body);
    const list = body.subarray(start, end - 1);
    let head: unknown;
    try {
      head = JSON.parse(`${body.toString('utf8', 0, start)}null${body.toString('utf8', end - 1)}`);
    } catch {
      return parseWhole(body);
    }
    if (typeof head !== 'object' || head === null || Array.isArray(head) || (head as Record<string, unknown>)['NodeNames'] !== null) return parseWhole(body);
    const names = this.#recognise(list);
    if (!names) return parseWhole(body);
    (head as Record<string, unknown>)['NodeNames'] = names;
    return head;
  }

  /**
   * Remembers a list before it is ever sent: the part of `parent` in the `[start, end)` `runs` whose JSON text is
   * `text` (the feasible names of a filter answer, which the scheduler sends to prioritize next;
   * sub-list.ts, feasible-list.ts). A list already known with this text stays as it is (the same
   * array keeps its caches).
   */
  rememberPart(text: ListText, parent: readonly string[], runs: Int32Array): void {
    for (let i = 0; i < this.#known.length; i++) {
      const k = this.#known[i]!;
      const part = subListOf(k.names);
      // A part of the same list at the same positions is one memcmp of the runs; only a list
      // known otherwise (parsed from a body) is compared by its text.
      const same = part ? part.parent === parent && sameRuns(part.runs, runs) : k.text.bytes !== undefined && k.text.size === text.size && text.equals(k.text.bytes);
      if (same) {
        this.#promote(i);
        return;
      }
    }
    this.#known = [{ text, names: takeRuns(parent, runs) }, ...this.#known].slice(0, this.#keep);
  }

  /** How many lists were recognised and how many had to be parsed. */
  get stats(): { readonly hits: number; readonly misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  #find(bytes: Buffer): number {
    for (let i = 0; i < this.#known.length; i++) {
      const k = this.#known[i]!;
      if (k.text.size === bytes.length && k.text.equals(bytes)) return i;
    }
    return -1;
  }

  /** Moves known list i to the front (most recently used). */
  #promote(i: number): KnownList {
    const k = this.#known[i]!;
    if (i > 0) this.#known = [k, ...this.#known.slice(0, i), ...this.#known.slice(i + 1)];
    return k;
  }

  /** The list as names, known or parsed now; undefined when it is not a list of strings. */
  #recognise(bytes: Buffer): readonly string[] | undefined {
    const i = this.#find(bytes);
    if (i >= 0) {
      this.#hits++;
      return this.#promote(i).names;
    }
    this.#misses++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((n) => typeof n === 'string')) return undefined;
    const names = parsed as string[];
    // A copy: the body's memory is not ours to keep.
    this.#known = [{ text: toBytesText(bytes), names }, ...this.#known].slice(0, this.#keep);
    return names;
  }
}

function parseWhole(body: Buffer): unknown {
  return JSON.parse(body.toString('utf8'));
}

