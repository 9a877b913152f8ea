/**
 * One string object per distinct text among the last ones seen. Per-request keys (a pod's
 * constraints, its modules) are compared with keys cached on thousands of nodes; equal texts that
 * are the same object compare by pointer instead of character by character, and cached objects
 * that repeat a text (a namespace, a node name, a label value) share one copy of it. Correctness
 * never depends on it: `===` on strings compares contents whenever the objects differ.
 */
export type Interner = (text: string) => string;

/** An interner that remembers up to `limit` texts, then starts over (bounded memory). */
export function createInterner(limit: number): Interner {
  const known = new Map<string, string>();
  return (text) => {
    const same = known.get(text);
    if (same !== undefined) return same;
    if (known.size >= limit) known.clear();
    known.set(text, text);
    return text;
  };
}

export const intern: Interner = createInterner(1024);
