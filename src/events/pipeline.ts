// Call events and CDRs from the SIP side to Redis (durably, in the step that ends the call state),
// and from Redis to the webhook receiver (at least once, retried, dead-lettered when exhausted).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { eventMetrics } from './metrics.js';
import type { RedisLike } from './scripts.js';
import { EventStore, InvalidEventError, type LiveCall } from './store.js';
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
  now?: () => number;
}

export interface EventPipeline {
  sink: CallEventSink;
  /** Shared with the ops API (CDR listing, dead letters). */
  store: EventStore;
  /** QueryCallStatus: calls of a binding in progress, newest first. */
  callState: { get(subId: string): Promise<LiveCall[]> };
  /** Starts webhook delivery (when WEBHOOK_URL is set) and CDR retention trimming. */
  start(): void;
  /** Stops delivery, waiting for POSTs in flight; undelivered events stay in Redis. */
  stop(): Promise<void>;
}

/** The sink retries a failed Redis write this many times (produce is idempotent, so retrying is safe). */
const SINK_RETRY_DELAYS_MS = [100, 400, 1500];

export function createEventPipeline(deps: EventPipelineDeps): EventPipeline {
  const { redis, config, log } = deps;
  const now = deps.now ?? Date.now;
  const queue = Boolean(config.WEBHOOK_URL);
  const store = new EventStore(redis, {
    retentionMs: deps.retentionMs ?? config.CDR_RETENTION_DAYS * 86_400_000,
    // A live call's state outlives a crashed instance by at most its longest possible life.
    liveTtlMs: (config.SIP_MAX_CALL_SECONDS + config.SIP_RING_TIMEOUT + 300) * 1000,
    queue,
    now,
  });
  const metrics = eventMetrics(deps.metrics, () => store.depth());
  const consumer = deps.consumer ?? config.XLINE_INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
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

  async function withRetries(what: string, callId: string, fn: () => Promise<boolean>): Promise<boolean> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof InvalidEventError) throw err;
        const wait = SINK_RETRY_DELAYS_MS[i];
        if (wait === undefined) {
          log.error({ callId, err: (err as Error).message }, `events:${what} could not be written to Redis`);
          throw err;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  const sink: CallEventSink = {
    async event(e: CallEvent) {
      const fresh = await withRetries('event', e?.call_id, () => store.produceEvent(e));
      if (fresh && queue) metrics.queued.inc({ type: e.type });
    },
    async cdr(r: CallRecord) {
      const fresh = await withRetries('cdr', r?.call_id, () => store.produceCdr(r));
      if (fresh && queue) metrics.queued.inc({ type: 'cdr' });
    },
  };

  let trimTimer: NodeJS.Timeout | undefined;
  let started = false;
  return {
    sink,
    store,
    callState: { get: (subId) => store.liveCalls(subId) },
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
    },
    async stop() {
      if (!started) return;
      started = false;
      if (trimTimer) clearInterval(trimTimer);
      await worker?.stop();
    },
  };
}
