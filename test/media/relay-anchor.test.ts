// With a media relay configured (RTPENGINE_NG, a real rtpengine started here), calls that
// FreeSWITCH serves keep it as their media anchor: an AXN-extension call is not handed over to
// the phones by re-INVITE (which would give each the other's address); B is offered FreeSWITCH's
// media, rewritten like every SDP, and the tones still pass both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mobile, startRedisSide, type RedisSide } from '../sip/harness.js';
import { rtpengineBin, startRtpengine, type Rtpengine } from '../support/rtpengine.js';
import { uriUser } from '../support/sipp.js';
import { dtmfRtpPackets } from './dtmf-pcap.js';
import { bindExtension, canRunMedia, placeMediaCall, received, startMediaStack, timedMessages, type MediaStack, expectCallerOk } from './harness.js';
import { dominantHz, withRtpPeers } from './rtp-peer.js';

describe.skipIf(!canRunMedia || !rtpengineBin)('FreeSWITCH calls with a media relay configured', () => {
  let side: RedisSide;
  let engine: Rtpengine;
  let s: MediaStack;

  beforeAll(async () => {
    side = await startRedisSide();
    engine = await startRtpengine();
    s = await startMediaStack(side, { RTPENGINE_NG: engine.ng });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    await engine?.stop();
    await side?.close();
  });

  it('an extension call stays anchored by FreeSWITCH: no hand-off, B sees FreeSWITCH\'s media rewritten, audio both ways', async () => {
    const x = mobile('177');
    const a = mobile('138');
    const caller = mobile('139');
    await bindExtension(side, { poolKey: 'FCRELAY1', x, a, extension: '1001' });
    await withRtpPeers(2, async ([callerRtp, farRtp]) => {
      callerRtp.playWhenHeard(dtmfRtpPackets({ digits: '1001', leadMs: 600, tailMs: 4000, tailToneHz: 1000 }));
      farRtp.sendToneWhenHeard(600);
      const run = await placeMediaCall(s, {
        caller,
        x,
        target: a,
        script: { hangUpAfterMs: 4000, rtpPort: callerRtp.port },
        farEnd: { ringMs: 300, rtpPort: farRtp.port },
        callerRtp,
        farRtp,
      });
      expectCallerOk(run);
      const inv = received(run.b, (m) => m.method === 'INVITE')!;
      expect(uriUser(inv.uri)).toBe(a);
      expect(inv.raw).not.toContain(caller);
      // FreeSWITCH's offer, not the caller's media, and rewritten
      expect(inv.body).not.toContain(`m=audio ${callerRtp.port} `);
      expect(inv.body).toMatch(/^o=- \d+ 1 IN IP4 127\.0\.0\.1\r?$/m);
      expect(inv.body).toMatch(/^s=-\r?$/m);
      expect(inv.body).not.toContain('FreeSWITCH');
      // no re-INVITE moved the caller onto B's media
      expect(timedMessages(run.aLog).filter((m) => m.direction === 'received' && m.startLine.startsWith('INVITE'))).toEqual([]);
      const bAnswer = timedMessages(run.bLog!).find((m) => m.direction === 'sent' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      const fromB = callerRtp.audio(bAnswer + 500);
      const fromA = farRtp.audio(bAnswer + 500);
      expect(fromB.length, 'caller got no audio from B').toBeGreaterThan(50);
      expect(fromA.length, 'B got no audio from the caller').toBeGreaterThan(50);
      expect(Math.abs(dominantHz(fromB) - 600)).toBeLessThan(30);
      expect(Math.abs(dominantHz(fromA) - 1000)).toBeLessThan(50);
      await s.expectIdle();
    });
  });
});
