// Extension calls as the phones see them, through real FreeSWITCH, drachtio-server and sipp.
// Fast answer (issue 14 item 4): A's phone answers the moment it is called (sipp with no ring
// time), while FreeSWITCH's ringback towards the caller has only just been queued. The caller's
// audio must reach A promptly after A's answer — the bug left A in silence for ~2 s while xline
// waited for a ringback playback FreeSWITCH had discarded — both when FreeSWITCH hands the media
// over to the phones and when it stays to record. Measured from RTP really received at A's
// socket: the caller's 1 kHz tone.
// A caller's re-INVITE changing codec mid-call (item 5): relayed to A once the media was handed
// over, answered by FreeSWITCH while it stays in the path.
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { cdrOf, mobile, startRedisSide, type RedisSide } from '../sip/harness.js';
import { dtmfRtpPackets } from './dtmf-pcap.js';
import { bindExtension, canRunMedia, placeMediaCall, received, startMediaStack, timedMessages, type MediaStack, expectCallerOk } from './harness.js';
import { dominantHz, RtpPeer, withRtpPeers } from './rtp-peer.js';

const POOL = 'FCFAST01';
/** Well under the bug's ~2 s, generous for a loaded 2-core machine (the fix takes tens of ms). */
const PROMPT_MS = 1000;

/** Time of the first 100 ms of `hz` tone among PCMU packets received at or after `from`. */
function firstToneAt(peer: RtpPeer, hz: number, from: number): number | undefined {
  const pkts = peer.packets.filter((p) => p.pt === 0 && p.at >= from);
  for (let i = 0; i + 5 <= pkts.length; i++) {
    if (Math.abs(dominantHz(pkts.slice(i, i + 5).map((p) => p.payload)) - hz) < 50) return pkts[i]!.at;
  }
  return undefined;
}

describe.skipIf(!canRunMedia)('extension calls: fast answer, codec change mid-call', () => {
  let side: RedisSide;
  let s: MediaStack;
  const lines: Array<{ level: number; msg: string }> = [];

  beforeAll(async () => {
    side = await startRedisSide();
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
        done();
      },
    });
    s = await startMediaStack(side, {}, { log: createLogger('info', {}, sink) });
  }, 60_000);
  afterEach(async () => {
    await s.expectIdle();
  }, 15_000);
  afterAll(async () => {
    await s?.stop();
    await side?.close();
  });

  // Several calls each: whether the ring-back playback is still queued on the caller's channel
  // when A answers is a race (about half of the direct calls lost it before the fix).
  for (const [recording, calls] of [[false, 8], [true, 2]] as const) {
    const how = recording ? 'recorded: FreeSWITCH bridges and stays' : 'FreeSWITCH hands the media over to the phones';
    it(`A answers at once (${how}): caller's tone at A within ${PROMPT_MS} ms of the answer, no warning`, async () => {
      for (let i = 0; i < calls; i++) {
        const x = mobile('177');
        const a = mobile('138');
        await bindExtension(side, { poolKey: POOL, x, a, extension: '305', recording });
        await withRtpPeers(2, async ([callerRtp, aRtp]) => {
          // Keys 305 (routes on the third digit), then at once a 1 kHz tone: the caller's voice.
          callerRtp.playWhenHeard(dtmfRtpPackets({ digits: '305', leadMs: 500, gapMs: 40, tailMs: 3000, tailToneHz: 1000 }));
          aRtp.sendToneWhenHeard(600);
          const warnFrom = lines.length;
          const run = await placeMediaCall(s, {
            caller: mobile('139'),
            x,
            target: a,
            script: { hangUpAfterMs: 1500, rtpPort: callerRtp.port, reinvite: !recording },
            farEnd: { ringMs: 0, rtpPort: aRtp.port },
            callerRtp,
            farRtp: aRtp,
          });
          expectCallerOk(run);
          expect(received(run.b, (m) => m.method === 'INVITE'), 'A was not called').toBeDefined();
          const aAnswered = timedMessages(run.bLog!).find((m) => m.direction === 'sent' && m.startLine.startsWith('SIP/2.0 200'))!.at;
          const heard = firstToneAt(aRtp, 1000, aAnswered);
          expect(heard, `A never heard the caller (call ${i + 1})`).toBeDefined();
          expect(heard! - aAnswered, `caller's audio reached A ${heard! - aAnswered} ms after A answered (call ${i + 1})`).toBeLessThan(PROMPT_MS);
          const warnings = lines.slice(warnFrom).filter((l) => l.level >= 40);
          expect(warnings.map((l) => l.msg)).toEqual([]);
          const cdr = await cdrOf(s as never, run.callId);
          expect(cdr.start_time).toBeDefined();
          if (recording) expect(cdr.record_path).toBeDefined();
        });
        await s.expectIdle();
      }
    }, 120_000);
  }

  it('the caller re-INVITEs with PCMA only after the hand-off: A gets the new offer, the caller A\'s answer', async () => {
    const x = mobile('177');
    const a = mobile('138');
    const caller = mobile('139');
    await bindExtension(side, { poolKey: POOL, x, a, extension: '306' });
    await withRtpPeers(1, async ([callerRtp]) => {
      callerRtp.playWhenHeard(dtmfRtpPackets({ digits: '306', leadMs: 500, tailMs: 3000 }));
      const run = await placeMediaCall(s, {
        caller,
        x,
        target: a,
        script: { rtpPort: callerRtp.port, reinvite: true, codecChangeAfterMs: 300, hangUpAfterMs: 500 },
        farEnd: { ringMs: 100, codecReinvite: true },
      });
      expectCallerOk(run);
      expect(run.b!.code, run.b!.errors.slice(-1500)).toBe(0);
      const invites = run.b!.messages.filter((m) => m.direction === 'received' && m.method === 'INVITE');
      expect(invites).toHaveLength(2);
      expect(invites[1]!.body).toMatch(/m=audio \d+ RTP\/AVP 8 101\r?\n/);
      expect(invites[1]!.body).not.toMatch(/PCMU/);
      expect(invites[1]!.raw).not.toContain(caller);
      const answer = run.a.messages.find((m) => m.direction === 'received' && m.status === 200 && /^50 INVITE/.test(m.header('cseq') ?? ''));
      expect(answer?.body).toMatch(/a=rtpmap:8 PCMA\/8000/);
      expect(answer?.raw).not.toContain(a);
      expect((await cdrOf(s as never, run.callId)).release_dir).toBe(1);
    });
  });

  it('the caller re-INVITEs with PCMA only in a recorded call: FreeSWITCH answers it, the call and its recording go on', async () => {
    const x = mobile('177');
    const a = mobile('138');
    await bindExtension(side, { poolKey: POOL, x, a, extension: '307', recording: true });
    await withRtpPeers(1, async ([callerRtp]) => {
      callerRtp.playWhenHeard(dtmfRtpPackets({ digits: '307', leadMs: 500, tailMs: 3000 }));
      const run = await placeMediaCall(s, {
        caller: mobile('139'),
        x,
        target: a,
        // No hand-off to wait for: the change comes once A has answered (keys end ~1.5 s in).
        script: { rtpPort: callerRtp.port, codecChangeAfterMs: 2500, hangUpAfterMs: 500 },
        farEnd: { ringMs: 100 },
      });
      expectCallerOk(run);
      expect(run.b!.code, run.b!.errors.slice(-1500)).toBe(0);
      const answer = run.a.messages.find((m) => m.direction === 'received' && m.status === 200 && /^50 INVITE/.test(m.header('cseq') ?? ''));
      expect(answer?.body).toMatch(/m=audio \d+ RTP\/AVP 8[ \r\n]/);
      // A answered before the change, and FreeSWITCH, not A, took it.
      const bAnswered = timedMessages(run.bLog!).find((m) => m.direction === 'sent' && m.startLine.startsWith('SIP/2.0 200'))!.at;
      const changed = timedMessages(run.aLog).find((m) => m.direction === 'sent' && m.startLine.startsWith('INVITE') && m.at > bAnswered);
      expect(changed, 'the codec change came before A answered').toBeDefined();
      expect(run.b!.messages.filter((m) => m.direction === 'received' && m.method === 'INVITE')).toHaveLength(1);
      const cdr = await cdrOf(s as never, run.callId);
      expect(cdr).toMatchObject({ release_dir: 1 });
      expect(cdr.record_path).toBeDefined();
    });
  });
});
