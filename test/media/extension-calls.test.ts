// AXN-extension calls end to end through real drachtio-server, FreeSWITCH (repo conf + prompts)
// and sipp: prompt, DTMF by RFC 2833 (pcaps this test writes) and SIP INFO, barge-in, `#`,
// retries, the goodbye with its Q.850 cause, the B leg as the far end really received it, media
// both ways, in-band ringback, recording, and nothing left behind (endpoints, channels, calls).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cdrOf, eventsOf, expectCleanBLeg, mobile, startRedisSide, type RedisSide } from '../sip/harness.js';
import { uriUser } from '../support/sipp.js';
import { dtmfRtpPackets, writeDtmfPcap } from './dtmf-pcap.js';
import { bindExtension, canRunMedia, placeMediaCall, received, startMediaStack, timedMessages, type MediaStack, expectCallerOk } from './harness.js';
import { dominantHz, rms, withRtpPeers } from './rtp-peer.js';

const POOL = 'FCEXT01';
const reasonCause = (v: string | undefined) => Number(/cause=(\d+)/.exec(v ?? '')?.[1] ?? NaN);
const soxi = (file: string, flag: string) => execFileSync('soxi', [flag, file]).toString().trim();

describe.skipIf(!canRunMedia)('AXN extension calls through FreeSWITCH', () => {
  let side: RedisSide;
  let s: MediaStack;
  let pcapN = 0;
  const pcap = (o: Parameters<typeof writeDtmfPcap>[1]) => writeDtmfPcap(join(s.dir, `dtmf-${++pcapN}.pcap`), o);

  beforeAll(async () => {
    side = await startRedisSide();
    s = await startMediaStack(side);
  }, 60_000);
  afterEach(async () => {
    await s.expectIdle();
  }, 15_000);
  afterAll(async () => {
    await s?.stop();
    await side?.close();
  });

  it('right extension by RFC 2833 during the prompt: B leg From = X, R-URI = A, audio both ways, CDR', async () => {
    const x = mobile('177');
    const a = mobile('138');
    const caller = mobile('139');
    const binding = await bindExtension(side, { poolKey: POOL, x, a, extension: '1001' });
    await withRtpPeers(2, async ([callerRtp, farRtp]) => {
      // The caller's own RTP socket sends the keys (0.6 s in, well inside the 3.3 s prompt) and then
      // 4 s of a 1 kHz tone for B to hear; B answers with 600 Hz.
      callerRtp.playWhenHeard(dtmfRtpPackets({ digits: '1001', leadMs: 600, tailMs: 4000, tailToneHz: 1000 }));
      farRtp.sendToneWhenHeard(600);
      const run = await placeMediaCall(s, {
        caller,
        x,
        target: a,
        script: { hangUpAfterMs: 4000, rtpPort: callerRtp.port, reinvite: true },
        farEnd: { ringMs: 300, rtpPort: farRtp.port },
        callerRtp,
        farRtp,
      });
      expectCallerOk(run);
      // From, Contact and P-Asserted-Identity name X; nothing of the caller reaches B.
      const inv = expectCleanBLeg(run.b!, a, x, caller);
      // B was offered the caller's own media (FreeSWITCH leaves once B answers), anonymised.
      expect(inv!.body).toMatch(/^o=- \d+ 1 IN IP4 127\.0\.0\.1\r?$/m);
      expect(inv!.body).toMatch(/^s=-\r?$/m);
      expect(inv!.body).toContain(`m=audio ${callerRtp.port} `);
      expect(received(run.b, (m) => m.method === 'BYE'), 'B was not hung up').toBeDefined();

      // Barge-in: B was dialled before the prompt could have ended (3.3 s after the answer).
      const aLog = timedMessages(run.aLog);
      const bLog = timedMessages(run.bLog!);
      const answered = aLog.find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      const bInvite = bLog.find((m) => m.direction === 'received' && m.startLine.startsWith('INVITE'))!.at;
      const bAnswer = bLog.find((m) => m.direction === 'sent' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      expect(bInvite - answered).toBeLessThan(3000);

      // The caller heard the prompt before B answered; once B answered and the caller was
      // re-INVITEd to B's media (FreeSWITCH released), each hears the other's tone directly.
      expect(rms(callerRtp.audio(answered, bInvite))).toBeGreaterThan(100);
      const handedOver = timedMessages(run.aLog).find((m) => m.direction === 'received' && m.startLine.startsWith('INVITE'))!.at;
      expect(handedOver).toBeGreaterThanOrEqual(bAnswer);
      const fromB = callerRtp.audio(handedOver + 300);
      const fromA = farRtp.audio(handedOver + 300);
      expect(fromB.length, 'caller got no audio after the hand-off').toBeGreaterThan(50);
      expect(fromA.length, 'B got no audio after the hand-off').toBeGreaterThan(50);
      expect(Math.abs(dominantHz(fromB) - 600)).toBeLessThan(30);
      expect(Math.abs(dominantHz(fromA) - 1000)).toBeLessThan(50);
      // Directly: FreeSWITCH holds no channel for this call any more.
      expect(s.media.liveEndpoints()).toBe(0);

      const cdr = await cdrOf(s, run.callId);
      expect(cdr).toMatchObject({ sub_id: binding.subsId, pool_key: POOL, secret_no: x, phone_no: a, peer_no: caller, call_type: 1, release_dir: 1 });
      expect(cdr.start_time).toBeDefined();
      expect(cdr.record_path).toBeUndefined();
    });
  });

  it('SIP INFO digits reach the prompt as well', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: POOL, x, a, extension: '2468' });
    const run = await placeMediaCall(s, {
      caller: mobile('139'),
      x,
      target: a,
      script: { info: '2468', infoAfterMs: 500, hangUpAfterMs: 1500, reinvite: true },
      farEnd: { ringMs: 200 },
    });
    expectCallerOk(run);
    const inv = received(run.b, (m) => m.method === 'INVITE');
    expect(inv, 'far end got no INVITE').toBeDefined();
    expect(uriUser(inv!.uri)).toBe(a);
    expect(uriUser(inv!.header('from'))).toBe(x);
    const cdr = await cdrOf(s, run.callId);
    expect(cdr.start_time, 'B answered and was bridged').toBeDefined();
    expect(cdr.release_dir).toBe(1);
  });

  /**
   * Binds `extension` (and `others`, for other A's) on a fresh X, keys `digits`, and returns how
   * long after the caller's 200 OK the far end got its INVITE (asserting it went to A).
   */
  async function msToBInvite(extension: string, digits: string, others: string[] = []): Promise<number> {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: POOL, x, a, extension });
    for (const other of others) await bindExtension(side, { poolKey: POOL, x, a: mobile('138'), extension: other });
    const run = await placeMediaCall(s, {
      caller: mobile('139'),
      x,
      target: a,
      script: { pcap: pcap({ digits, leadMs: 600 }), hangUpAfterMs: 1000, reinvite: true },
      farEnd: { ringMs: 100 },
    });
    expectCallerOk(run);
    const answered = timedMessages(run.aLog).find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0 200'))!.at;
    const bInvite = timedMessages(run.bLog!).find((m) => m.direction === 'received' && m.startLine.startsWith('INVITE'))?.at;
    expect(bInvite, 'far end got no INVITE').toBeDefined();
    expect(uriUser(received(run.b, (m) => m.method === 'INVITE')!.uri)).toBe(a);
    return bInvite! - answered;
  }

  it('# ends a short extension at once (no 5 s inter-digit wait)', async () => {
    // X also has a 4-digit extension, so entry waits for more digits unless '#' ends it;
    // '#' is sent 1.6 s after the answer: without it the 5 s digit timeout would run to ~6 s.
    expect(await msToBInvite('77', '77#', ['7001'])).toBeLessThan(3000);
  });

  it('a 3-digit extension routes on its third digit when X has none longer (no # needed)', async () => {
    // the last digit is sent ~1.4 s after the answer; waiting for '#' or the 5 s timeout would take ~6 s
    expect(await msToBInvite('305', '305')).toBeLessThan(3000);
  });

  it('a wrong extension is retried with the retry prompt; right on the 2nd try connects', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: POOL, x, a, extension: '3003' });
    const run = await placeMediaCall(s, {
      caller: mobile('139'),
      x,
      target: a,
      script: { pcap: pcap({ digits: '3004 3003', leadMs: 600, pauseMs: 1500 }), hangUpAfterMs: 1000, reinvite: true },
      farEnd: { ringMs: 100 },
    });
    expectCallerOk(run);
    expect(uriUser(received(run.b, (m) => m.method === 'INVITE')?.uri)).toBe(a);
  });

  it('a # typed after a 3-digit entry belongs to it: wrong twice with #, right on the 3rd try connects', async () => {
    // X's only extension has 3 digits, so each entry routes on its third digit and the caller's
    // '#' (200 ms later, as people type it) reaches the next try. Counted as an empty try it
    // would leave the caller two: 306, '#', 307, then the goodbye before 305 is typed.
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: POOL, x, a, extension: '305' });
    const run = await placeMediaCall(s, {
      caller: mobile('139'),
      x,
      target: a,
      script: { pcap: pcap({ digits: '306# 307# 305#', leadMs: 600, pauseMs: 1500 }), hangUpAfterMs: 1000, reinvite: true },
      farEnd: { ringMs: 100 },
    });
    expect(received(run.a, (m) => m.method === 'BYE'), 'xline said goodbye before the third try').toBeUndefined();
    expectCallerOk(run);
    expect(uriUser(received(run.b, (m) => m.method === 'INVITE')?.uri)).toBe(a);
    const cdr = await cdrOf(s, run.callId);
    expect(cdr).toMatchObject({ call_type: 1, phone_no: a, release_dir: 1 });
    expect(cdr.start_time).toBeDefined();
  });

  it('wrong extension 3 times: goodbye prompt, then BYE with Reason cause=1; B never called', async () => {
    const x = mobile('177');
    await bindExtension(side, { poolKey: POOL, x, a: mobile('138'), extension: '5005' });
    const run = await placeMediaCall(s, {
      caller: mobile('139'),
      x,
      script: { pcap: pcap({ digits: '1111 2222 3333', leadMs: 600, pauseMs: 1500 }), expectBye: true },
      farEnd: { ringMs: 100 },
      farEndCalled: false,
    });
    expectCallerOk(run);
    const bye = received(run.a, (m) => m.method === 'BYE');
    expect(reasonCause(bye?.header('reason'))).toBe(1);
    expect(received(run.b, (m) => m.method === 'INVITE')).toBeUndefined();
    const cdr = await cdrOf(s, run.callId);
    expect(cdr).toMatchObject({ release_dir: 0, release_cause: 1, call_type: 4 });
    expect(cdr.start_time).toBeUndefined();
  });

  it('no digits at all: 3 prompts with 5 s timeouts, then BYE with Reason cause=102', async () => {
    const x = mobile('177');
    await bindExtension(side, { poolKey: POOL, x, a: mobile('138'), extension: '6006' });
    const run = await placeMediaCall(s, { caller: mobile('139'), x, script: { expectBye: true }, timeoutSec: 60 });
    expectCallerOk(run);
    const log = timedMessages(run.aLog);
    const answered = log.find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0 200'))!.at;
    const byeAt = log.find((m) => m.direction === 'received' && m.startLine.startsWith('BYE'))!.at;
    // 3 × (3.3 s prompt + 5 s) + 1.9 s goodbye ≈ 26.8 s
    expect(byeAt - answered).toBeGreaterThan(24_000);
    expect(byeAt - answered).toBeLessThan(32_000);
    expect(reasonCause(received(run.a, (m) => m.method === 'BYE')?.header('reason'))).toBe(102);
    expect((await cdrOf(s, run.callId)).release_cause).toBe(102);
  }, 70_000);

  it('caller hangs up during the prompt: endpoint destroyed, CDR release_dir 1', async () => {
    const x = mobile('177');
    await bindExtension(side, { poolKey: POOL, x, a: mobile('138'), extension: '7007' });
    const run = await placeMediaCall(s, { caller: mobile('139'), x, script: { hangUpAfterMs: 800 } });
    expectCallerOk(run);
    await s.expectIdle(3000);
    const cdr = await cdrOf(s, run.callId);
    expect(cdr).toMatchObject({ release_dir: 1, call_type: 4 });
  });

  it('B busy: busy announcement, then BYE carrying cause 17', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: POOL, x, a, extension: '8008' });
    const run = await placeMediaCall(s, {
      caller: mobile('139'),
      x,
      target: a,
      script: { pcap: pcap({ digits: '8008', leadMs: 500 }), expectBye: true },
      farEnd: { ringMs: 300, refuse: 486 },
    });
    expectCallerOk(run);
    expect(reasonCause(received(run.a, (m) => m.method === 'BYE')?.header('reason'))).toBe(17);
    const cdr = await cdrOf(s, run.callId);
    expect(cdr).toMatchObject({ release_dir: 2, release_cause: 17, call_type: 1 });
  });

  it('B rings: the answered caller hears the default ringback (450 Hz) in-band until B answers', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: POOL, x, a, extension: '9009' });
    await withRtpPeers(1, async ([callerRtp]) => {
      callerRtp.playWhenHeard(dtmfRtpPackets({ digits: '9009', leadMs: 500 }));
      const run = await placeMediaCall(s, {
        caller: mobile('139'),
        x,
        target: a,
        script: { hangUpAfterMs: 1000, rtpPort: callerRtp.port, reinvite: true },
        farEnd: { ringMs: 2500 },
        callerRtp,
      });
      expectCallerOk(run);
      const bLog = timedMessages(run.bLog!);
      const ringFrom = bLog.find((m) => m.direction === 'received' && m.startLine.startsWith('INVITE'))!.at;
      const answeredAt = bLog.find((m) => m.direction === 'sent' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      const hz = dominantHz(callerRtp.audio(ringFrom + 100, ringFrom + 1000));
      expect(hz).toBeGreaterThan(420);
      expect(hz).toBeLessThan(480);
      expect(callerRtp.count(ringFrom, answeredAt)).toBeGreaterThan(80);
    });
  });

  it('recording: both parties to RECORDING_DIR/<call id>.wav, length of the bridged call, in the CDR and a recording event', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: POOL, x, a, extension: '4321', recording: true });
    await withRtpPeers(1, async ([farRtp]) => {
      farRtp.sendToneWhenHeard(600);
      const run = await placeMediaCall(s, {
        caller: mobile('139'),
        x,
        target: a,
        script: { pcap: pcap({ digits: '4321', leadMs: 500, tailMs: 5000, tailToneHz: 1000 }), hangUpAfterMs: 4500 },
        farEnd: { ringMs: 200, rtpPort: farRtp.port },
      });
      expectCallerOk(run);
      const cdr = await cdrOf(s, run.callId);
      expect(cdr.record_path).toBeDefined();
      expect(cdr.record_path!.startsWith(s.config.RECORDING_DIR)).toBe(true);
      expect(existsSync(cdr.record_path!)).toBe(true);
      // Expected length: from B's answer to the caller's BYE (same clock, sipp logs).
      const bAnswer = timedMessages(run.bLog!).find((m) => m.direction === 'sent' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      const aBye = timedMessages(run.aLog).find((m) => m.direction === 'sent' && m.startLine.startsWith('BYE'))!.at;
      const seconds = Number(soxi(cdr.record_path!, '-D'));
      expect(Math.abs(seconds - (aBye - bAnswer) / 1000)).toBeLessThan(0.6);
      expect(soxi(cdr.record_path!, '-r')).toBe('8000');
      expect(cdr.record_duration).toBeCloseTo(seconds, 1);
      // Not silence: the tones of both parties are in it.
      const stat = spawnSync('sox', [cdr.record_path!, '-n', 'stat']).stderr.toString();
      const rmsAmp = Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(stat)?.[1]);
      expect(rmsAmp).toBeGreaterThan(0.05);
      expect(cdr.record_url).toMatch(/\/v1\/recordings\/.+\.wav\?expires=\d+&sig=/);
      const ev = (await eventsOf(s, run.callId)).find((e) => e.type === 'recording');
      expect(ev?.data).toMatchObject({ record_path: cdr.record_path });
    });
  });
});
