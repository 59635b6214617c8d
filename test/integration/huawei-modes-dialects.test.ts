// AX and AXE through the Huawei API and the dypls dialect on one store, on a standalone
// redis-server and on a real 3-master Redis Cluster: an X held through one dialect cannot be
// booked through the other (a dypls AXN X is 1011005 to a Huawei AX or AXE bind; a Huawei AX X
// is isv.BIND_CONFLICT to BindAxn; Huawei AXE extensions and BindAxnExtension share X's
// extensions), and the Huawei AX / AXE binds, temporary callee and v2 query work on the Cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/domain/route.js';
import { HuaweiClient } from '../support/huawei-client.js';
import { backends } from '../support/store-backends.js';
import { aNo, bNo, expiration, ops, rpc, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const AX = '/rest/provision/caas/privatenumber/v1.0';
const CALLEE = '/rest/caas/privatenumber/calleenumber/v1.0';
const AXE = '/rest/caas/extendnumber/v1.0';
const AXE2 = '/rest/caas/extendnumber/v2.0';
const POOL = 'HW_MODES';

describe.each(backends.filter((b) => b.available))('Huawei AX / AXE and dypls on one store ($name)', (kind) => {
  let h: Harness;
  let ax: HuaweiClient;
  let axe: HuaweiClient;

  beforeAll(async () => {
    h = await startHarness({}, {}, { backend: kind.name });
    const base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    await ops(h.app, 'PUT', `/v1/pools/${POOL}`, { name: 'modes' });
    const add = await ops(h.app, 'POST', `/v1/pools/${POOL}/numbers`, { numbers: Array.from({ length: 6 }, (_, i) => ({ number: xNo(400 + i), city: '深圳', areaCode: '0755' })) });
    expect(add.body.added).toBe(6);
    for (const [key, mode] of [
      ['modes-ax', 'AX'],
      ['modes-axe', 'AXE'],
    ] as const) {
      expect((await ops(h.app, 'PUT', `/v1/huawei/apps/${key}`, { appSecret: `secret-of-${key}-0001`, mode, poolKey: POOL })).status).toBe(201);
    }
    ax = new HuaweiClient({ baseUrl: base, appKey: 'modes-ax', appSecret: 'secret-of-modes-ax-0001' });
    axe = new HuaweiClient({ baseUrl: base, appKey: 'modes-axe', appSecret: 'secret-of-modes-axe-0001', scheme: 'WSSE' });
  }, 150_000);
  afterAll(async () => h?.stop());

  it('a dypls AXN X is taken for Huawei AX and AXE (1011005); a Huawei AX X is taken for BindAxn', async () => {
    const d = await rpc(h.app, 'BindAxn', { PoolKey: POOL, PhoneNoA: aNo(1), PhoneNoB: bNo(1), PhoneNoX: xNo(400), Expiration: expiration(3600) });
    expect(d.body.Code).toBe('OK');
    const before = await snapshot(h.redis);
    expect((await ax.request('POST', AX, { body: { origNum: aNo(2), privateNum: xNo(400) } })).body.resultcode).toBe('1011005');
    expect((await axe.request('POST', AXE, { body: { bindNum: aNo(3), virtualNum: xNo(400) } })).body.resultcode).toBe('1011005');
    expect(await snapshot(h.redis)).toEqual(before);
    const r = await ax.request('POST', AX, { body: { origNum: aNo(4), privateNum: xNo(401) } });
    expect(r.body.resultcode).toBe('0');
    const back = await rpc(h.app, 'BindAxn', { PoolKey: POOL, PhoneNoA: aNo(5), PhoneNoX: xNo(401), Expiration: expiration(3600) });
    expect(back.body.Code).toBe('isv.BIND_CONFLICT');
    // the dypls side sees the Huawei binding
    const detail = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId: r.body.subscriptionId, PhoneNoX: xNo(401) });
    expect(detail.body.Code).toBe('OK');
  });

  it('Huawei AXE and BindAxnExtension share X\'s extensions', async () => {
    const d = await rpc(h.app, 'BindAxnExtension', { PoolKey: POOL, PhoneNoA: aNo(10), PhoneNoX: xNo(402), Extension: '321', Expiration: expiration(3600) });
    expect(d.body.Code).toBe('OK');
    expect((await axe.request('POST', AXE, { body: { bindNum: aNo(11), virtualNum: xNo(402), extendNum: '321' } })).body.resultcode).toBe('1011005');
    const r = await axe.request('POST', AXE, { body: { bindNum: aNo(11), virtualNum: xNo(402), extendNum: '654' } });
    expect(r.body.resultcode).toBe('0');
    const back = await rpc(h.app, 'BindAxnExtension', { PoolKey: POOL, PhoneNoA: aNo(12), PhoneNoX: xNo(402), Extension: '654', Expiration: expiration(3600) });
    expect(back.body.Code).toBe('isv.BIND_CONFLICT');
    // the v2 query shows this app's binding only (the dypls one is not an app's)
    const q = await axe.request('GET', AXE2, { query: { virtualNum: '+86' + xNo(402) } });
    expect(q.body.bindList.map((b: { extendNum: string }) => b.extendNum)).toEqual(['654']);
  });

  it('AX by areaCode and the temporary callee reaching the route', async () => {
    const a = aNo(20);
    const r = await ax.request('POST', AX, { body: { origNum: a, areaCode: '0755' } });
    expect(r.body.resultcode).toBe('0');
    const x = (r.body.privateNum as string).slice(3);
    expect((await ax.request('PUT', CALLEE, { body: { origNum: '+86' + a, privateNum: r.body.privateNum, calleeNum: aNo(21) } })).body.resultcode).toBe('0');
    expect(decide({ caller: a, x }, await h.ctx.store.lookup(a, x))).toMatchObject({ kind: 'bridge', target: aNo(21) });
    const q = await ax.request('GET', AX, { query: { origNum: '+86' + a } });
    expect(q.body).toMatchObject({ subscriptionId: r.body.subscriptionId, privateNum: r.body.privateNum });
  });
});
