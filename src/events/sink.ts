// The SIP side's call events and CDRs on their way to Redis: each write is produced there
// (idempotent, so retried a few times), and when Redis stays away it goes to the fsynced local
// spool, replayed once Redis is back. Writes of one moment leave together (coalesced).
import type { Logger } from '../log.js';
import type { EventMetrics } from './metrics.js';
import type { EventSpool, SpoolOp } from './spool.js';
import { validateCdr, validateEvent } from './event-validation.js';
import type { EventStore } from './store.js';
import type { Delivery } from './delivery.js';
import type { CallEvent, CallEventSink, CallRecord } from './types.js';

/** The sink retries a failed Redis write this many times (produce is idempotent, so retrying is safe). */
export const SINK_RETRY_DELAYS_MS = [100, 400, 1500];
/**
 * Event and CDR writes wait up to this long and leave together: ioredis sends the commands of one
 * tick in one socket write, and at hundreds of calls/s the write syscalls, not the Lua, are what
 * five events per call cost (bench sip). Not on the post-dial path; webhooks take far longer.
 */
const WRITE_BATCH_MS = 5;
const WRITE_BATCH_MAX = 64;

/** `fn` with its calls held until `ms` after the first or `max` are waiting, then made in one tick (in order). */
export function coalesced<A, R>(fn: (arg: A) => Promise<R>, ms: number, max = WRITE_BATCH_MAX): (arg: A) => Promise<R> {
  if (ms <= 0) return fn;
  let queue: Array<{ arg: A; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    for (const c of batch) {
      try {
        fn(c.arg).then(c.resolve, c.reject);
      } catch (err) {
        c.reject(err);
      }
    }
  };
  return (arg) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ arg, resolve, reject });
      if (queue.length >= max) flush();
      else timer ??= setTimeout(flush, ms);
    });
}

export interface DurableSinkDeps {
  store: EventStore;
  spool: EventSpool;
  log: Logger;
  metrics: EventMetrics;
  /** A webhook is configured: produced events are queued for delivery (counted). */
  queue: boolean;
  now: () => number;
  retryDelaysMs?: number[];
  /** How long a write may wait for others to share its socket write (0 = none). */
  writeBatchMs?: number;
}

export class DurableSink implements CallEventSink {
  private readonly apply: (op: SpoolOp) => Promise<void>;
  private readonly retryDelays: number[];
  /**
   * Writes handed to the sink and not yet in Redis or the spool. Calls do not wait for their
   * events (and a drained call's CDR is still being written when the drain ends): settled()
   * waits for these, so nothing a call produced is lost when the process exits after it.
   */
  private readonly writing = new Set<Promise<void>>();
  private spooledSinceReplay = 0;
  private replaying = false;
  private replayFailing = false;

  constructor(private readonly d: DurableSinkDeps) {
    this.retryDelays = d.retryDelaysMs ?? SINK_RETRY_DELAYS_MS;
    this.apply = coalesced((op) => this.applyNow(op), d.writeBatchMs ?? WRITE_BATCH_MS);
  }

  async event(e: CallEvent, also?: Delivery[]): Promise<void> {
    validateEvent(e);
    await this.tracked(this.produce({ kind: 'event', e, at: this.d.now(), ...(also?.length ? { also } : {}) }, e.call_id));
  }

  async cdr(r: CallRecord, also?: Delivery[]): Promise<void> {
    validateCdr(r);
    await this.tracked(this.produce({ kind: 'cdr', r, at: this.d.now(), ...(also?.length ? { also } : {}) }, r.call_id));
  }

  /** Waits for the writes in flight (to Redis, or the spool) and a spool replay under way. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.writing]);
    while (this.replaying) await new Promise((r) => setTimeout(r, 10));
  }

  /** Replays what the spool holds into Redis (the pipeline's timer calls this). */
  async replaySpool(): Promise<void> {
    const { spool, log } = this.d;
    if (this.replaying || !spool.hasWork()) return;
    this.replaying = true;
    try {
      const r = await spool.drain((op) => this.applyNow(op));
      if (r.replayed) log.info({ ...r, spooledSinceOutage: this.spooledSinceReplay }, 'events:spooled events replayed into Redis');
      // all replayed: the outage is over, the next one is logged again
      if (r.left === 0) this.spooledSinceReplay = 0;
      this.replayFailing = false;
    } catch (err) {
      // while Redis is away every attempt fails alike: say it once
      if (!this.replayFailing) log.warn({ err: (err as Error).message }, 'events:spool replay failed; retrying until Redis is back');
      this.replayFailing = true;
    } finally {
      this.replaying = false;
    }
  }

  private tracked(p: Promise<void>): Promise<void> {
    this.writing.add(p);
    const forget = () => void this.writing.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Writes one op to Redis (a no-op when it is already there: produce is idempotent). */
  private async applyNow(op: SpoolOp): Promise<void> {
    const { store, metrics, queue } = this.d;
    const fresh = op.kind === 'event' ? await store.produceEvent(op.e, op.at, op.also) : await store.produceCdr(op.r, op.at, op.also);
    if (!fresh) return;
    if (queue) metrics.queued.inc({ type: op.kind === 'event' ? op.e.type : 'cdr' });
    for (const d of op.also ?? []) if (!d.ifLost) metrics.queued.inc({ type: d.type });
  }

  /** Redis first (retried: produce is idempotent); when it stays away, the fsynced local spool. */
  private async produce(op: SpoolOp, callId: string): Promise<void> {
    const { spool, log, metrics } = this.d;
    for (let i = 0; ; i++) {
      try {
        return await this.apply(op);
      } catch (err) {
        const wait = this.retryDelays[i];
        if (wait !== undefined) {
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        try {
          spool.append(op);
        } catch (spoolErr) {
          log.error({ callId, err: (err as Error).message, spoolErr: (spoolErr as Error).message }, `events:${op.kind} lost: neither Redis nor the spool took it`);
          throw err;
        }
        metrics.spooled.inc({ type: op.kind === 'event' ? op.e.type : 'cdr' });
        // once per outage, not per event: the replay line counts them (and so does the metric)
        if (this.spooledSinceReplay++ === 0) {
          log.warn({ callId, err: (err as Error).message }, 'events:Redis unavailable; call events and CDRs are spooled to disk until it is back');
        }
        return;
      }
    }
  }
}
