// A Huawei binding's maxDuration on real calls, at its real length (maxDuration is in minutes, so
// this file takes a minute and runs beside the others): with maxDuration 1 and a lastMinVoice,
// both parties hear that tone at answer (one minute before the end) through FreeSWITCH, and the
// platform ends the call 60 s after answer — a BYE to each party (Reason cause 16), and the CDR
// read back from Redis says control type max-duration (Huawei stateCode 8010), release_dir 0.
// Without a lastMinVoice a call needs no media (test/unit/bridge-media.test.ts): a direct bridge,
// here on a SIP app without FreeSWITCH beside the first, is ended the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdrOf, mobile, reportSeconds, startRedisSide, startStack, type RedisSide, type Stack } from '../sip/harness.js';
import { toneWav } from './fixtures.js';
import { canRunMedia, placeMediaCall, received, startMediaStack, timedMessages, type MediaCallRun, type MediaStack } from './harness.js';
import { hzSteps, ok, startHuaweiAdmin, stepsNear, type HuaweiAdmin } from './huawei-media.js';
import { RtpPeer } from './rtp-peer.js';

const POOL = 'HWMAXDUR';
const HZ = { lastMinute: 1600, callerVoice: 1900, farVoice: 2300 } as const;
const g = (n: string) => `+86${n}`;
const reasonCause = (v: string | undefined) => Number(/cause=(\d+)/.exec(v ?? '')?.[1] ?? NaN);
const at = (file: string, direction: 'sent' | 'received', start: string) => timedMessages(file).find((m) => m.direction === direction && m.startLine.startsWith(start))?.at ?? NaN;

describe.skipIf(!canRunMedia)('Huawei maxDuration and lastMinVoice on calls (60 s)', () => {
  let side: RedisSide;
  let s: MediaStack;
  /** A second SIP app (no media) on its own drachtio-server: its far end has a port of its own. */
  let direct: Stack;
  let hw: HuaweiAdmin;

  beforeAll(async () => {
    side = await startRedisSide();
    s = await startMediaStack(side);
    direct = await startStack(side);
    hw = await startHuaweiAdmin(s);
    await hw.uploadTone('lastMinute', toneWav(HZ.lastMinute, 1.5));
  }, 60_000);
  afterAll(async () => {
    await hw?.close();
    await direct?.stop();
    await s?.stop();
    await side?.close();
  });

  it('maxDuration 1: lastMinVoice to both at answer, the platform ends the call at 60 s (max-duration); without the tone, directly', async () => {
    const axb = await hw.app('hw-maxdur', 'AXB', POOL);
    const bind = async (extra: Record<string, unknown>) => {
      const n = { a: mobile('138'), b: mobile('139'), x: mobile('177') };
      await side.store.addNumbers(POOL, [{ number: n.x, city: '杭州' }]);
      const r = ok(await axb.axb.bind({ callerNum: g(n.a), calleeNum: g(n.b), relationNum: g(n.x), maxDuration: 1, ...extra }));
      return { ...n, subscriptionId: r.subscriptionId as string };
    };
    const withTone = await bind({ lastMinVoice: 'lastMinute.wav' });
    const plain = await bind({});

    const callerRtp = await RtpPeer.open();
    const farRtp = await RtpPeer.open();
    callerRtp.sendToneWhenHeard(HZ.callerVoice);
    farRtp.sendToneWhenHeard(HZ.farVoice);
    let runs: [MediaCallRun, MediaCallRun];
    try {
      runs = await Promise.all([
        placeMediaCall(s, {
          caller: withTone.a,
          x: withTone.x,
          target: withTone.b,
          script: { expectBye: true, rtpPort: callerRtp.port },
          farEnd: { ringMs: 200, rtpPort: farRtp.port },
          callerRtp,
          farRtp,
          timeoutSec: 100,
        }),
        // the same call helper on the media-less app: its drachtio-server and far-end port
        placeMediaCall({ dir: s.dir, drachtio: direct.drachtio, farEndPort: direct.farEndPort } as MediaStack, {
          caller: plain.a,
          x: plain.x,
          target: plain.b,
          script: { expectBye: true },
          farEnd: { ringMs: 200 },
          timeoutSec: 100,
        }),
      ]);
    } finally {
      callerRtp.close();
      farRtp.close();
    }
    const [toned, bare] = runs;

    for (const [run, n, src] of [
      [toned, withTone, s],
      [bare, plain, direct],
    ] as const) {
      expect(run.a.code, run.a.errors.slice(-1500) + run.a.output.slice(-800)).toBe(0);
      expect(run.b?.code, run.b?.errors.slice(-1500)).toBe(0);
      // both parties got the platform's BYE, 60 s after answer
      const okAt = at(run.aLog, 'received', 'SIP/2.0 200');
      const byeAtCaller = at(run.aLog, 'received', 'BYE');
      expect(byeAtCaller - okAt).toBeGreaterThanOrEqual(59_500);
      expect(byeAtCaller - okAt).toBeLessThan(65_000);
      expect(reasonCause(received(run.a, (m) => m.method === 'BYE')?.header('reason'))).toBe(16);
      expect(reasonCause(received(run.b, (m) => m.method === 'BYE')?.header('reason'))).toBe(16);
      const cdr = await cdrOf(src, run.callId);
      expect(cdr).toMatchObject({ sub_id: n.subscriptionId, control_type: 'max-duration', release_dir: 0, release_cause: 16 });
      const talk = reportSeconds(cdr.release_time) - reportSeconds(cdr.start_time);
      expect(talk).toBeGreaterThanOrEqual(59);
      expect(talk).toBeLessThanOrEqual(62);
    }

    // the tone at answer, to both parties, then the call goes on (each hears the other)
    const okAt = at(toned.aLog, 'received', 'SIP/2.0 200');
    const bAnswer = at(toned.bLog!, 'sent', 'SIP/2.0 200');
    const callerHeard = hzSteps(callerRtp.audio(okAt, okAt + 10_000));
    const farHeard = hzSteps(farRtp.audio(bAnswer, bAnswer + 10_000));
    const why = `caller heard ${callerHeard.join(',')}; far end heard ${farHeard.join(',')}`;
    for (const [heard, other] of [
      [callerHeard, HZ.farVoice],
      [farHeard, HZ.callerVoice],
    ] as const) {
      expect(stepsNear(heard.slice(0, 25), HZ.lastMinute), why).toBeGreaterThanOrEqual(12);
      const after = heard.slice(heard.findLastIndex((hz) => Math.abs(hz - HZ.lastMinute) < 40) + 2);
      expect(after.length, why).toBeGreaterThanOrEqual(40);
      expect(stepsNear(after, other, 60), why).toBeGreaterThanOrEqual(after.length - 2);
    }
    await s.expectIdle();
    expect(direct.app.liveCalls()).toBe(0);
  }, 150_000);
});
