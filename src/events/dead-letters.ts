// The delivery queue as the ops API sees it: its depth, the dead letters (entries that exhausted
// their retries, or whose target could not be resolved) and their resend. Every target — the
// operator's webhook and each Huawei app's URLs (delivery.ts) — shares this one queue.
import { StorageUnavailableError } from '../store/deadline.js';
import type { DeliveredType } from './delivery.js';
import { EVENT_KEYS } from './keys.js';
import { RESEND_DEAD, runScript, type RedisLike } from './scripts.js';
import { pageZset, type Page } from './zset-page.js';

/** A queued entry as the stream, the retry set and the dead-letter set hold it. */
export interface QueueEntry {
  id: string;
  type: DeliveredType;
  /** Target (delivery.ts): '' the webhook, `huawei:status:<appKey>` / `huawei:fee:<appKey>`. */
  to?: string;
  /** The exact JSON POSTed. */
  body: string;
  /** Unix ms when first queued. */
  t: string;
  /** Failed attempts so far. */
  n: string;
  /** Last failure: HTTP status (0 = no response) and a short reason. */
  st?: number;
  err?: string;
  /** Unix ms when dead-lettered. */
  dead?: number;
}

export interface DeadLetter {
  id: string;
  type: DeliveredType;
  /** 'webhook', or the Huawei target `huawei:status:<appKey>` / `huawei:fee:<appKey>`. */
  target: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  queued_at: number;
  dead_at: number;
  payload: unknown;
}

/** Dead letters read per filtered listing; past it the page is short and carries a cursor. */
export const MAX_DEAD_READ = 5000;

/**
 * Whether a dead letter's target is `filter` or lies under it: `huawei` takes every Huawei
 * app's, `huawei:status` every app's call events, `huawei:fee:<appKey>` that app's CDRs.
 */
export function targetWithin(target: string, filter: string): boolean {
  return target === filter || target.startsWith(`${filter}:`);
}

export class DeliveryQueue {
  constructor(readonly redis: RedisLike) {}

  /**
   * Dead letters, oldest first. With `target` only those whose target is it or lies under it
   * (targetWithin); then at most MAX_DEAD_READ are read per call, so a page may be short (even
   * empty) and still have a cursor.
   */
  async listDead(q: { limit: number; cursor?: string; target?: string }): Promise<Page<DeadLetter>> {
    const items: DeadLetter[] = [];
    let cursor = q.cursor;
    let read = 0;
    for (;;) {
      // never read past what the page can take: the cursor then stays exact
      const page = await pageZset(this.redis, EVENT_KEYS.deadAt, undefined, undefined, cursor, q.limit - items.length);
      cursor = page.next ?? undefined;
      read += page.items.length;
      if (page.items.length > 0) {
        const rows = await this.redis.hmget(EVENT_KEYS.deadEntries, ...page.items.map(([id]) => id));
        for (const j of rows) {
          const d = j ? toDeadLetter(JSON.parse(j) as QueueEntry) : undefined;
          if (d && (q.target === undefined || targetWithin(d.target, q.target))) items.push(d);
        }
      }
      if (!cursor || q.target === undefined || items.length >= q.limit || read >= MAX_DEAD_READ) break;
    }
    return { items, next_cursor: cursor ?? null };
  }

  async getDead(id: string): Promise<DeadLetter | undefined> {
    const j = await this.redis.hget(EVENT_KEYS.deadEntries, id);
    return j ? toDeadLetter(JSON.parse(j) as QueueEntry) : undefined;
  }

  /**
   * Puts dead letters back on the queue with a fresh retry schedule; returns the ids re-queued.
   * With `writeBy` (epoch ms; store/deadline.ts) nothing is re-queued when Redis runs it later:
   * throws StorageUnavailableError, as for a request that gave up waiting.
   */
  async resendDead(ids: string[] | undefined, max = 1000, writeBy?: number): Promise<string[]> {
    const args: Array<string | number> = [writeBy ?? '', max];
    if (ids) {
      if (ids.length === 0) return [];
      args.push(...ids);
    }
    if (writeBy !== undefined && Date.now() > writeBy) throw new StorageUnavailableError('deadline', 'resendDead');
    const r = (await runScript(this.redis, RESEND_DEAD, [EVENT_KEYS.stream, EVENT_KEYS.deadAt, EVENT_KEYS.deadEntries], args)) as string[];
    if (r[0] === 'LATE') throw new StorageUnavailableError('deadline', 'resendDead', 'write refused after its deadline');
    return r;
  }

  /** Events waiting in the stream (incl. in flight), waiting for a retry, and dead. */
  async depth(): Promise<{ queued: number; retrying: number; dead: number }> {
    // MULTI: one consistent snapshot (an event moving from the stream to the retry set is counted once)
    const rows = (await this.redis.multi().xlen(EVENT_KEYS.stream).zcard(EVENT_KEYS.retryDue).zcard(EVENT_KEYS.deadAt).exec()) ?? [];
    const n = rows.map(([err, v]) => {
      if (err) throw err;
      return Number(v);
    });
    return { queued: n[0] ?? 0, retrying: n[1] ?? 0, dead: n[2] ?? 0 };
  }
}

function toDeadLetter(e: QueueEntry): DeadLetter {
  let payload: unknown = e.body;
  try {
    payload = JSON.parse(e.body);
  } catch {
    /* keep the raw text */
  }
  return {
    id: e.id,
    type: e.type,
    target: e.to || 'webhook',
    attempts: Number(e.n),
    last_status: e.st ?? null,
    last_error: e.err ?? null,
    queued_at: Number(e.t),
    dead_at: e.dead ?? 0,
    payload,
  };
}
