// What tests of process lifetimes read of other processes, from /proc and independently of
// xline's own code (Linux): whether one is alive, its process group; and a wait on a condition.
import { readFileSync } from 'node:fs';

/** A process that exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat). */
export function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Polls `pred` every `everyMs` until it holds (a throw counts as not yet); throws after `ms`. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await Promise.resolve(pred()).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
