// What a binding made through Huawei's PrivateNumber API carries beyond xline's own fields
// (HUAWEI.md §3): the owning app, call features the call side uses (tones, limits), AXE's
// callback settings and expiry as given, and the AX temporary callee. Pure types + helpers.

/** The AX temporary callee: A dialling X reaches `number` until `expiresAt` (unix seconds). */
export interface TempCallee {
  number: string;
  expiresAt: number;
  userData?: string;
}

export interface HuaweiFields {
  /** app_key of the application that made the binding; other apps never see it. */
  app: string;
  /** Minutes from answer; 0 / absent: no limit. */
  maxDuration?: number;
  lastMinVoice?: string;
  recordHintTone?: string;
  /** "true" / "false" as given (xline carries no SMS). */
  privateSms?: string;
  userData?: string;
  callerHintTone?: string;
  calleeHintTone?: string;
  /** AX calleeNumDisplay / AXE displayNumMode: "0" X, "1" the real caller (xline always shows X). */
  displayMode?: string;
  /** AXE: used when A calls X with no callback record. */
  callbackNum?: string;
  callbackTone?: string;
  /** AXE: "0" hours, "1" minutes, as given with bindExpiredTime / callbackExpiredTime. */
  timeUnit?: string;
  bindExpiredTime?: number;
  callbackExpiredTime?: number;
  /** AX: the temporary callee last set (PUT /rest/caas/privatenumber/calleenumber/v1.0). */
  tempCallee?: TempCallee;
}

/**
 * A change to a Huawei binding's fields: a value sets the field, `null` clears it, absent keeps it.
 * `app` never changes.
 */
export type HuaweiPatch = { [K in Exclude<keyof HuaweiFields, 'app'>]?: HuaweiFields[K] | null };

/** AX: the temporary callee that applies at `now` (unix seconds), if any. */
export function liveTempCallee(h: HuaweiFields | undefined, now: number): TempCallee | undefined {
  const t = h?.tempCallee;
  return t && t.expiresAt > now ? t : undefined;
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
