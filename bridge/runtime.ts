/**
 * How the bridge's Node.js runtime is started (the chart's NODE_OPTIONS for the bridge container;
 * bench/bridge-scale.ts --node-options measures a bridge process started the same way).
 *
 * A small young generation (2 MiB semi-spaces instead of V8's default of up to 16 MiB): the bridge
 * parses a steady stream of watch events and API responses whose objects die young; with the
 * default size V8 lets the young generation grow to ~48 MiB of resident pages that hold almost
 * nothing live after each scavenge. Smaller semi-spaces keep those pages out of RSS at the price of
 * more, shorter scavenges (docs/bridge.md, "Memory"). The old generation is left to V8, which sizes
 * it from the container's memory limit.
 */
export const BRIDGE_NODE_OPTIONS = '--max-semi-space-size=2';
