// Shared by the SIP and media benches: a process's CPU time and sipp's final call counts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** utime + stime of a process in seconds, from /proc (0 when it is gone). */
export function procCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(parts[11]) + Number(parts[12])) / 100; // clock ticks
  } catch {
    return 0;
  }
}

/** Successful / failed call totals from the last line of sipp's -trace_stat CSV in `dir`. */
export function lastStats(dir: string): { successful: number; failed: number } | undefined {
  const f = readdirSync(dir).find((n) => n.endsWith('.csv') && !n.endsWith('_rtt.csv'));
  if (!f) return undefined;
  const lines = readFileSync(join(dir, f), 'latin1').trim().split('\n');
  const head = lines[0]!.split(';');
  const last = lines.at(-1)!.split(';');
  const col = (name: string) => Number(last[head.indexOf(name)]);
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}
