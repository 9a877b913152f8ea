/**
 * `npm run bench` — lists the benchmarks; `npm run bench -- <name> [args…]` runs one in a child
 * process with the same Node (bridge-churn gets --expose-gc, which it needs). Benchmarks are run on
 * demand, never in `npm test`; README.md "Benchmarks" has what each measures and the figures.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

interface Bench {
  readonly file: string;
  readonly what: string;
  readonly nodeArgs?: readonly string[];
}

export const BENCHES: Readonly<Record<string, Bench>> = {
  'webhook-mutate': { file: 'webhook-mutate.ts', what: 'webhook /mutate over HTTPS keep-alive: throughput and latency' },
  extender: { file: 'extender.ts', what: 'extender filter + prioritize for one pod over loopback HTTP, at many virtual nodes' },
  bridge: { file: 'bridge.ts', what: 'bridge on the real control plane with Mosquitto and base-sim: node and module latency' },
  'bridge-scale': { file: 'bridge-scale.ts', what: 'bridge sizing: join CPU, RSS and heap at N bases x M module pods (real control plane)', nodeArgs: ['--expose-gc'] },
  'bridge-churn': { file: 'bridge-churn.ts', what: 'bridge memory under base churn (real control plane)', nodeArgs: ['--expose-gc'] },
};

function usage(): string {
  const names = Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(16)}${b.what}`);
  return ['Usage: npm run bench -- <name> [args…]   (or: node bench/<name>.ts [args…])', '', 'Benchmarks:', ...names].join('\n');
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h') {
  console.log(usage());
} else {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; pick one of: ${Object.keys(BENCHES).join(', ')}\n\n${usage()}`);
    process.exitCode = 2;
  } else {
    const child = spawn(process.execPath, [...(bench.nodeArgs ?? []), path.join(import.meta.dirname, bench.file), ...args], { stdio: 'inherit' });
    child.on('exit', (code, signal) => { process.exitCode = code ?? (signal ? 1 : 0); });
  }
}
