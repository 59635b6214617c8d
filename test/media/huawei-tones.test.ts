// Huawei call features heard on real calls (drachtio-server, FreeSWITCH, sipp, RTP sockets that
// measure what each party receives): a binding's preVoice tone is what its caller hears before
// the callee answers — callerHintTone when A calls X, calleeHintTone when B does — then the
// ringback; a recorded call's recordHintTone reaches both parties at answer, after which they
// hear each other; a call against callDirection is refused 403 cause 21 with control type
// call-restricted (Huawei 8016). Bindings are made by a Huawei client through xline's API; every
// tone is a ring tone uploaded with PUT /v1/ring-tones/{id}, each at its own frequency.
// maxDuration / lastMinVoice (a 60 s call) are in huawei-max-duration.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HuaweiClient } from '../support/huawei-client.js';
import { cdrOf, mobile, startRedisSide, type RedisSide } from '../sip/harness.js';
import { toneWav } from './fixtures.js';
import { canRunMedia, placeMediaCall, received, startMediaStack, timedMessages, type MediaStack } from './harness.js';
import { hzSteps, ok, startHuaweiAdmin, stepsNear, type HuaweiAdmin } from './huawei-media.js';
import { RtpPeer } from './rtp-peer.js';

const POOL = 'HWTONES';
const HZ = { callerHint: 700, calleeHint: 1300, recordHint: 1000, ringback: 450, callerVoice: 1900, farVoice: 2300 } as const;
const g = (n: string) => `+86${n}`;
const reasonCause = (v: string | undefined) => Number(/cause=(\d+)/.exec(v ?? '')?.[1] ?? NaN);

describe.skipIf(!canRunMedia)('Huawei tones on calls (FreeSWITCH)', () => {
  let side: RedisSide;
  let s: MediaStack;
  let hw: HuaweiAdmin;
  let axb: HuaweiClient;
  let ax: HuaweiClient;

  beforeAll(async () => {
    side = await startRedisSide();
    s = await startMediaStack(side);
    hw = await startHuaweiAdmin(s);
    axb = await hw.app('hw-tones-axb', 'AXB', POOL);
    ax = await hw.app('hw-tones-ax', 'AX', `${POOL}-AX`);
    await hw.uploadTone('callerHint', toneWav(HZ.callerHint, 1.2));
    await hw.uploadTone('calleeHint', toneWav(HZ.calleeHint, 1.2));
    await hw.uploadTone('recordHint', toneWav(HZ.recordHint, 1.5));
  }, 60_000);
  afterEach(async () => {
    await s.expectIdle();
  }, 20_000);
  afterAll(async () => {
    await hw?.close();
    await s?.stop();
    await side?.close();
  });

  async function axbBinding(body: Record<string, unknown>): Promise<{ a: string; b: string; x: string; subscriptionId: string }> {
    const a = mobile('138');
    const b = mobile('139');
    const x = mobile('177');
    await side.store.addNumbers(POOL, [{ number: x, city: '杭州' }]);
    const r = ok(await axb.axb.bind({ callerNum: g(a), calleeNum: g(b), relationNum: g(x), ...body }));
    return { a, b, x, subscriptionId: r.subscriptionId };
  }

  /** `caller` calls X; the far end rings 3 s, then answers: 100 ms steps of what the caller heard before the 200 OK. */
  async function heardBeforeAnswer(caller: string, x: string, target: string) {
    const callerRtp = await RtpPeer.open();
    try {
      const run = await placeMediaCall(s, {
        caller,
        x,
        target,
        // no recording, no last-minute tone: FreeSWITCH hands the media over once B answers
        script: { hangUpAfterMs: 500, rtpPort: callerRtp.port, reinvite: true },
        farEnd: { ringMs: 3000, reinvite: true },
        callerRtp,
      });
      expect(run.a.code, run.a.errors.slice(-1500)).toBe(0);
      const log = timedMessages(run.aLog);
      const early = log.find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0 183'));
      const okAt = log.find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      expect(early, '183 with early media before the answer').toBeDefined();
      const steps = hzSteps(callerRtp.audio(0, okAt));
      const first = steps.findIndex((hz) => hz > 0);
      // B was called while the hint played, not after it
      const bInvite = timedMessages(run.bLog!).find((m) => m.direction === 'received' && m.startLine.startsWith('INVITE'))!.at;
      return { run, steps: steps.slice(first), early: early!.at, bInvite };
    } finally {
      callerRtp.close();
    }
  }

  it('preVoice: A calling X hears callerHintTone, then the ringback; B calling X hears calleeHintTone', async () => {
    const n = await axbBinding({ preVoice: { callerHintTone: 'callerHint.wav', calleeHintTone: 'calleeHint' } });

    const fromA = await heardBeforeAnswer(n.a, n.x, n.b);
    // 0.1–1.0 s: the 1.2 s hint; 1.4–2.0 s: the ringback (1 s of 450 Hz right after the hint)
    expect(stepsNear(fromA.steps.slice(1, 10), HZ.callerHint), `steps ${fromA.steps.join(',')}`).toBeGreaterThanOrEqual(8);
    expect(stepsNear(fromA.steps.slice(14, 20), HZ.ringback), `steps ${fromA.steps.join(',')}`).toBeGreaterThanOrEqual(5);
    expect(stepsNear(fromA.steps.slice(1, 11), HZ.calleeHint), 'the other side\'s hint is not played').toBe(0);
    expect(fromA.bInvite - fromA.early, 'B rings while the hint plays').toBeLessThan(1000);
    expect(await cdrOf(s, fromA.run.callId)).toMatchObject({ sub_id: n.subscriptionId, call_type: 0, phone_no: n.a, peer_no: n.b });

    const fromB = await heardBeforeAnswer(n.b, n.x, n.a);
    expect(stepsNear(fromB.steps.slice(1, 10), HZ.calleeHint), `steps ${fromB.steps.join(',')}`).toBeGreaterThanOrEqual(8);
    expect(stepsNear(fromB.steps.slice(14, 20), HZ.ringback), `steps ${fromB.steps.join(',')}`).toBeGreaterThanOrEqual(5);
    expect(stepsNear(fromB.steps.slice(1, 11), HZ.callerHint)).toBe(0);
    expect(await cdrOf(s, fromB.run.callId)).toMatchObject({ call_type: 1, phone_no: n.a, peer_no: n.b });
  });

  it('preVoice on AX: anyone calling X hears calleeHintTone (the others side) before A answers', async () => {
    const a = mobile('138');
    const x = mobile('177');
    await side.store.addNumbers(`${POOL}-AX`, [{ number: x, city: '杭州' }]);
    ok(await ax.request('POST', '/rest/provision/caas/privatenumber/v1.0', { body: { origNum: g(a), privateNum: g(x), preVoice: { callerHintTone: 'callerHint', calleeHintTone: 'calleeHint.wav' } } }));
    const r = await heardBeforeAnswer(mobile('186'), x, a);
    expect(stepsNear(r.steps.slice(1, 10), HZ.calleeHint), `steps ${r.steps.join(',')}`).toBeGreaterThanOrEqual(8);
  });

  it('recordHintTone: both parties hear it at answer on a recorded call, then each other', async () => {
    const n = await axbBinding({ recordFlag: 'true', recordHintTone: 'recordHint.wav' });
    const callerRtp = await RtpPeer.open();
    const farRtp = await RtpPeer.open();
    callerRtp.sendToneWhenHeard(HZ.callerVoice);
    farRtp.sendToneWhenHeard(HZ.farVoice);
    try {
      const run = await placeMediaCall(s, {
        caller: n.a,
        x: n.x,
        target: n.b,
        script: { hangUpAfterMs: 4000, rtpPort: callerRtp.port },
        farEnd: { ringMs: 300, rtpPort: farRtp.port },
        callerRtp,
        farRtp,
      });
      expect(run.a.code, run.a.errors.slice(-1500) + run.a.output.slice(-1500)).toBe(0);
      const okAt = timedMessages(run.aLog).find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      const bAnswer = timedMessages(run.bLog!).find((m) => m.direction === 'sent' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      const callerHeard = hzSteps(callerRtp.audio(okAt, okAt + 3800));
      const farHeard = hzSteps(farRtp.audio(bAnswer, bAnswer + 3800));
      const why = `caller heard ${callerHeard.join(',')}; far end heard ${farHeard.join(',')}`;
      for (const [heard, other] of [
        [callerHeard, HZ.farVoice],
        [farHeard, HZ.callerVoice],
      ] as const) {
        // the 1.5 s hint at answer...
        expect(stepsNear(heard.slice(0, 20), HZ.recordHint), why).toBeGreaterThanOrEqual(12);
        // ...then the bridge: the other party's voice
        const after = heard.slice(heard.findLastIndex((hz) => Math.abs(hz - HZ.recordHint) < 40) + 2);
        expect(after.length, why).toBeGreaterThanOrEqual(8);
        expect(stepsNear(after, other, 60), why).toBeGreaterThanOrEqual(after.length - 1);
      }
      const cdr = await cdrOf(s, run.callId);
      expect(cdr).toMatchObject({ sub_id: n.subscriptionId, release_dir: 1 });
      expect(cdr.record_path).toBeDefined();
    } finally {
      callerRtp.close();
      farRtp.close();
    }
  });

  it('callDirection: a call against it is refused 403 cause 21, control type call-restricted, B never called', async () => {
    // 1: only A→B; B calling X is refused
    const one = await axbBinding({ callDirection: 1 });
    const r1 = await placeMediaCall(s, { caller: one.b, x: one.x, script: { expectStatus: 403 }, farEnd: {}, farEndCalled: false });
    expect(r1.a.code, r1.a.errors.slice(-1500)).toBe(0);
    expect(reasonCause(received(r1.a, (m) => m.status === 403)?.header('reason'))).toBe(21);
    expect(received(r1.b, (m) => m.method === 'INVITE'), 'the far end must not be called').toBeUndefined();
    expect(await cdrOf(s, r1.callId)).toMatchObject({ sub_id: one.subscriptionId, control_type: 'call-restricted', release_dir: 0, release_cause: 21 });
    // 2: only B→A; A calling X is refused
    const two = await axbBinding({ callDirection: 2 });
    const r2 = await placeMediaCall(s, { caller: two.a, x: two.x, script: { expectStatus: 403 } });
    expect(r2.a.code, r2.a.errors.slice(-1500)).toBe(0);
    expect(await cdrOf(s, r2.callId)).toMatchObject({ control_type: 'call-restricted', release_cause: 21 });
    // AX 1: only A may call X; anyone else is refused
    const a = mobile('138');
    const x = mobile('177');
    await side.store.addNumbers(`${POOL}-AX`, [{ number: x, city: '杭州' }]);
    ok(await ax.request('POST', '/rest/provision/caas/privatenumber/v1.0', { body: { origNum: g(a), privateNum: g(x), callDirection: 1 } }));
    const r3 = await placeMediaCall(s, { caller: mobile('186'), x, script: { expectStatus: 403 } });
    expect(r3.a.code, r3.a.errors.slice(-1500)).toBe(0);
    expect(await cdrOf(s, r3.callId)).toMatchObject({ control_type: 'call-restricted', release_cause: 21 });
  });
});
