// Validation of dypls action parameters with zod. POP sends every value as a string; each field
// here turns one into its typed value or fails with the Alibaba code a client expects
// (isv.MOBILE_NUMBER_ILLEGAL, isv.EXPIRE_DATE_ILLEGAL, isv.INVALID_PARAMETERS, …).
import { z } from 'zod';
import type { CountryCode } from 'libphonenumber-js';
import { canonicalNumberFast } from '../../domain/fast-number.js';
import { CALL_RESTRICTS, RING_KEYS, type CallRestrict, type RingConfig, type RingKey } from '../../domain/binding.js';
import { ERROR_CODES, XlineError, xlineError } from '../../domain/errors.js';
import { parseWallClock } from '../../domain/wall-clock.js';
import { gatewayError } from './gateway-errors.js';

type CodeName = keyof typeof ERROR_CODES;
type Ctx = z.RefinementCtx;

function fail(ctx: Ctx, code: CodeName, message: string): never {
  ctx.addIssue({ code: 'custom', message, params: { xcode: code } });
  return z.NEVER as never;
}

/** Length limits for free-text fields (Alibaba documents none; these keep Redis small and clear). */
export const LIMITS = {
  poolKey: 64,
  subsId: 64,
  outId: 64,
  outOrderId: 64,
  city: 32,
  asrModelId: 64,
  ringConfig: 1024,
  ringToneId: 64,
} as const;

export interface FieldOptions {
  country: string;
  timezone: string;
}

export function makeFields(opts: FieldOptions) {
  const country = opts.country as CountryCode;
  const zone = opts.timezone;

  const text = (name: string, max: number) =>
    z.string().transform((v, ctx) => {
      if (v.length > max) fail(ctx, 'INVALID_PARAMETERS', `${name} is longer than ${max} characters`);
      return v;
    });

  return {
    text,

    /** A real number (A, B) or a virtual number (X) in any common form → canonical form. */
    phone: (name: string) =>
      z.string().transform((v, ctx) => {
        const canonical = canonicalNumberFast(v, country);
        if (!canonical) fail(ctx, 'MOBILE_NUMBER_ILLEGAL', `${name} is not a valid phone number`);
        return canonical as string;
      }),

    /** 'YYYY-MM-DD HH:mm:ss' in TIMEZONE → unix seconds (the "≥ 1 min ahead" rule needs `now`, see expiresAt). */
    expiration: (name = 'Expiration') =>
      z.string().transform((v, ctx) => {
        const t = parseWallClock(v, zone);
        if (t === undefined) fail(ctx, 'EXPIRE_DATE_ILLEGAL', `${name} must be 'YYYY-MM-DD HH:mm:ss' (${zone})`);
        return t as number;
      }),

    bool: (name: string) =>
      z.string().transform((v, ctx) => {
        const l = v.toLowerCase();
        if (l === 'true') return true;
        if (l === 'false') return false;
        return fail(ctx, 'INVALID_PARAMETERS', `${name} must be true or false`);
      }),

    int: (name: string, min: number, max: number) =>
      z.string().transform((v, ctx) => {
        if (!/^-?\d{1,9}$/.test(v)) fail(ctx, 'INVALID_PARAMETERS', `${name} must be an integer`);
        const n = Number(v);
        if (n < min || n > max) fail(ctx, 'INVALID_PARAMETERS', `${name} must be between ${min} and ${max}`);
        return n;
      }),

    digits: (name: string, minLen: number, maxLen: number) =>
      z.string().transform((v, ctx) => {
        if (!new RegExp(`^\\d{${minLen},${maxLen}}$`).test(v)) {
          fail(ctx, 'INVALID_PARAMETERS', `${name} must be ${minLen}–${maxLen} digits`);
        }
        return v;
      }),

    callRestrict: callRestrictField,
    ringConfig: ringConfigField,
  };
}

export type Fields = ReturnType<typeof makeFields>;

/** CallRestrict: one of CALL_RESTRICTS, or (UpdateSubscription) CONTROL_CLEAR_DISABLE too. */
function callRestrictField(allowClear: boolean) {
  return z.string().transform((v, ctx): CallRestrict | 'CONTROL_CLEAR_DISABLE' => {
    if ((CALL_RESTRICTS as readonly string[]).includes(v)) return v as CallRestrict;
    if (allowClear && v === 'CONTROL_CLEAR_DISABLE') return v;
    const allowed = [...CALL_RESTRICTS, ...(allowClear ? ['CONTROL_CLEAR_DISABLE'] : [])].join(', ');
    return fail(ctx, 'INVALID_PARAMETERS', `CallRestrict must be one of ${allowed}`);
  });
}

/** RingConfig: a JSON object of ring key → tone id; only the keys of the binding's product. */
function ringConfigField(keys: readonly RingKey[] = RING_KEYS) {
  return z.string().transform((v, ctx): RingConfig => {
    if (v.length > LIMITS.ringConfig) fail(ctx, 'INVALID_PARAMETERS', `RingConfig is longer than ${LIMITS.ringConfig} characters`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return fail(ctx, 'INVALID_PARAMETERS', 'RingConfig must be a JSON object');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return fail(ctx, 'INVALID_PARAMETERS', 'RingConfig must be a JSON object');
    const out: RingConfig = {};
    for (const [key, tone] of Object.entries(parsed)) {
      if (!(keys as readonly string[]).includes(key)) {
        fail(ctx, 'INVALID_PARAMETERS', `RingConfig key ${key} is not one of ${keys.join(', ')}`);
      }
      if (typeof tone !== 'string' && typeof tone !== 'number') fail(ctx, 'INVALID_PARAMETERS', `RingConfig ${key} must be a tone id`);
      const id = String(tone);
      if (!/^[\w.-]{1,64}$/.test(id)) fail(ctx, 'INVALID_PARAMETERS', `RingConfig ${key} is not a valid tone id`);
      out[key as RingKey] = id;
    }
    return out;
  });
}

/**
 * Parses raw string params with an action's schema. A required parameter that is absent is a
 * gateway error (POP checks them before the action: MissingXxx, HTTP 400); every other problem is
 * a business error with the field's code.
 */
export function parseParams<T>(schema: z.ZodType<T>, raw: Record<string, string>): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const name = String(issue.path[0] ?? '');
  if (name && raw[name] === undefined) throw gatewayError.missing(name);
  const xcode = (issue as { params?: { xcode?: CodeName } }).params?.xcode;
  if (xcode) throw xlineError(xcode, issue.message);
  throw new XlineError(ERROR_CODES.INVALID_PARAMETERS, name ? `${name}: ${issue.message}` : issue.message);
}
