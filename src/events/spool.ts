// Last line of defence: a call event or CDR that cannot reach Redis (down longer than the sink's
// retries) is appended, fsynced, to a local file and replayed when Redis answers again. Replay is
// safe to repeat because producing is idempotent (one CDR per call, one event per call and type).
// One file per process (spool-<pid>.jsonl); a process also replays the files of dead processes.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Delivery } from './delivery.js';
import type { CallEvent, CallRecord } from './types.js';

/** `also`: the deliveries to other targets produced with it (store.ts produceEvent). */
export type SpoolOp = { kind: 'event'; e: CallEvent; at: number; also?: Delivery[] } | { kind: 'cdr'; r: CallRecord; at: number; also?: Delivery[] };

const OWN = /^spool-(\d+)\.jsonl$/;
const REPLAYING = /^spool-(\d+)\.\d+\.replaying$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class EventSpool {
  private readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, `spool-${process.pid}.jsonl`);
  }

  /** Durable when it returns (written and fsynced). */
  append(op: SpoolOp): void {
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(this.file, 'a');
    try {
      writeSync(fd, JSON.stringify(op) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Files this process should replay: its own, and those of processes no longer running. */
  private pending(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => {
        const m = OWN.exec(n) ?? REPLAYING.exec(n);
        if (!m) return false;
        const pid = Number(m[1]);
        // a live process's own file is its to replay; a stale `.replaying` of a live other process is in use
        return pid === process.pid || !alive(pid);
      })
      .sort();
  }

  hasWork(): boolean {
    return this.pending().length > 0;
  }

  /**
   * Replays every pending op through `apply`, in file order; stops at the first failure (Redis
   * still away) keeping what is left. Returns how many were replayed and how many remain.
   */
  async drain(apply: (op: SpoolOp) => Promise<void>): Promise<{ replayed: number; left: number }> {
    let replayed = 0;
    for (const name of this.pending()) {
      let path = join(this.dir, name);
      if (OWN.test(name)) {
        // Appends from now on start a new file; this one is ours alone (same thread, sync rename).
        const pid = OWN.exec(name)![1];
        const to = join(this.dir, `spool-${pid}.${Date.now()}.replaying`);
        renameSync(path, to);
        path = to;
      }
      const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
      let i = 0;
      let failed = false;
      for (; i < lines.length; i++) {
        let op: SpoolOp;
        try {
          op = JSON.parse(lines[i]!) as SpoolOp;
        } catch {
          continue; // a torn last line from a crash mid-write: nothing to replay
        }
        try {
          await apply(op);
        } catch {
          failed = true;
          break;
        }
        replayed++;
      }
      if (!failed) {
        unlinkSync(path);
        continue;
      }
      // keep what is left; write-then-rename so a crash here never tears the file
      writeFileSync(path + '.tmp', lines.slice(i).join('\n') + '\n');
      renameSync(path + '.tmp', path);
      return { replayed, left: lines.length - i };
    }
    return { replayed, left: 0 };
  }
}
