// What a call reports (Alibaba's SecretCallStatus events and SecretReport CDR fields), built from
// the facts the call session gathered. Pure.
import type { Binding } from '../domain/binding.js';
import { CALL_TYPE } from '../domain/binding.js';
import { reportTime } from '../domain/wall-clock.js';
import { unconnectedCause, type CallEvent, type CallEventType, type CallRecord } from '../events/types.js';
import type { CallEnding } from './media-call.js';

export interface CallFacts {
  callId: string;
  caller: string;
  /** X as parsed, else the R-URI user as received. */
  secretNo: string;
  binding?: Binding;
  callType: number;
  target?: string;
  receivedAt: number;
  ringAt?: number;
  answerAt?: number;
  record: { path?: string; url?: string; durationSec?: number };
}

/** Alibaba phone_no / peer_no: the binding's A side and the other party. */
export function parties(f: CallFacts): { phone_no: string; peer_no: string } {
  const b = f.binding;
  if (f.callType === CALL_TYPE.CALLER) return { phone_no: f.caller, peer_no: f.target ?? '' };
  if (f.callType === CALL_TYPE.CALLEE) return { phone_no: f.target ?? '', peer_no: f.caller };
  // Intercepted: the caller, and whom it tried to reach when a binding is known.
  return { phone_no: f.caller, peer_no: b ? (f.caller === b.a ? (b.b ?? '') : b.a) : '' };
}

export function callEvent(f: CallFacts, type: CallEventType, at: number, data?: Record<string, unknown>): CallEvent {
  const b = f.binding;
  return {
    type,
    call_id: f.callId,
    secret_no: f.secretNo,
    at,
    ...(b ? { sub_id: b.subsId, pool_key: b.poolKey } : {}),
    ...parties(f),
    call_type: f.callType,
    ...(b?.outId ? { out_id: b.outId } : {}),
    ...(b?.outOrderId ? { out_order_id: b.outOrderId } : {}),
    ...(b?.huawei ? { app_key: b.huawei.appKey } : {}),
    ...(data ? { data } : {}),
  };
}

/** The CDR of a call released at `releaseAt` for `e`, times in `tz`. */
export function callRecord(f: CallFacts, e: CallEnding, releaseAt: number, tz: string): CallRecord {
  const b = f.binding;
  return {
    pool_key: b?.poolKey ?? '',
    sub_id: b?.subsId ?? '',
    call_id: f.callId,
    ...parties(f),
    secret_no: f.secretNo,
    called_display_no: f.secretNo,
    call_type: f.callType,
    call_time: reportTime(f.receivedAt, tz),
    ...(f.ringAt !== undefined ? { ring_time: reportTime(f.ringAt, tz), free_ring_time: reportTime(f.ringAt, tz) } : {}),
    ...(f.answerAt !== undefined ? { start_time: reportTime(f.answerAt, tz) } : {}),
    release_time: reportTime(releaseAt, tz),
    release_dir: e.dir,
    release_cause: e.cause,
    unconnected_cause: unconnectedCause(f.answerAt !== undefined, e.controlType),
    ...(b?.outId ? { out_id: b.outId } : {}),
    ...(b?.outOrderId ? { out_order_id: b.outOrderId } : {}),
    ...(b?.huawei ? { app_key: b.huawei.appKey } : {}),
    ...(e.controlType ? { control_type: e.controlType, control_msg: e.controlMsg ?? '' } : {}),
    ...(f.record.url ? { record_url: f.record.url } : {}),
    ...(f.record.path ? { record_path: f.record.path } : {}),
    ...(f.record.durationSec !== undefined ? { record_duration: f.record.durationSec } : {}),
  };
}
