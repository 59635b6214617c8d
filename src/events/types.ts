// Call events and CDRs (Alibaba SecretReport fields), produced by the SIP side for every call it
// sees — routed, refused, cancelled or failed — and delivered by the events worker (DESIGN §5).

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
  out_id?: string;
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
  unconnected_cause?: number;
  record_url?: string;
  record_path?: string;
  record_duration?: number;
  out_id?: string;
  control_type?: string;
  control_msg?: string;
}

export interface CallEventSink {
  event(e: CallEvent): Promise<void>;
  /** Exactly one per call, written durably in the step that ends the call state. */
  cdr(r: CallRecord): Promise<void>;
}

/** Drops everything; for roles and tests that do not deliver events. */
export const nullEventSink: CallEventSink = {
  async event() {},
  async cdr() {},
};
