// Call events and CDRs from the SIP side to Redis (durably, in the step that ends the call state),
// and from Redis to the webhook receiver (at least once, retried, dead-lettered when exhausted).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { eventMetrics } from './metrics.js';
import type { RedisLike } from './scripts.js';
import { OrphanReaper } from './reaper.js';
import { EventSpool, type SpoolOp } from './spool.js';
import { EventStore, validateCdr, validateEvent, type LiveCall } from './store.js';
import type { CallEvent, CallEventSink, CallRecord } from './types.js';
import { DeliveryWorker } from './worker.js';

export interface EventPipelineDeps {
  redis: RedisLike;
  config: Config;
  log: Logger;
  metrics: Registry;
  // For tests and benchmarks; production takes them from config.
  /** Consumer name in the delivery group (default: XLINE_INSTANCE_ID, else host-pid-random). */
  consumer?: string;
  retentionMs?: number;
  tickMs?: number;
  trimIntervalMs?: number;
  /** How often the spool is replayed while it holds anything. */
  spoolDrainMs?: number;
  /** Waits between the sink's attempts at Redis before it spools (default 100, 400, 1500 ms). */
  sinkRetryDelaysMs?: number[];
  /** How long an event write may wait for others to share its socket write (default 5 ms; 0 = none). */
  writeBatchMs?: number;
  /** Heartbeat period (default EVENT_HEARTBEAT_MS). */
  heartbeatMs?: number;
  /** How often other owners' heartbeats are checked (default: the heartbeat period). */
  reapIntervalMs?: number;
  /** Silence after which an owner's calls are reaped (default EVENT_OWNER_GRACE_MS). */
  ownerGraceMs?: number;
  now?: () => number;
}

export interface EventPipeline {
  sink: CallEventSink;
  /** Shared with the ops API (CDR listing, dead letters). */
  store: EventStore;
  /** QueryCallStatus: calls of a binding in progress, newest first. */
  callState: { get(subId: string): Promise<LiveCall[]> };
  /**
   * This run of the pipeline, recorded on the calls it starts: the consumer name plus a random
   * suffix, so a restart under the same XLINE_INSTANCE_ID is a new owner and the previous run's
   * calls are still seen as orphaned.
   */
  owner: string;
  /** Ends the live calls of owners silent past the grace (the timer calls this too). */
  reap: OrphanReaper;
  /**
   * Starts webhook delivery (when WEBHOOK_URL is set), CDR retention trimming, the heartbeat and
   * the orphaned-call reaper.
   */
  start(): void;
  /**
   * Waits for the sink's writes in flight (to Redis, or the spool when Redis stays away), then
   * stops delivery, waiting for POSTs in flight (undelivered events stay in Redis), and the
   * heartbeat: removed when this owner holds no live call any more, left to age otherwise so that
   * a reaper ends what the drain did not.
   */
  stop(): Promise<void>;
}

/** The sink retries a failed Redis write this many times (produce is idempotent, so retrying is safe). */
const SINK_RETRY_DELAYS_MS = [100, 400, 1500];
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

export function createEventPipeline(deps: EventPipelineDeps): EventPipeline {
  const { redis, config, log } = deps;
  const now = deps.now ?? Date.now;
  const queue = Boolean(config.WEBHOOK_URL);
  const consumer = deps.consumer ?? config.XLINE_INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const owner = `${consumer}~${randomBytes(4).toString('hex')}`;
  const store = new EventStore(redis, {
    retentionMs: deps.retentionMs ?? config.CDR_RETENTION_DAYS * 86_400_000,
    // A live call's state outlives a crashed instance by at most its longest possible life.
    liveTtlMs: (config.SIP_MAX_CALL_SECONDS + config.SIP_RING_TIMEOUT + 300) * 1000,
    queue,
    now,
    owner,
  });
  const metrics = eventMetrics(deps.metrics, () => store.depth());
  const minWait = Math.min(...config.WEBHOOK_RETRY_SCHEDULE, 4000);
  const worker = config.WEBHOOK_URL
    ? new DeliveryWorker({
        redis,
        log,
        metrics,
        url: config.WEBHOOK_URL,
        secret: config.WEBHOOK_SECRET,
        schedule: config.WEBHOOK_RETRY_SCHEDULE,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        concurrency: config.WEBHOOK_CONCURRENCY,
        claimIdleMs: config.WEBHOOK_CLAIM_IDLE_MS,
        consumer,
        // due retries leave the zset within a quarter of the shortest wait (at most 1 s late)
        tickMs: deps.tickMs ?? Math.max(50, Math.min(1000, Math.floor(minWait / 4))),
        now,
      })
    : undefined;

  const spool = new EventSpool(config.EVENT_SPOOL_DIR);
  const retryDelays = deps.sinkRetryDelaysMs ?? SINK_RETRY_DELAYS_MS;

  /** Writes one op to Redis (a no-op when it is already there: produce is idempotent). */
  async function applyNow(op: SpoolOp): Promise<void> {
    const fresh = op.kind === 'event' ? await store.produceEvent(op.e, op.at) : await store.produceCdr(op.r, op.at);
    if (fresh && queue) metrics.queued.inc({ type: op.kind === 'event' ? op.e.type : 'cdr' });
  }
  const apply = coalesced(applyNow, deps.writeBatchMs ?? WRITE_BATCH_MS);

  /** Redis first (retried: produce is idempotent); when it stays away, the fsynced local spool. */
  let spooledSinceReplay = 0;
  async function produce(op: SpoolOp, callId: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        return await apply(op);
      } catch (err) {
        const wait = retryDelays[i];
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
        if (spooledSinceReplay++ === 0) {
          log.warn({ callId, err: (err as Error).message }, 'events:Redis unavailable; call events and CDRs are spooled to disk until it is back');
        }
        return;
      }
    }
  }

  /**
   * Writes handed to the sink and not yet in Redis or the spool. Calls do not wait for their
   * events (and a drained call's CDR is still being written when the drain ends): stop() waits
   * for these, so nothing a call produced is lost when the process exits after it.
   */
  const writing = new Set<Promise<void>>();
  const tracked = (p: Promise<void>): Promise<void> => {
    writing.add(p);
    const forget = () => void writing.delete(p);
    p.then(forget, forget);
    return p;
  };

  const sink: CallEventSink = {
    async event(e: CallEvent) {
      validateEvent(e);
      await tracked(produce({ kind: 'event', e, at: now() }, e.call_id));
    },
    async cdr(r: CallRecord) {
      validateCdr(r);
      await tracked(produce({ kind: 'cdr', r, at: now() }, r.call_id));
    },
  };

  let draining = false;
  let replayFailing = false;
  async function drainSpool(): Promise<void> {
    if (draining || !spool.hasWork()) return;
    draining = true;
    try {
      const r = await spool.drain(applyNow);
      if (r.replayed) log.info({ ...r, spooledSinceOutage: spooledSinceReplay }, 'events:spooled events replayed into Redis');
      // all replayed: the outage is over, the next one is logged again
      if (r.left === 0) spooledSinceReplay = 0;
      replayFailing = false;
    } catch (err) {
      // while Redis is away every attempt fails alike: say it once
      if (!replayFailing) log.warn({ err: (err as Error).message }, 'events:spool replay failed; retrying until Redis is back');
      replayFailing = true;
    } finally {
      draining = false;
    }
  }

  const graceMs = deps.ownerGraceMs ?? config.EVENT_OWNER_GRACE_MS;
  const heartbeatMs = deps.heartbeatMs ?? config.EVENT_HEARTBEAT_MS;
  const reaper = new OrphanReaper({ store, log, self: owner, graceMs, timeZone: config.TIMEZONE, onReaped: () => metrics.reaped.inc() });
  let heartbeatFailing = false;
  /**
   * Since when this pipeline's heartbeats have been landing without a miss. It reaps only once
   * that is a whole grace ago: after a Redis outage (or a failover, or this instance's own
   * partition) every live instance gets a grace's worth of heartbeats in before anyone is judged
   * by them, so an outage longer than the grace does not get every live call ended.
   */
  let healthySince: number | undefined;
  /** Heartbeat and reaper passes in flight; stop() waits for them (a late heartbeat would outlive stop). */
  const inFlight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const heartbeat = () =>
    store.heartbeat(owner).then(
      () => {
        if (heartbeatFailing) log.info({ owner }, 'events:heartbeat recorded again');
        heartbeatFailing = false;
        healthySince ??= performance.now();
      },
      (err: Error) => {
        healthySince = undefined;
        // once per outage: the timer keeps trying
        if (!heartbeatFailing) log.warn({ owner, err: err.message }, 'events:heartbeat not recorded; past the grace, other instances end this one\'s calls');
        heartbeatFailing = true;
      },
    );
  const reap = async () => {
    if (healthySince === undefined || performance.now() - healthySince < graceMs) return;
    await reaper.reapOnce().catch((err: Error) => log.warn({ err: err.message }, 'events:orphaned-call reaper failed; retried on its next tick'));
  };

  let trimTimer: NodeJS.Timeout | undefined;
  let spoolTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let reapTimer: NodeJS.Timeout | undefined;
  let started = false;
  return {
    sink,
    store,
    callState: { get: (subId) => store.liveCalls(subId) },
    owner,
    reap: reaper,
    start() {
      if (started) return;
      started = true;
      if (worker) {
        if (!config.WEBHOOK_SECRET) log.warn('events:WEBHOOK_SECRET is unset; webhook POSTs go out unsigned');
        worker.start().catch((err: Error) => log.error({ err: err.message }, 'events:delivery worker did not start'));
      }
      const trim = () =>
        store.trim().then(
          (n) => (n.cdrs || n.dead) && log.info(n, 'events:trimmed records past retention'),
          (err: Error) => log.warn({ err: err.message }, 'events:retention trim failed'),
        );
      trimTimer = setInterval(trim, deps.trimIntervalMs ?? 60_000);
      trimTimer.unref();
      void drainSpool();
      spoolTimer = setInterval(() => void drainSpool(), deps.spoolDrainMs ?? 2000);
      spoolTimer.unref();
      track(heartbeat());
      heartbeatTimer = setInterval(() => track(heartbeat()), heartbeatMs);
      heartbeatTimer.unref();
      reapTimer = setInterval(() => track(reap()), deps.reapIntervalMs ?? heartbeatMs);
      reapTimer.unref();
    },
    async stop() {
      if (!started) return;
      started = false;
      if (trimTimer) clearInterval(trimTimer);
      if (spoolTimer) clearInterval(spoolTimer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      if (reapTimer) clearInterval(reapTimer);
      // Before the heartbeat goes: a CDR still on its way would otherwise leave its call recorded as live.
      await Promise.allSettled([...writing]);
      while (draining) await new Promise((r) => setTimeout(r, 10));
      await worker?.stop();
      await Promise.all(inFlight);
      try {
        // Calls are drained before this (main.ts); any left stay with a heartbeat that ages out.
        if (!(await store.forgetOwner(owner))) log.warn({ owner }, 'events:stopping with live calls recorded; other instances end them after the grace');
      } catch (err) {
        log.warn({ owner, err: (err as Error).message }, 'events:heartbeat not removed; other instances end any calls left after the grace');
      }
    },
  };
}
