// Huawei AX and AXE bindings on real calls through drachtio-server to xline and on to a sipp far
// end: A dialling X reaches the temporary callee while it lasts (B leg From = X, nothing of A),
// anyone else reaches A, and A dialling X without a live temporary callee is refused (403 cause
// 21, Huawei's 8013); an AXE A calling X reaches its callbackNum. One AX binding and its temporary
// callee are made through the Huawei HTTP API itself, the others the way that API writes them.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminApp } from '../../src/api/server.js';
import { loadConfig } from '../../src/config.js';
import { nullEventSink } from '../../src/events/types.js';
import { createLogger } from '../../src/log.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { HuaweiClient } from '../support/huawei-client.js';
import {
  canRun,
  cdrOf,
  expectCleanBLeg,
  finalAtCaller,
  mobile,
  placeCall,
  receivedInvite,
  type Stack,
} from './harness.js';
import { sipSuite } from '../support/sip-suite.js';

const POOL = 'sip-hw-ax-pool';

describe.skipIf(!canRun)('Huawei AX calls through drachtio-server (sipp both ends)', () => {
  const t = sipSuite({ pool: POOL, poolName: 'hw ax', settle: true });
  let s: Stack;

  // the admin API on the SIP side's store: what a Huawei client does there, calls see
  let admin: FastifyInstance;
  let hw: HuaweiClient;

  beforeAll(async () => {
    s = await t.stack({ transport: 'udp' });
    const config = loadConfig({ OPS_TOKEN: 'sip-hw-ops', LOG_LEVEL: 'silent' });
    admin = await buildAdminApp({ config, log: createLogger('silent'), store: t.side.store, events: nullEventSink, metrics: createMetricsRegistry(), health: { sip: true, media: false } });
    const base = await admin.listen({ host: '127.0.0.1', port: 0 });
    const put = await admin.inject({
      method: 'PUT',
      url: '/v1/huawei/apps/sip-ax-api',
      headers: { authorization: 'Bearer sip-hw-ops' },
      payload: { appSecret: 'secret-of-sip-ax-api-0001', mode: 'AX', poolKey: POOL },
    });
    expect(put.statusCode).toBe(201);
    hw = new HuaweiClient({ baseUrl: base, appKey: 'sip-ax-api', appSecret: 'secret-of-sip-ax-api-0001' });
  });
  afterAll(async () => {
    await admin?.close();
  });

  const call = (o: Parameters<typeof placeCall>[1]) => t.call(s, o);

  const refused = (o: Parameters<typeof placeCall>[1]) => t.refused(s, o);

  const redisNow = async () => Number(((await t.side.redis.call('TIME')) as string[])[0]);

  it('A→X rings the temporary callee while it lasts; anyone else rings A; without one A is refused', async () => {
    const a = mobile('138');
    const x = mobile('177');
    await t.side.store.addNumbers(POOL, [{ number: x, city: '深圳', areaCode: '0755' }]);
    const b = await t.side.store.bind({ mode: 'AX', poolKey: POOL, a, x, expiresAt: 4_102_444_800, recording: false, callDisplayType: 1, huawei: { appKey: 'sip-ax' } });

    // no temporary callee yet
    await refused({ uac: 'uac-refused-expect-403.xml', x, caller: a });

    const callee = mobile('139');
    await t.side.store.update(POOL, x, b.subsId, { huawei: { tempCallee: { number: callee, expiresAt: (await redisNow()) + 2 } } });
    const r1 = await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: callee });
    expect(r1.a.code, r1.a.errors).toBe(0);
    expect(r1.b.code, r1.b.errors).toBe(0);
    expectCleanBLeg(r1.b, callee, x, a);
    expect(await cdrOf(s, r1.callId)).toMatchObject({ sub_id: b.subsId, secret_no: x, phone_no: a, peer_no: callee, call_type: 0 });

    const n = mobile('186');
    const r2 = await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: n, target: a });
    expect(r2.a.code, r2.a.errors).toBe(0);
    expectCleanBLeg(r2.b, a, x, n);
    expect(await cdrOf(s, r2.callId)).toMatchObject({ phone_no: a, peer_no: n, call_type: 1 });

    // past its expiry second (Redis's clock): refused again
    const until = (await t.side.store.get(POOL, x, b.subsId))!.huawei!.tempCallee!.expiresAt;
    while ((await redisNow()) < until) await new Promise((res) => setTimeout(res, 100));
    await refused({ uac: 'uac-refused-expect-403.xml', x, caller: a });
  });

  it('through the Huawei API: AX bind and temporary callee, then A→X rings that callee', async () => {
    const x = mobile('177');
    await t.side.store.addNumbers(POOL, [{ number: x, city: '深圳', areaCode: '0755' }]);
    const a = mobile('138');
    const bound = await hw.request('POST', '/rest/provision/caas/privatenumber/v1.0', { body: { origNum: '+86' + a, privateNum: '+86' + x } });
    expect(bound.body.resultcode).toBe('0');
    const callee = mobile('139');
    const set = await hw.request('PUT', '/rest/caas/privatenumber/calleenumber/v1.0', { body: { subscriptionId: bound.body.subscriptionId, calleeNum: '+86' + callee } });
    expect(set.body.resultcode).toBe('0');
    const r = await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: callee });
    expect(r.a.code, r.a.errors).toBe(0);
    expectCleanBLeg(r.b, callee, x, a);
    expect(await cdrOf(s, r.callId)).toMatchObject({ sub_id: bound.body.subscriptionId, phone_no: a, peer_no: callee, call_type: 0 });
    // unbound through the API: X routes nowhere
    expect((await hw.request('DELETE', '/rest/provision/caas/privatenumber/v1.0', { query: { subscriptionId: bound.body.subscriptionId } })).body.resultcode).toBe('0');
    const gone = await call({ uac: 'uac-unbound-expect-404.xml', x, caller: a });
    expect(finalAtCaller(gone.a)?.status).toBe(404);
  });

  it('Huawei AXE: A→X reaches its binding\'s callbackNum (From = X); with only a callbackTone, 404', async () => {
    const x = mobile('177');
    await t.side.store.addNumbers(POOL, [{ number: x, city: '深圳' }]);
    const a = mobile('138');
    const back = mobile('139');
    const b = await t.side.store.bind({ mode: 'AXE', poolKey: POOL, a, x, expiresAt: 4_102_444_800, recording: false, callDisplayType: 1, huawei: { appKey: 'sip-axe', callbackNum: back } });
    const r = await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: back });
    expect(r.a.code, r.a.errors).toBe(0);
    expectCleanBLeg(r.b, back, x, a);
    expect(await cdrOf(s, r.callId)).toMatchObject({ sub_id: b.subsId, phone_no: a, peer_no: back, call_type: 0 });
    const a2 = mobile('138');
    await t.side.store.bind({ mode: 'AXE', poolKey: POOL, a: a2, x, expiresAt: 4_102_444_800, recording: false, callDisplayType: 1, huawei: { appKey: 'sip-axe', callbackTone: 'cb' } });
    const r2 = await call({ uac: 'uac-unbound-expect-404.xml', x, caller: a2 });
    expect(r2.a.code, r2.a.errors).toBe(0);
    expect(finalAtCaller(r2.a)?.status).toBe(404);
    expect(receivedInvite(r2.b), 'the far end must not be called').toBeUndefined();
  });
});
