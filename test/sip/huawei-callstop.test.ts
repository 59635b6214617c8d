// Huawei callStop on a real call: a Huawei AXB binding made through the Huawei HTTP API, a call
// from sipp through drachtio-server to xline and on to a sipp far end, answered; the app then
// stops it with callStop (its sessionid is the call's call_id). Both sipp legs receive xline's
// BYE, the API answers 0 once the call has ended, and the CDR read back from Redis says the
// platform released it (release_dir 0) with control_type 'call-stop'. The end-call request goes
// over Redis pub/sub to the SIP app, as main.ts wires it.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminApp } from '../../src/api/server.js';
import { loadConfig } from '../../src/config.js';
import { subscribeEndCall } from '../../src/events/end-call-channel.js';
import { nullEventSink } from '../../src/events/types.js';
import { createLogger } from '../../src/log.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { HuaweiClient } from '../support/huawei-client.js';
import { canRun, cdrOf, cleanup, first, mobile, placeCall, startRedisSide, startStack, waitFor, type RedisSide, type Stack } from './harness.js';

const POOL = 'sip-hw-stop-pool';
const STOP = '/rest/httpsessions/callStop/v2.0';

describe.skipIf(!canRun)('Huawei callStop on a live call through drachtio-server (sipp both ends)', () => {
  let side: RedisSide;
  let s: Stack;
  let admin: FastifyInstance;
  let hw: HuaweiClient;
  let stopListening: () => void;

  beforeAll(async () => {
    side = await startRedisSide();
    await side.store.upsertPool(POOL, { name: 'hw stop', strictCity: false });
    s = await startStack(side, { transport: 'udp' });
    stopListening = subscribeEndCall(side.redis, (callId, reason) => s.app.endCall(callId, reason));
    const config = loadConfig({ OPS_TOKEN: 'sip-hw-stop-ops', LOG_LEVEL: 'silent' });
    admin = await buildAdminApp({
      config,
      log: createLogger('silent'),
      store: side.store,
      events: nullEventSink,
      callEvents: side.pipeline.store,
      metrics: createMetricsRegistry(),
      health: { sip: true, media: false },
    });
    const base = await admin.listen({ host: '127.0.0.1', port: 0 });
    const put = await admin.inject({
      method: 'PUT',
      url: '/v1/huawei/apps/sip-stop-axb',
      headers: { authorization: 'Bearer sip-hw-stop-ops' },
      payload: { appSecret: 'secret-of-sip-stop-axb-01', mode: 'AXB', poolKey: POOL },
    });
    expect(put.statusCode).toBe(201);
    hw = new HuaweiClient({ baseUrl: base, appKey: 'sip-stop-axb', appSecret: 'secret-of-sip-stop-axb-01' });
  }, 60_000);
  afterAll(async () => {
    stopListening?.();
    await admin?.close();
    await s?.stop();
    await side?.close();
  });

  it('callStop on an answered AXB call: BYE to both legs, answer 0, CDR release_dir 0 and control_type call-stop', async () => {
    const x = mobile('177');
    const a = mobile('138');
    const b = mobile('139');
    await side.store.addNumbers(POOL, [{ number: x, city: '深圳' }]);
    const bound = await hw.axb.bind({ callerNum: '+86' + a, calleeNum: '+86' + b, relationNum: '+86' + x });
    expect(bound.body.resultcode).toBe('0');

    const answeredBefore = new Set(s.sink.callsWith('answer'));
    // the caller holds the call until xline's BYE (15 s at most); the far end answers, then waits for BYE
    const running = placeCall(s, { uac: 'uac-bye-from-b-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: b });
    let callId = '';
    await waitFor(() => !!(callId = s.sink.callsWith('answer').find((id) => !answeredBefore.has(id)) ?? ''), 10_000, 'the call answered');
    // the answer is in the call's live record in Redis (what the API reads) once the pipeline wrote it
    for (let i = 0; (await side.pipeline.store.liveCallRecord(callId))?.state !== 'talking'; i++) {
      if (i > 250) throw new Error('the live record of the call never said talking');
      await new Promise((r) => setTimeout(r, 20));
    }
    const stopped = await hw.request('POST', STOP, { body: { sessionid: callId, signal: 'call_stop' } });
    expect([stopped.status, stopped.body]).toEqual([200, { resultcode: '0', resultdesc: 'Success' }]);
    const run = await running;
    try {
      expect(run.callId).toBe(callId);
      // the caller's scenario ends only on a BYE it received (and answered 200)
      expect(run.a.code, run.a.errors + run.a.output.slice(-800)).toBe(0);
      expect(first(run.a, (m) => m.direction === 'received' && m.method === 'BYE'), 'the caller got no BYE').toBeDefined();
      expect(first(run.b, (m) => m.direction === 'received' && m.method === 'BYE'), 'the far end got no BYE').toBeDefined();
      const cdr = await cdrOf(s, callId);
      expect(cdr).toMatchObject({ sub_id: bound.body.subscriptionId, secret_no: x, release_dir: 0, release_cause: 16, control_type: 'call-stop', app_key: 'sip-stop-axb' });
      expect(cdr.start_time).toBeDefined();
      await waitFor(() => s.app.liveCalls() === 0, 5000, 'liveCalls() back to 0');
      // ended: stopping it again names no live call
      const again = await hw.request('POST', STOP, { body: { sessionid: callId, signal: 'call_stop' } });
      expect([again.status, again.body.resultcode]).toEqual([404, '1020152']);
    } finally {
      cleanup(run);
    }
  });
});
