// One private redis-server per data directory. xline takes `<REDIS_DATA_DIR>/xline-redis.lock`
// (created atomically, naming its own pid and its server's) before it starts a server there:
// - the lock names a live xline → refuse (DataDirInUseError): never two servers on one AOF;
// - the lock names a dead xline whose redis-server still runs (an orphan: it was SIGKILLed where
//   setpriv is missing, or died in the instant between spawning its server and setpriv's prctl)
//   → stop that server with SIGTERM (a clean shutdown: its AOF is flushed, nothing acknowledged
//   is lost) and start our own. Stopped rather than adopted: an adopted server is not our child,
//   so it could neither be restarted with our settings nor tied to our lifetime;
// - any other redis-server answering on a socket in the directory (not started by xline, or by a
//   version without this lock) → refuse, saying how to stop it: it is not provably ours to stop.
// Processes are recognised by pid plus, on Linux, boot id and start time (/proc), so a reused pid
// (a container restarted, xline pid 1 again) is not taken for the old owner.
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';

export const LOCK_FILE = 'xline-redis.lock';
const STOP_WAIT_MS = 10_000;

/** A process as the lock records it. */
export interface LockedProcess {
  pid: number;
  /** Linux: boot id and start time; undefined elsewhere (then the pid alone is compared). */
  id?: string;
  socket?: string;
}

export interface LockContent {
  xline: LockedProcess;
  redis?: LockedProcess;
}

export class DataDirInUseError extends Error {}

export interface DataDirLock {
  path: string;
  /** Records the server now running (after each (re)start). */
  setRedis(pid: number, socket: string | undefined): void;
  release(): void;
}

export async function lockDataDir(dataDir: string, log: Logger): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockedProcess = describeProcess(process.pid);
  let content: LockContent = { xline: me };
  const write = () => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(content));
    return tmp;
  };

  for (let attempt = 0; ; attempt++) {
    if (create(path, write())) break;
    if (attempt >= 2) throw new DataDirInUseError(`REDIS_DATA_DIR ${dir}: ${LOCK_FILE} keeps being taken by other starting xlines`);
    const prev = readLock(path);
    if (prev && isRunning(prev.xline)) {
      throw new DataDirInUseError(
        `REDIS_DATA_DIR ${dir} is in use by xline pid ${prev.xline.pid}${prev.redis ? ` (its redis-server: pid ${prev.redis.pid})` : ''}. ` +
          'Stop that xline, choose another REDIS_DATA_DIR, or set REDIS_URL to share one Redis.',
      );
    }
    if (prev?.redis && isRunning(prev.redis)) {
      await stopOrphan(dir, prev, log);
    } else {
      log.info({ dir, xlinePid: prev?.xline.pid }, 'redis: took over the lock of an xline that is gone (no redis-server of it runs)');
    }
    try {
      unlinkSync(path);
    } catch {
      // removed by another starting xline; the next attempt finds out which one holds it
    }
  }

  const lock: DataDirLock = {
    path,
    setRedis(pid, socket) {
      content = { xline: me, redis: { ...describeProcess(pid), ...(socket ? { socket } : {}) } };
      renameSync(write(), path); // atomic replace: readers see the old content or the new
    },
    release() {
      if (readLock(path)?.xline.pid !== me.pid) return;
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
  try {
    await refuseStrangers(dir);
  } catch (err) {
    lock.release();
    throw err;
  }
  return lock;
}

/** Creates `path` with the content of `tmp` (removed) unless it exists; false when it does. */
function create(path: string, tmp: string): boolean {
  try {
    linkSync(tmp, path); // atomic, and the file is complete when it appears
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // a file system without hard links: exclusive create (a reader may see it empty for an instant)
    try {
      writeFileSync(path, readFileSync(tmp), { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } finally {
    unlinkSync(tmp);
  }
}

async function stopOrphan(dir: string, prev: LockContent, log: Logger): Promise<void> {
  const orphan = prev.redis!;
  // Without /proc identity, confirm over its socket that the pid is that redis-server before
  // signalling it (a reused pid could be anything).
  const answered = orphan.socket ? await serverPid(orphan.socket) : undefined;
  if (orphan.id === undefined && answered !== orphan.pid) {
    throw new DataDirInUseError(
      `REDIS_DATA_DIR ${dir}: the lock of xline pid ${prev.xline.pid} (gone) names redis-server pid ${orphan.pid}, which could not be confirmed; ` +
        `stop it if it is a redis-server, then remove ${join(dir, LOCK_FILE)}.`,
    );
  }
  log.warn(
    { dir, orphanPid: orphan.pid, xlinePid: prev.xline.pid },
    'redis: stopping the orphaned private redis-server of an xline that is gone (SIGTERM: its AOF is flushed); then starting our own',
  );
  if (!(await signalAndWait(orphan, 'SIGTERM', STOP_WAIT_MS)) && !(await signalAndWait(orphan, 'SIGKILL', STOP_WAIT_MS))) {
    throw new DataDirInUseError(`REDIS_DATA_DIR ${dir}: orphaned redis-server pid ${orphan.pid} did not stop`);
  }
  log.warn({ dir, orphanPid: orphan.pid }, 'redis: orphaned private redis-server stopped');
}

/** Refuses when a redis-server answers on a socket in the directory (none should, now that we hold the lock). */
async function refuseStrangers(dir: string): Promise<void> {
  for (const f of readdirSync(dir)) {
    if (!/^redis-\d+\.sock$/.test(f)) continue;
    const socket = join(dir, f);
    const pid = await serverPid(socket);
    if (pid === undefined) continue; // a stale socket file: redis-server replaces it
    throw new DataDirInUseError(
      `REDIS_DATA_DIR ${dir}: a redis-server not started by a running xline (pid ${pid}) answers on ${socket}. ` +
        `Not stopping it (it is not provably ours): stop it (redis-cli -s ${socket} shutdown) or point REDIS_URL at it.`,
    );
  }
}

/** The pid of the redis-server answering on `socket`, or undefined when none answers. */
async function serverPid(socket: string): Promise<number | undefined> {
  const r = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 1000 });
  r.on('error', () => undefined); // no server there: the expected answer in most cases
  try {
    await r.connect();
    const pid = Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1]);
    return pid || undefined;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

async function signalAndWait(p: LockedProcess, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  try {
    process.kill(p.pid, signal);
  } catch {
    return true; // already gone
  }
  const deadline = Date.now() + ms;
  while (isRunning(p)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export function readLock(path: string): LockContent | undefined {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as LockContent;
    return typeof c?.xline?.pid === 'number' ? c : undefined;
  } catch {
    return undefined; // absent or unreadable: nobody's
  }
}

/** The process as recorded in a lock. */
export function describeProcess(pid: number): LockedProcess {
  const id = processId(pid);
  return id === undefined ? { pid } : { pid, id };
}

/** Whether the recorded process still runs (not a zombie, not a newer process with its pid). */
export function isRunning(p: LockedProcess): boolean {
  try {
    process.kill(p.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(p.pid);
  if (stat?.state === 'Z') return false;
  return p.id === undefined || processId(p.pid) === p.id;
}

function processId(pid: number): string | undefined {
  const stat = procStat(pid);
  if (!stat) return undefined;
  try {
    return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${stat.start}`;
  } catch {
    return undefined;
  }
}

function procStat(pid: number): { state: string; start: string } | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after "pid (comm) ": state is field 3, starttime field 22
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, start: rest[19]! };
  } catch {
    return undefined;
  }
}
