// Pure helpers for bindings made through Huawei's PrivateNumber API (HuaweiFields in binding.ts):
// the AX temporary callee's lifetime and area codes as xline keeps them.
import type { HuaweiFields, TempCallee } from './binding.js';

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
