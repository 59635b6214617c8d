// The Huawei AXB interface end to end: the suite's own Huawei client (test/support/huawei-client.ts)
// over real HTTP to a real xline admin app on a real redis-server, and again on a real 3-master
// Redis Cluster. Both signing schemes, every auth code of HUAWEI.md §1, every field of §3.1 and every
// code of §4 that AXB can answer; refusals are proved to write nothing (store snapshots); one store
// with the dypls dialect (no double booking, each sees the other's bindings); callDirection routes
// as xline's call restriction.
import type { FastifyInstance } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminApp } from '../../src/api/server.js';
import { connectRedis, waitReady } from '../../src/store/redis-connection.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import { hasRedis } from '../support/redis.js';
import { decide } from '../../src/domain/route.js';
import { NEVER_EXPIRES } from '../../src/api/huawei/axb.js';
import { backends } from '../support/store-backends.js';
import { AXB_PATH, HuaweiClient, hwCreated, type HwAnswer } from '../support/huawei-client.js';
import { aNo, bNo, expiration, makePool, ops, rpc, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const SECRET = 'axb-app-secret-0123456789';

/**
 * A snapshot once the hints a previous write sends after its answer (the sweep's due index: a
 * ZADD on another Cluster node) have landed: two in a row that agree.
 */
async function settled(h: Harness): Promise<Record<string, string>> {
  let prev = await snapshot(h.redis);
  for (let i = 0; i < 20; i++) {
    const next = await snapshot(h.redis);
    if (JSON.stringify(next) === JSON.stringify(prev)) return next;
    prev = next;
  }
  return prev;
}
const g = (n: string) => '+86' + n;

describe.each(backends.filter((b) => b.available))('Huawei AXB on $name', (kind) => {
  let h: Harness;
  let base: string;
  let hw: HuaweiClient;
  let wsse: HuaweiClient;
  const POOL = 'HW_AXB';

  beforeAll(async () => {
    h = await startHarness({}, {}, { backend: kind.name });
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    await makePool(h.app, POOL, 6, 0, '杭州');
    await makePool(h.app, 'HW_ONE', 1, 50, '杭州');
    await makePool(h.app, 'HW_OTHER', 2, 60, '杭州');
    await makePool(h.app, 'HW_Q', 1, 70, '杭州');
    const put = async (appKey: string, mode: string, poolKey: string) =>
      expect((await ops(h.app, 'PUT', `/v1/huawei/apps/${appKey}`, { appSecret: SECRET, mode, poolKey })).status).toBe(201);
    await put('axbapp', 'AXB', POOL);
    await put('oneapp', 'AXB', 'HW_ONE');
    await put('axapp', 'AX', POOL);
    await put('qapp', 'AXB', 'HW_Q');
    hw = new HuaweiClient({ baseUrl: base, appKey: 'axbapp', appSecret: SECRET });
    wsse = new HuaweiClient({ baseUrl: base, appKey: 'axbapp', appSecret: SECRET, scheme: 'WSSE' });
  }, 120_000);
  afterAll(async () => h?.stop());

  /** Expects a Huawei error answer and an unchanged store. */
  async function refused(fn: () => Promise<HwAnswer>, code: string, status: number, desc?: string | RegExp) {
    const before = await settled(h);
    const r = await fn();
    expect(r.body.resultcode, JSON.stringify(r.body)).toBe(code);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(typeof r.body.resultdesc).toBe('string');
    if (desc !== undefined) expect(r.body.resultdesc).toMatch(desc);
    expect(await snapshot(h.redis)).toEqual(before);
    return r;
  }

  const ok = (r: HwAnswer) => {
    expect(r.body.resultcode, JSON.stringify(r.body)).toBe('0');
    expect(r.body.resultdesc).toBe('Success');
    expect(r.status).toBe(200);
    return r.body;
  };

  describe('authentication over HTTP', () => {
    it('AKSK and legacy WSSE (raw or hex-string digest) both authenticate a bind', async () => {
      ok(await hw.axb.bind({ callerNum: g(aNo(1)), calleeNum: g(bNo(1)) }));
      ok(await wsse.axb.bind({ callerNum: g(aNo(2)), calleeNum: g(bNo(2)) }));
      ok(await wsse.axb.bind({ callerNum: g(aNo(3)), calleeNum: g(bNo(3)) }, { wsseHex: true, spacedAttributes: true }));
    });

    it('every missing or wrong part answers its own code and status, writing nothing', async () => {
      const body = { callerNum: g(aNo(9)), calleeNum: g(bNo(9)) };
      const cases: Array<[Parameters<HuaweiClient['headers']>[0], string, number]> = [
        [{ authorization: null }, '1023006', 400],
        [{ authorization: 'Bearer abc' }, '1023013', 400],
        [{ authorization: 'AKSK profile="UsernameToken",type="Appkey"' }, '1023007', 400],
        [{ authorization: 'AKSK realm="SDP",type="Appkey"' }, '1023008', 400],
        [{ authorization: 'AKSK realm="SDP",profile="UsernameToken"' }, '1023012', 400],
        [{ authorization: 'AKSK realm="X",profile="UsernameToken",type="Appkey"' }, '1023009', 400],
        [{ authorization: 'AKSK realm="SDP",profile="P",type="Appkey"' }, '1023010', 400],
        [{ authorization: 'AKSK realm="SDP",profile="UsernameToken",type="T"' }, '1023011', 400],
        [{ token: null }, '1023033', 400],
        [{ appKey: null }, '1023034', 400],
        [{ nonce: null }, '1023035', 400],
        [{ created: null }, '1023036', 400],
        [{ digest: null }, '1023037', 400],
        [{ scheme: 'WSSE', token: null }, '1023026', 400],
        [{ scheme: 'WSSE', appKey: null }, '1023027', 400],
        [{ scheme: 'WSSE', nonce: null }, '1023028', 400],
        [{ scheme: 'WSSE', created: null }, '1023029', 400],
        [{ scheme: 'WSSE', digest: null }, '1023030', 400],
        [{ digest: 'AAAA' }, '1010010', 401],
        [{ appSecret: SECRET + 'x' }, '1010010', 401],
        [{ scheme: 'WSSE', appSecret: 'wrong-secret-000000000' }, '1010010', 401],
        [{ created: hwCreated(-16 * 60_000) }, '1010013', 401],
        [{ created: hwCreated(16 * 60_000) }, '1010013', 401],
        [{ created: '2026-13-01T00:00:00Z' }, '1010013', 401],
        [{ appKey: 'nosuchapp' }, '1010003', 401],
      ];
      for (const [sign, code, status] of cases) await refused(() => hw.axb.bind(body, sign), code, status);
      // within the window either way
      const early = ok(await hw.axb.bind(body, { created: hwCreated(-14 * 60_000) }));
      ok(await hw.axb.unbind({ subscriptionId: early.subscriptionId }));
      const late = ok(await wsse.axb.bind(body, { created: hwCreated(14 * 60_000) }));
      ok(await hw.axb.unbind({ subscriptionId: late.subscriptionId }));
    });

    it('a Nonce is used once: a replayed request is refused 1010010 (bind, query, unbind), nothing written', async () => {
      const nonce = 'replay' + Date.now();
      const created = hwCreated();
      const body = { callerNum: aNo(10), calleeNum: bNo(10) };
      const first = ok(await hw.axb.bind(body, { nonce, created }));
      await refused(() => hw.axb.bind(body, { nonce, created }), '1010010', 401, /Nonce/);
      // a different body under the same nonce too
      await refused(() => hw.axb.bind({ callerNum: aNo(11), calleeNum: bNo(11) }, { nonce, created }), '1010010', 401);
      const qn = 'q' + Date.now();
      ok(await hw.axb.query({ subscriptionId: first.subscriptionId }, { nonce: qn, created }));
      await refused(() => hw.axb.query({ subscriptionId: first.subscriptionId }, { nonce: qn, created }), '1010010', 401);
      // a refused bind (bad field) uses its nonce all the same
      const bn = 'b' + Date.now();
      await refused(() => hw.axb.bind({ callerNum: 'x' }, { nonce: bn }), '1010002', 403);
      await refused(() => hw.axb.bind(body, { nonce: bn }), '1010010', 401);
      // the same nonce under another app is that app's own
      ok(await new HuaweiClient({ baseUrl: base, appKey: 'oneapp', appSecret: SECRET }).axb.query({ relationNum: xNo(50) }, { nonce: qn }));
    });

    it('an app of another mode gets 1010040; a deleted app 1010003', async () => {
      const ax = new HuaweiClient({ baseUrl: base, appKey: 'axapp', appSecret: SECRET });
      await refused(() => ax.axb.bind({ callerNum: aNo(12), calleeNum: bNo(12) }), '1010040', 403);
      await refused(() => ax.axb.query({ relationNum: xNo(0) }), '1010040', 403);
      await ops(h.app, 'PUT', '/v1/huawei/apps/tmpapp', { appSecret: SECRET, mode: 'AXB', poolKey: POOL });
      const tmp = new HuaweiClient({ baseUrl: base, appKey: 'tmpapp', appSecret: SECRET });
      ok(await tmp.axb.query({ relationNum: xNo(0) }));
      expect((await h.app.inject({ method: 'DELETE', url: '/v1/huawei/apps/tmpapp', headers: { authorization: 'Bearer ops-token-for-tests' } })).statusCode).toBe(204);
      await refused(() => tmp.axb.query({ relationNum: xNo(0) }), '1010003', 401);
    });
  });

  describe('bind', () => {
    it('stores every field of §3.1 and answers in +86 form', async () => {
      const before = Math.floor(Date.now() / 1000);
      const r = ok(
        await hw.axb.bind({
          callerNum: '86' + aNo(20),
          relationNum: xNo(5),
          calleeNum: bNo(20),
          areaCode: '0571',
          areaMatchMode: '1',
          callDirection: 1,
          duration: 3600,
          recordFlag: 'true',
          recordHintTone: 't1',
          maxDuration: 30,
          lastMinVoice: '7',
          privateSms: 'false',
          preVoice: { callerHintTone: 't1.wav', calleeHintTone: '8' },
          userData: 'order=42^x',
        }),
      );
      expect(r).toMatchObject({ relationNum: g(xNo(5)), callerNum: g(aNo(20)), calleeNum: g(bNo(20)), callDirection: 1, duration: 3600, maxDuration: 30 });
      expect(r.subscriptionId).toMatch(/^\d{1,64}$/);
      const b = await h.ctx.store.get(POOL, '', r.subscriptionId);
      expect(b).toMatchObject({ mode: 'AXB', x: xNo(5), a: aNo(20), b: bNo(20), recording: true, callRestrict: 'CONTROL_BX_DISABLE' });
      expect(b!.expiresAt).toBeGreaterThanOrEqual(before + 3600);
      expect(b!.expiresAt).toBeLessThanOrEqual(before + 3602);
      expect(b!.huawei).toEqual({
        appKey: 'axbapp',
        duration: 3600,
        maxDuration: 30,
        lastMinVoice: '7',
        recordHintTone: 't1',
        privateSms: false,
        callerHintTone: 't1.wav',
        calleeHintTone: '8',
        userData: 'order=42^x',
        areaCode: '0571',
        areaMatchMode: '1',
      });
    });

    it('duration 0 or absent never expires; JSON booleans, numeric strings and a national relationNum are read', async () => {
      const r = ok(await hw.axb.bind({ callerNum: aNo(21), calleeNum: '+86 ' + bNo(21), duration: 0, recordFlag: false, callDirection: '2', privateSms: true }));
      const b = await h.ctx.store.get(POOL, '', r.subscriptionId);
      expect(b).toMatchObject({ expiresAt: NEVER_EXPIRES, recording: false, callRestrict: 'CONTROL_AX_DISABLE' });
      expect(b!.huawei).toEqual({ appKey: 'axbapp', duration: 0, privateSms: true });
      const r2 = ok(await hw.axb.bind({ callerNum: aNo(22), calleeNum: bNo(22) }));
      expect(r2).toMatchObject({ callDirection: 0, duration: 0, maxDuration: 0 });
      expect((await h.ctx.store.get(POOL, '', r2.subscriptionId))!.expiresAt).toBe(NEVER_EXPIRES);
    });

    it('a bad field is 403 1010002 naming it, and writes nothing', async () => {
      const base0 = { callerNum: aNo(30), calleeNum: bNo(30) };
      const bad: Array<[Record<string, unknown>, string]> = [
        [{ calleeNum: bNo(30) }, 'callerNum'],
        [{ callerNum: aNo(30) }, 'calleeNum'],
        [{ ...base0, callerNum: '12' }, 'callerNum'],
        [{ ...base0, callerNum: 13800000000 }, 'callerNum'],
        [{ ...base0, calleeNum: 'abc' }, 'calleeNum'],
        [{ ...base0, calleeNum: aNo(30) }, 'calleeNum'],
        [{ ...base0, relationNum: '1' }, 'relationNum'],
        [{ ...base0, callDirection: 3 }, 'callDirection'],
        [{ ...base0, callDirection: 1.5 }, 'callDirection'],
        [{ ...base0, duration: -1 }, 'duration'],
        [{ ...base0, duration: 7_776_001 }, 'duration'],
        [{ ...base0, maxDuration: 1441 }, 'maxDuration'],
        [{ ...base0, recordFlag: 'yes' }, 'recordFlag'],
        [{ ...base0, privateSms: 1 }, 'privateSms'],
        [{ ...base0, recordHintTone: 'nosuchtone' }, 'recordHintTone'],
        [{ ...base0, lastMinVoice: 'nosuch.wav' }, 'lastMinVoice'],
        [{ ...base0, preVoice: { callerHintTone: 'nosuch' } }, 'preVoice.callerHintTone'],
        [{ ...base0, preVoice: { calleeHintTone: '../etc' } }, 'preVoice.calleeHintTone'],
        [{ ...base0, preVoice: 'x' }, 'preVoice'],
        [{ ...base0, userData: '{"a":1}' }, 'userData'],
        [{ ...base0, userData: 'x'.repeat(257) }, 'userData'],
        [{ ...base0, userData: '' }, 'userData'],
        [{ ...base0, userData: 'a\u0001b' }, 'userData'],
        [{ ...base0, areaCode: 'abc' }, 'areaCode'],
        [{ ...base0, areaMatchMode: '2' }, 'areaMatchMode'],
      ];
      for (const [body, field] of bad) await refused(() => hw.axb.bind(body), '1010002', 403, `Invalid request.${field}`);
      await refused(() => hw.request('POST', AXB_PATH, { rawBody: '{"callerNum":' }), '1010002', 403);
      await refused(() => hw.request('POST', AXB_PATH, { body: [1, 2] }), '1010002', 403);
      // a body over 64 KiB: 413, in Huawei's format
      const big = await hw.request('POST', AXB_PATH, { body: { ...base0, userData: 'x'.repeat(70_000) } });
      expect(big.status).toBe(413);
      expect(big.body.resultcode).toBe('1010002');
      // a text/plain body is read as JSON all the same (lenient)
      ok(await hw.request('POST', AXB_PATH, { rawBody: JSON.stringify(base0), contentType: 'text/plain' }));
    });

    it('1012001 X not in the app pool, 1012010 A or B already on X, 1011002 no free X: nothing written', async () => {
      await refused(() => hw.axb.bind({ callerNum: aNo(40), calleeNum: bNo(40), relationNum: xNo(60) }), '1012001', 403);
      await refused(() => hw.axb.bind({ callerNum: aNo(40), calleeNum: bNo(40), relationNum: '13912345678' }), '1012001', 403);
      ok(await hw.axb.bind({ callerNum: aNo(41), calleeNum: bNo(41), relationNum: xNo(4) }));
      await refused(() => hw.axb.bind({ callerNum: aNo(41), calleeNum: bNo(42), relationNum: xNo(4) }), '1012010', 403);
      await refused(() => hw.axb.bind({ callerNum: aNo(43), calleeNum: bNo(41), relationNum: xNo(4) }), '1012010', 403);
      // B of one binding as A of another on the same X
      await refused(() => hw.axb.bind({ callerNum: bNo(41), calleeNum: bNo(44), relationNum: xNo(4) }), '1012010', 403);
      const one = new HuaweiClient({ baseUrl: base, appKey: 'oneapp', appSecret: SECRET });
      ok(await one.axb.bind({ callerNum: aNo(45), calleeNum: bNo(45) }));
      await refused(() => one.axb.bind({ callerNum: aNo(45), calleeNum: bNo(46) }), '1011002', 403);
    });
  });

  describe('one store with the dypls dialect', () => {
    it('an X bound through one dialect is not double-booked through the other; each sees the other', async () => {
      const d = await rpc(h.app, 'BindAxb', { PoolKey: POOL, PhoneNoA: aNo(50), PhoneNoB: bNo(50), PhoneNoX: xNo(3), Expiration: expiration(3600) });
      expect(d.body.Code).toBe('OK');
      await refused(() => hw.axb.bind({ callerNum: aNo(50), calleeNum: bNo(51), relationNum: xNo(3) }), '1012010', 403);
      const r = ok(await hw.axb.bind({ callerNum: aNo(52), calleeNum: bNo(52), relationNum: xNo(3) }));
      const back = await rpc(h.app, 'BindAxb', { PoolKey: POOL, PhoneNoA: bNo(52), PhoneNoB: bNo(53), PhoneNoX: xNo(3), Expiration: expiration(3600) });
      expect(back.body.Code).toBe('isv.BIND_CONFLICT');
      const detail = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId: r.subscriptionId, PhoneNoX: xNo(3) });
      expect(detail.body.SecretBindDetailDTO).toMatchObject({ PhoneNoA: aNo(52), PhoneNoB: bNo(52), PhoneNoX: xNo(3), Status: 1 });
      const q = ok(await hw.axb.query({ subscriptionId: d.body.SecretBindDTO.SubsId }));
      expect(q.relationNumList[0]).toMatchObject({ callerNum: g(aNo(50)), calleeNum: g(bNo(50)), relationNum: g(xNo(3)), callDirection: 0 });
    });
  });

  describe('modify', () => {
    it('changes only the fields given; duration restarts the timer; 0 clears the direction', async () => {
      const r = ok(await hw.axb.bind({ callerNum: aNo(60), calleeNum: bNo(60), relationNum: xNo(2), callDirection: 2, duration: 600, userData: 'u1', preVoice: { callerHintTone: 't1' } }));
      const t0 = Math.floor(Date.now() / 1000);
      ok(await hw.axb.modify({ subscriptionId: r.subscriptionId, calleeNum: g(bNo(61)), duration: 7200, maxDuration: 10, lastMinVoice: '9', preVoice: { calleeHintTone: '8' }, recordFlag: true, recordHintTone: '7' }));
      let b = await h.ctx.store.get(POOL, '', r.subscriptionId);
      expect(b).toMatchObject({ a: aNo(60), b: bNo(61), recording: true, callRestrict: 'CONTROL_AX_DISABLE' });
      expect(b!.expiresAt).toBeGreaterThanOrEqual(t0 + 7200);
      expect(b!.huawei).toMatchObject({ appKey: 'axbapp', duration: 7200, maxDuration: 10, lastMinVoice: '9', callerHintTone: 't1', calleeHintTone: '8', recordHintTone: '7', userData: 'u1' });
      expect(b!.huawei!.modifiedAt).toBeGreaterThanOrEqual(t0);
      ok(await hw.axb.modify({ subscriptionId: r.subscriptionId, callDirection: 0, callerNum: aNo(62), preVoice: { callerHintTone: '' }, userData: 'u2', duration: 0 }));
      b = await h.ctx.store.get(POOL, '', r.subscriptionId);
      expect(b).toMatchObject({ a: aNo(62), b: bNo(61), expiresAt: NEVER_EXPIRES });
      expect(b!.callRestrict).toBeUndefined();
      expect(b!.huawei!.callerHintTone).toBeUndefined();
      expect(b!.huawei).toMatchObject({ userData: 'u2', duration: 0, calleeHintTone: '8' });
      // the old A is free on that X again, the new one is taken
      ok(await hw.axb.bind({ callerNum: aNo(60), calleeNum: bNo(63), relationNum: xNo(2) }));
      await refused(() => hw.axb.bind({ callerNum: aNo(62), calleeNum: bNo(64), relationNum: xNo(2) }), '1012010', 403);
    });

    it('refusals: unknown or foreign subscriptionId 1016001, A/B taken 1012010, bad fields 1010002 — nothing written', async () => {
      const r = ok(await hw.axb.bind({ callerNum: aNo(70), calleeNum: bNo(70), relationNum: xNo(1) }));
      ok(await hw.axb.bind({ callerNum: aNo(71), calleeNum: bNo(71), relationNum: xNo(1) }));
      await refused(() => hw.axb.modify({ subscriptionId: xNo(1) + '000999999', userData: 'x' }), '1016001', 404);
      await refused(() => hw.axb.modify({ subscriptionId: 'nope', userData: 'x' }), '1016001', 404);
      const other = await rpc(h.app, 'BindAxb', { PoolKey: 'HW_OTHER', PhoneNoA: aNo(72), PhoneNoB: bNo(72), Expiration: expiration(3600) });
      await refused(() => hw.axb.modify({ subscriptionId: other.body.SecretBindDTO.SubsId, userData: 'x' }), '1016001', 404);
      await refused(() => hw.axb.modify({ subscriptionId: r.subscriptionId, callerNum: aNo(71) }), '1012010', 403);
      await refused(() => hw.axb.modify({ subscriptionId: r.subscriptionId, calleeNum: bNo(71) }), '1012010', 403);
      await refused(() => hw.axb.modify({ subscriptionId: r.subscriptionId, calleeNum: aNo(70) }), '1010002', 403, 'Invalid request.calleeNum');
      await refused(() => hw.axb.modify({ userData: 'x' }), '1010002', 403, 'Invalid request.subscriptionId');
      await refused(() => hw.axb.modify({ subscriptionId: r.subscriptionId, maxDuration: 2000 }), '1010002', 403, 'Invalid request.maxDuration');
      await refused(() => hw.axb.modify({ subscriptionId: r.subscriptionId, preVoice: { calleeHintTone: 'nosuch' } }), '1010002', 403, 'Invalid request.preVoice.calleeHintTone');
      await refused(() => hw.axb.modify({ subscriptionId: r.subscriptionId, recordHintTone: 'nosuch' }), '1010002', 403, 'Invalid request.recordHintTone');
    });

    it('relationNum instead of subscriptionId when X carries one binding (lenient)', async () => {
      await hw.axb.unbind({ relationNum: xNo(0) });
      const r = ok(await hw.axb.bind({ callerNum: aNo(73), calleeNum: bNo(73), relationNum: xNo(0) }));
      ok(await hw.axb.modify({ relationNum: g(xNo(0)), userData: 'byX' }));
      expect((await h.ctx.store.get(POOL, '', r.subscriptionId))!.huawei!.userData).toBe('byX');
    });
  });

  describe('query and unbind', () => {
    // an app whose pool has one X, so nothing else lands there
    const X = () => xNo(70);
    let q: HuaweiClient;
    beforeAll(async () => {
      q = new HuaweiClient({ baseUrl: base, appKey: 'qapp', appSecret: SECRET });
      for (let i = 0; i < 14; i++) ok(await q.axb.bind({ callerNum: aNo(100 + i), calleeNum: bNo(100 + i), relationNum: X(), duration: 3600 + i }));
    });

    it('pages the bindings of an X: totalCount, pageIndex, pageSize (10-100, else 50)', async () => {
      const p1 = ok(await q.axb.query({ relationNum: g(X()), pageSize: 10 }));
      expect(p1).toMatchObject({ app_key: 'qapp', totalCount: 14, pageIndex: 1, pageSize: 10 });
      expect(p1.relationNumList).toHaveLength(10);
      const p2 = ok(await q.axb.query({ relationNum: g(X()), pageSize: 10, pageIndex: 2 }));
      expect(p2.relationNumList).toHaveLength(4);
      const ids = [...p1.relationNumList, ...p2.relationNumList].map((i: { subscriptionId: string }) => i.subscriptionId);
      expect(new Set(ids).size).toBe(14);
      const all = ok(await q.axb.query({ relationNum: g(X()), pageSize: 5 }));
      expect(all).toMatchObject({ pageSize: 50, totalCount: 14 });
      expect(all.relationNumList).toHaveLength(14);
      const item = all.relationNumList.find((i: { callerNum: string }) => i.callerNum === g(aNo(100)));
      expect(item).toMatchObject({ relationNum: g(X()), calleeNum: g(bNo(100)), callDirection: 0, duration: 3600, maxDuration: 0, recordFlag: 'false' });
      expect(item.subscribeTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(ok(await q.axb.query({ relationNum: g(X()), pageIndex: 9 })).relationNumList).toEqual([]);
      await refused(() => q.axb.query({ relationNum: g(X()), pageIndex: 0 }), '1010002', 403, 'Invalid request.pageIndex');
    });

    it('by A+X, B+X, A+X+B; + as %2B or a literal + (a space); subscriptionId wins', async () => {
      const byA = ok(await q.axb.query({ relationNum: g(X()), callerNum: g(aNo(101)) }));
      expect(byA.totalCount).toBe(1);
      expect(byA.relationNumList[0]).toMatchObject({ callerNum: g(aNo(101)), calleeNum: g(bNo(101)), duration: 3601 });
      expect(ok(await q.axb.query({ relationNum: X(), calleeNum: bNo(102) })).relationNumList[0].callerNum).toBe(g(aNo(102)));
      expect(ok(await q.axb.query({ relationNum: X(), callerNum: aNo(103), calleeNum: bNo(103) })).totalCount).toBe(1);
      const lit = ok(await q.request('GET', AXB_PATH, { rawQuery: `relationNum=+86${X()}&callerNum=+86${aNo(104)}` }));
      expect(lit.relationNumList[0].calleeNum).toBe(g(bNo(104)));
      const sub = byA.relationNumList[0].subscriptionId;
      const s = ok(await q.axb.query({ subscriptionId: sub, relationNum: xNo(5) }));
      expect(s.relationNumList).toHaveLength(1);
      expect(s.relationNumList[0].subscriptionId).toBe(sub);
    });

    it('refusals: pair not bound 1016001, X not the app pool 1012001, neither given 1010002, unknown subscriptionId 1016001', async () => {
      await refused(() => q.axb.query({ relationNum: X(), callerNum: aNo(101), calleeNum: bNo(102) }), '1016001', 404);
      await refused(() => q.axb.query({ relationNum: X(), callerNum: aNo(999) }), '1016001', 404);
      await refused(() => q.axb.query({ relationNum: xNo(60) }), '1012001', 403);
      await refused(() => q.axb.query({}), '1010002', 403, 'Invalid request.relationNum');
      await refused(() => q.axb.query({ subscriptionId: X() + '000888888' }), '1016001', 404);
    });

    it('unbinds one by subscriptionId (then 1016001), one by A+X, then every binding on X by relationNum alone', async () => {
      const list = ok(await q.axb.query({ relationNum: X() })).relationNumList as Array<{ subscriptionId: string; callerNum: string }>;
      const first = list[0]!.subscriptionId;
      ok(await q.axb.unbind({ subscriptionId: first }));
      await refused(() => q.axb.unbind({ subscriptionId: first }), '1016001', 404);
      ok(await q.axb.unbind({ relationNum: X(), callerNum: aNo(105) }));
      await refused(() => q.axb.query({ relationNum: X(), callerNum: aNo(105) }), '1016001', 404);
      expect(ok(await q.axb.query({ relationNum: X() })).totalCount).toBe(12);
      await refused(() => q.axb.unbind({ relationNum: xNo(60) }), '1012001', 403);
      await refused(() => q.axb.unbind({}), '1010002', 403, 'Invalid request.subscriptionId');
      ok(await q.axb.unbind({ relationNum: g(X()) }));
      expect(ok(await q.axb.query({ relationNum: X() })).totalCount).toBe(0);
      expect(await h.ctx.store.lookup(aNo(101), X())).toEqual({ kind: 'none' });
      await refused(() => q.axb.unbind({ relationNum: X() }), '1016001', 404);
      // the X takes new bindings (A of an unbound binding is free again)
      ok(await q.axb.bind({ callerNum: aNo(101), calleeNum: bNo(101), relationNum: X() }));
    });
  });

  describe('routing', () => {
    it('callDirection 1 lets only A call (B refused), 2 only B (A refused), 0 both', async () => {
      const dir = async (d: number, i: number) => ok(await hw.axb.bind({ callerNum: aNo(200 + i), calleeNum: bNo(200 + i), relationNum: xNo(0 + (i % 2) * 5), callDirection: d }));
      const route = async (caller: string, x: string) => decide({ caller, x }, await h.ctx.store.lookup(caller, x));
      const one = await dir(1, 1);
      expect(await route(aNo(201), xNo(5))).toMatchObject({ kind: 'bridge', target: bNo(201) });
      expect(await route(bNo(201), xNo(5))).toMatchObject({ kind: 'refuse', status: 403, reason: 'call-restricted' });
      expect(one.callDirection).toBe(1);
      await dir(2, 2);
      expect(await route(aNo(202), xNo(0))).toMatchObject({ kind: 'refuse', status: 403, reason: 'call-restricted' });
      expect(await route(bNo(202), xNo(0))).toMatchObject({ kind: 'bridge', target: aNo(202) });
      await dir(0, 4);
      expect(await route(aNo(204), xNo(0))).toMatchObject({ kind: 'bridge', target: bNo(204) });
      expect(await route(bNo(204), xNo(0))).toMatchObject({ kind: 'bridge', target: aNo(204) });
    });
  });
});

describe.skipIf(!hasRedis)('Huawei API: the Created window, nonces across instances, Redis unavailable', () => {
  let h: Harness;
  let base: string;
  let second: FastifyInstance | undefined;
  let redis2: Redis | Cluster | undefined;
  const WINDOW_H = 9;

  beforeAll(async () => {
    // a China-hosted client formatting local time with a 'Z' is 8 h ahead: a 9 h window lets it in
    h = await startHarness({ HUAWEI_CREATED_WINDOW_MS: String(WINDOW_H * 3600_000) });
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    await makePool(h.app, 'HW_W', 3);
    await ops(h.app, 'PUT', '/v1/huawei/apps/wapp', { appSecret: SECRET, mode: 'AXB', poolKey: 'HW_W' });
  });
  afterAll(async () => {
    await second?.close();
    redis2?.disconnect();
    await h?.stop();
  });

  it('HUAWEI_CREATED_WINDOW_MS sets the window either way', async () => {
    const c = new HuaweiClient({ baseUrl: base, appKey: 'wapp', appSecret: SECRET });
    expect((await c.axb.query({ relationNum: xNo(0) }, { created: hwCreated(8 * 3600_000) })).body.resultcode).toBe('0');
    expect((await c.axb.query({ relationNum: xNo(0) }, { created: hwCreated(-8 * 3600_000) })).body.resultcode).toBe('0');
    const late = await c.axb.query({ relationNum: xNo(0) }, { created: hwCreated((WINDOW_H * 60 + 1) * 60_000) });
    expect(late.status).toBe(401);
    expect(late.body.resultcode).toBe('1010013');
  });

  it('a nonce used on one xline instance is refused on another (same Redis)', async () => {
    const r2 = connectRedis({ url: h.server.url });
    redis2 = r2;
    r2.on('error', () => undefined);
    expect(await waitReady(r2, 10_000)).toBe(true);
    const store2 = new RedisBindingStore(r2, { poolCacheMs: 0 });
    second = await buildAdminApp({ ...h.ctx, store: store2 });
    const base2 = await second.listen({ host: '127.0.0.1', port: 0 });
    const one = new HuaweiClient({ baseUrl: base, appKey: 'wapp', appSecret: SECRET });
    const two = new HuaweiClient({ baseUrl: base2, appKey: 'wapp', appSecret: SECRET });
    const sign = { nonce: 'cross' + Date.now(), created: hwCreated() };
    const r = await one.axb.bind({ callerNum: aNo(1), calleeNum: bNo(1) }, sign);
    expect(r.body.resultcode).toBe('0');
    const again = await two.axb.bind({ callerNum: aNo(1), calleeNum: bNo(1) }, sign);
    expect(again.status).toBe(401);
    expect(again.body.resultcode).toBe('1010010');
    const q = { nonce: 'crossq' + Date.now(), created: hwCreated() };
    expect((await two.axb.query({ subscriptionId: r.body.subscriptionId }, q)).body.resultcode).toBe('0');
    expect((await one.axb.query({ subscriptionId: r.body.subscriptionId }, q)).body.resultcode).toBe('1010010');
  });

  it('a frozen Redis: 503 1010001 (no hang), and nothing lands after the answer', async () => {
    const c = new HuaweiClient({ baseUrl: base, appKey: 'wapp', appSecret: SECRET });
    // the app is in this instance's cache: the requests reach the store
    expect((await c.axb.query({ relationNum: xNo(1) })).body.resultcode).toBe('0');
    const before = await snapshot(h.redis);
    h.server.process.kill('SIGSTOP');
    let answers: HwAnswer[];
    try {
      answers = await Promise.all([
        c.axb.bind({ callerNum: aNo(30), calleeNum: bNo(30) }),
        c.axb.bind({ callerNum: aNo(31), calleeNum: bNo(31), relationNum: xNo(2) }),
        c.axb.unbind({ relationNum: xNo(0) }),
      ]);
    } finally {
      h.server.process.kill('SIGCONT');
    }
    for (const r of answers) {
      expect(r.status, JSON.stringify(r.body)).toBe(503);
      expect(r.body).toEqual({ resultcode: '1010001', resultdesc: 'Internal system error.' });
    }
    let back = false;
    for (let i = 0; i < 100 && !back; i++) back = await h.ctx.store.ping();
    expect(back).toBe(true);
    expect(await snapshot(h.redis)).toEqual(before);
  });
});
