// The one deadline of a request that waits on Redis, and the promise behind isp.SYSTEM_ERROR:
// a request answered with an error because Redis did not answer in time wrote nothing, so a
// retry is always safe.
//
// How that holds when Redis stalls (SIGSTOP, a long fork, a saturated host) and runs the queued
// commands later: every script that writes on behalf of a request is given the latest moment it
// may write (`writeBy`, epoch ms) and compares it with Redis's own clock (TIME) before writing;
// later than that it writes nothing and answers LATE. The caller gives up at `at`, which is
//   writeBy + REPLY_MARGIN_MS + clockSkewMs
// so a write that did run had its reply back before the caller gave up, provided
//   - Redis's clock is no further behind xline's than clockSkewMs (REDIS_CLOCK_SKEW_MS; same host:
//     0; NTP-synced hosts: a few ms), and
//   - the reply travels and is read within REPLY_MARGIN_MS (loopback or LAN: well under 1 ms;
//     the margin absorbs event-loop and GC pauses). The caller also reads every reply already
//     received before it gives up (withDeadline below), so only a reply still on the wire counts.
// A Redis clock ahead of xline's only makes writes give up early (safe, but more errors).
// Not covered: Redis stopping (or dying) in the instant after running a write and before writing
// its reply, for longer than the margin: that write stands though its request was answered with
// an error (a large pipelined batch widens that instant; a bulk import says part of it landed).
// A stall that begins before the write runs, however long, is covered.
import { ERROR_CODES, XlineError } from '../domain/errors.js';

/** How long a request may wait on Redis before it answers isp.SYSTEM_ERROR / 503 (README: within a second). */
export const STORE_DEADLINE_MS = 800;
/** Time left, between a write's last moment and the caller giving up, for its reply to arrive. */
export const REPLY_MARGIN_MS = 100;

/**
 * When a request gives up on Redis. Fixed for a dypls request (one deadline from its start);
 * renewable for ops routes that run many round trips (a 10,000-number import, a big pool's
 * counts): renew() after each step whose commands have all answered, so such a route fails
 * within STORE_DEADLINE_MS of Redis's last answer rather than of its own start.
 */
export class Deadline {
  at: number;
  /** Writes of this request that are known to have landed (ops: "part of it was done"). */
  landed = 0;

  constructor(
    readonly renewable = false,
    readonly ms = STORE_DEADLINE_MS,
  ) {
    this.at = Date.now() + ms;
  }

  private expired = false;

  /** The last moment (xline's clock) a script may write for this request. */
  writeBy(clockSkewMs: number): number {
    return this.at - REPLY_MARGIN_MS - clockSkewMs;
  }

  /**
   * The request has given up (withDeadline): from now on nothing may be written for it, and
   * nothing renews it — its handler may still be running, and Redis may answer it later.
   */
  expire(): void {
    this.expired = true;
    this.at = Math.min(this.at, Date.now());
  }

  /**
   * A renewable deadline moves to STORE_DEADLINE_MS from now. Call it when the steps before have
   * answered (Redis is alive): the store does before each write it sends and after each page of
   * a long read. It only ever moves `at` later, so a write already sent with an earlier last
   * moment stays inside it.
   */
  renew(): void {
    if (this.renewable && !this.expired) this.at = Date.now() + this.ms;
  }
}

export type UnavailableReason = 'deadline' | 'unreachable';

/**
 * Redis could not be used: it did not answer within the deadline, a write script refused to run
 * after it (LATE), or it was not reachable. isp.SYSTEM_ERROR on the dypls API, 503
 * STORAGE_UNAVAILABLE on /v1. `detail` is the client's own error text, for logs only.
 */
export class StorageUnavailableError extends XlineError {
  constructor(
    readonly reason: UnavailableReason,
    readonly op: string,
    readonly detail = '',
  ) {
    super(ERROR_CODES.SYSTEM_ERROR, storageMessage(reason));
    this.name = 'StorageUnavailableError';
  }
}

/** ioredis's own errors (and Redis's refusals while it cannot serve), which say Redis is unavailable. */
const CLIENT_ERROR = /timed out|Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ENOENT|Too many Cluster redirections|^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|BUSY)\b/;
const CLIENT_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/** The StorageUnavailableError a raw Redis client error stands for, or undefined (e.g. a bug). */
export function asStorageError(e: unknown, op: string): StorageUnavailableError | undefined {
  if (e instanceof StorageUnavailableError) return e;
  if (!(e instanceof Error) || e instanceof XlineError) return undefined;
  if (!CLIENT_ERROR_NAMES.has(e.name) && !CLIENT_ERROR.test(e.message)) return undefined;
  return new StorageUnavailableError(/timed out/i.test(e.message) ? 'deadline' : 'unreachable', op, e.message);
}

export function storageMessage(reason: UnavailableReason): string {
  return reason === 'deadline'
    ? `Redis did not answer within ${STORE_DEADLINE_MS} ms; nothing was changed, retrying is safe`
    : 'Redis is not reachable; nothing was changed, retrying is safe';
}

/** An ops request cut short after part of it landed (a bulk import): what landed stays. */
export function partialMessage(reason: UnavailableReason): string {
  const why = reason === 'deadline' ? `Redis stopped answering (nothing for ${STORE_DEADLINE_MS} ms)` : 'Redis became unreachable';
  return `${why} part-way through: what was done before stays done, nothing was changed after that; sending the request again completes it`;
}

/**
 * Settles like `p`, or rejects with StorageUnavailableError('deadline') once `deadline.at` has
 * passed (following renew()). When the timer fires, the rejection waits for the next turn of the
 * event loop after its I/O poll: a reply that already reached the socket is read first and wins.
 * One timer per call (Promise.race + finally would allocate three more promises on the bind path).
 */
export function withDeadline<T>(p: Promise<T>, deadline: Deadline, op: string, onLate?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let t: NodeJS.Timeout;
    const arm = () => {
      t = setTimeout(fire, Math.max(0, deadline.at - Date.now()));
    };
    const fire = () => {
      if (settled) return;
      if (Date.now() < deadline.at) return arm(); // renewed meanwhile
      setImmediate(() => {
        if (settled) return;
        settled = true;
        deadline.expire();
        onLate?.();
        reject(new StorageUnavailableError('deadline', op));
      });
    };
    arm();
    p.then(
      (v) => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
