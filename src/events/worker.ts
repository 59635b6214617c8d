// Delivery: a consumer in the stream's consumer group. Several xline instances share the group, so
// each entry goes to one of them; an entry is settled (acked) only after the receiver's answer, so
// a killed instance's entries stay pending and another instance claims them once idle. Failed
// attempts wait in a Redis zset for their due time, then return to the stream. Each entry names
// its target (the webhook, or a Huawei app's URL: delivery-targets.ts), which sets its URL,
// signature and retry schedule.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { DELIVERY_GROUP, EVENT_KEYS } from './keys.js';
import type { EventMetrics } from './metrics.js';
import { ACK_DELIVERED, defineEventScripts, MOVE_DUE_RETRIES, SETTLE_FAILED, runScript, type RedisLike } from './scripts.js';
import type { QueueEntry } from './dead-letters.js';
import type { DeliveredType } from './delivery.js';
import { DeliveryTargets, type DeliveryTargetsOptions } from './delivery-targets.js';

export interface DeliveryWorkerOptions {
  redis: RedisLike;
  log: Logger;
  metrics: EventMetrics;
  /** The operator's webhook (WEBHOOK_URL); entries for it are dead-lettered when unset. */
  url?: string;
  /** Unsigned POSTs when unset (warned at start). */
  secret?: string;
  /** Wait after each failed webhook attempt (ms); its length is the number of retries. */
  schedule?: number[];
  /** Huawei apps' callbacks: their retry schedule and how an app is read (at every attempt). */
  huawei?: DeliveryTargetsOptions['huawei'];
  timeoutMs: number;
  concurrency: number;
  claimIdleMs: number;
  consumer: string;
  /** How often due retries are moved and abandoned entries claimed. */
  tickMs: number;
  /** Idle consumers with nothing pending are forgotten after this (default 1 h). */
  pruneIdleMs?: number;
  /** XREADGROUP BLOCK; also bounds how long stop() waits for the reader. */
  blockMs?: number;
  now?: () => number;
}

interface StreamEntry {
  entryId: string;
  e: QueueEntry;
}

type XEntries = Array<[string, string[] | null]>;

export class DeliveryWorker {
  private running = false;
  private starting?: Promise<void>;
  private reader?: RedisLike;
  private loopDone?: Promise<void>;
  private ticker?: NodeJS.Timeout;
  private ticking = false;
  private abandoned = false;
  private readonly inflight = new Set<Promise<void>>();
  private slotWaiters: Array<() => void> = [];
  private claimCursor = '0-0';
  private lastPrune = 0;
  private ackBatch: string[] = [];
  private ackFlush?: Promise<void>;
  private readonly now: () => number;
  private readonly blockMs: number;
  private readonly targets: DeliveryTargets;

  constructor(private readonly opts: DeliveryWorkerOptions) {
    defineEventScripts(opts.redis);
    this.now = opts.now ?? Date.now;
    this.blockMs = opts.blockMs ?? 1000;
    this.targets = new DeliveryTargets({
      ...(opts.url ? { webhook: { url: opts.url, ...(opts.secret ? { secret: opts.secret } : {}), schedule: opts.schedule ?? [] } } : {}),
      ...(opts.huawei ? { huawei: opts.huawei } : {}),
      timeoutMs: opts.timeoutMs,
      concurrency: opts.concurrency,
    });
  }

  start(): Promise<void> {
    if (this.running) return this.starting ?? Promise.resolve();
    this.running = true;
    this.starting = this.begin();
    return this.starting;
  }

  private async begin(): Promise<void> {
    this.reader = blockingConnection(this.opts.redis, this.blockMs + 5000);
    this.loopDone = this.loop();
    this.ticker = setInterval(() => void this.tick(), this.opts.tickMs);
    this.ticker.unref();
  }

  /** The group exists from the stream's first entry on ('0'), so nothing queued before is missed. */
  private async ensureGroup(): Promise<void> {
    try {
      await this.opts.redis.xgroup('CREATE', EVENT_KEYS.stream, DELIVERY_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
  }

  /** Stops reading, waits for POSTs in flight (bounded by the request timeout), leaves the rest pending. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.starting?.catch(() => undefined);
    if (this.ticker) clearInterval(this.ticker);
    this.wakeSlotWaiters();
    this.reader?.disconnect();
    await this.loopDone;
    await Promise.allSettled([...this.inflight]);
    while (this.ticking) await sleep(10);
    this.targets.close();
  }

  /** SIGKILL in-process, for tests: drop everything without settling (entries stay pending). */
  abandon(): void {
    this.abandoned = true;
    this.running = false;
    if (this.ticker) clearInterval(this.ticker);
    this.wakeSlotWaiters();
    this.reader?.disconnect();
    this.targets.close();
  }

  private free(): number {
    return this.opts.concurrency - this.inflight.size;
  }

  private waitSlot(): Promise<void> {
    return new Promise<void>((r) => this.slotWaiters.push(r));
  }

  private wakeSlotWaiters(): void {
    const w = this.slotWaiters;
    this.slotWaiters = [];
    for (const r of w) r();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.ensureGroup();
        break;
      } catch (err) {
        this.opts.log.warn({ err: errText(err) }, 'events:cannot create the delivery group yet; retrying');
        await sleep(1000);
      }
    }
    // Entries this consumer name held before a restart come first (XLINE_INSTANCE_ID fixed).
    let history = '0';
    while (this.running && history) {
      const got = await this.read(history, Math.max(1, this.free()), undefined);
      if (!got) continue;
      if (got.length === 0) history = '';
      else {
        history = got[got.length - 1]!.entryId;
        for (const s of got) await this.dispatch(s);
      }
    }
    // Under load, read once a quarter of the slots is free rather than once per freed slot: one
    // XREADGROUP per batch instead of per event. Idle, every slot is free and nothing waits.
    const batch = Math.max(1, Math.floor(this.opts.concurrency / 4));
    while (this.running) {
      if (this.free() < batch) {
        await this.waitSlot();
        continue;
      }
      const got = await this.read('>', this.free(), this.blockMs);
      if (got) for (const s of got) await this.dispatch(s);
    }
  }

  /** null on a Redis error (logged, retried after a pause), [] when nothing is there. */
  private async read(id: string, count: number, block: number | undefined): Promise<StreamEntry[] | null> {
    const reader = this.reader!;
    try {
      const args: Array<string | number> = ['GROUP', DELIVERY_GROUP, this.opts.consumer, 'COUNT', count];
      if (block !== undefined) args.push('BLOCK', block);
      args.push('STREAMS', EVENT_KEYS.stream, id);
      const res = (await (reader.xreadgroup as (...a: Array<string | number>) => Promise<unknown>)(...args)) as
        | Array<[string, XEntries]>
        | null;
      return parseEntries(res?.[0]?.[1] ?? [], (id) => this.dropGhost(id));
    } catch (err) {
      if (!this.running) return [];
      this.opts.log.warn({ err: errText(err) }, 'events:read failed; retrying');
      await sleep(500);
      // Redis lost its data (restart without AOF, FLUSHALL): the group must be made again.
      if (err instanceof Error && err.message.includes('NOGROUP')) await this.ensureGroup().catch(() => undefined);
      return null;
    }
  }

  /** A pending entry whose stream entry is gone (deleted) can only be acknowledged away. */
  private dropGhost(entryId: string): void {
    this.opts.redis.xack(EVENT_KEYS.stream, DELIVERY_GROUP, entryId).catch(() => {});
  }

  private async dispatch(s: StreamEntry): Promise<void> {
    while (this.free() <= 0 && this.running) await this.waitSlot();
    const p = this.deliver(s).finally(() => {
      this.inflight.delete(p);
      this.wakeSlotWaiters();
    });
    this.inflight.add(p);
  }

  private async deliver({ entryId, e }: StreamEntry): Promise<void> {
    const attempt = Number(e.n) + 1;
    const type = e.type as DeliveredType;
    let target;
    try {
      target = await this.targets.attempt(e, attempt, this.now());
    } catch (err) {
      // the app could not be read (Redis): left pending, claimed again after WEBHOOK_CLAIM_IDLE_MS
      this.opts.log.warn({ eventId: e.id, err: errText(err) }, 'events:delivery target not resolved; it stays pending');
      return;
    }
    if ('drop' in target) {
      this.opts.log.debug({ eventId: e.id, reason: target.drop }, 'events:nothing to deliver to');
      if (!this.abandoned) await this.ack(entryId).catch(() => undefined);
      return;
    }
    let status = 0;
    let error = '';
    let schedule: number[] = [];
    if ('dead' in target) error = target.dead;
    else {
      const r = await target.post.post(e.body, target.headers);
      status = r.status;
      error = r.error ?? '';
      schedule = target.schedule;
    }
    if (this.abandoned) return;
    try {
      if (status >= 200 && status < 300) {
        await this.ack(entryId);
        this.opts.metrics.delivered.inc({ type });
        this.opts.metrics.latency.observe({ type }, Math.max(0, this.now() - Number(e.t)) / 1000);
        return;
      }
      await this.settleFailed(entryId, e, status, error || `HTTP ${status}`, schedule);
    } catch (err) {
      // Left pending: after WEBHOOK_CLAIM_IDLE_MS some consumer claims and re-sends it.
      this.opts.log.warn({ eventId: e.id, err: errText(err) }, 'events:could not settle a delivery; it stays pending');
    }
  }

  /** Schedules the retry, or dead-letters when `schedule` has no wait left for it. */
  private async settleFailed(entryId: string, e: QueueEntry, status: number, error: string, schedule: number[]): Promise<void> {
    const type = e.type as DeliveredType;
    const failed = Number(e.n);
    const now = this.now();
    const wait = schedule[failed];
    const next: QueueEntry = { id: e.id, type: e.type, ...(e.to ? { to: e.to } : {}), body: e.body, t: e.t, n: String(failed + 1), st: status, err: error };
    if (wait === undefined) next.dead = now;
    const r = await runScript(
      this.opts.redis,
      SETTLE_FAILED,
      [EVENT_KEYS.stream, EVENT_KEYS.retryDue, EVENT_KEYS.retryEntries, EVENT_KEYS.deadAt, EVENT_KEYS.deadEntries],
      [DELIVERY_GROUP, entryId, e.id, JSON.stringify(next), wait === undefined ? '-1' : now + wait, now],
    );
    if (r === 1) this.opts.metrics.retried.inc({ type });
    if (r === 2) {
      this.opts.metrics.deadLettered.inc({ type });
      this.opts.log.warn({ eventId: e.id, target: e.to || 'webhook', attempts: failed + 1, status, error }, 'events:dead-lettered');
    } else {
      this.opts.log.info({ eventId: e.id, target: e.to || 'webhook', attempt: failed + 1, status, error, retryInMs: wait }, 'events:delivery failed; retry scheduled');
    }
  }

  /**
   * Every start with a fresh consumer name leaves one behind in the group; forget those with no
   * pending entries that have not read for an hour (a live consumer reads every BLOCK interval).
   */
  private async pruneConsumers(): Promise<void> {
    const rows = (await this.opts.redis.xinfo('CONSUMERS', EVENT_KEYS.stream, DELIVERY_GROUP)) as Array<Array<string | number>>;
    for (const row of rows) {
      const f: Record<string, string | number> = {};
      for (let i = 0; i + 1 < row.length; i += 2) f[String(row[i])] = row[i + 1]!;
      if (f.name === this.opts.consumer || Number(f.pending) !== 0 || Number(f.idle) < (this.opts.pruneIdleMs ?? PRUNE_IDLE_MS)) continue;
      await this.opts.redis.xgroup('DELCONSUMER', EVENT_KEYS.stream, DELIVERY_GROUP, String(f.name));
    }
  }

  /**
   * Acknowledges delivered entries in batches: those settled in the same turn of the event loop
   * share one script call (one Redis round trip and one XACK/XDEL for all of them).
   */
  private ack(entryId: string): Promise<void> {
    this.ackBatch.push(entryId);
    if (!this.ackFlush) {
      this.ackFlush = new Promise<void>((r) => setImmediate(r)).then(async () => {
        const ids = this.ackBatch;
        this.ackBatch = [];
        this.ackFlush = undefined;
        if (this.abandoned) return;
        await runScript(this.opts.redis, ACK_DELIVERED, [EVENT_KEYS.stream], [DELIVERY_GROUP, ...ids]);
      });
    }
    return this.ackFlush;
  }

  private async tick(): Promise<void> {
    if (this.ticking || !this.running) return;
    this.ticking = true;
    try {
      for (let i = 0; i < 10; i++) {
        const moved = Number(await runScript(this.opts.redis, MOVE_DUE_RETRIES, [EVENT_KEYS.stream, EVENT_KEYS.retryDue, EVENT_KEYS.retryEntries], [this.now(), 500]));
        if (moved < 500) break;
      }
      const free = this.free();
      if (free > 0 && this.running) {
        const res = (await this.opts.redis.xautoclaim(EVENT_KEYS.stream, DELIVERY_GROUP, this.opts.consumer, this.opts.claimIdleMs, this.claimCursor, 'COUNT', free)) as [
          string,
          XEntries,
          string[]?,
        ];
        this.claimCursor = res[0];
        const got = parseEntries(res[1], (id) => this.dropGhost(id));
        if (got.length) this.opts.log.info({ count: got.length }, 'events:claimed entries abandoned by another consumer');
        for (const s of got) if (this.running) await this.dispatch(s);
      }
      if (this.now() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = this.now();
        await this.pruneConsumers();
      }
    } catch (err) {
      if (this.running) this.opts.log.warn({ err: errText(err) }, 'events:maintenance tick failed');
    } finally {
      this.ticking = false;
    }
  }
}

/**
 * A dedicated connection: XREADGROUP BLOCK holds it, so it must not trip the shared client's short
 * commandTimeout, and it may queue its first read while connecting (it serves no caller).
 */
function blockingConnection(redis: RedisLike, commandTimeout: number): RedisLike {
  const dup: RedisLike = redis.isCluster
    ? (redis as Cluster).duplicate(undefined, {
        enableOfflineQueue: true,
        enableAutoPipelining: false,
        redisOptions: { ...(redis as Cluster).options.redisOptions, commandTimeout },
      })
    : (redis as Redis).duplicate({ commandTimeout, enableOfflineQueue: true, enableAutoPipelining: false });
  dup.on('error', () => {
    /* the read loop reports failures */
  });
  return dup;
}

/** Consumers of the group idle this long hold nothing and belong to instances long gone. */
const PRUNE_IDLE_MS = 3_600_000;
const PRUNE_EVERY_MS = 300_000;

function parseEntries(raw: XEntries, ghost: (id: string) => void): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const [entryId, fields] of raw) {
    if (!fields) {
      ghost(entryId);
      continue;
    }
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    if (!f.id || !f.body) {
      ghost(entryId);
      continue;
    }
    out.push({ entryId, e: { id: f.id, type: (f.type ?? 'cdr') as DeliveredType, ...(f.to ? { to: f.to } : {}), body: f.body, t: f.t ?? '0', n: f.n ?? '0' } });
  }
  return out;
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timeout';
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
