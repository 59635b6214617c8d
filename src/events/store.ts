// The events module's Redis side: producing events and CDRs (with the deliveries that go with
// them), the live state of calls, CDR queries and retention; the delivery queue's dead letters
// and depth come from DeliveryQueue (dead-letters.ts). Shared by the sink (SIP role), the
// delivery worker and the ops API.
import { basename } from 'node:path';
import { DeliveryQueue } from './dead-letters.js';
import type { Delivery } from './delivery.js';
import { validateCdr, validateEvent } from './event-validation.js';
import { EVENT_KEYS } from './keys.js';
import { defineEventScripts, FORGET_OWNER, HEARTBEAT, PRODUCE_CDR, PRODUCE_EVENT, SILENT_OWNERS, TRIM_OLDER, runScript, type RedisLike } from './scripts.js';
import { cdrEnvelope, eventEnvelope } from './webhook.js';
import { CALL_EVENT_TYPES, type CallEvent, type CallEventType, type CallRecord } from './types.js';
import { pageZset, type Page } from './zset-page.js';

export { CursorError, type Page } from './zset-page.js';
export { InvalidEventError } from './event-validation.js';

/** QueryCallStatus's view of a call in progress. */
export type LiveState = 'calling' | 'ringing' | 'talking' | 'ended';

const STATE_OF: Record<CallEventType, LiveState | ''> = {
  start: 'calling',
  ring: 'ringing',
  answer: 'talking',
  hangup: 'ended',
  recording: '',
};

export interface LiveCall {
  call_id: string;
  state: LiveState;
  /** Unix ms of the event that set the state. */
  since: number;
  sub_id?: string;
  pool_key?: string;
  secret_no?: string;
  phone_no?: string;
  peer_no?: string;
  call_type?: number;
}

export interface CdrQuery {
  /** Recorded-at range, unix ms, from inclusive, to exclusive. */
  from?: number;
  to?: number;
  subId?: string;
  callId?: string;
  limit: number;
  cursor?: string;
}

export interface EventStoreOptions {
  /** How long CDRs (and dead letters) are kept. */
  retentionMs: number;
  /** Live call state outlives a crashed instance by at most this (max call length + margin). */
  liveTtlMs: number;
  /** Queue for webhook delivery (WEBHOOK_URL set); CDRs are stored for pull either way. */
  queue: boolean;
  /** Who produces here (one pipeline's run): recorded on each call it starts, for the reaper. */
  owner?: string;
  now?: () => number;
}

/** A reaper's write on behalf of a silent owner: refused once the owner heartbeats again. */
export interface ReapAs {
  owner: string;
  graceMs: number;
}

/** What the live hash of a call holds, for rebuilding its CDR. */
export interface LiveCallRecord {
  owner?: string;
  state?: string;
  /** Event times (ms) by type: start, ring, answer, hangup. */
  times: Partial<Record<CallEventType, number>>;
  info: Partial<Pick<CallEvent, 'sub_id' | 'pool_key' | 'secret_no' | 'phone_no' | 'peer_no' | 'call_type' | 'out_id' | 'out_order_id' | 'app_key'>>;
  /** Deliveries to send if the call is reaped (a Huawei app's disconnect and fee record). */
  lost?: Delivery[];
}

/** Flattened for the produce scripts' ARGV: id, type, target, body of each to send now. */
const deliveryArgs = (also: Delivery[] | undefined): string[] => (also ?? []).flatMap((d) => (d.ifLost ? [] : [d.id, d.type, d.to, d.body]));
/** The `ifLost` deliveries, kept with the live call for a reaper (JSON; '' none). */
const lostArg = (also: Delivery[] | undefined): string => {
  const lost = also?.filter((d) => d.ifLost);
  return lost?.length ? JSON.stringify(lost) : '';
};

export class EventStore extends DeliveryQueue {
  private readonly now: () => number;

  constructor(
    redis: RedisLike,
    readonly opts: EventStoreOptions,
  ) {
    super(redis);
    defineEventScripts(redis);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Returns false when this event was already produced (idempotent on call_id + type). `also`:
   * deliveries to other targets queued in the same step, only when the event is new.
   */
  async produceEvent(e: CallEvent, at?: number, also?: Delivery[]): Promise<boolean> {
    return (await this.writeEvent(e, at, undefined, also)) === 1;
  }

  /** 1 written, 0 already there, -1 refused (reaping for an owner that is not silent any more). */
  async writeEvent(e: CallEvent, at?: number, reap?: ReapAs, also?: Delivery[]): Promise<number> {
    validateEvent(e);
    const callId = e.call_id;
    const sub = e.sub_id ?? '';
    const env = eventEnvelope(e);
    // `at`: when first produced, for an event replayed from the spool
    const now = at ?? this.now();
    const info = JSON.stringify({
      sub_id: e.sub_id,
      pool_key: e.pool_key,
      secret_no: e.secret_no,
      phone_no: e.phone_no,
      peer_no: e.peer_no,
      call_type: e.call_type,
      out_id: e.out_id,
      out_order_id: e.out_order_id,
      app_key: e.app_key,
    });
    const owner = reap?.owner ?? this.opts.owner ?? '';
    const r = await runScript(
      this.redis,
      PRODUCE_EVENT,
      [EVENT_KEYS.stream, EVENT_KEYS.call(callId), EVENT_KEYS.cdr(callId), EVENT_KEYS.live(sub), EVENT_KEYS.owned(owner), EVENT_KEYS.owners],
      [
        env.id,
        e.type,
        env.body,
        now,
        this.opts.liveTtlMs,
        STATE_OF[e.type],
        sub,
        callId,
        this.opts.queue ? '1' : '0',
        info,
        owner,
        Number.isFinite(e.at) ? e.at : now,
        reap ? reap.graceMs : '',
        lostArg(also),
        ...deliveryArgs(also),
      ],
    );
    return Number(r);
  }

  /** Returns false when this call's CDR was already recorded (exactly one per call); `also` as produceEvent's. */
  async produceCdr(r: CallRecord, at?: number, also?: Delivery[]): Promise<boolean> {
    return (await this.writeCdr(r, at, undefined, also)) === 1;
  }

  /** 1 written, 0 already there, -1 refused (reaping for an owner that is not silent any more). */
  async writeCdr(r: CallRecord, at?: number, reap?: ReapAs, also?: Delivery[]): Promise<number> {
    validateCdr(r);
    const callId = r.call_id;
    const sub = r.sub_id ?? '';
    const now = at ?? this.now();
    const env = cdrEnvelope(r, now);
    const owner = reap?.owner ?? this.opts.owner ?? '';
    const recordFile = r.record_path ? basename(r.record_path) : '';
    const res = await runScript(
      this.redis,
      PRODUCE_CDR,
      [
        EVENT_KEYS.stream,
        EVENT_KEYS.call(callId),
        EVENT_KEYS.cdr(callId),
        EVENT_KEYS.live(sub),
        EVENT_KEYS.cdrsByTime,
        EVENT_KEYS.cdrsBySub(sub),
        EVENT_KEYS.owned(owner),
        EVENT_KEYS.owners,
        EVENT_KEYS.recording(recordFile),
      ],
      [
        env.id,
        env.body,
        now,
        this.opts.retentionMs,
        callId,
        JSON.stringify(r),
        sub,
        this.opts.queue ? '1' : '0',
        now - this.opts.retentionMs,
        owner,
        reap ? reap.graceMs : '',
        recordFile ? '1' : '0',
        ...deliveryArgs(also),
      ],
    );
    return Number(res);
  }

  /** This store's owner is alive (Redis clock); returns the time recorded. */
  async heartbeat(owner: string): Promise<number> {
    return Number(await runScript(this.redis, HEARTBEAT, [EVENT_KEYS.owners], [owner]));
  }

  /** Owners whose last heartbeat is older than the grace, oldest first. */
  async silentOwners(graceMs: number, max = 100): Promise<Array<{ owner: string; lastSeen: number }>> {
    const raw = (await runScript(this.redis, SILENT_OWNERS, [EVENT_KEYS.owners], [graceMs, max])) as string[];
    const out: Array<{ owner: string; lastSeen: number }> = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push({ owner: raw[i]!, lastSeen: Number(raw[i + 1]) });
    return out;
  }

  /** Call ids in an owner's index. */
  async ownedCalls(owner: string): Promise<string[]> {
    return this.redis.smembers(EVENT_KEYS.owned(owner));
  }

  /** Drops index entries whose call is no longer this owner's (ended elsewhere, or expired). */
  async disown(owner: string, callIds: string[]): Promise<void> {
    if (callIds.length) await this.redis.srem(EVENT_KEYS.owned(owner), ...callIds);
  }

  /**
   * Removes an owner's heartbeat and index once it holds no calls; with `graceMs` only while it is
   * still silent past the grace. Returns whether it was removed.
   */
  async forgetOwner(owner: string, graceMs?: number): Promise<boolean> {
    return Number(await runScript(this.redis, FORGET_OWNER, [EVENT_KEYS.owners, EVENT_KEYS.owned(owner)], [owner, graceMs ?? ''])) === 1;
  }

  /** The live hash of a call, parsed; undefined when there is none (ended or expired). */
  async liveCallRecord(callId: string): Promise<LiveCallRecord | undefined> {
    const h = await this.redis.hgetall(EVENT_KEYS.call(callId));
    if (!h || Object.keys(h).length === 0) return undefined;
    const times: LiveCallRecord['times'] = {};
    for (const t of CALL_EVENT_TYPES) {
      const v = h[`t:${t}`];
      if (v !== undefined && Number.isFinite(Number(v))) times[t] = Number(v);
    }
    let info: LiveCallRecord['info'] = {};
    try {
      info = h.info ? (JSON.parse(h.info) as LiveCallRecord['info']) : {};
    } catch {
      /* written by this module; never malformed in practice */
    }
    let lost: Delivery[] | undefined;
    try {
      lost = h.hwlost ? (JSON.parse(h.hwlost) as Delivery[]) : undefined;
    } catch {
      /* written by this module; never malformed in practice */
    }
    return { owner: h.owner, state: h.state, times, info, ...(lost ? { lost } : {}) };
  }

  /** Calls of one binding in progress (a binding may carry several at once, e.g. AXN). */
  async liveCalls(subId: string): Promise<LiveCall[]> {
    const ids = await this.redis.smembers(EVENT_KEYS.live(subId));
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hmget(EVENT_KEYS.call(id), 'state', 'since', 'info');
    const rows = (await p.exec()) ?? [];
    const out: LiveCall[] = [];
    const stale: string[] = [];
    rows.forEach(([err, v], i) => {
      const [state, since, info] = (err ? [] : (v as Array<string | null>)) ?? [];
      const callId = ids[i]!;
      if (!state) {
        // the call hash expired (its instance died before writing the CDR)
        if (!err) stale.push(callId);
        return;
      }
      let extra: Partial<LiveCall> = {};
      try {
        extra = info ? (JSON.parse(info) as Partial<LiveCall>) : {};
      } catch {
        /* written by this module; never malformed in practice */
      }
      out.push({ ...extra, call_id: callId, state: state as LiveState, since: Number(since) });
    });
    if (stale.length) await this.redis.srem(EVENT_KEYS.live(subId), ...stale);
    return out.sort((a, b) => b.since - a.since);
  }

  /** The CDR whose recording is the file `fileName` (a name in RECORDING_DIR), while that CDR is kept. */
  async cdrOfRecording(fileName: string): Promise<CallRecord | undefined> {
    const callId = await this.redis.get(EVENT_KEYS.recording(fileName));
    const cdr = callId ? await this.getCdr(callId) : undefined;
    return cdr?.record_path && basename(cdr.record_path) === fileName ? cdr : undefined;
  }

  async getCdr(callId: string): Promise<CallRecord | undefined> {
    const r = await this.redis.hget(EVENT_KEYS.cdr(callId), 'r');
    return r ? (JSON.parse(r) as CallRecord) : undefined;
  }

  /** CDRs ordered by the time they were recorded (≈ release_time), oldest first, with a cursor. */
  async listCdrs(q: CdrQuery): Promise<Page<CallRecord>> {
    if (q.callId) {
      const r = await this.getCdr(q.callId);
      const t = r ? Number(await this.redis.hget(EVENT_KEYS.cdr(q.callId), 't')) : 0;
      const ok = r && (!q.subId || r.sub_id === q.subId) && (q.from === undefined || t >= q.from) && (q.to === undefined || t < q.to);
      return { items: ok ? [r] : [], next_cursor: null };
    }
    const key = q.subId ? EVENT_KEYS.cdrsBySub(q.subId) : EVENT_KEYS.cdrsByTime;
    const page = await pageZset(this.redis, key, q.from, q.to, q.cursor, q.limit);
    if (page.items.length === 0) return { items: [], next_cursor: null };
    const p = this.redis.pipeline();
    for (const [id] of page.items) p.hget(EVENT_KEYS.cdr(id), 'r');
    const rows = (await p.exec()) ?? [];
    const items: CallRecord[] = [];
    for (const [err, v] of rows) {
      if (err) throw err;
      // an index entry may outlive its CDR by up to one trim interval
      if (typeof v === 'string') items.push(JSON.parse(v) as CallRecord);
    }
    return { items, next_cursor: page.next };
  }

  /**
   * Retention: index entries and dead letters older than the retention go, in bounded batches
   * (CDR hashes expire by themselves). Returns how many were removed.
   */
  async trim(batch = 1000, maxBatches = 20): Promise<{ cdrs: number; dead: number }> {
    const cutoff = this.now() - this.opts.retentionMs;
    const run = async (zset: string, hash: string, withHash: boolean) => {
      let total = 0;
      for (let i = 0; i < maxBatches; i++) {
        const n = Number(await runScript(this.redis, TRIM_OLDER, [zset, hash], [cutoff, batch, withHash ? '1' : '0']));
        total += n;
        if (n < batch) break;
      }
      return total;
    };
    return { cdrs: await run(EVENT_KEYS.cdrsByTime, EVENT_KEYS.deadEntries, false), dead: await run(EVENT_KEYS.deadAt, EVENT_KEYS.deadEntries, true) };
  }
}
