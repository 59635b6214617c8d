// Calls orphaned by a dead xline instance. Each pipeline heartbeats into Redis; a pipeline that
// finds another owner silent for longer than the grace ends that owner's live calls in its place:
// a `hangup` event and a CDR (platform release, Q.850 41) rebuilt from the live hash, written
// through the same idempotent scripts as every CDR, so racing reapers write one CDR per call.
// Billing then has no gap when a host dies or a process is SIGKILLed.
import type { Logger } from '../log.js';
import { reportTime } from '../domain/wall-clock.js';
import { lostDelivery, type Delivery } from './delivery.js';
import type { EventStore, LiveCallRecord } from './store.js';
import { unconnectedCause, type CallEvent, type CallRecord } from './types.js';

/** Q.850 41, temporary failure: the platform lost the call. */
export const REAPED_CAUSE = 41;
export const REAPED_CONTROL_TYPE = 'instance-lost';

export interface ReaperOptions {
  store: EventStore;
  log: Logger;
  /** This pipeline's own owner id (never reaped by itself). */
  self: string;
  graceMs: number;
  timeZone: string;
  /** Called once per call this reaper closed (its CDR written here). */
  onReaped?: () => void;
  /** Calls closed at once. */
  concurrency?: number;
}

export interface ReapResult {
  owners: number;
  /** CDRs written by this reaper. */
  reaped: number;
  /** Index entries whose call had no live state left (ended elsewhere, or expired by TTL). */
  gone: number;
}

/**
 * The hangup event and CDR of a call whose owner was last seen alive at `lastSeen`, and the
 * deliveries the call kept for this case (a Huawei app's disconnect with the hangup, its fee
 * record with the CDR).
 */
export function orphanRecords(
  callId: string,
  owner: string,
  live: LiveCallRecord,
  lastSeen: number,
  timeZone: string,
): { hangup: CallEvent; cdr: CallRecord; withHangup: Delivery[]; withCdr: Delivery[] } {
  const i = live.info;
  const t = live.times;
  // A call whose hangup was recorded ended then; otherwise its last known moment alive.
  const releaseAt = t.hangup ?? lastSeen;
  const callAt = t.start ?? Math.min(t.ring ?? releaseAt, t.answer ?? releaseAt, releaseAt);
  const controlMsg = `xline instance ${owner} stopped unexpectedly; call closed by the platform`;
  const secretNo = i.secret_no ?? '';
  const party = {
    ...(i.sub_id ? { sub_id: i.sub_id } : {}),
    ...(i.pool_key ? { pool_key: i.pool_key } : {}),
    secret_no: secretNo,
    ...(i.phone_no !== undefined ? { phone_no: i.phone_no } : {}),
    ...(i.peer_no !== undefined ? { peer_no: i.peer_no } : {}),
    ...(i.call_type !== undefined ? { call_type: i.call_type } : {}),
    ...(i.out_id ? { out_id: i.out_id } : {}),
    ...(i.out_order_id ? { out_order_id: i.out_order_id } : {}),
    ...(i.app_key ? { app_key: i.app_key } : {}),
  };
  const hangup: CallEvent = {
    type: 'hangup',
    call_id: callId,
    ...party,
    at: releaseAt,
    data: { release_dir: 0, release_cause: REAPED_CAUSE, control_type: REAPED_CONTROL_TYPE, control_msg: controlMsg },
  };
  const cdr: CallRecord = {
    pool_key: i.pool_key ?? '',
    sub_id: i.sub_id ?? '',
    call_id: callId,
    phone_no: i.phone_no ?? '',
    secret_no: secretNo,
    peer_no: i.peer_no ?? '',
    called_display_no: secretNo,
    call_type: i.call_type ?? 0,
    call_time: reportTime(callAt, timeZone),
    ...(t.ring !== undefined ? { ring_time: reportTime(t.ring, timeZone), free_ring_time: reportTime(t.ring, timeZone) } : {}),
    ...(t.answer !== undefined ? { start_time: reportTime(t.answer, timeZone) } : {}),
    release_time: reportTime(releaseAt, timeZone),
    release_dir: 0,
    release_cause: REAPED_CAUSE,
    unconnected_cause: unconnectedCause(t.answer !== undefined, REAPED_CONTROL_TYPE),
    ...(i.out_id ? { out_id: i.out_id } : {}),
    ...(i.out_order_id ? { out_order_id: i.out_order_id } : {}),
    ...(i.app_key ? { app_key: i.app_key } : {}),
    control_type: REAPED_CONTROL_TYPE,
    control_msg: controlMsg,
  };
  const lost = (live.lost ?? []).map((d) => lostDelivery(d, releaseAt));
  return { hangup, cdr, withHangup: lost.filter((d) => d.type !== 'fee'), withCdr: lost.filter((d) => d.type === 'fee') };
}

export class OrphanReaper {
  private running = false;

  constructor(private readonly opts: ReaperOptions) {}

  /** One pass over every silent owner; a pass already running makes this a no-op. */
  async reapOnce(): Promise<ReapResult> {
    const total: ReapResult = { owners: 0, reaped: 0, gone: 0 };
    if (this.running) return total;
    this.running = true;
    try {
      const silent = await this.opts.store.silentOwners(this.opts.graceMs);
      for (const { owner, lastSeen } of silent) {
        if (owner === this.opts.self) continue; // our own heartbeat is late (Redis was away): we are alive
        const r = await this.reapOwner(owner, lastSeen);
        total.owners++;
        total.reaped += r.reaped;
        total.gone += r.gone;
      }
      return total;
    } finally {
      this.running = false;
    }
  }

  private async reapOwner(owner: string, lastSeen: number): Promise<{ reaped: number; gone: number }> {
    const { store, log, graceMs, timeZone } = this.opts;
    const reap = { owner, graceMs };
    const ids = await store.ownedCalls(owner);
    let reaped = 0;
    const gone: string[] = [];
    let revived = false;
    const one = async (callId: string) => {
      if (revived) return;
      const live = await store.liveCallRecord(callId);
      if (!live || live.owner !== owner) {
        // ended by its CDR (here or by another reaper) or expired by TTL: nothing left to bill from
        gone.push(callId);
        return;
      }
      const { hangup, cdr, withHangup, withCdr } = orphanRecords(callId, owner, live, lastSeen, timeZone);
      // -1: the owner heartbeats again (merely slow), or another reaper closed the call first
      if ((await store.writeEvent(hangup, undefined, reap, withHangup)) === -1 && (await store.liveCallRecord(callId))?.owner === owner) {
        revived = true;
        return;
      }
      if ((await store.writeCdr(cdr, undefined, reap, withCdr)) === 1) {
        reaped++;
        this.opts.onReaped?.();
      }
    };
    const queue = [...ids];
    const workers = Array.from({ length: Math.min(this.opts.concurrency ?? 16, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await one(id);
    });
    await Promise.all(workers);
    if (revived) {
      log.info({ owner }, 'events:owner heartbeats again; its calls are left to it');
      return { reaped, gone: 0 };
    }
    await store.disown(owner, gone);
    const forgotten = await store.forgetOwner(owner, graceMs);
    if (reaped > 0 || gone.length > 0) {
      log.warn(
        { owner, lastSeen: new Date(lastSeen).toISOString(), reaped, gone: gone.length, forgotten },
        'events:instance stopped heartbeating; its live calls were ended with a CDR (release_dir 0, cause 41)',
      );
    }
    return { reaped, gone: gone.length };
  }
}
