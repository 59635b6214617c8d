// Issue 14: nothing of one party reaches the other in SDP or RTCP, and with a media relay
// (rtpengine, Debian's package, started here on loopback) neither learns the other's address.
// Caller A is sipp on 127.0.0.2, far end B sipp on 127.0.0.3, each with an SDP that names it the
// way phones do (number in o=, s=, ssrc cname, msid, a=tool ...) and media on an RtpProbe of its
// own address, so "address" is checkable: with the relay each must see only 127.0.0.1.
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startRtpengine as relayClient, type MediaRelay } from '../../src/media-relay/rtpengine.js';
import { freeUdpTcpPort } from '../support/drachtio.js';
import { rtpengineBin, startRtpengine, type Rtpengine } from '../support/rtpengine.js';
import { mediaTarget, RtpProbe } from '../support/rtp-probe.js';
import { parseMessageLog, startSipp, type SipMsg, type SippResult } from '../support/sipp.js';
import { canRun, cdrOf, expectCleanBLeg, reasonCause, startStack, waitFor, type Stack } from './harness.js';
import { sipSuite } from '../support/sip-suite.js';

const POOL = 'sip-privacy-pool';
const A_IP = '127.0.0.2';
const B_IP = '127.0.0.3';

interface PrivateRun {
  a: SippResult;
  b: SippResult;
  callId: string;
  inviteAtB?: SipMsg;
  okAtA?: SipMsg;
}

describe.skipIf(!canRun)('SDP privacy and media anchoring', () => {
  const t = sipSuite({ pool: POOL, poolName: 'privacy tests' });
  const { bindAxb } = t;
  let dir: string;
  let seq = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xline-privacy-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function stackOn(env: Record<string, string>): Promise<{ s: Stack; farEndPort: number }> {
    const farEndPort = await freeUdpTcpPort();
    const s = await startStack(t.side, { env: { SIP_TRUNK_CIDRS: '127.0.0.0/8', SIP_OUTBOUND_URI: `sip:${B_IP}:${farEndPort}`, ...env } });
    return { s, farEndPort };
  }

  /**
   * A from 127.0.0.2 calls X, B on 127.0.0.3 answers; each sends RTP and RTCP (naming itself)
   * from its probe to the address its SDP received names, for as long as the call lasts.
   */
  async function privateCall(
    s: Stack,
    farEndPort: number,
    o: { x: string; a: string; b: string; uac?: string; uas?: string; holdMs?: number; probes?: { a: RtpProbe; b: RtpProbe }; rtpUntil?: () => boolean; farEndGraceMs?: number },
  ): Promise<PrivateRun> {
    const n = ++seq;
    const aLog = join(dir, `a-${n}.log`);
    const bLog = join(dir, `b-${n}.log`);
    const trace = (file: string) => ['-trace_msg', '-message_file', file];
    const key = (p?: RtpProbe) => ['-key', 'rtp_port', String(p?.port ?? 9)];
    const bProc = await startSipp({
      scenario: o.uas ?? 'uas-private-sdp-answer.xml',
      localIp: B_IP,
      port: farEndPort,
      service: o.b,
      durationMs: 100,
      timeoutSec: 20,
      traceMessages: false,
      extraArgs: [...trace(bLog), ...key(o.probes?.b)],
    });
    const aProc = await startSipp({
      scenario: o.uac ?? 'uac-private-sdp-expect-200.xml',
      remote: `127.0.0.1:${s.drachtio.sipPort}`,
      localIp: A_IP,
      service: o.x,
      caller: o.a,
      durationMs: o.holdMs ?? 2500,
      timeoutSec: 20,
      traceMessages: false,
      extraArgs: [...trace(aLog), ...key(o.probes?.a)],
    });
    let aDone = false;
    const aRes = aProc.done.then((r) => {
      aDone = true;
      return r;
    });
    if (o.probes) {
      // As phones do: send where the description each received says, once it has one.
      const read = (f: string) => (existsSync(f) ? parseMessageLog(readFileSync(f, 'latin1')) : []);
      let aSending = false;
      let bSending = false;
      while (!aDone && !(o.rtpUntil?.() ?? false)) {
        const inv = read(bLog).find((m) => m.direction === 'received' && m.method === 'INVITE' && /m=audio/.test(m.body));
        const ok = read(aLog).find((m) => m.direction === 'received' && m.status === 200 && /m=audio/.test(m.body));
        if (inv && !bSending) {
          o.probes.b.send(mediaTarget(inv.body), o.b);
          bSending = true;
        }
        if (ok && !aSending) {
          o.probes.a.send(mediaTarget(ok.body), o.a);
          aSending = true;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      o.probes.a.stopSending();
      o.probes.b.stopSending();
    }
    const aRaw = await aRes;
    const bRaw = await Promise.race([bProc.done, new Promise<SippResult>((r) => setTimeout(() => void bProc.stop().then(r), o.farEndGraceMs ?? 8000))]);
    const a = { ...aRaw, messages: existsSync(aLog) ? parseMessageLog(readFileSync(aLog, 'latin1')) : [] };
    const b = { ...bRaw, messages: existsSync(bLog) ? parseMessageLog(readFileSync(bLog, 'latin1')) : [] };
    const invite = a.messages.find((m) => m.direction === 'sent' && m.method === 'INVITE');
    return {
      a,
      b,
      callId: invite?.header('call-id') ?? '',
      inviteAtB: b.messages.find((m) => m.direction === 'received' && m.method === 'INVITE'),
      okAtA: a.messages.find((m) => m.direction === 'received' && m.status === 200 && /INVITE/.test(m.header('cseq') ?? '')),
    };
  }

  /** What a party's phone put in its SDP, none of which may reach the other party. */
  function expectNothingOf(sdp: string, party: { number: string; words: string[] }): void {
    expect(sdp, 'number').not.toContain(party.number);
    for (const w of party.words) expect(sdp, w).not.toContain(w);
    expect(sdp).toMatch(/^o=- \d+ \d+ IN IP4 \S+\r?$/m);
    expect(sdp).toMatch(/^s=-\r?$/m);
    expect(sdp).not.toMatch(/^a=(msid|tool|label)/m);
    expect(sdp).not.toMatch(/^[iepu]=/m);
    for (const m of sdp.matchAll(/^a=ssrc:\d+ (.*)$/gm)) expect(m[1]).toMatch(/^cname:[0-9a-f]+\r?$/);
  }

  const ALICE_WORDS = ['AliceSoft', 'Alice', 'alice-stream'];
  const BOB_WORDS = ['BobPhone', 'bob', 'desk phone'];

  describe('without a relay (RTPENGINE_NG unset)', () => {
    let s: Stack;
    let farEndPort: number;
    beforeAll(async () => ({ s, farEndPort } = await stackOn({})));
    afterAll(async () => {
      await s?.stop();
    });

    it('B receives A\'s offer and A receives B\'s answer rewritten: no number, origin user, cname, msid, tool; only c= keeps the address', async () => {
      const { x, a, b } = await bindAxb();
      const r = await privateCall(s, farEndPort, { x, a, b, holdMs: 300 });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      expectCleanBLeg(r.b, b, x, a);
      const toB = r.inviteAtB!.body;
      const toA = r.okAtA!.body;
      expectNothingOf(toB, { number: a, words: ALICE_WORDS });
      expectNothingOf(toA, { number: b, words: BOB_WORDS });
      // what still leaks without a relay, as the README says: the c= address (and the origin's,
      // which is taken from it rather than from the phone's own o= line)
      expect(toB).toMatch(new RegExp(`^c=IN IP4 ${A_IP.replace(/\./g, '\\.')}\\r?$`, 'm'));
      expect(toB).toMatch(new RegExp(`^o=- \\d+ 1 IN IP4 ${A_IP.replace(/\./g, '\\.')}\\r?$`, 'm'));
      // media lines intact
      for (const l of ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv']) expect(toB).toContain(l);
      await waitFor(() => s.app.liveCalls() === 0, 5000, 'no live call');
    });
  });

  describe.skipIf(!rtpengineBin)('with rtpengine anchoring the media', () => {
    let engine: Rtpengine;
    let s: Stack;
    let farEndPort: number;
    let ng: MediaRelay;

    beforeAll(async () => {
      engine = await startRtpengine();
      ({ s, farEndPort } = await stackOn({ RTPENGINE_NG: engine.ng }));
      await waitFor(() => s.ctx.health.relay === true, 5000, 'xline sees the relay up');
      ng = relayClient({ host: engine.host, port: engine.port, log: createLogger('silent'), metrics: new Registry() });
    });
    afterAll(async () => {
      ng?.stop();
      await s?.stop();
      await engine?.stop();
    });

    async function expectNoRelaySession(callId: string): Promise<void> {
      const deadline = Date.now() + 3000;
      let calls = await ng.list();
      while (calls.includes(callId) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        calls = await ng.list();
      }
      expect(calls, 'relay session left behind').not.toContain(callId);
    }

    it('each party sees only the relay (offer to B, answer to A), RTP flows both ways through it, no RTCP of the other phone, session deleted', async () => {
      const { x, a, b } = await bindAxb();
      const pa = await RtpProbe.open(A_IP);
      const pb = await RtpProbe.open(B_IP);
      try {
        const r = await privateCall(s, farEndPort, { x, a, b, holdMs: 3000, probes: { a: pa, b: pb }, rtpUntil: () => pa.rtp.length >= 50 && pb.rtp.length >= 50 });
        expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
        expect(r.b.code, r.b.errors + r.b.output.slice(-800)).toBe(0);
        expectCleanBLeg(r.b, b, x, a);
        const toB = r.inviteAtB!.body;
        const toA = r.okAtA!.body;
        expectNothingOf(toB, { number: a, words: [...ALICE_WORDS, A_IP] });
        expectNothingOf(toA, { number: b, words: [...BOB_WORDS, B_IP] });
        for (const sdp of [toB, toA]) {
          expect(sdp).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
          expect(sdp).toMatch(/^o=- \d+ \d+ IN IP4 127\.0\.0\.1\r?$/m);
        }
        // nor in any SIP message: no number, no address of the other party, in headers or bodies
        for (const m of r.b.messages.filter((x) => x.direction === 'received')) {
          expect(m.raw, m.startLine).not.toContain(a);
          expect(m.raw, m.startLine).not.toContain(A_IP);
        }
        for (const m of r.a.messages.filter((x) => x.direction === 'received')) {
          expect(m.raw, m.startLine).not.toContain(b);
          expect(m.raw, m.startLine).not.toContain(B_IP);
        }
        // RTP both ways, each from the relay port its party was given
        expect(pb.rtp.length).toBeGreaterThanOrEqual(50);
        expect(pa.rtp.length).toBeGreaterThanOrEqual(50);
        expect(new Set(pb.rtp.map((p) => p.from))).toEqual(new Set([`127.0.0.1:${mediaTarget(toB).port}`]));
        expect(new Set(pa.rtp.map((p) => p.from))).toEqual(new Set([`127.0.0.1:${mediaTarget(toA).port}`]));
        // the phones' RTCP (SDES CNAME sip:<number>@<address>) never reaches the other phone
        for (const p of pb.rtcp) expect(p.data.includes(a) || p.from.startsWith(A_IP)).toBe(false);
        for (const p of pa.rtcp) expect(p.data.includes(b) || p.from.startsWith(B_IP)).toBe(false);
        await waitFor(() => s.app.liveCalls() === 0, 5000, 'no live call');
        await expectNoRelaySession(r.callId);
        expect((await cdrOf(s, r.callId)).release_cause).toBe(16);
      } finally {
        pa.close();
        pb.close();
      }
    });

    it('a caller\'s re-INVITE reaches B through the relay and its answer reaches A in the same origin, version + 1', async () => {
      const { x, a, b } = await bindAxb();
      const r = await privateCall(s, farEndPort, { x, a, b, uac: 'uac-reinvite-expect-200.xml', holdMs: 300 });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      const oks = r.a.messages.filter((m) => m.direction === 'received' && m.status === 200 && /INVITE/.test(m.header('cseq') ?? ''));
      expect(oks).toHaveLength(2);
      const origin = (sdp: string) => /^o=- (\d+) (\d+) IN IP4 (\S+?)\r?$/m.exec(sdp)!;
      const [first, second] = oks.map((m) => origin(m.body));
      expect(second![1]).toBe(first![1]);
      expect(BigInt(second![2]!)).toBe(BigInt(first![2]!) + 1n);
      expect(oks[1]!.body).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
      expectNothingOf(oks[1]!.body, { number: b, words: [...BOB_WORDS, B_IP] });
      const reinviteAtB = r.b.messages.filter((m) => m.direction === 'received' && m.method === 'INVITE')[1];
      expect(reinviteAtB?.body).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
      expect(reinviteAtB?.body).not.toContain(A_IP);
      await waitFor(() => s.app.liveCalls() === 0, 5000, 'no live call');
      await expectNoRelaySession(r.callId);
    });

    it('late offer: B\'s offer in the 200 and the caller\'s answer in the ACK both go through the relay and the rewrite', async () => {
      const { x, a, b } = await bindAxb();
      const r = await privateCall(s, farEndPort, { x, a, b, uac: 'uac-late-offer-private-sdp-expect-200.xml', holdMs: 300 });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      expect(r.inviteAtB?.body ?? '').toBe('');
      const offerToA = r.okAtA!.body;
      expectNothingOf(offerToA, { number: b, words: [...BOB_WORDS, B_IP] });
      expect(offerToA).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
      const ackAtB = r.b.messages.find((m) => m.direction === 'received' && m.method === 'ACK');
      expectNothingOf(ackAtB!.body, { number: a, words: [...ALICE_WORDS, A_IP] });
      expect(ackAtB!.body).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
      await waitFor(() => s.app.liveCalls() === 0, 5000, 'no live call');
      await expectNoRelaySession(r.callId);
    });

    it('the relay session is deleted when the caller CANCELs and when B refuses', async () => {
      for (const [uac, uas] of [
        ['uac-cancel-expect-487.xml', 'uas-ring-until-cancel.xml'],
        ['uac-busy-expect-486.xml', 'uas-busy.xml'],
      ] as const) {
        const { x, a, b } = await bindAxb();
        const r = await privateCall(s, farEndPort, { x, a, b, uac, uas });
        expect(r.a.code, `${uac}: ${r.a.errors}${r.a.output.slice(-800)}`).toBe(0);
        expect(r.inviteAtB?.body).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
        await waitFor(() => s.app.liveCalls() === 0, 5000, 'no live call');
        await expectNoRelaySession(r.callId);
      }
    });
  });

  describe.skipIf(!rtpengineBin)('drain with calls anchored by the relay', () => {
    let engine: Rtpengine;
    let s: Stack;
    let farEndPort: number;
    let ng: MediaRelay;
    beforeAll(async () => {
      engine = await startRtpengine();
      ({ s, farEndPort } = await stackOn({ RTPENGINE_NG: engine.ng }));
      ng = relayClient({ host: engine.host, port: engine.port, log: createLogger('silent'), metrics: new Registry() });
    });
    afterAll(async () => {
      ng?.stop();
      await s?.stop();
      await engine?.stop();
    });

    it('stopping the SIP app ends a connected call and deletes its relay session', async () => {
      const { x, a, b } = await bindAxb();
      const call = privateCall(s, farEndPort, { x, a, b, holdMs: 15_000, farEndGraceMs: 2000 });
      const deadline = Date.now() + 8000;
      while ((await ng.list()).length === 0 || s.app.liveCalls() === 0) {
        if (Date.now() > deadline) throw new Error('the call never reached the relay');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await s.ctx.metrics.getSingleMetricAsString('xline_media_relay_sessions')).toMatch(/^xline_media_relay_sessions 1$/m);
      await s.app.stop(200);
      expect(s.app.liveCalls()).toBe(0);
      const until = Date.now() + 3000;
      while ((await ng.list()).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(await ng.list(), 'relay session left behind by the drain').toEqual([]);
      expect(await s.ctx.metrics.getSingleMetricAsString('xline_media_relay_sessions')).toMatch(/^xline_media_relay_sessions 0$/m);
      const r = await call;
      const bye = r.a.messages.find((m) => m.direction === 'received' && m.method === 'BYE');
      expect(bye, 'the caller was not hung up').toBeDefined();
      expect(reasonCause(bye)).toBe(41);
    });
  });

  describe('with a relay that does not answer', () => {
    let s: Stack;
    let farEndPort: number;
    beforeAll(async () => {
      ({ s, farEndPort } = await stackOn({ RTPENGINE_NG: `127.0.0.1:${await freeUdpTcpPort()}` }));
    });
    afterAll(async () => {
      await s?.stop();
    });

    it('the call is refused 503 with Q.850 cause 41, B is never called, health says the relay is down', async () => {
      const { x, a, b } = await bindAxb();
      const r = await privateCall(s, farEndPort, { x, a, b, uac: 'uac-unavailable-expect-503.xml', farEndGraceMs: 300 });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      const fin = r.a.messages.find((m) => m.direction === 'received' && (m.status ?? 0) >= 200);
      expect(fin?.status).toBe(503);
      expect(reasonCause(fin)).toBe(41);
      expect(r.inviteAtB, 'B must not be called').toBeUndefined();
      const cdr = await cdrOf(s, r.callId);
      expect(cdr).toMatchObject({ release_dir: 0, release_cause: 41, control_type: 'unavailable' });
      expect(s.ctx.health.relay).toBe(false);
      await waitFor(() => s.app.liveCalls() === 0, 5000, 'no live call');
    });
  });
});
