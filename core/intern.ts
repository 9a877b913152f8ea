/**
 * One string object per distinct text among the last ones seen. Per-request keys (a pod's
 * constraints, its modules) are compared with keys cached on thousands of nodes; equal texts that
 * are the same object compare by pointer instead of character by character. Correctness never
 * depends on it: `===` on strings compares contents whenever the objects differ.
 */
const known = new Map<string, string>();
const LIMIT = 1024;

export function intern(text: string): string {
  const same = known.get(text);
  if (same !== undefined) return same;
  if (known.size >= LIMIT) known.clear();
  known.set(text, text);
  return text;
}
