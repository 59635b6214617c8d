// xline's rtpengine client against a real rtpengine (Debian's rtpengine-daemon, userspace, on
// loopback): two parties on distinct addresses (127.0.0.2, 127.0.0.3) exchange offer and answer
// through it, then RTP both ways; each must see only the relay, and the phones' RTCP (whose SDES
// CNAME carries their SIP URI) must not cross: the relay sends its own.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { RelayUnavailableError, startRtpengine as startRelayClient, type MediaRelay } from '../../src/media-relay/rtpengine.js';
import { freeUdpTcpPort } from '../support/drachtio.js';
import { rtpengineBin, startRtpengine, type Rtpengine } from '../support/rtpengine.js';
import { mediaTarget, RtpProbe } from '../support/rtp-probe.js';

const log = createLogger('silent');

/** The SSRC of each packet of an RTCP compound packet (the sender's, or the first chunk's). */
function rtcpSsrcs(p: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off + 8 <= p.length; off += 4 * (p.readUInt16BE(off + 2) + 1)) out.push(p.readUInt32BE(off + 4));
  return out;
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!rtpengineBin)('media relay: rtpengine over ng', () => {
  let engine: Rtpengine;
  let relay: MediaRelay;
  const metrics = new Registry();
  const states: boolean[] = [];

  beforeAll(async () => {
    engine = await startRtpengine();
    relay = startRelayClient({ host: engine.host, port: engine.port, log, metrics, onState: (up) => states.push(up) });
    await until(() => relay.up, 3000, 'relay up');
  });
  afterAll(async () => {
    relay?.stop();
    await engine?.stop();
  });

  it('anchors both directions: each party sees only the relay, RTP flows both ways, RTCP is the relay\'s own', async () => {
    const a = await RtpProbe.open('127.0.0.2');
    const b = await RtpProbe.open('127.0.0.3');
    try {
      const callId = `relay-test-${Date.now()}@127.0.0.2`;
      const toB = await relay.offer({ callId, fromTag: 'a', toTag: 'b', sdp: a.sdp('13800000001') });
      const toA = await relay.answer({ callId, fromTag: 'a', toTag: 'b', sdp: b.sdp('13900000002') });
      expect(relay.sessions).toBe(1);
      for (const [sdp, other] of [
        [toB, a],
        [toA, b],
      ] as const) {
        expect(sdp).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
        expect(sdp).toMatch(/^o=\S+ \S+ \S+ IN IP4 127\.0\.0\.1\r?$/m);
        // where media goes (identity in a=ssrc and friends is sdp-privacy's part, not the relay's)
        const transport = sdp.split(/\r?\n/).filter((l) => /^[com]=|^a=rtcp:/.test(l)).join('\n');
        expect(transport, 'the other party\'s address').not.toContain(other.address);
        expect(mediaTarget(sdp).port).not.toBe(other.port);
      }
      const relayForA = mediaTarget(toA);
      const relayForB = mediaTarget(toB);
      a.send(relayForA, '13800000001');
      b.send(relayForB, '13900000002');
      await until(() => a.rtp.length >= 25 && b.rtp.length >= 25, 5000, 'RTP at both parties');
      expect(new Set(b.rtp.map((p) => p.from))).toEqual(new Set([`127.0.0.1:${relayForB.port}`]));
      expect(new Set(a.rtp.map((p) => p.from))).toEqual(new Set([`127.0.0.1:${relayForA.port}`]));
      // RTCP: rtpengine reports every ~5 s; by then each phone has sent ~25 SDES packets.
      await until(() => a.rtcp.length > 0 && b.rtcp.length > 0, 12_000, 'RTCP from the relay at both parties');
      for (const [probe, otherNumber] of [
        [b, '13800000001'],
        [a, '13900000002'],
      ] as const) {
        for (const p of probe.rtcp) {
          expect(p.from.startsWith('127.0.0.1:'), `RTCP from ${p.from}`).toBe(true);
          expect(p.data.includes(otherNumber), 'the other phone\'s RTCP SDES crossed the relay').toBe(false);
        }
      }
      await relay.delete(callId);
      expect(relay.sessions).toBe(0);
      expect(await relay.list()).not.toContain(callId);
      // deleting again (every end path may try) is harmless
      await relay.delete(callId);
    } finally {
      a.close();
      b.close();
    }
  });

  // baresip's RTCP outside its reports has no RR or SR in front: an APP packet as its stream
  // starts, BYE + SDES(CNAME sip:<number>@<address>) as the call ends. rtpengine's "generate
  // RTCP" consumes only compound packets holding an SR, RR or XR, so these crossed it verbatim.
  it("a phone's RTCP without a report (APP at the start, BYE + SDES at hang-up) does not cross either", async () => {
    const a = await RtpProbe.open('127.0.0.2');
    const b = await RtpProbe.open('127.0.0.3');
    const callId = `relay-bye-${Date.now()}@127.0.0.2`;
    try {
      // A offers rtcp-mux as many phones do: muxed, its RTCP would share the relay's RTP port.
      const toB = await relay.offer({ callId, fromTag: 'a', toTag: 'b', sdp: a.sdp('13800000001', { extra: ['a=rtcp-mux'] }) });
      const toA = await relay.answer({ callId, fromTag: 'a', toTag: 'b', sdp: b.sdp('13900000002') });
      const relayForA = mediaTarget(toA);
      const relayForB = mediaTarget(toB);
      // Each phone sends what it sends (RTCP included) where its SDP says: the probes honour a=rtcp.
      a.sendBareRtcp(relayForA, '13800000001', 'app');
      b.sendBareRtcp(relayForB, '13900000002', 'app');
      a.send(relayForA, '13800000001');
      b.send(relayForB, '13900000002');
      await until(() => a.rtp.length >= 10 && b.rtp.length >= 10, 5000, 'RTP at both parties');
      a.sendBareRtcp(relayForA, '13800000001', 'app');
      b.sendBareRtcp(relayForB, '13900000002', 'app');
      // Hang-up: each sends its BYE with its CNAME while the relay session still stands.
      a.sendBareRtcp(relayForA, '13800000001', 'bye');
      b.sendBareRtcp(relayForB, '13900000002', 'bye');
      // The relay handles each socket in order: once 20 more RTP packets (400 ms) have crossed,
      // a BYE sent before them would have too.
      const [ra, rb] = [a.rtp.length, b.rtp.length];
      await until(() => a.rtp.length >= ra + 20 && b.rtp.length >= rb + 20, 5000, 'RTP after the BYEs');
      // RTCP at each party (on either port: a muxed party gets it on its RTP port) that came
      // from the other: its number, its packets, its SSRC.
      const crossed: string[] = [];
      for (const [at, from, user] of [
        [b, a, '13800000001'],
        [a, b, '13900000002'],
      ] as const) {
        for (const p of [...at.rtp, ...at.rtcp].filter((r) => r.data[1]! >= 200 && r.data[1]! <= 206)) {
          const ofOther = p.data.includes(user) || p.data.includes('Adjo') || p.data.includes('PINGPONG') || rtcpSsrcs(p.data).includes(from.ssrc(user));
          if (ofOther) crossed.push(`${at.address} got ${p.data.toString('hex')} (${p.data.toString('latin1').replace(/[^ -~]/g, '.')})`);
        }
      }
      expect(crossed, "a phone's own RTCP crossed the relay").toEqual([]);
      expect(toA, 'the relay took rtcp-mux').not.toMatch(/^a=rtcp-mux/m);
    } finally {
      await relay.delete(callId);
      a.close();
      b.close();
    }
  });

  it('reports itself in metrics', async () => {
    const text = await metrics.metrics();
    expect(text).toMatch(/^xline_media_relay_up 1$/m);
    expect(text).toMatch(/^xline_media_relay_sessions 0$/m);
    expect(text).toMatch(/^xline_media_relay_commands_total\{command="offer",result="ok"\} [1-9]/m);
    expect(states[0]).toBe(true);
  });

  it('a refused command is an error of its own, and the relay still counts as up', async () => {
    await expect(relay.answer({ callId: 'never-offered', fromTag: 'x', toTag: 'y', sdp: 'v=0\r\n' })).rejects.toBeInstanceOf(RelayUnavailableError);
    expect(relay.up).toBe(true);
  });

  it('no relay listening: the offer is rejected within the command timeout and the relay is down', async () => {
    const port = await freeUdpTcpPort();
    const m = new Registry();
    const seen: boolean[] = [];
    const dead = startRelayClient({ host: '127.0.0.1', port, log, metrics: m, timeoutMs: 300, onState: (up) => seen.push(up) });
    try {
      const p = await RtpProbe.open('127.0.0.2');
      try {
        await expect(dead.offer({ callId: 'c', fromTag: 'a', sdp: p.sdp('13800000001') })).rejects.toBeInstanceOf(RelayUnavailableError);
      } finally {
        p.close();
      }
      expect(dead.up).toBe(false);
      expect(await dead.ping()).toBe(false);
      expect(await m.metrics()).toMatch(/^xline_media_relay_up 0$/m);
      expect(await m.metrics()).toMatch(/^xline_media_relay_commands_total\{command="offer",result="timeout"\} 1$/m);
      expect(seen.includes(true)).toBe(false);
    } finally {
      dead.stop();
    }
  });
});
