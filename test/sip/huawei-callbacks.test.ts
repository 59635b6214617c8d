// Huawei apps' callbacks from real calls: drachtio-server, xline's SIP app and sipp at both ends
// (FreeSWITCH for the AXE extension entry), the events pipeline delivering to a real HTTP
// receiver that checks each POST's X-AKSK signature with the app's secret (HUAWEI.md §1, written
// in test/support/huawei-receiver.ts). An AXB call each way, answered and hung up: callin,
// callout, alerting, answer, disconnect (stateCode 0) and the fee record; a call against the
// binding's call direction (8016) and one to an X of the app's pool with no binding (8014); an AXE
// call whose extension is keyed by RFC 2833: collectInfo with the digits. AX: A without a
// temporary callee (8013), A to its temporary callee (direction 1), another caller to A (0).
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { createEventPipeline, type EventPipeline } from '../../src/events/pipeline.js';
import { createLogger } from '../../src/log.js';
import { Deadline } from '../../src/store/deadline.js';
import { huaweiStoreOf, type HuaweiMode } from '../../src/store/huawei-store.js';
import { startHuaweiReceiver, type HuaweiReceiver, type HwCallback } from '../support/huawei-receiver.js';
import { canRunMedia, placeMediaCall, startMediaStack, type MediaStack } from '../media/harness.js';
import { dtmfRtpPackets } from '../media/dtmf-pcap.js';
import { RtpPeer } from '../media/rtp-peer.js';
import {
  canRun,
  cdrOf,
  cleanup,
  finalAtCaller,
  mobile,
  placeCall,
  startRedisSide,
  startStack,
  waitFor,
  type CallRun,
  type RedisSide,
  type Stack,
} from './harness.js';

/** The Redis side with a started pipeline that delivers Huawei apps' callbacks (no webhook). */
async function huaweiSide(): Promise<{ side: RedisSide; pipeline: EventPipeline }> {
  const side = await startRedisSide();
  const apps = huaweiStoreOf(side.store);
  const config = loadConfig({ EVENT_SPOOL_DIR: side.spoolDir, HUAWEI_CALLBACK_RETRY_SCHEDULE: '1s,1s' });
  const pipeline = createEventPipeline({ redis: side.redis, config, log: createLogger('silent'), metrics: new Registry(), huaweiApps: (k) => apps.readApp(k) });
  pipeline.start();
  return { side: { ...side, pipeline } as RedisSide, pipeline };
}

async function huaweiApp(side: RedisSide, appKey: string, mode: HuaweiMode, poolKey: string): Promise<HuaweiReceiver> {
  const secret = `${appKey}-secret-0123456789`;
  const rx = await startHuaweiReceiver(appKey, secret);
  await side.store.upsertPool(poolKey, { name: poolKey, strictCity: false });
  await huaweiStoreOf(side.store).putApp({ appKey, appSecret: secret, mode, poolKey, statusUrl: `${rx.url}/status`, feeUrl: `${rx.url}/fee` }, new Deadline(true));
  return rx;
}

/** The callbacks of one call (sessionId = its Call-ID), once `types` have all arrived. */
async function callbacksOf(rx: HuaweiReceiver, callId: string, types: string[]): Promise<Map<string, HwCallback>> {
  const of = () => rx.got.filter((c) => (c.json.statusInfo?.sessionId ?? c.json.feeLst?.[0]?.sessionId) === callId);
  await rx.waitFor(() => types.every((t) => of().some((c) => c.json.eventType === t)), 10_000, `${types.join(', ')} of ${callId}`);
  const m = new Map<string, HwCallback>();
  for (const c of of()) {
    expect(c.valid, `${c.json.eventType}: X-AKSK signature not valid for the app's secret`).toBe(true);
    m.set(c.json.eventType, c);
  }
  expect([...m.keys()].sort()).toEqual([...types].sort());
  return m;
}

const UTC = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const info = (m: Map<string, HwCallback>, t: string) => m.get(t)!.json.statusInfo!;
const fee = (m: Map<string, HwCallback>) => m.get('fee')!.json.feeLst![0]!;

/**
 * The frame of a describe block: a Redis side delivering Huawei callbacks, the app with its
 * receiver, a SIP stack (UDP); `call()` places a sipp call, checks the caller's scenario passed and
 * waits for the call to end. Read its fields inside the tests (set in beforeAll).
 */
function callbackSuite(appKey: string, mode: HuaweiMode, poolKey: string) {
  const t = {} as { side: RedisSide; pipeline: EventPipeline; s: Stack; rx: HuaweiReceiver; call(o: Parameters<typeof placeCall>[1]): Promise<CallRun> };
  const runs: CallRun[] = [];
  beforeAll(async () => {
    ({ side: t.side, pipeline: t.pipeline } = await huaweiSide());
    t.rx = await huaweiApp(t.side, appKey, mode, poolKey);
    t.s = await startStack(t.side, { transport: 'udp' });
  });
  afterAll(async () => {
    await t.s?.stop();
    await t.pipeline?.stop();
    await t.rx?.close();
    await t.side?.close();
  });
  afterEach(() => {
    for (const r of runs.splice(0)) cleanup(r);
  });
  t.call = async (o) => {
    const r = await placeCall(t.s, o);
    runs.push(r);
    expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
    await waitFor(() => t.s.app.liveCalls() === 0, 5000, 'liveCalls() back to 0');
    return r;
  };
  return t;
}

describe.skipIf(!canRun)('Huawei callbacks from AXB calls through drachtio-server (sipp both ends)', () => {
  const POOL = 'sip-hwcb-axb';
  const APP = 'sip-hwcb-axb-app';
  const t = callbackSuite(APP, 'AXB', POOL);

  const bindAxb = async (x: string, a: string, b: string, extra: Record<string, unknown> = {}) => {
    await t.side.store.addNumbers(POOL, [{ number: x, city: '深圳' }]);
    return t.side.store.bind({ mode: 'AXB', poolKey: POOL, a, b, x, expiresAt: 4_102_444_800, recording: false, callDisplayType: 1, huawei: { appKey: APP, userData: 'ticket-7' }, ...extra });
  };

  it('A→B and B→A answered and hung up: callin, callout, alerting, answer, disconnect 0 and the fee record', async () => {
    const x = mobile('177');
    const a = mobile('138');
    const b = mobile('139');
    const bound = await bindAxb(x, a, b);
    for (const [caller, callee, direction] of [[a, b, 1], [b, a, 0]] as const) {
      const r = await t.call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller, target: callee });
      await cdrOf(t.s, r.callId);
      const m = await callbacksOf(t.rx, r.callId, ['callin', 'callout', 'alerting', 'answer', 'disconnect', 'fee']);
      expect(info(m, 'callin')).toMatchObject({ sessionId: r.callId, caller: `+86${caller}`, called: `+86${x}`, subscriptionId: bound.subsId, userData: 'ticket-7' });
      for (const t of ['callin', 'callout', 'alerting', 'answer', 'disconnect']) expect(info(m, t).timestamp).toMatch(UTC);
      expect(info(m, 'callout')).toMatchObject({ called: `+86${callee}` });
      expect(info(m, 'disconnect')).toMatchObject({ stateCode: 0, stateDesc: 'The user releases the call.', subscriptionId: bound.subsId });
      const f = fee(m);
      expect(f).toMatchObject({
        direction, appKey: APP, spId: APP, bindNum: `+86${x}`, sessionId: r.callId, subscriptionId: bound.subsId,
        callerNum: `+86${caller}`, calleeNum: `+86${x}`, fwdDisplayNum: `+86${x}`, fwdDstNum: `+86${callee}`,
        fwdUnaswRsn: 0, ulFailReason: 0, recordFlag: 0, userData: 'ticket-7',
      });
      for (const k of ['callInTime', 'fwdStartTime', 'fwdAlertingTime', 'fwdAnswerTime', 'callEndTime']) expect(f[k], k).toMatch(UTC);
      expect(f.failTime).toBeUndefined();
      expect(f.sipStatusCode).toBeUndefined();
      expect(String(f.fwdAnswerTime) >= String(f.callInTime) && String(f.callEndTime) >= String(f.fwdAnswerTime)).toBe(true);
    }
  });

  it('refused calls: against the call direction (8016), and to an X of the app with no binding (8014, empty subscriptionId)', async () => {
    const x = mobile('177');
    const a = mobile('138');
    // callDirection 2 (only others may call X) is xline's CONTROL_AX_DISABLE: A may not call out
    const bound = await bindAxb(x, a, mobile('139'), { callRestrict: 'CONTROL_AX_DISABLE' });
    const r1 = await t.call({ uac: 'uac-refused-expect-403.xml', x, caller: a });
    expect(finalAtCaller(r1.a)?.status).toBe(403);
    const m1 = await callbacksOf(t.rx, r1.callId, ['callin', 'disconnect', 'fee']);
    expect(info(m1, 'callin')).toMatchObject({ caller: `+86${a}`, called: `+86${x}`, subscriptionId: bound.subsId });
    expect(info(m1, 'disconnect')).toMatchObject({ stateCode: 8016, stateDesc: 'The call direction is not allowed.' });
    expect(fee(m1)).toMatchObject({ direction: 2, subscriptionId: bound.subsId, ulFailReason: 8016, sipStatusCode: 403, fwdUnaswRsn: 21, failTime: expect.stringMatching(UTC) });
    expect(fee(m1).fwdDstNum).toBeUndefined();

    // an X of the app's pool that nobody is bound on
    const idle = mobile('177');
    await t.side.store.addNumbers(POOL, [{ number: idle, city: '深圳' }]);
    const caller = mobile('186');
    const r2 = await t.call({ uac: 'uac-unbound-expect-404.xml', x: idle, caller });
    expect(finalAtCaller(r2.a)?.status).toBe(404);
    const m2 = await callbacksOf(t.rx, r2.callId, ['callin', 'disconnect', 'fee']);
    expect(info(m2, 'callin').subscriptionId).toBeUndefined();
    expect(info(m2, 'disconnect')).toMatchObject({ stateCode: 8014, called: `+86${idle}` });
    expect(fee(m2)).toMatchObject({ direction: 2, subscriptionId: '', appKey: APP, bindNum: `+86${idle}`, callerNum: `+86${caller}`, ulFailReason: 8014, sipStatusCode: 404 });

    // an X in no Huawei app's pool reports to nobody
    const before = t.rx.got.length;
    const r3 = await t.call({ uac: 'uac-unbound-expect-404.xml', x: mobile('177'), caller });
    await cdrOf(t.s, r3.callId);
    // this pipeline queues nothing but Huawei callbacks: once the stream is empty all were POSTed
    for (const deadline = Date.now() + 10_000; (await t.side.redis.xlen(EVENT_KEYS.stream)) + (await t.side.redis.zcard(EVENT_KEYS.retryDue)) > 0; ) {
      if (Date.now() > deadline) throw new Error('callbacks still queued');
      await new Promise((res) => setTimeout(res, 25));
    }
    expect(t.rx.got.slice(before).filter((c) => c.json.statusInfo?.sessionId === r3.callId || c.json.feeLst?.[0]?.sessionId === r3.callId)).toEqual([]);
  });
});

describe.skipIf(!canRun)('Huawei callbacks from AX calls (temporary callee) through drachtio-server (sipp both ends)', () => {
  const POOL = 'sip-hwcb-ax';
  const APP = 'sip-hwcb-ax-app';
  const t = callbackSuite(APP, 'AX', POOL);

  it('A→X without a temporary callee: disconnect 8013; with one: that callee is rung (direction 1); another caller reaches A (direction 0)', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await t.side.store.addNumbers(POOL, [{ number: x, city: '深圳' }]);
    const bound = await t.side.store.bind({ mode: 'AX', poolKey: POOL, a, x, expiresAt: 4_102_444_800, recording: false, callDisplayType: 1, huawei: { appKey: APP, userData: 'ax-7' } });

    const r0 = await t.call({ uac: 'uac-refused-expect-403.xml', x, caller: a });
    expect(finalAtCaller(r0.a)?.status).toBe(403);
    const m0 = await callbacksOf(t.rx, r0.callId, ['callin', 'disconnect', 'fee']);
    expect(info(m0, 'disconnect')).toMatchObject({ stateCode: 8013, subscriptionId: bound.subsId });
    expect(fee(m0)).toMatchObject({ direction: 2, ulFailReason: 8013, subscriptionId: bound.subsId, sipStatusCode: 403 });

    const callee = mobile('139');
    const now = Number(((await t.side.redis.call('TIME')) as string[])[0]);
    await t.side.store.update(POOL, x, bound.subsId, { huawei: { tempCallee: { number: callee, expiresAt: now + 600 } } });
    const r1 = await t.call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: callee });
    const m1 = await callbacksOf(t.rx, r1.callId, ['callin', 'callout', 'alerting', 'answer', 'disconnect', 'fee']);
    expect(info(m1, 'callin')).toMatchObject({ caller: `+86${a}`, called: `+86${x}`, subscriptionId: bound.subsId, userData: 'ax-7' });
    expect(info(m1, 'callout')).toMatchObject({ called: `+86${callee}` });
    expect(info(m1, 'disconnect')).toMatchObject({ stateCode: 0 });
    expect(fee(m1)).toMatchObject({ direction: 1, appKey: APP, bindNum: `+86${x}`, callerNum: `+86${a}`, fwdDstNum: `+86${callee}`, ulFailReason: 0, userData: 'ax-7' });
    expect(fee(m1).fwdAnswerTime).toMatch(UTC);

    const n = mobile('186');
    const r2 = await t.call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: n, target: a });
    const m2 = await callbacksOf(t.rx, r2.callId, ['callin', 'callout', 'alerting', 'answer', 'disconnect', 'fee']);
    expect(info(m2, 'callout')).toMatchObject({ called: `+86${a}` });
    expect(fee(m2)).toMatchObject({ direction: 0, callerNum: `+86${n}`, fwdDstNum: `+86${a}`, ulFailReason: 0 });
  });
});

describe.skipIf(!canRunMedia)('Huawei callbacks from an AXE call through FreeSWITCH (RFC 2833 extension)', () => {
  const POOL = 'sip-hwcb-axe';
  const APP = 'sip-hwcb-axe-app';
  let side: RedisSide;
  let pipeline: EventPipeline;
  let s: MediaStack;
  let rx: HuaweiReceiver;

  beforeAll(async () => {
    ({ side, pipeline } = await huaweiSide());
    rx = await huaweiApp(side, APP, 'AXE', POOL);
    s = await startMediaStack(side);
  }, 60_000);
  afterEach(async () => s.expectIdle(), 15_000);
  afterAll(async () => {
    await s?.stop();
    await pipeline?.stop();
    await rx?.close();
    await side?.close();
  });

  it('the extension keyed by RFC 2833 is reported as collectInfo; the fee record carries extendNum and no subscriptionId in events', async () => {
    const x = mobile('177');
    const a = mobile('138');
    const caller = mobile('139');
    await side.store.addNumbers(POOL, [{ number: x, city: '杭州' }]);
    const bound = await side.store.bind({
      mode: 'AXE', poolKey: POOL, a, x, extension: '1001', expiresAt: Math.floor(Date.now() / 1000) + 3600, recording: false, callDisplayType: 1, huawei: { appKey: APP },
    });
    const callerRtp = await RtpPeer.open();
    callerRtp.playWhenHeard(dtmfRtpPackets({ digits: '1001', leadMs: 600, tailMs: 1500, tailToneHz: 1000 }));
    try {
      const run = await placeMediaCall(s, { caller, x, target: a, script: { hangUpAfterMs: 1500, rtpPort: callerRtp.port, reinvite: true }, farEnd: { ringMs: 200 }, callerRtp });
      expect(run.a.code, run.a.errors.slice(-1500) + run.a.output.slice(-800)).toBe(0);
      await cdrOf(s, run.callId);
      const m = await callbacksOf(rx, run.callId, ['callin', 'collectInfo', 'callout', 'alerting', 'answer', 'disconnect', 'fee']);
      expect(info(m, 'collectInfo')).toMatchObject({ digitInfo: '1001', sessionId: run.callId, called: `+86${x}` });
      for (const t of ['callin', 'collectInfo', 'callout', 'disconnect']) expect(info(m, t).subscriptionId, t).toBeUndefined();
      expect(info(m, 'disconnect').stateCode).toBe(0);
      expect(fee(m)).toMatchObject({ direction: 0, extendNum: '1001', subscriptionId: bound.subsId, fwdDstNum: `+86${a}`, callerNum: `+86${caller}`, ulFailReason: 0 });
    } finally {
      callerRtp.close();
    }
  });
});
