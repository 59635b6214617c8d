// Huawei AXB mode (HUAWEI.md §3.1) at /rest/caas/relationnumber/partners/v1.0: bind (POST),
// modify (PUT), query with paging (GET) and unbind (DELETE; relationNum alone unbinds every
// binding on that X). Bindings are the one store's AXB bindings (a dypls BindAxb and a Huawei bind
// cannot double-book an X); the Huawei-only fields ride in the record's HuaweiFields.
import { normalizeAreaCode } from '../../domain/huawei-binding.js';
import type { Binding, BindingPatch, CallRestrict, HuaweiFields, HuaweiPatch } from '../../domain/binding.js';
import { ERROR_CODES } from '../../domain/errors.js';
import type { BindRequest } from '../../store/types.js';
import type { FieldReader, Params } from './fields.js';
import { DURATION_MAX_SECONDS, PAGE_SIZE } from './lenient.js';
import type { HuaweiCall, HuaweiInterface } from './plugin.js';
import { hwErr, invalid } from './result-codes.js';

export const AXB_PATH = '/rest/caas/relationnumber/partners/v1.0';

/** "Never expires" (duration 0 or absent) is stored as this expiry: 2100-01-01T00:00:00Z. */
export const NEVER_EXPIRES = 4_102_444_800;

/** callDirection ↔ xline's call restriction: 1 only A→B (B may not call X), 2 only B→A (A may not). */
export function restrictOf(direction: number): CallRestrict | undefined {
  return direction === 1 ? 'CONTROL_BX_DISABLE' : direction === 2 ? 'CONTROL_AX_DISABLE' : undefined;
}
export function directionOf(r: CallRestrict | undefined): number {
  return r === 'CONTROL_BX_DISABLE' ? 1 : r === 'CONTROL_AX_DISABLE' ? 2 : 0;
}

/** UTC `yyyy-MM-dd HH:mm:ss` (Huawei's time strings). */
export function utcTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The call-feature fields bind and modify share, AX too (undefined: not given); a promise only when a tone is named. */
export function features(f: FieldReader, p: Params) {
  const pre = p.preVoice;
  if (pre !== undefined && pre !== null && (typeof pre !== 'object' || Array.isArray(pre))) throw invalid('preVoice');
  const preVoice = (pre ?? {}) as Params;
  const v = {
    callDirection: f.int(p, 'callDirection', 0, 2),
    duration: f.int(p, 'duration', 0, DURATION_MAX_SECONDS),
    maxDuration: f.int(p, 'maxDuration', 0, 1440),
    lastMinVoice: undefined as string | undefined,
    recordFlag: f.bool(p, 'recordFlag'),
    recordHintTone: undefined as string | undefined,
    privateSms: f.bool(p, 'privateSms'),
    callerHintTone: undefined as string | undefined,
    calleeHintTone: undefined as string | undefined,
    // preVoice given with a key set to '' clears that tone on modify
    clearCaller: preVoice.callerHintTone === '',
    clearCallee: preVoice.calleeHintTone === '',
    userData: f.userData(p),
  };
  // tones are checked against the ring-tone files (fs) only when given: a bind without any waits on nothing
  const tones: Array<[Params, 'lastMinVoice' | 'recordHintTone' | 'callerHintTone' | 'calleeHintTone', string]> = [
    [p, 'lastMinVoice', 'lastMinVoice'],
    [p, 'recordHintTone', 'recordHintTone'],
    [preVoice, 'callerHintTone', 'preVoice.callerHintTone'],
    [preVoice, 'calleeHintTone', 'preVoice.calleeHintTone'],
  ];
  const given = tones.filter(([q, k]) => q[k] !== undefined && q[k] !== null);
  if (!given.length) return v;
  return (async () => {
    for (const [q, k, label] of given) v[k] = await f.tone(q, k, label);
    return v;
  })();
}

const expiryOf = (duration: number | undefined, now: number) => (duration ? now + duration : NEVER_EXPIRES);

/** One binding as the query answers it (global numbers, Huawei's names). */
function item(f: FieldReader, b: Binding): Record<string, unknown> {
  const hw = b.huawei;
  const out: Record<string, unknown> = {
    subscriptionId: b.subsId,
    relationNum: f.global(b.x),
    callerNum: f.global(b.a),
    calleeNum: f.global(b.b),
    callDirection: directionOf(b.callRestrict),
    duration: hw ? (hw.duration ?? 0) : Math.max(0, b.expiresAt - b.createdAt),
    maxDuration: hw?.maxDuration ?? 0,
    recordFlag: b.recording ? 'true' : 'false',
    subscribeTime: utcTime(hw?.modifiedAt ?? b.createdAt),
  };
  if (b.expiresAt !== NEVER_EXPIRES) out.expireTime = utcTime(b.expiresAt);
  if (hw?.recordHintTone) out.recordHintTone = hw.recordHintTone;
  if (hw?.lastMinVoice) out.lastMinVoice = hw.lastMinVoice;
  if (hw?.privateSms !== undefined) out.privateSms = hw.privateSms ? 'true' : 'false';
  if (hw?.callerHintTone || hw?.calleeHintTone) {
    out.preVoice = { ...(hw.callerHintTone ? { callerHintTone: hw.callerHintTone } : {}), ...(hw.calleeHintTone ? { calleeHintTone: hw.calleeHintTone } : {}) };
  }
  if (hw?.areaCode) out.areaCode = hw.areaCode;
  if (hw?.userData) out.userData = hw.userData;
  return out;
}

/** The AXB binding `subscriptionId` names in the app's pool, or 1016001. */
async function ownBinding(c: HuaweiCall, subsId: string): Promise<Binding> {
  const b = await c.ctx.store.get(c.app.poolKey, '', subsId);
  if (!b || b.mode !== 'AXB') throw hwErr('1016001');
  return b;
}

const bind: HuaweiInterface = {
  name: 'axb.bind',
  method: 'POST',
  path: AXB_PATH,
  mode: 'AXB',
  claimsNonce: true,
  async run(c) {
    const { f, params: p, app, now } = c;
    const a = f.phone(p, 'callerNum');
    if (!a) throw invalid('callerNum');
    const b = f.phone(p, 'calleeNum');
    if (!b) throw invalid('calleeNum');
    if (a === b) throw invalid('calleeNum');
    const x = f.phone(p, 'relationNum');
    const areaCode = f.str(p, 'areaCode', 0, 32);
    if (areaCode && !/^\d{2,8}$/.test(areaCode)) throw invalid('areaCode');
    const areaMatchMode = f.oneOf(p, 'areaMatchMode', ['0', '1'] as const);
    const feat = features(f, p);
    const v = feat instanceof Promise ? await feat : feat;
    const hw: HuaweiFields = { appKey: app.appKey };
    if (v.duration !== undefined) hw.duration = v.duration;
    if (v.maxDuration !== undefined) hw.maxDuration = v.maxDuration;
    if (v.lastMinVoice) hw.lastMinVoice = v.lastMinVoice;
    if (v.recordHintTone) hw.recordHintTone = v.recordHintTone;
    if (v.privateSms !== undefined) hw.privateSms = v.privateSms;
    if (v.callerHintTone) hw.callerHintTone = v.callerHintTone;
    if (v.calleeHintTone) hw.calleeHintTone = v.calleeHintTone;
    if (v.userData !== undefined) hw.userData = v.userData;
    if (areaCode) hw.areaCode = areaCode;
    if (areaMatchMode) hw.areaMatchMode = areaMatchMode;
    const req: BindRequest = {
      mode: 'AXB',
      poolKey: app.poolKey,
      a,
      b,
      expiresAt: expiryOf(v.duration, now),
      recording: v.recordFlag ?? false,
      callDisplayType: 1,
      huawei: hw,
    };
    if (x) req.x = x;
    else if (areaCode) {
      // X among the pool numbers of that area code (relationNum wins); "1": then any X
      req.areaCode = normalizeAreaCode(areaCode) ?? areaCode;
      req.areaMatch = areaMatchMode === '1' ? 'relaxed' : 'strict';
    }
    const restrict = restrictOf(v.callDirection ?? 0);
    if (restrict) req.callRestrict = restrict;
    const binding = await c.ctx.store.bind(req, { deadline: c.deadline, nonce: c.nonce });
    return {
      subscriptionId: binding.subsId,
      relationNum: f.global(binding.x),
      callerNum: f.global(binding.a),
      calleeNum: f.global(binding.b),
      callDirection: v.callDirection ?? 0,
      duration: v.duration ?? 0,
      maxDuration: v.maxDuration ?? 0,
    };
  },
  // a requested X that is not the app's: 1012001; taken by A or B: 1012010; none free: 1011002
  storeCodes: { [ERROR_CODES.NO_NOT_EXIST]: '1012001', [ERROR_CODES.BIND_CONFLICT]: '1012010' },
};

const modify: HuaweiInterface = {
  name: 'axb.modify',
  method: 'PUT',
  path: AXB_PATH,
  mode: 'AXB',
  async run(c) {
    const { f, params: p, now } = c;
    let subsId = f.str(p, 'subscriptionId', 1, 64);
    if (!subsId) {
      // lenient.ts: relationNum instead, when that X carries exactly one binding of the app's pool
      const x = f.phone(p, 'relationNum');
      if (!x) throw invalid('subscriptionId');
      subsId = await c.ctx.store.findSubsId(c.app.poolKey, x);
      if (!subsId) throw hwErr('1016001');
    }
    const cur = await ownBinding(c, subsId);
    const a = f.phone(p, 'callerNum');
    const b = f.phone(p, 'calleeNum');
    if ((a ?? cur.a) === (b ?? cur.b)) throw invalid(b ? 'calleeNum' : 'callerNum');
    const feat = features(f, p);
    const v = feat instanceof Promise ? await feat : feat;
    const patch: BindingPatch = {};
    if (a) patch.a = a;
    if (b) patch.b = b;
    if (v.callDirection !== undefined) {
      const r = restrictOf(v.callDirection);
      if (r) patch.callRestrict = r;
      else patch.clearCallRestrict = true;
    }
    if (v.recordFlag !== undefined) patch.recording = v.recordFlag;
    // a modify that sets duration restarts the timer
    if (v.duration !== undefined) patch.expiresAt = expiryOf(v.duration, now);
    const hw: HuaweiPatch = { modifiedAt: now };
    if (!cur.huawei) hw.appKey = c.app.appKey;
    if (v.duration !== undefined) hw.duration = v.duration;
    if (v.maxDuration !== undefined) hw.maxDuration = v.maxDuration;
    if (p.lastMinVoice !== undefined) hw.lastMinVoice = v.lastMinVoice ?? null;
    if (p.recordHintTone !== undefined) hw.recordHintTone = v.recordHintTone ?? null;
    if (v.privateSms !== undefined) hw.privateSms = v.privateSms;
    if (v.callerHintTone) hw.callerHintTone = v.callerHintTone;
    else if (v.clearCaller) hw.callerHintTone = null;
    if (v.calleeHintTone) hw.calleeHintTone = v.calleeHintTone;
    else if (v.clearCallee) hw.calleeHintTone = null;
    if (v.userData !== undefined) hw.userData = v.userData;
    patch.huawei = hw;
    await c.ctx.store.update(c.app.poolKey, cur.x, subsId, patch, { deadline: c.deadline });
    return {};
  },
  // the binding vanished between the read and the write, or A/B already on X
  storeCodes: { [ERROR_CODES.NO_NOT_EXIST]: '1016001', [ERROR_CODES.UPDATE_CONFLICT]: '1012010' },
};

const query: HuaweiInterface = {
  name: 'axb.query',
  method: 'GET',
  path: AXB_PATH,
  mode: 'AXB',
  async run(c) {
    const { f, params: p, app } = c;
    const pageIndex = pageIndexOf(p);
    const pageSize = pageSizeOf(p);
    const head = { app_key: app.appKey, pageIndex, pageSize };
    const subsId = f.str(p, 'subscriptionId', 1, 64);
    if (subsId) {
      const b = await ownBinding(c, subsId);
      return { ...head, totalCount: 1, relationNumList: pageIndex === 1 ? [item(f, b)] : [] };
    }
    const x = f.phone(p, 'relationNum');
    if (!x) throw invalid('relationNum');
    const a = f.phone(p, 'callerNum', 4, 128) ?? '';
    const b = f.phone(p, 'calleeNum', 4, 128) ?? '';
    const page = await c.hw.list(app.poolKey, 'AXB', x, a, b, (pageIndex - 1) * pageSize, pageSize);
    if (!page) throw hwErr('1012001');
    // asked for a pair (A+X, B+X, A+X+B) that is not bound: no such record
    if ((a || b) && page.total === 0) throw hwErr('1016001');
    return { ...head, totalCount: page.total, relationNumList: page.bindings.map((bd) => item(f, bd)) };
  },
  storeCodes: { [ERROR_CODES.NO_NOT_EXIST]: '1016001' },
};

const unbind: HuaweiInterface = {
  name: 'axb.unbind',
  method: 'DELETE',
  path: AXB_PATH,
  mode: 'AXB',
  async run(c) {
    const { f, params: p, app } = c;
    const subsId = f.str(p, 'subscriptionId', 1, 64);
    if (subsId) {
      const b = await ownBinding(c, subsId);
      await c.ctx.store.unbind(app.poolKey, b.x, subsId, { deadline: c.deadline });
      return {};
    }
    const x = f.phone(p, 'relationNum');
    if (!x) throw invalid('subscriptionId');
    const a = f.phone(p, 'callerNum') ?? '';
    const b = f.phone(p, 'calleeNum') ?? '';
    if (a || b) {
      // lenient.ts: with callerNum / calleeNum, only the binding of those numbers goes
      const page = await c.hw.list(app.poolKey, 'AXB', x, a, b, 0, 1);
      if (!page) throw hwErr('1012001');
      const one = page.bindings[0];
      if (!one) throw hwErr('1016001');
      await c.ctx.store.unbind(app.poolKey, x, one.subsId, { deadline: c.deadline });
      return {};
    }
    const n = await c.hw.unbindAll(app.poolKey, 'AXB', x, c.deadline);
    if (n === undefined) throw hwErr('1012001');
    if (n === 0) throw hwErr('1016001');
    return {};
  },
  storeCodes: { [ERROR_CODES.NO_NOT_EXIST]: '1016001' },
};

function pageIndexOf(p: Params): number {
  const v = p.pageIndex;
  if (v === undefined || v === '') return 1;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1_000_000) throw invalid('pageIndex');
  return n;
}

function pageSizeOf(p: Params): number {
  const n = Number(p.pageSize);
  return Number.isInteger(n) && n >= PAGE_SIZE.min && n <= PAGE_SIZE.max ? n : PAGE_SIZE.fallback;
}

export const AXB_INTERFACES: HuaweiInterface[] = [bind, modify, query, unbind];
