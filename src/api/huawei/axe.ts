// Huawei AXE mode (HUAWEI.md §3.3): bind, modify, query (v1 and the v2 cursor query) and unbind
// at /rest/caas/extendnumber/v1.0 (+ /v2.0). An AXE binding is xline's AXE ("AXN extension"):
// many A per X, each reached through its extension of 1–4 digits, auto-allocated when absent
// (store/lua/bind.lua). Expiry: bindExpiredTime in timeUnit ("0" hours, "1" minutes); 0 or
// absent: never (lenient reading, README). Codes: no free extension 1020167, extension taken
// 1011005, A already on that X 1016002, no such binding of this app 1016001.
import type { Binding } from '../../domain/binding.js';
import { ERROR_CODES, XlineError } from '../../domain/errors.js';
import { MAX_SEQ } from '../../store/codec.js';
import type { BindRequest } from '../../store/types.js';
import { patchOf } from './ax.js';
import { bySubscriptionId, featuresOf, modesStoreOf, NEVER_EXPIRES, ownBinding, readArea, readFeatures } from './ax-shared.js';
import type { Params } from './fields.js';
import { PAGE_SIZE } from './lenient.js';
import type { HuaweiCall, HuaweiInterface } from './plugin.js';
import { hwErr, invalid } from './result-codes.js';

export const AXE_PATH = '/rest/caas/extendnumber/v1.0';
export const AXE_V2_PATH = '/rest/caas/extendnumber/v2.0';

/** bindExpiredTime / callbackExpiredTime upper bound: 10 years in either unit (Huawei gives none). */
const MAX_TIME = { '0': 87_600, '1': 5_256_000 } as const;
/** The v2 cursor: 13 digits (ms of the last binding given), '_', its SubsId sequence. */
const CURSOR = /^(\d{13})_(\d{1,20})$/;
export const FIRST_CURSOR = '0000000000000_0';

/** The AXE binding a modify, query or unbind names: subscriptionId, or virtualNum + extendNum. */
async function named(call: HuaweiCall, p: Params): Promise<Binding> {
  const bySid = await bySubscriptionId(call, p);
  if (bySid !== undefined) return ownBinding(call, bySid, 'AXE');
  const x = call.f.phone(p, 'virtualNum', 1, 32);
  const ext = extension(call, p);
  if (!x) throw invalid(ext ? 'virtualNum' : 'subscriptionId');
  if (!ext) throw invalid('extendNum');
  return ownBinding(call, await modesStoreOf(call).byExtension(call.app.poolKey, x, ext), 'AXE');
}

function extension(call: HuaweiCall, p: Params): string | undefined {
  const e = call.f.str(p, 'extendNum', 0, 4);
  if (e && !/^\d{1,4}$/.test(e)) throw invalid('extendNum');
  return e || undefined;
}

/** timeUnit, bindExpiredTime, callbackExpiredTime, callbackNum xor callbackTone. */
async function readAxeFields(call: HuaweiCall, p: Params) {
  const { f } = call;
  const unit = f.oneOf(p, 'timeUnit', ['0', '1'] as const);
  const max = MAX_TIME[unit ?? '0'];
  const bindExpiredTime = f.int(p, 'bindExpiredTime', 0, max);
  const callbackExpiredTime = f.int(p, 'callbackExpiredTime', 0, max);
  const callbackNum = f.phone(p, 'callbackNum', 1, 32);
  const callbackTone = await f.tone(p, 'callbackTone');
  if (callbackNum && callbackTone) throw invalid('callbackNum');
  const displayNumMode = f.oneOf(p, 'displayNumMode', ['0', '1'] as const);
  return { unit, bindExpiredTime, callbackExpiredTime, callbackNum, callbackTone, displayNumMode };
}

function expiryOf(now: number, unit: '0' | '1' | undefined, t: number | undefined): number {
  return t ? now + t * (unit === '1' ? 60 : 3600) : NEVER_EXPIRES;
}

const bind: HuaweiInterface = {
  name: 'axe.bind',
  method: 'POST',
  path: AXE_PATH,
  mode: 'AXE',
  claimsNonce: true,
  async run(call) {
    const { f, params: p, app } = call;
    const a = f.phone(p, 'bindNum', 1, 32);
    if (!a) throw invalid('bindNum');
    const x = f.phone(p, 'virtualNum', 1, 32);
    // an extendNum without virtualNum: the first X (of that area code) where it is free
    const ext = extension(call, p);
    const area = readArea(call, p);
    const feat = await readFeatures(call, p, { preVoice: true });
    const axe = await readAxeFields(call, p);
    const req: BindRequest = {
      mode: 'AXE',
      poolKey: app.poolKey,
      a,
      expiresAt: expiryOf(call.now, axe.unit, axe.bindExpiredTime),
      recording: feat.recording ?? false,
      callDisplayType: 1,
      ...(x ? { x } : area.areaCode ? { areaCode: area.areaCode, areaMatch: area.areaMatch } : {}),
      ...(ext ? { extension: ext } : {}),
      huawei: {
        appKey: app.appKey,
        ...(Object.fromEntries(Object.entries(feat.huawei).filter(([, v]) => v !== null)) as object),
        ...area.asked,
        ...(axe.displayNumMode ? { displayNumMode: axe.displayNumMode } : {}),
        ...(axe.callbackNum ? { callbackNum: axe.callbackNum } : {}),
        ...(axe.callbackTone ? { callbackTone: axe.callbackTone } : {}),
        ...(axe.unit ? { timeUnit: axe.unit } : {}),
        ...(axe.bindExpiredTime !== undefined ? { bindExpiredTime: axe.bindExpiredTime } : {}),
        ...(axe.callbackExpiredTime !== undefined ? { callbackExpiredTime: axe.callbackExpiredTime } : {}),
        modifiedAt: call.now,
      },
    };
    let b: Binding;
    try {
      b = await call.ctx.store.bind(req, { deadline: call.deadline, ...(call.nonce ? { nonce: call.nonce } : {}) });
    } catch (e) {
      if (e instanceof XlineError && e.code === ERROR_CODES.BIND_CONFLICT) {
        throw hwErr(e.rule === 'ext-full' ? '1020167' : e.rule === 'a' ? '1016002' : '1011005');
      }
      throw e;
    }
    return { subscriptionId: b.subsId, virtualNum: f.global(b.x), extendNum: b.extension, bindNum: f.global(b.a) };
  },
};

const modify: HuaweiInterface = {
  name: 'axe.modify',
  method: 'PUT',
  path: AXE_PATH,
  mode: 'AXE',
  async run(call) {
    const { f, params: p } = call;
    const newA = f.phone(p, 'bindNum', 1, 32);
    const feat = await readFeatures(call, p, { preVoice: true });
    const axe = await readAxeFields(call, p);
    const b = await named(call, p);
    const h = b.huawei;
    const extra: NonNullable<ReturnType<typeof patchOf>['huawei']> = { modifiedAt: call.now };
    if (axe.displayNumMode) extra.displayNumMode = axe.displayNumMode;
    // callbackNum xor callbackTone: setting one drops the other
    if (axe.callbackNum) Object.assign(extra, { callbackNum: axe.callbackNum, callbackTone: null });
    if (axe.callbackTone) Object.assign(extra, { callbackTone: axe.callbackTone, callbackNum: null });
    if (axe.unit) extra.timeUnit = axe.unit;
    if (axe.callbackExpiredTime !== undefined) extra.callbackExpiredTime = axe.callbackExpiredTime;
    const patch = patchOf(feat, extra);
    if (axe.bindExpiredTime !== undefined) {
      // a new bindExpiredTime restarts the binding's time, in the unit given now or at bind
      patch.huawei!.bindExpiredTime = axe.bindExpiredTime;
      patch.expiresAt = expiryOf(call.now, axe.unit ?? (h?.timeUnit as '0' | '1' | undefined), axe.bindExpiredTime);
    }
    if (newA) patch.a = newA;
    await call.ctx.store.update(call.app.poolKey, b.x, b.subsId, patch, { deadline: call.deadline }).catch((e: unknown) => {
      if (e instanceof XlineError && e.code === ERROR_CODES.UPDATE_CONFLICT) throw hwErr('1016002');
      throw e;
    });
    return {};
  },
};

const queryV1: HuaweiInterface = {
  name: 'axe.query',
  method: 'GET',
  path: AXE_PATH,
  mode: 'AXE',
  async run(call) {
    return answer(call, await named(call, call.params));
  },
};

const queryV2: HuaweiInterface = {
  name: 'axe.query.v2',
  method: 'GET',
  path: AXE_V2_PATH,
  mode: 'AXE',
  async run(call) {
    const { f, params: p, app } = call;
    // one binding named: as v1, in the list
    if (f.str(p, 'subscriptionId', 0, 64) || f.str(p, 'extendNum', 0, 4)) return { bindList: [answer(call, await named(call, p))] };
    const x = f.phone(p, 'virtualNum', 1, 32);
    if (!x) throw invalid('virtualNum');
    const cursor = f.str(p, 'cursor', 0, 64) || FIRST_CURSOR;
    const m = CURSOR.exec(cursor);
    if (!m) throw invalid('cursor');
    const after = Number(m[2]);
    const limit = pageSize(p.limit);
    if (after >= MAX_SEQ) return { bindList: [] };
    const page = await modesStoreOf(call).page(app.poolKey, x, after, limit);
    const mine = page.bindings.filter((b) => b.mode === 'AXE' && b.huawei?.appKey === app.appKey);
    const last = page.bindings[page.bindings.length - 1];
    return {
      bindList: mine.map((b) => answer(call, b)),
      // only while more follow (the docs spell it nextCusor)
      ...(page.more && last ? { nextCusor: cursorOf(last) } : {}),
    };
  },
};

const unbind: HuaweiInterface = {
  name: 'axe.unbind',
  method: 'DELETE',
  path: AXE_PATH,
  mode: 'AXE',
  async run(call) {
    const b = await named(call, call.params);
    await call.ctx.store.unbind(call.app.poolKey, b.x, b.subsId, { deadline: call.deadline });
    return {};
  },
};

/** limit: like AXB's pageSize, lenient (lenient.ts PAGE_SIZE bounds, but from 1): absent or out of range → 50. */
function pageSize(v: unknown): number {
  const n = typeof v === 'string' && /^\d{1,4}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= PAGE_SIZE.max ? n : PAGE_SIZE.fallback;
}

export function cursorOf(b: Binding): string {
  return `${String(b.createdAt * 1000).padStart(13, '0')}_${Number(b.subsId.slice(-9))}`;
}

function answer(call: HuaweiCall, b: Binding): Record<string, unknown> {
  const h = b.huawei ?? { appKey: '' };
  return {
    subscriptionId: b.subsId,
    virtualNum: call.f.global(b.x),
    extendNum: b.extension,
    bindNum: call.f.global(b.a),
    displayNumMode: h.displayNumMode ?? '0',
    ...featuresOf(b),
    ...(h.callbackTone ? { callbackTone: h.callbackTone } : {}),
    ...(h.callbackNum ? { callbackNum: call.f.global(h.callbackNum) } : {}),
    timeUnit: h.timeUnit ?? '0',
    bindExpiredTime: h.bindExpiredTime ?? 0,
    ...(h.callbackExpiredTime !== undefined ? { callbackExpiredTime: h.callbackExpiredTime } : {}),
  };
}

export const AXE_INTERFACES: HuaweiInterface[] = [bind, modify, queryV1, queryV2, unbind];
