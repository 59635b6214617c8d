// Call events and CDRs (Alibaba SecretReport fields), produced by the SIP side for every call it
// sees — routed, refused, cancelled or failed — and delivered by the events worker (DESIGN §5).
import type { Delivery } from './delivery.js';

export type CallEventType = 'start' | 'ring' | 'answer' | 'hangup' | 'recording';
export const CALL_EVENT_TYPES: readonly CallEventType[] = ['start', 'ring', 'answer', 'hangup', 'recording'];

export interface CallEvent {
  type: CallEventType;
  /** SIP Call-ID of the caller's leg; one call's events share it. */
  call_id: string;
  sub_id?: string;
  pool_key?: string;
  secret_no: string;
  /** Unix ms when it happened. */
  at: number;
  /** Type-specific extras (e.g. record_url for 'recording'). */
  data?: Record<string, unknown>;
  // Optional Alibaba intermediate-report fields (SecretStartReport / SecretRingReport /
  // SecretPickUpReport carry them): delivered to receivers, and used by QueryCallStatus's CallNo.
  /** The binding's own side in this call (Alibaba phone_no). */
  phone_no?: string;
  /** The other party. */
  peer_no?: string;
  /** 0 caller, 1 callee, 4 intercepted (as CallRecord.call_type). */
  call_type?: number;
  /** The binding's OutId and OutOrderId, echoed. */
  out_id?: string;
  out_order_id?: string;
  /** The Huawei app whose binding the call is on (its callStop may end it). */
  app_key?: string;
}

/** Alibaba SecretReport (the CDR). Times are 'YYYY-MM-DD HH:mm:ss' in TIMEZONE, as Alibaba. */
export interface CallRecord {
  pool_key: string;
  sub_id: string;
  call_id: string;
  /** The binding's A/"own" side number in this call (Alibaba phone_no). */
  phone_no: string;
  secret_no: string;
  /** The other party. */
  peer_no: string;
  called_display_no: string;
  /** 0 caller (phone_no called peer_no), 1 callee, 4 intercepted. */
  call_type: number;
  call_time: string;
  ring_time?: string;
  free_ring_time?: string;
  start_time?: string;
  release_time: string;
  /** 0 platform released, 1 caller hung up, 2 callee hung up. */
  release_dir: number;
  /** Q.850 cause. */
  release_cause: number;
  /** Alibaba's class of why a call was not put through (UNCONNECTED_CAUSE); 0 for calls put through. */
  unconnected_cause?: number;
  record_url?: string;
  record_path?: string;
  record_duration?: number;
  out_id?: string;
  out_order_id?: string;
  /** The Huawei app whose binding the call was on (its recording link is that app's alone). */
  app_key?: string;
  control_type?: string;
  control_msg?: string;
}

/**
 * Alibaba SecretReport unconnected_cause (未接通通话的原因归类): 0 a normal call, 1 blacklisted,
 * 2 no binding, 3 call restricted, 4 other. xline has no blacklist (callers outside
 * SIP_TRUNK_CIDRS get no CDR at all), so 1 is never written.
 */
export const UNCONNECTED_CAUSE = { NORMAL: 0, BLACKLIST: 1, NO_BINDING: 2, RESTRICTED: 3, OTHER: 4 } as const;

/**
 * The unconnected_cause of a CDR from the call's control_type (why xline refused or ended it, when
 * it did). A call put through to the called party is normal whether or not it was answered: busy,
 * no answer and cancel are the parties' doing, not the platform's.
 */
export function unconnectedCause(answered: boolean, controlType: string | undefined): number {
  if (answered || !controlType) return UNCONNECTED_CAUSE.NORMAL;
  switch (controlType) {
    case 'no-binding': // X unknown, no live binding, expired
    case 'not-a-party': // AXB: the caller is neither A nor B
    case 'no-default-b': // AXN: A called X, the binding has no B
    case 'wrong-extension': // AXN extension: no binding for the digits keyed
    case 'no-callback': // Huawei AXE: A called X with no callback record, callbackNum or playable callbackTone
      return UNCONNECTED_CAUSE.NO_BINDING;
    case 'call-restricted': // CallRestrict
    case 'self-call': // AX: A called its own X
      return UNCONNECTED_CAUSE.RESTRICTED;
    default: // unavailable (Redis, FreeSWITCH, shutting down), no-extension, instance-lost
      return UNCONNECTED_CAUSE.OTHER;
  }
}

export interface CallEventSink {
  /** `also`: deliveries to other targets (a Huawei app's URLs) produced with the event, in the same step. */
  event(e: CallEvent, also?: Delivery[]): Promise<void>;
  /** Exactly one per call, written durably in the step that ends the call state; `also` as event's. */
  cdr(r: CallRecord, also?: Delivery[]): Promise<void>;
}

/** Drops everything; for roles and tests that do not deliver events. */
export const nullEventSink: CallEventSink = {
  async event() {},
  async cdr() {},
};
