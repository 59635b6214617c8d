// What Redis must never see: a call event or CDR without its call id, with an unknown type or ids
// beyond any real SIP Call-ID (the SIP side's bug, not an outage). Checked before every produce.
import { CALL_EVENT_TYPES, type CallEvent, type CallRecord } from './types.js';

export class InvalidEventError extends Error {}

// SIP Call-IDs have no length limit in RFC 3261; real ones are far shorter than this.
const MAX_ID = 1024;

function checkId(what: string, v: unknown, required: boolean): string {
  if (v === undefined || v === null || v === '') {
    if (required) throw new InvalidEventError(`${what} is required`);
    return '';
  }
  if (typeof v !== 'string' || v.length > MAX_ID) throw new InvalidEventError(`${what} must be a string of at most ${MAX_ID} characters`);
  return v;
}

/** Throws InvalidEventError for what Redis must never see. */
export function validateEvent(e: CallEvent): void {
  checkId('call_id', e?.call_id, true);
  if (!CALL_EVENT_TYPES.includes(e.type)) throw new InvalidEventError(`unknown event type '${String(e.type)}'`);
  checkId('sub_id', e.sub_id, false);
}

export function validateCdr(r: CallRecord): void {
  checkId('call_id', r?.call_id, true);
  checkId('sub_id', r.sub_id, false);
}
