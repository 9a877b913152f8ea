/**
 * Summarises a V8 heap snapshot (`v8.writeHeapSnapshot`, `--heapsnapshot-signal`) by constructor
 * name: count and self size per (node type, name), largest first. Self size only — retained sizes
 * need a dominator tree, and the largest self sizes already name the caches that hold memory.
 *   node bench/heap-summary.ts <file.heapsnapshot> [--top 25]
 * Runs in its own process so the snapshot's JSON never inflates the measured one.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface HeapRow { readonly type: string; readonly name: string; readonly count: number; readonly selfBytes: number }

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Rows by (type, name); strings, code and arrays are grouped by type alone (their names are contents). */
export function summariseHeap(s: Snapshot): { rows: HeapRow[]; totalBytes: number } {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type'), iName = fields.indexOf('name'), iSize = fields.indexOf('self_size');
  const byKey = new Map<string, { type: string; name: string; count: number; selfBytes: number }>();
  let totalBytes = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!] ?? '?';
    const size = s.nodes[i + iSize]!;
    totalBytes += size;
    const named = type === 'object' || type === 'closure' || type === 'native';
    const name = named ? (s.strings[s.nodes[i + iName]!] ?? '?') : `(${type})`;
    const key = `${type}\0${name}`;
    const row = byKey.get(key) ?? { type, name, count: 0, selfBytes: 0 };
    row.count++;
    row.selfBytes += size;
    byKey.set(key, row);
  }
  return { rows: [...byKey.values()].sort((a, b) => b.selfBytes - a.selfBytes), totalBytes };
}

export function toHeapTable(rows: readonly HeapRow[], totalBytes: number, top: number): string {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const lines = [`heap snapshot: ${mib(totalBytes)} MiB in live objects (self sizes)`, '| type | constructor / kind | count | self MiB | share |', '|---|---|---|---|---|'];
  for (const r of rows.slice(0, top)) lines.push(`| ${r.type} | ${r.name.slice(0, 60)} | ${r.count} | ${mib(r.selfBytes)} | ${((r.selfBytes / totalBytes) * 100).toFixed(1)} % |`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: node bench/heap-summary.ts <file.heapsnapshot> [--top 25]\n');
    process.exit(2);
  }
  const { rows, totalBytes } = summariseHeap(JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
  process.stdout.write(`${toHeapTable(rows, totalBytes, Number(values.top))}\n`);
}
