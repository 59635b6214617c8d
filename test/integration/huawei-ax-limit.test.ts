// Huawei AX: one A holds at most 5 X per app (HUAWEI.md §7); a sixth bind is 1011003 and writes
// nothing, on a standalone redis-server and on a real Redis Cluster (A's places and X's bindings are
// in different slots). Concurrent binds of one A cannot pass the limit together; a place whose
// binding went another way (unbound outside the Huawei API) is found free again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HuaweiClient } from '../support/huawei-client.js';
import { hasRedis } from '../support/redis.js';
import { aNo, ops, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const AX = '/rest/provision/caas/privatenumber/v1.0';
const g = (n: string) => '+86' + n;

describe.skipIf(!hasRedis).each(['standalone', 'cluster'] as const)('Huawei AX: at most 5 X per A (%s)', (backend) => {
  let h: Harness;
  let ax: HuaweiClient;
  let twin: HuaweiClient;

  beforeAll(async () => {
    h = await startHarness({}, {}, { backend });
    await ops(h.app, 'PUT', '/v1/pools/HWAXLIM', { name: 'ax limit' });
    await ops(h.app, 'POST', '/v1/pools/HWAXLIM/numbers', { numbers: Array.from({ length: 16 }, (_, i) => ({ number: xNo(800 + i), city: '深圳' })) });
    for (const key of ['axlim-app', 'axlim-twin']) {
      expect((await ops(h.app, 'PUT', `/v1/huawei/apps/${key}`, { appSecret: `secret-of-${key}-0001`, mode: 'AX', poolKey: 'HWAXLIM' })).status).toBe(201);
    }
    const base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    ax = new HuaweiClient({ baseUrl: base, appKey: 'axlim-app', appSecret: 'secret-of-axlim-app-0001' });
    twin = new HuaweiClient({ baseUrl: base, appKey: 'axlim-twin', appSecret: 'secret-of-axlim-twin-0001' });
  }, 60_000);
  afterAll(async () => h?.stop());

  const bind = (c: HuaweiClient, body: Record<string, unknown>) => c.request('POST', AX, { body });

  it('five X bind; the sixth is 1011003 and writes nothing; another app counts apart; an unbind frees a place', async () => {
    const a = aNo(801);
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await bind(ax, { origNum: g(a), privateNum: g(xNo(800 + i)) });
      expect(r.body.resultcode, JSON.stringify(r.body)).toBe('0');
      sids.push(r.body.subscriptionId);
    }
    const before = await snapshot(h.redis);
    for (const body of [{ origNum: g(a), privateNum: g(xNo(805)) }, { origNum: a }]) {
      const r = await bind(ax, body);
      expect([r.status, r.body.resultcode], JSON.stringify(body)).toEqual([403, '1011003']);
    }
    expect(await snapshot(h.redis)).toEqual(before);
    // the same A in another app has its own five
    expect((await bind(twin, { origNum: g(a), privateNum: g(xNo(806)) })).body.resultcode).toBe('0');
    // unbound through the Huawei API: the place is free
    expect((await ax.request('DELETE', AX, { query: { subscriptionId: sids[0] } })).body.resultcode).toBe('0');
    expect((await bind(ax, { origNum: g(a), privateNum: g(xNo(805)) })).body.resultcode).toBe('0');
    expect((await bind(ax, { origNum: g(a), privateNum: g(xNo(807)) })).body.resultcode).toBe('1011003');
    // unbound another way (the store, as the ops API or an expiry would): found free at the limit
    await h.ctx.store.unbind('HWAXLIM', '', sids[1]!);
    expect((await bind(ax, { origNum: g(a), privateNum: g(xNo(807)) })).body.resultcode).toBe('0');
  });

  it('ten concurrent binds of one A: exactly five land', async () => {
    const a = aNo(802);
    const rs = await Promise.all(Array.from({ length: 10 }, () => bind(ax, { origNum: g(a) })));
    const codes = rs.map((r) => r.body.resultcode).sort();
    expect(codes).toEqual([...Array(5).fill('0'), ...Array(5).fill('1011003')]);
    const q = await ax.request('GET', AX, { query: { origNum: g(a) } });
    expect(q.body.privateNumList).toHaveLength(5);
  });
});
