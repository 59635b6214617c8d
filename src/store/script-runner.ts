// Runs the store's Lua script commands (defined by scripts.ts on the client) and turns Redis
// trouble into StorageUnavailableError (isp.SYSTEM_ERROR / 503) reported to the outage log.
//
// Deadlines (deadline.ts): every write a request answers for runs in a script given the last
// moment it may write (the write guard), so a request answered isp.SYSTEM_ERROR / 503 because Redis
// did not answer in time wrote nothing, even when Redis runs the queued command later. Hint writes
// that follow a landed write (pool index after a claim, inventory index after a release) are not
// guarded: they only bring the hints in line with what landed.
import type { Cluster, Redis } from 'ioredis';
import { XlineError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import { xKeys } from './codec.js';
import { asStorageError, type Deadline, StorageUnavailableError } from './deadline.js';
import { StorageOutageLog } from './outage-log.js';
import { defineScripts } from './scripts.js';

export type Reply = (string | number)[];
type ScriptFn = (...args: (string | number)[]) => Promise<Reply>;

const RETRY_BUDGET_MS = 500;
const READ_ONLY_SCRIPTS = new Set(['lookup', 'get', 'find', 'stat']);
/** Replies and client errors that mean the command never ran, so running it again is safe. */
const NOT_EXECUTED = /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY)\b|Stream isn't writeable|Too many Cluster redirections/;

export interface ScriptRunnerOptions {
  log?: Logger;
  /** How far Redis's clock may run behind xline's (REDIS_CLOCK_SKEW_MS; deadline.ts). Default 0. */
  clockSkewMs?: number;
  /** Time between the outage log's summaries (outage-log.ts). Default 5000 ms. */
  outageSummaryMs?: number;
}

/** A write refused because its deadline passed before it could run: nothing was written. */
export function late(op: string): StorageUnavailableError {
  return new StorageUnavailableError('deadline', op, 'write refused after its deadline');
}

export class ScriptRunner {
  readonly isCluster: boolean;
  readonly outage: StorageOutageLog;
  private readonly log?: Logger;
  private readonly clockSkewMs: number;
  private lastRefresh = 0;

  constructor(
    readonly redis: Redis | Cluster,
    opts: ScriptRunnerOptions = {},
  ) {
    this.log = opts.log;
    this.clockSkewMs = opts.clockSkewMs ?? 0;
    this.isCluster = typeof (redis as Cluster).refreshSlotsCache === 'function';
    this.outage = new StorageOutageLog(opts.log, () => this.ping(), { summaryMs: opts.outageSummaryMs });
    defineScripts(redis);
  }

  /** The script command `xl_<name>` with its keys and arguments as given (no retries). */
  command(name: string, ...keysAndArgs: (string | number)[]): Promise<Reply> {
    return (this.redis as unknown as Record<string, ScriptFn>)[`xl_${name}`]!.call(this.redis, ...keysAndArgs);
  }

  /**
   * Runs a per-X script. On a Cluster in the middle of a failover, a call is retried (briefly,
   * within RETRY_BUDGET_MS, so callers still get an answer in under a second) when that is safe:
   * read-only scripts always, writes only on errors that prove the script did not run.
   */
  perX(name: string, x: string, ...args: (string | number)[]): Promise<Reply> {
    const fn = (this.redis as unknown as Record<string, ScriptFn>)[`xl_${name}`]!;
    const first = fn.call(this.redis, ...xKeys(x), ...args);
    // the common case allocates no retry state
    if (!this.isCluster) return first;
    const t0 = Date.now();
    return first.catch((e: unknown) => this.retryPerX(e, t0 + RETRY_BUDGET_MS, fn, name, x, args));
  }

  private async retryPerX(err: unknown, deadline: number, fn: ScriptFn, name: string, x: string, args: (string | number)[]): Promise<Reply> {
    for (let delay = 25; ; delay *= 2) {
      const msg = err instanceof Error ? err.message : String(err);
      // a timeout already spent most of the caller's second: answer now
      const safe = NOT_EXECUTED.test(msg) || (READ_ONLY_SCRIPTS.has(name) && !/timed out/i.test(msg));
      if (!safe || Date.now() + delay >= deadline) throw err;
      this.refreshTopology();
      await new Promise((r) => setTimeout(r, delay));
      try {
        return await fn.call(this.redis, ...xKeys(x), ...args);
      } catch (e) {
        err = e;
      }
    }
  }

  /** On a Cluster, a failed command may mean a failover: reload the slot map (at most every 200 ms). */
  refreshTopology(): void {
    if (!this.isCluster || Date.now() - this.lastRefresh < 200) return;
    this.lastRefresh = Date.now();
    (this.redis as Cluster).refreshSlotsCache();
  }

  /**
   * The last moment a write for `dl` may run (epoch ms), after renewing a renewable deadline:
   * every caller sends its writes only after the steps before them answered, so Redis is alive
   * and the write gets a whole deadline.
   */
  writeBy(dl: Deadline): number {
    dl.renew();
    return dl.writeBy(this.clockSkewMs);
  }

  /**
   * Runs a guarded per-X write script for a request: not sent at all once the deadline's last
   * write moment has passed, and LATE (Redis ran it after that moment, so it wrote nothing) is
   * thrown as StorageUnavailableError. Other replies are the script's own.
   */
  async writePerX(name: string, x: string, dl: Deadline, ...args: (string | number)[]): Promise<Reply> {
    const by = this.writeBy(dl);
    if (Date.now() > by) throw late(name);
    const r = await this.perX(name, x, by, ...args);
    if (r[0] === 'LATE') throw late(name);
    return r;
  }

  /** One guarded single-key write (guarded.lua / pool.lua, named `op` in errors); returns the script's reply. */
  async writeKey(script: string, op: string, key: string, dl: Deadline, ...args: (string | number)[]): Promise<Reply> {
    const by = this.writeBy(dl);
    if (Date.now() > by) throw late(op);
    const r = await this.command(script, key, by, ...args);
    if (r[0] === 'LATE') throw late(op);
    return r;
  }

  /** Runs a Redis operation; anything but a business error becomes isp.SYSTEM_ERROR. */
  async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.failure(what, e);
    }
  }

  /**
   * The error to throw for a failed Redis call: StorageUnavailableError (isp.SYSTEM_ERROR) for
   * anything but a business error. Reported to the outage log, which writes one line when an
   * outage begins and a summary every few seconds instead of a line per failure.
   */
  failure(what: string, e: unknown): Error {
    if (e instanceof StorageUnavailableError) {
      this.outage.operationFailed(e.op, e.detail || e.reason);
      return e;
    }
    if (e instanceof XlineError) return e;
    const msg = e instanceof Error ? e.message : String(e);
    this.outage.operationFailed(what, msg);
    this.refreshTopology();
    return new StorageUnavailableError(/timed out/i.test(msg) ? 'deadline' : 'unreachable', what, msg);
  }

  /** A hint write after a landed write failed: reconcile() repairs it; Redis trouble goes to the outage log. */
  hintFailed(what: string, e: unknown): void {
    const s = asStorageError(e, what);
    if (s) this.outage.operationFailed(what, s.detail);
    else this.log?.warn({ err: String(e) }, `RedisBindingStore: ${what} not written; reconcile() repairs it`);
  }

  /** true when Redis answers a PING within the timeout. */
  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }
}
