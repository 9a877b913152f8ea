/**
 * How the extender's Node.js runtime is started (the chart's NODE_OPTIONS for the extender
 * container; bench/extender.ts starts its extender process the same way).
 *
 * A small young generation (4 MiB semi-spaces instead of V8's default of up to 16–32 MiB): every
 * scheduler request carries ~100 kB of body that Node hands over as memory outside the JavaScript
 * heap, and V8 frees such memory cheaply only when a young-generation collection finds its owner
 * dead. The hot path allocates little on the heap, so with the default size those collections are
 * rare, the outside memory piles up, and V8 runs a full mark-compact every few hundred milliseconds,
 * marking the whole heap on a second core — the cause of most latency spikes measured at 5,000
 * virtual nodes (docs/extender.md). Frequent, tiny young collections avoid it.
 */
export const EXTENDER_NODE_OPTIONS = '--max-semi-space-size=4';
