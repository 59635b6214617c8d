// Huawei AXE callback records end to end through real drachtio-server, FreeSWITCH and sipp: a
// caller N dials the AXE X, keys A's extension by RFC 2833, talks to A and hangs up; then A dials
// X and is put through to N (the far end gets the INVITE for N with X as the caller), the callback
// record having been written to Redis with the binding. With no record and only a callbackTone, A
// is answered, hears that tone (its 1 kHz in the RTP A receives) and is hung up: CDR release_dir 0,
// control_type 'no-callback'. Bindings are made the way the Huawei API writes them (huawei.appKey).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HuaweiFields } from '../../src/domain/binding.js';
import { cdrOf, expectCleanBLeg, mobile, startRedisSide, type RedisSide } from '../sip/harness.js';
import { uriUser } from '../support/sipp.js';
import { writeToneWav } from '../support/tone.js';
import { writeDtmfPcap } from './dtmf-pcap.js';
import { canRunMedia, placeMediaCall, received, startMediaStack, type MediaStack } from './harness.js';
import { dominantHz, RtpPeer } from './rtp-peer.js';

const POOL = 'FCHWAXECB';

describe.skipIf(!canRunMedia)('Huawei AXE callback records through FreeSWITCH', () => {
  let side: RedisSide;
  let s: MediaStack;

  beforeAll(async () => {
    side = await startRedisSide();
    s = await startMediaStack(side);
    await side.store.upsertPool(POOL, { name: POOL, strictCity: false });
  }, 60_000);
  afterEach(async () => {
    await s.expectIdle();
  }, 15_000);
  afterAll(async () => {
    await s?.stop();
    await side?.close();
  });

  async function bindAxe(a: string, x: string, extension: string, huawei: Omit<HuaweiFields, 'appKey'>) {
    await side.store.addNumbers(POOL, [{ number: x, city: '深圳' }]);
    return side.store.bind({ mode: 'AXE', poolKey: POOL, a, x, extension, expiresAt: Math.floor(Date.now() / 1000) + 3600, recording: false, callDisplayType: 1, huawei: { appKey: 'hw-axe-cb', ...huawei } });
  }

  it('N reaches A by extension; then A dialling X is put through to N (From = X), not to the callbackNum', async () => {
    const x = mobile('177');
    const a = mobile('138');
    const n = mobile('139');
    const fallback = mobile('186');
    const binding = await bindAxe(a, x, '4321', { callbackNum: fallback, callbackExpiredTime: 10, timeUnit: '1' });

    const inbound = await placeMediaCall(s, {
      caller: n,
      x,
      target: a,
      script: { pcap: writeDtmfPcap(join(s.dir, 'axe-cb-4321.pcap'), { digits: '4321', leadMs: 600 }), hangUpAfterMs: 1000, reinvite: true },
      farEnd: { ringMs: 100 },
    });
    expect(inbound.a.code, inbound.a.errors.slice(-1500) + inbound.a.output.slice(-800)).toBe(0);
    expect(uriUser(received(inbound.b, (m) => m.method === 'INVITE')!.uri), 'N reached A').toBe(a);
    expect(await cdrOf(s, inbound.callId)).toMatchObject({ sub_id: binding.subsId, phone_no: a, peer_no: n, call_type: 1, app_key: 'hw-axe-cb' });
    await s.expectIdle();

    // A calls X back: the far end is rung for N, with X as the caller and nothing of A
    const back = await placeMediaCall(s, { caller: a, x, target: n, script: { hangUpAfterMs: 500 }, farEnd: { ringMs: 100 } });
    expect(back.a.code, back.a.errors.slice(-1500) + back.a.output.slice(-800)).toBe(0);
    expectCleanBLeg(back.b!, n, x, a);
    expect(await cdrOf(s, back.callId)).toMatchObject({ sub_id: binding.subsId, phone_no: a, peer_no: n, call_type: 0, release_dir: 1 });
  });

  it('no callback record, only a callbackTone: A hears the tone and is hung up (control_type no-callback)', async () => {
    const x = mobile('177');
    const a = mobile('138');
    mkdirSync(s.config.RING_TONE_DIR, { recursive: true });
    writeToneWav(join(s.config.RING_TONE_DIR, 'hw-callback-tone.wav'), 1000, 1.5);
    const binding = await bindAxe(a, x, '55', { callbackTone: 'hw-callback-tone.wav' });
    const rtp = await RtpPeer.open();
    try {
      const run = await placeMediaCall(s, { caller: a, x, script: { expectBye: true, rtpPort: rtp.port }, farEnd: { ringMs: 100 }, farEndCalled: false, callerRtp: rtp, timeoutSec: 20 });
      expect(run.a.code, run.a.errors.slice(-1500) + run.a.output.slice(-800)).toBe(0);
      expect(received(run.b, (m) => m.method === 'INVITE'), 'nobody is called').toBeUndefined();
      const heard = rtp.audio();
      expect(heard.length, 'A got no audio').toBeGreaterThan(25);
      expect(Math.abs(dominantHz(heard.slice(5, 45)) - 1000)).toBeLessThan(50);
      const bye = received(run.a, (m) => m.method === 'BYE');
      expect(bye, 'A was not hung up').toBeDefined();
      expect(await cdrOf(s, run.callId)).toMatchObject({ sub_id: binding.subsId, secret_no: x, release_dir: 0, control_type: 'no-callback', call_type: 4, app_key: 'hw-axe-cb' });
    } finally {
      rtp.close();
    }
  });
});
