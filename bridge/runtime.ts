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
 *
 * `--optimize-for-size` (BRIDGE_V8_FLAGS, set by the bridge command itself): V8 grows the old generation by a smaller factor before it collects. The
 * bridge's steady RSS is the high-water mark of its converge burst (the heap grew to ~90 MiB of
 * mostly garbage before a full collection, with ~40 MiB live); with the flag 100 bases × 1,000 pods
 * measured 138 MiB steady / 148 peak instead of 162 / 194, at the same converge CPU per pod
 * (6.3 against 6.4 ms, bench/bridge.ts, one session).
 *
 * One V8 platform worker thread (`--v8-pool-size=1`; Node's default is 4) for the collector's
 * concurrent and parallel work and background compiles: the bridge runs with a CPU request of
 * 200m, and four helpers contending for a core or two cost more memory than they save.
 * 100 bases × 1,000 pods, one session (bench/bridge.ts): 123 / 125 MiB steady RSS (peak 142 / 137)
 * instead of 132–135 (peak 143) in three runs without it; converge 5.2 / 5.4 ms per pod and steady
 * 2.33 / 2.39 CPU-s per minute against 5.3–5.5 and 2.40–2.83, within the machine's noise
 * (docs/bridge.md, "Memory").
 */
export const BRIDGE_NODE_OPTIONS = '--max-semi-space-size=2 --v8-pool-size=1';

/**
 * V8 flags the bridge command sets on itself as it starts (Node refuses them in NODE_OPTIONS, so the
 * chart could not pass them there). They only tune the garbage collector's heuristics, which V8
 * reads as it runs, so setting them before the bridge allocates its caches takes effect.
 */
export const BRIDGE_V8_FLAGS: readonly string[] = ['--optimize-for-size'];

/** Sets BRIDGE_V8_FLAGS through `set` (v8.setFlagsFromString in production). */
export function applyBridgeV8Flags(set: (flag: string) => void): readonly string[] {
  for (const f of BRIDGE_V8_FLAGS) set(f);
  return BRIDGE_V8_FLAGS;
}
