// xline's private redis-server (REDIS_URL unset), kept alive for as long as xline runs: the data
// directory locked first (redis-data-dir-lock.ts), the server's output logged line by line, and
// a server that dies restarted on the same port and socket after a backoff (0.2 s doubling to
// 10 s, back to 0.2 s once a server has run 30 s), so the clients reconnect by themselves.
import { resolve } from 'node:path';
import type { Logger } from '../log.js';
import { freePort, pdeathsigWrapper, startRedisServer, type RedisChild } from './embedded-redis.js';
import { lockDataDir } from './redis-data-dir-lock.js';

const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 10_000;
/** A server that ran this long before dying is restarted quickly again. */
const STABLE_MS = 30_000;

export interface SupervisedRedisOptions {
  dir: string;
  /** 0: a free port, kept across restarts. */
  port: number;
  log: Logger;
  /** Passed to every start, after the defaults (the last one given wins in redis-server). */
  extraArgs?: string[];
}

/** A RedisChild whose `process` is the server running now (a new one after each restart). */
export async function superviseRedisServer(opts: SupervisedRedisOptions): Promise<RedisChild> {
  const { log } = opts;
  const dir = resolve(opts.dir);
  if (!pdeathsigWrapper) {
    log.warn(
      'redis: setpriv (util-linux) not found: if xline is killed with SIGKILL its private redis-server keeps running until the next xline on this data dir stops it',
    );
  }
  const lock = await lockDataDir(dir, log);
  const record = (c: RedisChild) => {
    try {
      lock.setRedis(c.process.pid!, c.socket);
    } catch (err) {
      // the lock still names this xline; only an orphan left behind would go unrecognised
      log.warn({ err: err instanceof Error ? err.message : String(err), lock: lock.path }, 'redis: could not record the redis-server in the lock');
    }
  };
  const port = opts.port || (await freePort());
  const start = () =>
    startRedisServer({
      dir,
      port,
      extraArgs: opts.extraArgs,
      onOutput: (line) => log.info({ dir }, `redis-server: ${line}`),
    });
  let first: RedisChild;
  try {
    first = await start();
  } catch (err) {
    lock.release();
    throw err;
  }
  record(first);
  log.info({ port, socket: first.socket, dir, pid: first.process.pid, args: opts.extraArgs }, 'redis: started private redis-server (AOF on)');
  const kept = keepRunning(first, start, { log, dir, port, record });

  return {
    url: first.url,
    port,
    ...(first.socket ? { socket: first.socket } : {}),
    get process() {
      return kept.child.process;
    },
    lastOutput: () => kept.child.lastOutput(),
    get exited() {
      return kept.child.exited;
    },
    async stop() {
      await kept.stop();
      lock.release();
    },
  };
}

/**
 * Starts the server again (start()) whenever it exits, after the backoff, recording each new one
 * in the lock, until stop(); `child` is the server running now.
 */
function keepRunning(
  first: RedisChild,
  start: () => Promise<RedisChild>,
  o: { log: Logger; dir: string; port: number; record(c: RedisChild): void },
): { readonly child: RedisChild; stop(): Promise<void> } {
  const { log, dir, port } = o;
  let child = first;
  let stopping = false;
  let failures = 0;
  let startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;

  const retry = (fields: Record<string, unknown>, msg: string) => {
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** failures, BACKOFF_MAX_MS);
    failures++;
    log.error({ ...fields, dir, restartInMs: delay }, `${msg}; restarting it in ${delay} ms`);
    timer = setTimeout(restart, delay);
  };
  const watch = (c: RedisChild) => {
    void c.exited.then(() => {
      if (stopping) return;
      const ranMs = Date.now() - startedAt;
      if (ranMs >= STABLE_MS) failures = 0;
      const { pid, exitCode: code, signalCode: signal } = c.process;
      retry({ pid, code, signal, ranMs, lastOutput: c.lastOutput() }, 'redis: private redis-server exited');
    });
  };
  const restart = () => {
    timer = undefined;
    restarting = start().then(
      async (c) => {
        if (stopping) return c.stop();
        child = c;
        startedAt = Date.now();
        o.record(c);
        log.warn({ pid: c.process.pid, port, attempt: failures }, 'redis: private redis-server restarted');
        watch(c);
      },
      (err: unknown) => {
        if (!stopping) retry({ err: err instanceof Error ? err.message : String(err) }, 'redis: restarting the private redis-server failed');
      },
    );
  };
  watch(child);

  return {
    get child() {
      return child;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await restarting;
      await child.stop();
    },
  };
}
