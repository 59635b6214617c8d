// Pure helpers for bindings made through Huawei's PrivateNumber API (HuaweiFields in binding.ts):
// the AX temporary callee's lifetime, the AXE callback record's, area codes as xline keeps them,
// and the ring tones a binding's tone names stand for.
import type { HuaweiFields, TempCallee } from './binding.js';

/** AX: the temporary callee that applies at `now` (unix seconds), if any. */
export function liveTempCallee(h: HuaweiFields | undefined, now: number): TempCallee | undefined {
  const t = h?.tempCallee;
  return t && t.expiresAt > now ? t : undefined;
}

/** AXE: who last reached A through X (a callback record), until `expiresAt` (unix s; 0: while the binding lives). */
export interface CallbackRecord {
  number: string;
  expiresAt: number;
}

/**
 * How long a callback record lasts without callbackExpiredTime (or with 0): Huawei gives no
 * default; the lenient reading is as long as the binding (0). One line to change (README, lenient choices).
 */
export const CALLBACK_RECORD_DEFAULT_SECONDS = 0;

/** AXE: seconds a new callback record lasts: callbackExpiredTime in timeUnit ("0" hours, "1" minutes). */
export function callbackRecordSeconds(h: HuaweiFields): number {
  const t = h.callbackExpiredTime;
  if (!t) return CALLBACK_RECORD_DEFAULT_SECONDS;
  return t * (h.timeUnit === '1' ? 60 : 3600);
}

/** AXE: the last caller to call back at `now` (unix seconds), if the record still lasts. */
export function liveCallback(r: CallbackRecord | undefined, now: number): string | undefined {
  return r && r.number && (r.expiresAt === 0 || r.expiresAt > now) ? r.number : undefined;
}

/** A city code as accepted: 2-7 digits after an optional leading 0. */
export const AREA_CODE = /^0?\d{2,7}$/;

/**
 * A city code as xline keeps it: digits with the leading 0 (`0755`, `010`). Lenient: `755` gains
 * its 0. Undefined when not AREA_CODE.
 */
export function normalizeAreaCode(s: unknown): string | undefined {
  if (typeof s !== 'string' || !AREA_CODE.test(s)) return undefined;
  return s.startsWith('0') ? s : '0' + s;
}

/**
 * Tone names (preVoice, recordHintTone, lastMinVoice, callbackTone) are ring-tone ids uploaded with
 * PUT /v1/ring-tones/{id}. Huawei names carry a file suffix (`callerHintTone.wav`): the name as
 * given, else without `.wav`, names the tone (a lenient reading, api/huawei/lenient.ts). Returns
 * the ids to try, in order.
 */
export function toneIdCandidates(name: string): string[] {
  const out = [name];
  if (/\.wav$/i.test(name) && name.length > 4) out.push(name.slice(0, -4));
  return out;
}

/** Every tone name a Huawei binding holds (preVoice, recordHintTone, lastMinVoice, callbackTone). */
export function huaweiToneNames(h: HuaweiFields | undefined): string[] {
  if (!h) return [];
  return [h.callerHintTone, h.calleeHintTone, h.recordHintTone, h.lastMinVoice, h.callbackTone].filter((t): t is string => Boolean(t));
}

/** Does the binding name ring tone `id` (through any of the names toneIdCandidates reads)? */
export function huaweiNamesTone(h: HuaweiFields | undefined, id: string): boolean {
  return huaweiToneNames(h).some((n) => toneIdCandidates(n).includes(id));
}
