/** CPU and memory of another process from /proc (Linux), and single values from a Prometheus text page. */
import { readFileSync } from 'node:fs';

export interface ProcStat { readonly cpuSeconds: number; readonly rssBytes: number; readonly peakRssBytes: number }

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux build in practice). */
const TICKS = 100;

export function readProcStat(pid: number): ProcStat {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state (field 3); utime, stime are 14, 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { cpuSeconds: (Number(f[11]) + Number(f[12])) / TICKS, rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** The sum of every sample of `name` (all label sets) in Prometheus text exposition. */
export function readPromValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
