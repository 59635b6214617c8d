// Shared by the benches: a process's CPU time, sipp's final call counts, V8 CPU profiles.
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

/**
 * A V8 profile of this process from now until the returned function is called, written to `file`
 * (for Chrome DevTools or a summary): 'cpu' (BENCH_API_CPUPROF / BENCH_SIP_CPUPROF) or 'heap', a
 * sampling heap profile of allocations by call site, collected ones included (BENCH_SIP_HEAPPROF:
 * where the garbage the GC pauses for comes from). Profiles only the measured runs, not start-up.
 */
export async function startProfile(kind: 'cpu' | 'heap', file: string): Promise<() => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  if (kind === 'cpu') {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  } else {
    await session.post('HeapProfiler.enable');
    // a sample every 16 KiB allocated
    await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  return async () => {
    const { profile } = kind === 'cpu' ? await session.post('Profiler.stop') : await session.post('HeapProfiler.stopSampling');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}
