/**
 * The last liveness kind seen per base, so a heartbeat re-plans modules only when the base's liveness
 * changed (joined, back, leaving). Bounded: entries of bases no longer in the registry are pruned.
 */
export class LivenessMemo {
  private readonly last = new Map<string, string>();

  /** Records `kind` for `identity`; true when it differs from the one recorded before. */
  changed(identity: string, kind: string | undefined): boolean {
    if (kind === undefined) return this.last.delete(identity);
    if (this.last.get(identity) === kind) return false;
    this.last.set(identity, kind);
    return true;
  }

  /** Drops every entry whose base `isKnown` denies. */
  prune(isKnown: (identity: string) => boolean): void {
    for (const id of this.last.keys()) if (!isKnown(id)) this.last.delete(id);
  }

  get size(): number {
    return this.last.size;
  }
}
