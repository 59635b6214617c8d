// Huawei AX mode through real HTTP against a real redis-server, with the Huawei client written
// from HUAWEI.md (test/support/huawei-client.ts): bind (privateNum or areaCode + areaMatchMode),
// every field stored and answered, modify, query by subscriptionId / origNum / privateNum, unbind
// by subscriptionId or origNum + privateNum, the temporary callee reaching the routing decision,
// and the codes: 1011005 (X taken), 1016002 (A–X exists), 1016001, 1010002 naming the field,
// 1012001, 1011002, 1010040 (another mode's app); a refused request writes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/domain/route.js';
import { HuaweiClient } from '../support/huawei-client.js';
import { hasRedis } from '../support/redis.js';
import { aNo, ops, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const AX = '/rest/provision/caas/privatenumber/v1.0';
const CALLEE = '/rest/caas/privatenumber/calleenumber/v1.0';
const g = (n: string) => '+86' + n;

describe.skipIf(!hasRedis)('Huawei AX API', () => {
  let h: Harness;
  let ax: HuaweiClient;
  let axWsse: HuaweiClient;
  let other: HuaweiClient;
  let axb: HuaweiClient;
  let area: HuaweiClient;
  let base: string;

  beforeAll(async () => {
    h = await startHarness();
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    await ops(h.app, 'PUT', '/v1/pools/HWAX', { name: 'ax' });
    await ops(h.app, 'POST', '/v1/pools/HWAX/numbers', {
      numbers: [
        ...Array.from({ length: 6 }, (_, i) => ({ number: xNo(100 + i), city: '深圳', areaCode: '0755' })),
        { number: xNo(120), city: '广州' },
      ],
    });
    // area-code selection in a pool of its own (a relaxed bind may take any of its numbers)
    await ops(h.app, 'PUT', '/v1/pools/HWAXAREA', { name: 'ax areas' });
    await ops(h.app, 'POST', '/v1/pools/HWAXAREA/numbers', {
      numbers: [
        { number: xNo(110), city: '北京', areaCode: '010' },
        { number: xNo(111), city: '北京', areaCode: '10' },
        { number: xNo(112), city: '深圳', areaCode: '0755' },
        { number: xNo(113), city: '广州' },
      ],
    });
    for (const [key, mode] of [
      ['ax-app', 'AX'],
      ['ax-other', 'AX'],
      ['axb-app', 'AXB'],
      ['ax-area', 'AX'],
    ] as const) {
      const r = await ops(h.app, 'PUT', `/v1/huawei/apps/${key}`, { appSecret: `secret-of-${key}-0001`, mode, poolKey: key === 'ax-area' ? 'HWAXAREA' : 'HWAX' });
      expect(r.status).toBeLessThan(300);
    }
    ax = new HuaweiClient({ baseUrl: base, appKey: 'ax-app', appSecret: 'secret-of-ax-app-0001' });
    axWsse = new HuaweiClient({ baseUrl: base, appKey: 'ax-app', appSecret: 'secret-of-ax-app-0001', scheme: 'WSSE' });
    other = new HuaweiClient({ baseUrl: base, appKey: 'ax-other', appSecret: 'secret-of-ax-other-0001' });
    axb = new HuaweiClient({ baseUrl: base, appKey: 'axb-app', appSecret: 'secret-of-axb-app-0001' });
    area = new HuaweiClient({ baseUrl: base, appKey: 'ax-area', appSecret: 'secret-of-ax-area-0001', scheme: 'WSSE' });
  });
  afterAll(async () => h?.stop());

  const bind = (c: HuaweiClient, body: Record<string, unknown>) => c.request('POST', AX, { body });

  it('binds on the privateNum given, stores every field and answers them in +86 form', async () => {
    const r = await bind(ax, {
      origNum: g(aNo(1)),
      privateNum: g(xNo(100)),
      privateNumType: 'mobile-virtual',
      recordFlag: 'true',
      recordHintTone: '7',
      calleeNumDisplay: '0',
      privateSms: 'false',
      userData: 'order-1',
      maxDuration: 30,
      lastMinVoice: '8.wav',
      preVoice: { callerHintTone: '11', calleeHintTone: '12' },
      callDirection: 1,
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resultcode: '0', resultdesc: 'Success', origNum: g(aNo(1)), privateNum: g(xNo(100)), subscriptionId: expect.any(String) });
    const q = await ax.request('GET', AX, { query: { subscriptionId: r.body.subscriptionId } });
    expect(q.status).toBe(200);
    expect(q.body).toEqual({
      resultcode: '0',
      resultdesc: 'Success',
      subscriptionId: r.body.subscriptionId,
      origNum: g(aNo(1)),
      privateNum: g(xNo(100)),
      calleeNumDisplay: '0',
      recordFlag: 'true',
      recordHintTone: '7',
      callDirection: 1,
      maxDuration: 30,
      lastMinVoice: '8.wav',
      privateSms: 'false',
      userData: 'order-1',
      preVoice: { callerHintTone: '11', calleeHintTone: '12' },
    });
    // in the one store: callDirection 1 is xline's CONTROL_BX_DISABLE, recordFlag its recording
    const b = await h.ctx.store.get('HWAX', xNo(100), r.body.subscriptionId);
    expect(b).toMatchObject({ mode: 'AX', a: aNo(1), recording: true, callRestrict: 'CONTROL_BX_DISABLE', huawei: { appKey: 'ax-app' } });
  });

  it('picks X by areaCode (010 and 10 alike): strict only that code (none free: 1011002), "1" falls back; privateNum wins', async () => {
    const r1 = await bind(area, { origNum: aNo(2), areaCode: '010' });
    const r2 = await bind(area, { origNum: '86' + aNo(3), areaCode: '10', areaMatchMode: '0' });
    expect([r1.body.privateNum, r2.body.privateNum].sort()).toEqual([g(xNo(110)), g(xNo(111))]);
    const before = await snapshot(h.redis);
    const none = await bind(area, { origNum: aNo(4), areaCode: '010' });
    expect([none.status, none.body.resultcode]).toEqual([403, '1011002']);
    const unknownCode = await bind(area, { origNum: aNo(4), areaCode: '020', areaMatchMode: '0' });
    expect(unknownCode.body.resultcode).toBe('1011002');
    expect(await snapshot(h.redis)).toEqual(before);
    const wins = await bind(area, { origNum: aNo(5), privateNum: xNo(113), areaCode: '0755' });
    expect(wins.body.privateNum).toBe(g(xNo(113)));
    const relaxed = await bind(area, { origNum: aNo(4), areaCode: '010', areaMatchMode: '1' });
    expect(relaxed.body.resultcode).toBe('0');
    expect(relaxed.body.privateNum).toBe(g(xNo(112)));
    const stored = await h.ctx.store.get('HWAXAREA', xNo(112), relaxed.body.subscriptionId);
    expect(stored?.huawei).toMatchObject({ areaCode: '010', areaMatchMode: '1' });
  });

  it('AXB binds pick X by areaCode too (strict: 1011002 when the pool has none of that code; "1": any X)', async () => {
    const AXB = '/rest/caas/relationnumber/partners/v1.0';
    const r = await axb.request('POST', AXB, { body: { callerNum: aNo(500), calleeNum: aNo(501), areaCode: '755' } });
    expect(r.body.resultcode).toBe('0');
    expect(r.body.relationNum).toMatch(/^\+86170900001(0[0-5])$/);
    const before = await snapshot(h.redis);
    const none = await axb.request('POST', AXB, { body: { callerNum: aNo(502), calleeNum: aNo(503), areaCode: '010' } });
    expect([none.status, none.body.resultcode]).toEqual([403, '1011002']);
    expect(await snapshot(h.redis)).toEqual(before);
    const relaxed = await axb.request('POST', AXB, { body: { callerNum: aNo(502), calleeNum: aNo(503), areaCode: '010', areaMatchMode: '1' } });
    expect(relaxed.body.resultcode).toBe('0');
    // AXB bindings share their X: the AX binds below find those X taken by another mode, so they go
    for (const sid of [r.body.subscriptionId, relaxed.body.subscriptionId]) {
      expect((await axb.request('DELETE', AXB, { query: { subscriptionId: sid } })).body.resultcode).toBe('0');
    }
  });

  it('refuses a taken X (1011005), an existing A–X (1016002), another pool\'s X (1012001), writing nothing', async () => {
    const before = await snapshot(h.redis);
    const taken = await bind(ax, { origNum: aNo(6), privateNum: g(xNo(100)) });
    expect([taken.status, taken.body.resultcode]).toEqual([403, '1011005']);
    const again = await bind(ax, { origNum: g(aNo(1)), privateNum: g(xNo(100)) });
    expect([again.status, again.body.resultcode]).toEqual([403, '1016002']);
    const foreign = await bind(ax, { origNum: aNo(6), privateNum: xNo(999) });
    expect(foreign.body.resultcode).toBe('1012001');
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it.each([
    [{}, 'origNum'],
    [{ origNum: 'abc' }, 'origNum'],
    [{ origNum: aNo(7), privateNum: '12' }, 'privateNum'],
    [{ origNum: aNo(7), areaCode: '07a5' }, 'areaCode'],
    [{ origNum: aNo(7), areaMatchMode: '2' }, 'areaMatchMode'],
    [{ origNum: aNo(7), recordFlag: 'yes' }, 'recordFlag'],
    [{ origNum: aNo(7), recordHintTone: 'no-such-tone' }, 'recordHintTone'],
    [{ origNum: aNo(7), lastMinVoice: 'no-such-tone' }, 'lastMinVoice'],
    [{ origNum: aNo(7), preVoice: { callerHintTone: 'no-such-tone' } }, 'preVoice.callerHintTone'],
    [{ origNum: aNo(7), preVoice: { calleeHintTone: 'nope' } }, 'preVoice.calleeHintTone'],
    [{ origNum: aNo(7), preVoice: 'x' }, 'preVoice'],
    [{ origNum: aNo(7), maxDuration: 1441 }, 'maxDuration'],
    [{ origNum: aNo(7), privateSms: 1 }, 'privateSms'],
    [{ origNum: aNo(7), userData: 'a{b}' }, 'userData'],
    [{ origNum: aNo(7), userData: 'x'.repeat(257) }, 'userData'],
    [{ origNum: aNo(7), calleeNumDisplay: '2' }, 'calleeNumDisplay'],
    [{ origNum: aNo(7), callDirection: 3 }, 'callDirection'],
  ])('bind %j → 403 1010002 Invalid request.%s, nothing written', async (body, field) => {
    const before = await snapshot(h.redis);
    const r = await bind(ax, body);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ resultcode: '1010002', resultdesc: `Invalid request.${field}` });
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('an app of another mode gets 1010040 on every AX interface, writing nothing', async () => {
    const before = await snapshot(h.redis);
    for (const [method, path] of [
      ['POST', AX],
      ['PUT', AX],
      ['GET', AX],
      ['DELETE', AX],
      ['PUT', CALLEE],
    ] as const) {
      const r = await axb.request(method, path, method === 'GET' || method === 'DELETE' ? { query: { subscriptionId: '1' } } : { body: { origNum: aNo(8), privateNum: xNo(101), calleeNum: aNo(9) } });
      expect([r.status, r.body.resultcode], `${method} ${path}`).toEqual([403, '1010040']);
    }
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('modifies by subscriptionId or origNum + privateNum; absent fields stay; callDirection 0 clears', async () => {
    const r = await bind(ax, { origNum: aNo(10), privateNum: xNo(101), userData: 'u1', maxDuration: 10, callDirection: 2 });
    const sid = r.body.subscriptionId;
    const m1 = await ax.request('PUT', AX, { body: { subscriptionId: sid, userData: 'u2', recordFlag: true, preVoice: { calleeHintTone: '9' } } });
    expect(m1.status).toBe(200);
    expect(m1.body).toEqual({ resultcode: '0', resultdesc: 'Success' });
    const m2 = await axWsse.request('PUT', AX, { body: { origNum: g(aNo(10)), privateNum: g(xNo(101)), callDirection: 0, calleeNumDisplay: '1', privateSms: true } });
    expect(m2.body.resultcode).toBe('0');
    const q = await ax.request('GET', AX, { rawQuery: `origNum=+86${aNo(10)}` });
    expect(q.body).toMatchObject({ subscriptionId: sid, userData: 'u2', maxDuration: 10, recordFlag: 'true', callDirection: 0, calleeNumDisplay: '1', privateSms: 'true', preVoice: { calleeHintTone: '9' } });
    expect(q.body.privateNumList).toHaveLength(1);
    // a tone given as "" is removed
    expect((await ax.request('PUT', AX, { body: { subscriptionId: sid, preVoice: { calleeHintTone: '' } } })).body.resultcode).toBe('0');
    expect((await ax.request('GET', AX, { query: { subscriptionId: sid } })).body.preVoice).toBeUndefined();
    // another app's binding, an unknown one: 1016001, nothing written
    const before = await snapshot(h.redis);
    const foreign = await other.request('PUT', AX, { body: { subscriptionId: sid, userData: 'x' } });
    expect([foreign.status, foreign.body.resultcode]).toEqual([404, '1016001']);
    const unknown = await ax.request('PUT', AX, { body: { origNum: aNo(11), privateNum: xNo(101), userData: 'x' } });
    expect(unknown.body.resultcode).toBe('1016001');
    const bad = await ax.request('PUT', AX, { body: { subscriptionId: sid, maxDuration: -1 } });
    expect(bad.body).toEqual({ resultcode: '1010002', resultdesc: 'Invalid request.maxDuration' });
    const none = await ax.request('PUT', AX, { body: { userData: 'x' } });
    expect(none.body).toEqual({ resultcode: '1010002', resultdesc: 'Invalid request.subscriptionId' });
    const halfOnly = await ax.request('PUT', AX, { body: { origNum: aNo(10), userData: 'x' } });
    expect(halfOnly.body.resultdesc).toBe('Invalid request.privateNum');
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('queries by origNum (every X of that A, this app only), by privateNum; subscriptionId wins; none → 1016001', async () => {
    const a = aNo(20);
    const b1 = await bind(ax, { origNum: a, privateNum: xNo(102) });
    const b2 = await bind(ax, { origNum: a, privateNum: xNo(103) });
    const q = await ax.request('GET', AX, { query: { origNum: g(a) } });
    expect(q.body.privateNumList.map((i: { subscriptionId: string }) => i.subscriptionId)).toEqual([b1.body.subscriptionId, b2.body.subscriptionId]);
    expect(q.body.subscriptionId).toBe(b1.body.subscriptionId);
    const byX = await ax.request('GET', AX, { query: { privateNum: g(xNo(103)) } });
    expect(byX.body).toMatchObject({ subscriptionId: b2.body.subscriptionId, origNum: g(a), privateNum: g(xNo(103)) });
    const wins = await ax.request('GET', AX, { query: { subscriptionId: b2.body.subscriptionId, origNum: g(aNo(1)) } });
    expect(wins.body.subscriptionId).toBe(b2.body.subscriptionId);
    expect((await other.request('GET', AX, { query: { origNum: g(a) } })).body.resultcode).toBe('1016001');
    expect((await ax.request('GET', AX, { query: { origNum: aNo(21) } })).body.resultcode).toBe('1016001');
    expect((await ax.request('GET', AX, { query: { subscriptionId: 'nope' } })).body.resultcode).toBe('1016001');
    expect((await ax.request('GET', AX, {})).body).toEqual({ resultcode: '1010002', resultdesc: 'Invalid request.subscriptionId' });
  });

  it('the temporary callee: A dialling X reaches it while it lasts; others reach A; bad ones refused', async () => {
    const a = aNo(30);
    const r = await bind(ax, { origNum: a, privateNum: xNo(104) });
    const x = xNo(104);
    const route = async (caller: string) => decide({ caller, x }, await h.ctx.store.lookup(caller, x));
    expect(await route(a)).toMatchObject({ kind: 'refuse', reason: 'self-call' });
    const set = await ax.request('PUT', CALLEE, { body: { subscriptionId: r.body.subscriptionId, calleeNum: g(aNo(31)), duration: 60, userData: 'tc' } });
    expect(set.body).toEqual({ resultcode: '0', resultdesc: 'Success' });
    expect(await route(a)).toMatchObject({ kind: 'bridge', target: aNo(31), callType: 0 });
    expect(await route(aNo(32))).toMatchObject({ kind: 'bridge', target: a, callType: 1 });
    // overwritten by origNum + privateNum; default duration 60 s
    const set2 = await axWsse.request('PUT', CALLEE, { body: { origNum: g(a), privateNum: g(x), calleeNum: aNo(33) } });
    expect(set2.body.resultcode).toBe('0');
    expect(await route(a)).toMatchObject({ kind: 'bridge', target: aNo(33) });
    const stored = await h.ctx.store.get('HWAX', x, r.body.subscriptionId);
    expect(stored!.huawei!.tempCallee!.expiresAt - stored!.huawei!.modifiedAt!).toBeLessThanOrEqual(61);
    expect(stored!.huawei!.tempCallee).toMatchObject({ number: aNo(33) });
    // a 1-second callee is gone a second later (by Redis's clock, as the route judges)
    await ax.request('PUT', CALLEE, { body: { subscriptionId: r.body.subscriptionId, calleeNum: aNo(34), duration: 1 } });
    expect(await route(a)).toMatchObject({ kind: 'bridge', target: aNo(34) });
    const until = stored!.huawei!.modifiedAt! + 2;
    while (Math.floor(Date.now() / 1000) <= until) await new Promise((res) => setTimeout(res, 100));
    expect(await route(a)).toMatchObject({ kind: 'refuse', reason: 'self-call' });
    const before = await snapshot(h.redis);
    for (const [body, field] of [
      [{ subscriptionId: r.body.subscriptionId }, 'calleeNum'],
      [{ subscriptionId: r.body.subscriptionId, calleeNum: a }, 'calleeNum'],
      [{ subscriptionId: r.body.subscriptionId, calleeNum: aNo(35), duration: 0 }, 'duration'],
      [{ subscriptionId: r.body.subscriptionId, calleeNum: aNo(35), duration: 259201 }, 'duration'],
      [{ subscriptionId: r.body.subscriptionId, calleeNum: aNo(35), userData: '{x}' }, 'userData'],
      [{ calleeNum: aNo(35) }, 'subscriptionId'],
    ] as const) {
      const bad = await ax.request('PUT', CALLEE, { body });
      expect(bad.body, JSON.stringify(body)).toEqual({ resultcode: '1010002', resultdesc: `Invalid request.${field}` });
    }
    const foreign = await other.request('PUT', CALLEE, { body: { subscriptionId: r.body.subscriptionId, calleeNum: aNo(35) } });
    expect(foreign.body.resultcode).toBe('1016001');
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('unbinds by subscriptionId or origNum + privateNum; X is free again; a second unbind is 1016001', async () => {
    const r1 = await bind(ax, { origNum: aNo(40), privateNum: xNo(105) });
    const u1 = await ax.request('DELETE', AX, { query: { subscriptionId: r1.body.subscriptionId } });
    expect(u1.body).toEqual({ resultcode: '0', resultdesc: 'Success' });
    expect((await ax.request('DELETE', AX, { query: { subscriptionId: r1.body.subscriptionId } })).body.resultcode).toBe('1016001');
    const r2 = await bind(ax, { origNum: aNo(41), privateNum: xNo(105) });
    expect(r2.body.resultcode).toBe('0');
    const before = await snapshot(h.redis);
    expect((await other.request('DELETE', AX, { query: { origNum: g(aNo(41)), privateNum: g(xNo(105)) } })).body.resultcode).toBe('1016001');
    expect(await snapshot(h.redis)).toEqual(before);
    const u2 = await ax.request('DELETE', AX, { rawQuery: `origNum=%2B86${aNo(41)}&privateNum=+86${xNo(105)}` });
    expect(u2.body.resultcode).toBe('0');
    expect(await h.ctx.store.lookup(aNo(42), xNo(105))).toEqual({ kind: 'none' });
  });
});
