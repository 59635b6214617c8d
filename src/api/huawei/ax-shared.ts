// What the AX and AXE interfaces share: the call-feature fields every bind and modify takes
// (tones, limits, recording, userData, callDirection), the X selection fields (areaCode,
// areaMatchMode), the answer form of a binding's features, and resolving a binding the client
// names to one of its own app (else 1016001).
import type { Binding, CallRestrict, HuaweiFields, HuaweiPatch } from '../../domain/binding.js';
import { normalizeAreaCode } from '../../domain/huawei-binding.js';
import type { AreaMatch } from '../../store/types.js';
import { HuaweiModesStore } from '../../store/huawei-modes-store.js';
import type { RedisBindingStore } from '../../store/redis-store.js';
import type { HuaweiCall } from './plugin.js';
import { hwErr, invalid } from './result-codes.js';
import type { Params } from './fields.js';

/** Bindings without an expiry (AX always; AXE without bindExpiredTime): AXB's "never" (2100-01-01). */
export { NEVER_EXPIRES } from './axb.js';

const modesStores = new WeakMap<object, HuaweiModesStore>();
export function modesStoreOf(call: HuaweiCall): HuaweiModesStore {
  const store = call.hw.bindings as RedisBindingStore;
  let s = modesStores.get(store);
  if (!s) modesStores.set(store, (s = new HuaweiModesStore(store)));
  return s;
}

/** callDirection 0/1/2 → xline's call restriction (1: only A calls out; 2: only the others call in). */
export function restrictOf(direction: number | undefined): CallRestrict | undefined {
  return direction === 1 ? 'CONTROL_BX_DISABLE' : direction === 2 ? 'CONTROL_AX_DISABLE' : undefined;
}
export function directionOf(b: Binding): number {
  return b.callRestrict === 'CONTROL_BX_DISABLE' ? 1 : b.callRestrict === 'CONTROL_AX_DISABLE' ? 2 : 0;
}

export interface Features {
  recording?: boolean;
  callDirection?: number;
  huawei: HuaweiPatch;
}

/**
 * The call-feature fields of a bind or modify, validated (1010002 naming the field; a tone must
 * be an uploaded ring tone). Absent fields are absent from the result (a modify keeps them).
 */
export async function readFeatures(call: HuaweiCall, p: Params, o: { preVoice: boolean }): Promise<Features> {
  const { f } = call;
  const h: HuaweiPatch = {};
  const set = <K extends keyof HuaweiPatch>(k: K, v: HuaweiPatch[K] | undefined) => {
    if (v !== undefined) h[k] = v;
  };
  // a tone given as "" is removed (as in AXB's modify); absent: unchanged
  const tone = async (q: Params, k: 'recordHintTone' | 'lastMinVoice' | 'callerHintTone' | 'calleeHintTone', label: string = k) =>
    q[k] === '' ? null : f.tone(q, k, label);
  const recording = f.bool(p, 'recordFlag');
  set('recordHintTone', await tone(p, 'recordHintTone'));
  set('maxDuration', f.int(p, 'maxDuration', 0, 1440));
  set('lastMinVoice', await tone(p, 'lastMinVoice'));
  set('privateSms', f.bool(p, 'privateSms'));
  set('userData', f.userData(p));
  if (o.preVoice && p.preVoice !== undefined && p.preVoice !== null) {
    const pv = p.preVoice;
    if (typeof pv !== 'object' || Array.isArray(pv)) throw invalid('preVoice');
    set('callerHintTone', await tone(pv as Params, 'callerHintTone', 'preVoice.callerHintTone'));
    set('calleeHintTone', await tone(pv as Params, 'calleeHintTone', 'preVoice.calleeHintTone'));
  }
  const dir = f.oneOf(p, 'callDirection', ['0', '1', '2'] as const);
  return { ...(recording !== undefined ? { recording } : {}), ...(dir !== undefined ? { callDirection: Number(dir) } : {}), huawei: h };
}

/** areaCode (String(0-32), normalised) and areaMatchMode ("0" strict default, "1" relaxed). */
export function readArea(call: HuaweiCall, p: Params): { areaCode?: string; areaMatch?: AreaMatch; asked: Pick<HuaweiFields, 'areaCode' | 'areaMatchMode'> } {
  const raw = call.f.str(p, 'areaCode', 0, 32);
  const mode = call.f.oneOf(p, 'areaMatchMode', ['0', '1'] as const);
  const areaCode = raw ? normalizeAreaCode(raw) : undefined;
  if (raw && !areaCode) throw invalid('areaCode');
  return {
    ...(areaCode ? { areaCode, areaMatch: mode === '1' ? 'relaxed' : 'strict' } : {}),
    asked: { ...(areaCode ? { areaCode } : {}), ...(mode ? { areaMatchMode: mode } : {}) },
  };
}

/** The features of a binding as the queries answer them (Huawei's names and forms). */
export function featuresOf(b: Binding): Record<string, unknown> {
  const h = b.huawei;
  const out: Record<string, unknown> = { recordFlag: b.recording ? 'true' : 'false', callDirection: directionOf(b) };
  if (!h) return out;
  if (h.recordHintTone) out.recordHintTone = h.recordHintTone;
  if (h.maxDuration !== undefined) out.maxDuration = h.maxDuration;
  if (h.lastMinVoice) out.lastMinVoice = h.lastMinVoice;
  if (h.privateSms !== undefined) out.privateSms = h.privateSms ? 'true' : 'false';
  if (h.userData) out.userData = h.userData;
  if (h.callerHintTone || h.calleeHintTone) {
    out.preVoice = { ...(h.callerHintTone ? { callerHintTone: h.callerHintTone } : {}), ...(h.calleeHintTone ? { calleeHintTone: h.calleeHintTone } : {}) };
  }
  return out;
}

/** A binding the client named, if it is a live binding of this app in `mode`; else 1016001. */
export function ownBinding(call: HuaweiCall, b: Binding | null | undefined, mode: 'AX' | 'AXE'): Binding {
  if (!b || b.mode !== mode || b.huawei?.appKey !== call.app.appKey) throw hwErr('1016001');
  return b;
}

/** The binding a subscriptionId (String(1-64)) names: undefined when none is given, null when no such binding. */
export async function bySubscriptionId(call: HuaweiCall, p: Params): Promise<Binding | null | undefined> {
  const sid = call.f.str(p, 'subscriptionId', 0, 64);
  if (!sid) return undefined;
  return (await call.ctx.store.get(call.app.poolKey, '', sid)) ?? null;
}
