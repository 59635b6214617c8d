// Huawei AX mode (HUAWEI.md §3.2): bind, modify, query and unbind at
// /rest/provision/caas/privatenumber/v1.0 and the temporary callee at
// /rest/caas/privatenumber/calleenumber/v1.0. An AX binding is xline's AX mode: one A owns X,
// everyone else calling X reaches A, and A calling X reaches the temporary callee while it lasts
// (domain/route.ts). AX bindings have no expiry. Codes: a taken X 1011005, A already on that X
// 1016002, A already holding AX_MAX_X_PER_A X of this app 1011003, no such binding of this app 1016001.
import type { Binding, BindingPatch } from '../../domain/binding.js';
import { XlineError, ERROR_CODES } from '../../domain/errors.js';
import type { BindRequest } from '../../store/types.js';
import { bySubscriptionId, featuresOf, modesStoreOf, NEVER_EXPIRES, ownBinding, readArea, readFeatures, restrictOf } from './ax-shared.js';
import type { Params } from './fields.js';
import type { HuaweiCall, HuaweiInterface } from './plugin.js';
import { hwErr, invalid } from './result-codes.js';

export const AX_PATH = '/rest/provision/caas/privatenumber/v1.0';
export const AX_CALLEE_PATH = '/rest/caas/privatenumber/calleenumber/v1.0';

/** One A holds at most this many X in AX mode (HUAWEI.md §7), counted per app: more is 1011003. */
export const AX_MAX_X_PER_A = 5;

/** Temporary callee duration: 1–259200 s, default 60 (HUAWEI.md §3.2). */
const CALLEE_DURATION = { min: 1, max: 259_200, fallback: 60 } as const;

/** The AX binding a modify, unbind or temporary callee names: subscriptionId, or origNum + privateNum. */
async function named(call: HuaweiCall, p: Params): Promise<Binding> {
  const bySid = await bySubscriptionId(call, p);
  if (bySid !== undefined) return ownBinding(call, bySid, 'AX');
  const a = call.f.phone(p, 'origNum', 1, 32);
  const x = call.f.phone(p, 'privateNum', 1, 32);
  if (!a) throw invalid(x ? 'origNum' : 'subscriptionId');
  if (!x) throw invalid('privateNum');
  return ownBinding(call, await modesStoreOf(call).byNumber(call.app.poolKey, x, a), 'AX');
}

const bind: HuaweiInterface = {
  name: 'ax.bind',
  method: 'POST',
  path: AX_PATH,
  mode: 'AX',
  claimsNonce: true,
  async run(call) {
    const { f, params: p, app } = call;
    const a = f.phone(p, 'origNum', 1, 32);
    if (!a) throw invalid('origNum');
    const x = f.phone(p, 'privateNum', 1, 32);
    f.str(p, 'privateNumType', 0, 32); // "mobile-virtual", the only type: read, not required
    const area = readArea(call, p);
    const feat = await readFeatures(call, p, { preVoice: true });
    const display = f.oneOf(p, 'calleeNumDisplay', ['0', '1'] as const);
    const restrict = restrictOf(feat.callDirection);
    const req: BindRequest = {
      mode: 'AX',
      poolKey: app.poolKey,
      a,
      expiresAt: NEVER_EXPIRES,
      recording: feat.recording ?? false,
      callDisplayType: 1,
      ...(x ? { x } : { ...(area.areaCode ? { areaCode: area.areaCode, areaMatch: area.areaMatch } : {}) }),
      ...(restrict ? { callRestrict: restrict } : {}),
      huawei: {
        appKey: app.appKey,
        ...(stripNulls(feat.huawei) as object),
        ...area.asked,
        ...(display ? { calleeNumDisplay: display } : {}),
        modifiedAt: call.now,
      },
    };
    // one of A's places in this app first (Huawei: at most AX_MAX_X_PER_A X per A; full: 1011003,
    // nothing written), confirmed or given back once the bind answered
    const place = await modesStoreOf(call).reserveAxPlace(app.appKey, a, AX_MAX_X_PER_A, call.deadline);
    if (!place) throw hwErr('1011003', `Over the resource limit. origNum already holds ${AX_MAX_X_PER_A} X.`);
    let b: Binding;
    try {
      b = await call.ctx.store.bind(req, { deadline: call.deadline, ...(call.nonce ? { nonce: call.nonce } : {}) });
    } catch (e) {
      await place.release();
      if (x && e instanceof XlineError && e.code === ERROR_CODES.BIND_CONFLICT) {
        // X is taken: by this very A (the A–X binding exists) or by someone else
        const mine = await modesStoreOf(call).byNumber(app.poolKey, x, a);
        throw hwErr(mine ? '1016002' : '1011005');
      }
      throw e;
    }
    await place.confirm(b.x);
    return { origNum: f.global(b.a), privateNum: f.global(b.x), subscriptionId: b.subsId };
  },
};

const modify: HuaweiInterface = {
  name: 'ax.modify',
  method: 'PUT',
  path: AX_PATH,
  mode: 'AX',
  async run(call) {
    const p = call.params;
    // fields first: a bad field is 1010002 whatever the binding
    const feat = await readFeatures(call, p, { preVoice: true });
    const display = call.f.oneOf(p, 'calleeNumDisplay', ['0', '1'] as const);
    const b = await named(call, p);
    await call.ctx.store.update(call.app.poolKey, b.x, b.subsId, patchOf(feat, { ...(display ? { calleeNumDisplay: display } : {}), modifiedAt: call.now }), { deadline: call.deadline });
    return {};
  },
};

const query: HuaweiInterface = {
  name: 'ax.query',
  method: 'GET',
  path: AX_PATH,
  mode: 'AX',
  async run(call) {
    const { f, params: p, app } = call;
    const modes = modesStoreOf(call);
    let found: Binding[];
    const bySid = await bySubscriptionId(call, p);
    if (bySid !== undefined) found = [ownBinding(call, bySid, 'AX')];
    else {
      const a = f.phone(p, 'origNum', 1, 32);
      const x = f.phone(p, 'privateNum', 1, 32);
      if (a) found = (await modes.axBindingsOf(app.poolKey, a)).filter((b) => b.huawei?.appKey === app.appKey);
      else if (x) {
        const only = await call.ctx.store.findSubsId(app.poolKey, x);
        found = only ? [ownBinding(call, await call.ctx.store.get(app.poolKey, x, only), 'AX')] : [];
      } else throw invalid('subscriptionId');
      if (!found.length) throw hwErr('1016001');
    }
    const items = found.map((b) => answer(call, b));
    // the first binding's fields at the top level; every binding of an origNum in privateNumList
    return { ...items[0], ...(items.length > 1 || bySid === undefined ? { privateNumList: items } : {}) };
  },
};

const unbind: HuaweiInterface = {
  name: 'ax.unbind',
  method: 'DELETE',
  path: AX_PATH,
  mode: 'AX',
  async run(call) {
    const b = await named(call, call.params);
    await call.ctx.store.unbind(call.app.poolKey, b.x, b.subsId, { deadline: call.deadline });
    await modesStoreOf(call).freeAxPlace(call.app.appKey, b.a, b.x);
    return {};
  },
};

const tempCallee: HuaweiInterface = {
  name: 'ax.calleenumber',
  method: 'PUT',
  path: AX_CALLEE_PATH,
  mode: 'AX',
  async run(call) {
    const { f, params: p } = call;
    const callee = f.phone(p, 'calleeNum', 1, 32);
    if (!callee) throw invalid('calleeNum');
    const duration = f.int(p, 'duration', CALLEE_DURATION.min, CALLEE_DURATION.max) ?? CALLEE_DURATION.fallback;
    const userData = f.userData(p);
    const b = await named(call, p);
    if (callee === b.a) throw invalid('calleeNum');
    await call.ctx.store.update(
      call.app.poolKey,
      b.x,
      b.subsId,
      { huawei: { tempCallee: { number: callee, expiresAt: call.now + duration, ...(userData ? { userData } : {}) } } },
      { deadline: call.deadline },
    );
    return {};
  },
};

/** A bind's or modify's features as a store patch (callDirection 0 clears the restriction). */
export function patchOf(feat: Awaited<ReturnType<typeof readFeatures>>, extra: BindingPatch['huawei'] = {}): BindingPatch {
  const patch: BindingPatch = { huawei: { ...feat.huawei, ...extra } };
  if (feat.recording !== undefined) patch.recording = feat.recording;
  if (feat.callDirection !== undefined) {
    const r = restrictOf(feat.callDirection);
    if (r) patch.callRestrict = r;
    else patch.clearCallRestrict = true;
  }
  return patch;
}

function answer(call: HuaweiCall, b: Binding): Record<string, unknown> {
  const h = b.huawei;
  return {
    subscriptionId: b.subsId,
    origNum: call.f.global(b.a),
    privateNum: call.f.global(b.x),
    ...(h?.calleeNumDisplay ? { calleeNumDisplay: h.calleeNumDisplay } : {}),
    ...featuresOf(b),
    ...(h?.areaCode ? { areaCode: h.areaCode } : {}),
  };
}

function stripNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

export const AX_INTERFACES: HuaweiInterface[] = [bind, modify, query, unbind, tempCallee];
