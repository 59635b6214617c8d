// Call events and CDRs from the SIP side to Redis (durably, in the step that ends the call state:
// sink.ts), and from Redis to the webhook receiver and Huawei apps' URLs (at least once, retried,
// dead-lettered when exhausted: worker.ts); this run's heartbeat and the reaping of silent owners' calls
// (liveness.ts); retention trimming. This file puts them together and starts and stops them.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { CallbackApp } from './delivery-targets.js';
import { eventMetrics, type EventMetrics } from './metrics.js';
import type { RedisLike } from './scripts.js';
import { OrphanReaper } from './reaper.js';
import { Liveness } from './liveness.js';
import { DurableSink } from './sink.js';
import { EventSpool } from './spool.js';
import { EventStore } from './store.js';
import type { CallEventSink } from './types.js';
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
  /**
   * Reads a Huawei app at each delivery attempt (HuaweiStore.readApp): given, the worker runs and
   * delivers Huawei apps' callbacks too (main.ts gives it; without it their entries wait).
   */
  huaweiApps?: (appKey: string) => Promise<CallbackApp | undefined>;
  now?: () => number;
}

export interface EventPipeline {
  sink: CallEventSink;
  /** Shared with the ops API (CDR listing, dead letters). */
  store: EventStore;
  /**
   * This run of the pipeline, recorded on the calls it starts: the consumer name plus a random
   * suffix, so a restart under the same XLINE_INSTANCE_ID is a new owner and the previous run's
   * calls are still seen as orphaned.
   */
  owner: string;
  /** Ends the live calls of owners silent past the grace (the timer calls this too). */
  reap: OrphanReaper;
  /**
   * Starts delivery (when WEBHOOK_URL is set or Huawei apps are given), CDR retention trimming,
   * the heartbeat and the orphaned-call reaper.
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

/** The delivery worker: when a webhook is configured or Huawei apps may have callbacks. */
function deliveryWorker(deps: EventPipelineDeps, metrics: EventMetrics, consumer: string, now: () => number): DeliveryWorker | undefined {
  const { config } = deps;
  if (!config.WEBHOOK_URL && !deps.huaweiApps) return undefined;
  const minWait = Math.min(...config.WEBHOOK_RETRY_SCHEDULE, ...(deps.huaweiApps ? config.HUAWEI_CALLBACK_RETRY_SCHEDULE : []), 4000);
  return new DeliveryWorker({
    redis: deps.redis,
    log: deps.log,
    metrics,
    ...(config.WEBHOOK_URL ? { url: config.WEBHOOK_URL, schedule: config.WEBHOOK_RETRY_SCHEDULE } : {}),
    ...(config.WEBHOOK_SECRET ? { secret: config.WEBHOOK_SECRET } : {}),
    ...(deps.huaweiApps ? { huawei: { schedule: config.HUAWEI_CALLBACK_RETRY_SCHEDULE, app: deps.huaweiApps } } : {}),
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    claimIdleMs: config.WEBHOOK_CLAIM_IDLE_MS,
    consumer,
    // due retries leave the zset within a quarter of the shortest wait (at most 1 s late)
    tickMs: deps.tickMs ?? Math.max(50, Math.min(1000, Math.floor(minWait / 4))),
    now,
  });
}

/** Retention trimming and spool replay, on timers; returns their stop. */
function housekeeping(deps: EventPipelineDeps, store: EventStore, sink: DurableSink): () => void {
  const { log } = deps;
  const trim = () =>
    store.trim().then(
      (n) => (n.cdrs || n.dead) && log.info(n, 'events:trimmed records past retention'),
      (err: Error) => log.warn({ err: err.message }, 'events:retention trim failed'),
    );
  const trimTimer = setInterval(trim, deps.trimIntervalMs ?? 60_000);
  trimTimer.unref();
  void sink.replaySpool();
  const spoolTimer = setInterval(() => void sink.replaySpool(), deps.spoolDrainMs ?? 2000);
  spoolTimer.unref();
  return () => {
    clearInterval(trimTimer);
    clearInterval(spoolTimer);
  };
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
  const worker = deliveryWorker(deps, metrics, consumer, now);
  const sink = new DurableSink({
    store,
    spool: new EventSpool(config.EVENT_SPOOL_DIR),
    log,
    metrics,
    queue,
    now,
    ...(deps.sinkRetryDelaysMs ? { retryDelaysMs: deps.sinkRetryDelaysMs } : {}),
    ...(deps.writeBatchMs !== undefined ? { writeBatchMs: deps.writeBatchMs } : {}),
  });
  const graceMs = deps.ownerGraceMs ?? config.EVENT_OWNER_GRACE_MS;
  const heartbeatMs = deps.heartbeatMs ?? config.EVENT_HEARTBEAT_MS;
  const reaper = new OrphanReaper({ store, log, self: owner, graceMs, timeZone: config.TIMEZONE, onReaped: () => metrics.reaped.inc() });
  const liveness = new Liveness({ store, reaper, log, owner, graceMs, heartbeatMs, reapIntervalMs: deps.reapIntervalMs ?? heartbeatMs });

  let stopHousekeeping: (() => void) | undefined;
  return {
    sink,
    store,
    owner,
    reap: reaper,
    start() {
      if (stopHousekeeping) return;
      if (config.WEBHOOK_URL && !config.WEBHOOK_SECRET) log.warn('events:WEBHOOK_SECRET is unset; webhook POSTs go out unsigned');
      worker?.start().catch((err: Error) => log.error({ err: err.message }, 'events:delivery worker did not start'));
      stopHousekeeping = housekeeping(deps, store, sink);
      liveness.start();
    },
    async stop() {
      if (!stopHousekeeping) return;
      stopHousekeeping();
      stopHousekeeping = undefined;
      liveness.stopTimers();
      // Before the heartbeat goes: a CDR still on its way would otherwise leave its call recorded as live.
      await sink.settled();
      await worker?.stop();
      await liveness.settled();
      await liveness.leave();
    },
  };
}
