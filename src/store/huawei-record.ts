// Huawei fields in the packed binding record (codec.ts): one record field each, after xline's
// own 15, so a modify sets only the fields it names (update.lua overwrites single fields) and two
// concurrent modifies of different fields cannot undo each other. Absent: empty field. Pure.
import type { HuaweiFields, HuaweiPatch } from '../domain/huawei-binding.js';

export const HF = {
  app: 16,
  maxDuration: 17,
  lastMinVoice: 18,
  recordHintTone: 19,
  privateSms: 20,
  userData: 21,
  callerHintTone: 22,
  calleeHintTone: 23,
  displayMode: 24,
  callbackNum: 25,
  callbackTone: 26,
  timeUnit: 27,
  bindExpiredTime: 28,
  callbackExpiredTime: 29,
  tempCallee: 30,
  tempCalleeExp: 31,
  tempCalleeData: 32,
} as const;
export const LAST_FIELD = HF.tempCalleeData;

type Key = Exclude<keyof HuaweiFields, 'app' | 'tempCallee'>;
const NUMERIC: ReadonlySet<Key> = new Set(['maxDuration', 'bindExpiredTime', 'callbackExpiredTime']);
const PLAIN = Object.keys(HF).filter((k) => !['app', 'tempCallee', 'tempCalleeExp', 'tempCalleeData'].includes(k)) as Key[];

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** Record fields 16.. as (index, value) pairs for update.lua; '' clears. */
export function huaweiPairs(p: HuaweiPatch): (string | number)[] {
  const out: (string | number)[] = [];
  for (const k of PLAIN) if (k in p && p[k] !== undefined) out.push(HF[k], str(p[k]));
  if ('tempCallee' in p && p.tempCallee !== undefined) {
    const t = p.tempCallee;
    out.push(HF.tempCallee, t ? t.number : '', HF.tempCalleeExp, t ? String(t.expiresAt) : '', HF.tempCalleeData, t?.userData ?? '');
  }
  return out;
}

/** Fields 16.. of a new record (index 16 first). */
export function packHuawei(h: HuaweiFields): string[] {
  const f: string[] = new Array<string>(LAST_FIELD - HF.app + 1).fill('');
  f[0] = h.app;
  for (const k of PLAIN) f[HF[k] - HF.app] = str(h[k]);
  if (h.tempCallee) {
    f[HF.tempCallee - HF.app] = h.tempCallee.number;
    f[HF.tempCalleeExp - HF.app] = String(h.tempCallee.expiresAt);
    f[HF.tempCalleeData - HF.app] = h.tempCallee.userData ?? '';
  }
  return f;
}

/** The Huawei fields of a record (`get(i)`: field i, '' when absent); undefined when not a Huawei binding. */
export function unpackHuawei(get: (i: number) => string): HuaweiFields | undefined {
  const app = get(HF.app);
  if (!app) return undefined;
  const h: HuaweiFields = { app };
  const rec = h as unknown as Record<string, string | number>;
  for (const k of PLAIN) {
    const v = get(HF[k]);
    if (v !== '') rec[k] = NUMERIC.has(k) ? Number(v) : v;
  }
  const tc = get(HF.tempCallee);
  if (tc) {
    h.tempCallee = { number: tc, expiresAt: Number(get(HF.tempCalleeExp)) };
    const d = get(HF.tempCalleeData);
    if (d) h.tempCallee.userData = d;
  }
  return h;
}
