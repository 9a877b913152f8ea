/**
 * A Kubernetes MicroTime (metav1.MicroTime: RFC 3339 with six fractional digits), as a Date that
 * serialises with microseconds. The API server rejects a Lease's renewTime/acquireTime without them.
 * Same behaviour as client-node's V1MicroTime (and assignable to it), without loading client-node.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return `${super.toISOString().slice(0, -1)}000Z`;
  }
}
