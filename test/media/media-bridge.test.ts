// Media on bridges that are not extension calls, and media failures, through real
// drachtio-server, FreeSWITCH and sipp: a RingConfig tone (binding, then pool default) heard as
// early media before the 200 OK, recording of an ordinary bridge, CANCEL during early media, the
// binding's A calling an AXN-extension X (no prompt, straight to its default B; 404 without one),
// FreeSWITCH down (503 cause 41 at once) and back (xline reconnects by itself).
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveRingTone } from '../../src/audio-files/ring-tones.js';
import { bindInPool } from '../support/bind-in-pool.js';
import { cdrOf, mobile, startRedisSide, waitFor, type RedisSide } from '../sip/harness.js';
import { uriUser } from '../support/sipp.js';
import { toneWav } from './fixtures.js';
import { bindExtension, canRunMedia, placeMediaCall, received, startMediaStack, timedMessages, type MediaStack } from './harness.js';
import { dominantHz, withRtpPeers } from './rtp-peer.js';

const reasonCause = (v: string | undefined) => Number(/cause=(\d+)/.exec(v ?? '')?.[1] ?? NaN);

describe.skipIf(!canRunMedia)('media bridges and media failures', () => {
  let side: RedisSide;
  let s: MediaStack;

  beforeAll(async () => {
    side = await startRedisSide();
    s = await startMediaStack(side);
    await saveRingTone(s.config, 'tone800', toneWav(800, 1));
  }, 60_000);
  afterEach(async () => {
    await s.expectIdle();
  }, 20_000);
  afterAll(async () => {
    await s?.stop();
    await side?.close();
  });

  async function bindAxn(o: { poolKey: string; x: string; a: string; b?: string; recording?: boolean; ringConfig?: Record<string, string>; poolRing?: Record<string, string> }) {
    return bindInPool(side.store, o.poolKey, { mode: 'AXN', a: o.a, x: o.x, b: o.b, recording: o.recording, ringConfig: o.ringConfig }, o.poolRing ? { ringConfig: o.poolRing } : {});
  }

  /** A call from N to an AXN X whose far end rings 2 s: RTP the caller got before the 200 OK. */
  async function ringToneCall(x: string, a: string, o: { recorded?: boolean } = {}) {
    return withRtpPeers(1, async ([callerRtp]) => {
      const run = await placeMediaCall(s, {
        caller: mobile('139'),
        x,
        target: a,
        script: { hangUpAfterMs: 1000, rtpPort: callerRtp.port, ...(o.recorded ? {} : { reinvite: true }) },
        farEnd: { ringMs: 2000, ...(o.recorded ? {} : { reinvite: true }) },
        callerRtp,
      });
      expect(run.a.code, run.a.errors.slice(-1500)).toBe(0);
      const log = timedMessages(run.aLog);
      const early = log.find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0 183'));
      const ok = log.find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0 200'))!;
      expect(early, '183 with early media before the answer').toBeDefined();
      const before = callerRtp.audio(0, ok.at);
      return { run, packetsBefore: callerRtp.count(0, ok.at), hz: dominantHz(before.slice(5, 45)), okAt: ok.at };
    });
  }

  it("RingConfig tone of the binding is heard as early media until B answers (AXNRing_N)", async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindAxn({ poolKey: 'FCRING1', x, a, ringConfig: { AXNRing_N: 'tone800' } });
    const r = await ringToneCall(x, a);
    expect(r.packetsBefore).toBeGreaterThan(60);
    expect(r.hz).toBeGreaterThan(760);
    expect(r.hz).toBeLessThan(840);
    const inv = received(r.run.b, (m) => m.method === 'INVITE')!;
    expect(uriUser(inv.uri)).toBe(a);
    expect(uriUser(inv.header('from'))).toBe(x);
    const cdr = await cdrOf(s, r.run.callId);
    expect(cdr).toMatchObject({ call_type: 1, release_dir: 1 });
    expect(cdr.start_time, JSON.stringify(cdr)).toBeDefined();
  });

  it('without a binding tone, the pool default RingConfig applies', async () => {
    const x = mobile('177');
    const a = mobile('138');
    // A pool made after xline started: its default is read when its first call needs it.
    await bindAxn({ poolKey: 'FCRING2', x, a, poolRing: { AXNRing_N: 'tone800' } });
    const r = await ringToneCall(x, a);
    expect(r.packetsBefore).toBeGreaterThan(60);
    expect(Math.abs(r.hz - 800)).toBeLessThan(40);
  });

  it('recording of an ordinary bridge (no tone): default ringback as early media, file of the call', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindAxn({ poolKey: 'FCREC1', x, a, recording: true });
    const r = await ringToneCall(x, a, { recorded: true });
    expect(Math.abs(r.hz - 450)).toBeLessThan(30);
    const cdr = await cdrOf(s, r.run.callId);
    expect(cdr.record_path && existsSync(cdr.record_path)).toBe(true);
    expect(cdr.record_duration).toBeGreaterThan(0.5);
    expect(cdr.record_duration).toBeLessThan(2);
  });

  it('caller CANCELs during early media: B gets CANCEL, 487 to the caller, nothing left', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindAxn({ poolKey: 'FCRING3', x, a, ringConfig: { AXNRing_N: 'tone800' } });
    const run = await placeMediaCall(s, {
      caller: mobile('139'),
      x,
      target: a,
      script: { cancelAfterMs: 800 },
      farEnd: { ringMs: 0, awaitCancel: true },
    });
    expect(run.a.code, run.a.errors.slice(-1500)).toBe(0);
    expect(received(run.b, (m) => m.method === 'CANCEL'), 'B was not CANCELed').toBeDefined();
    const cdr = await cdrOf(s, run.callId);
    expect(cdr.release_dir).toBe(1);
    expect(cdr.start_time).toBeUndefined();
  });

  it("the binding's A calling its AXN-extension X gets no prompt: straight to the default B; 404 without one", async () => {
    const x = mobile('177');
    const a = mobile('138');
    const b = mobile('150');
    await bindExtension(side, { poolKey: 'FCEXT2', x, a, b, extension: '11' });
    const run = await placeMediaCall(s, { caller: a, x, target: b, script: { hangUpAfterMs: 500 }, farEnd: { ringMs: 100 } });
    expect(run.a.code, run.a.errors.slice(-1500)).toBe(0);
    const inv = received(run.b, (m) => m.method === 'INVITE')!;
    expect(uriUser(inv.uri)).toBe(b);
    expect(uriUser(inv.header('from'))).toBe(x);
    // The caller's answer is B's own SDP: no FreeSWITCH prompt in between.
    const ok = received(run.a, (m) => m.status === 200 && /INVITE/.test(m.header('cseq') ?? ''))!;
    // (FreeSWITCH's answers carry a=ptime; the far end's does not), rewritten like every SDP.
    expect(ok.body).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r?$/m);
    expect(ok.body).not.toContain('a=ptime');
    expect(ok.body).toMatch(/^s=-\r?$/m);

    const x2 = mobile('177');
    const a2 = mobile('138');
    await bindExtension(side, { poolKey: 'FCEXT2', x: x2, a: a2, extension: '12' });
    const refused = await placeMediaCall(s, { caller: a2, x: x2, script: { expectStatus: 404 } });
    expect(refused.a.code, refused.a.errors.slice(-1500)).toBe(0);
    const final = received(refused.a, (m) => m.status === 404)!;
    expect(reasonCause(final.header('reason'))).toBe(1);
  });

  it('FreeSWITCH down: extension calls get 503 cause 41 at once; back up: xline reconnects by itself', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: 'FCEXT3', x, a, extension: '33' });
    await s.fs.kill();
    await waitFor(() => !s.ctx.health.media, 5000, 'health.media down');
    const t0 = Date.now();
    const down = await placeMediaCall(s, { caller: mobile('139'), x, script: { expectStatus: 503 } });
    expect(down.a.code, down.a.errors.slice(-1500)).toBe(0);
    expect(reasonCause(received(down.a, (m) => m.status === 503)?.header('reason'))).toBe(41);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await cdrOf(s, down.callId)).release_cause).toBe(41);

    await s.fs.start();
    await waitFor(() => s.ctx.health.media, 10_000, 'health.media back up');
    const up = await placeMediaCall(s, {
      caller: mobile('139'),
      x,
      target: a,
      script: { info: '33', infoAfterMs: 300, hangUpAfterMs: 800, reinvite: true },
      farEnd: { ringMs: 100 },
    });
    expect(up.a.code, up.a.errors.slice(-1500)).toBe(0);
    expect(uriUser(received(up.b, (m) => m.method === 'INVITE')?.uri)).toBe(a);
  }, 60_000);

  it('FreeSWITCH dies during a prompt: the call ends, no endpoint is left; restart: calls work', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: 'FCEXT4', x, a, extension: '44' });
    const call = placeMediaCall(s, { caller: mobile('139'), x, script: { expectBye: true }, timeoutSec: 20 });
    await waitFor(() => s.media.liveEndpoints() === 1, 5000, 'the caller in the prompt');
    await s.fs.kill();
    const run = await call;
    expect(run.a.code, run.a.errors.slice(-1500)).toBe(0);
    expect(reasonCause(received(run.a, (m) => m.method === 'BYE')?.header('reason'))).toBe(41);
    await waitFor(() => s.media.liveEndpoints() === 0, 5000, 'endpoints released');
    await s.fs.start();
    await waitFor(() => s.ctx.health.media, 10_000, 'health.media back up');
  }, 60_000);
});
