// What trunks and phones expect of xline's signalling, through a real drachtio-server with sipp
// at both ends: OPTIONS health checks that tell the truth (200 / 503 draining / 503 Redis down),
// B legs over TCP whose every URI naming xline carries ;transport=tcp, 100rel / PRACK on both
// legs, UPDATE before the answer, and a re-INVITE changing codec mid-call.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, type SipMsg, type SippResult, cleanupSipp } from '../support/sipp.js';
import {
  canRun,
  cdrOf,
  eventTypesOf,
  expectCleanBLeg,
  reasonCause,
  receivedInvite,
  waitFor,
  type Stack,
} from './harness.js';
import { sipSuite } from '../support/sip-suite.js';

const POOL = 'sip-signalling';

describe.skipIf(!canRun)('SIP signalling towards trunks and phones (real drachtio-server, redis-server, sipp)', () => {
  const t = sipSuite({ pool: POOL, poolName: 'signalling' });
  const pings: SippResult[] = [];
  const { stack, call, bindAxb } = t;

  /** One OPTIONS from a sipp "trunk" to drachtio's SIP address; the response it got. */
  async function options(s: Stack, o: { transport?: 'udp' | 'tcp'; localIp?: string } = {}): Promise<SipMsg> {
    const r = await runSipp({
      scenario: 'uac-options.xml',
      transport: o.transport ?? 'udp',
      remote: `127.0.0.1:${s.drachtio.sipPort}`,
      localIp: o.localIp ?? '127.0.0.1',
      timeoutSec: 8,
    });
    pings.push(r);
    expect(r.code, r.errors + r.output.slice(-600)).toBe(0);
    const res = r.messages.find((m) => m.direction === 'received' && m.status !== undefined);
    expect(res, 'no answer to OPTIONS').toBeDefined();
    return res!;
  }
  const answered = (s: Stack) => s.sink.callsWith('answer').length > 0;
  const got = (r: SippResult, pred: (m: SipMsg) => boolean) => r.messages.filter((m) => m.direction === 'received' && pred(m));
  const inviteStatus = (status: number) => (m: SipMsg) => m.status === status && /INVITE/.test(m.header('cseq') ?? '');

  afterEach(() => {
    for (const p of pings.splice(0)) cleanupSipp(p);
  });

  describe('OPTIONS to xline\'s SIP address', () => {
    it('answered 200 while xline takes calls, over UDP and TCP, with what xline allows', async () => {
      const s = await stack();
      for (const transport of ['udp', 'tcp'] as const) {
        const res = await options(s, { transport });
        expect(res.status, res.raw).toBe(200);
        expect(res.header('allow')).toMatch(/\bINVITE\b.*\bBYE\b/);
        expect(res.header('allow')).toMatch(/\bPRACK\b/);
        expect(res.header('supported')).toMatch(/\b100rel\b/);
      }
    });

    it('from outside SIP_TRUNK_CIDRS: 403, as an INVITE from there', async () => {
      const s = await stack();
      const res = await options(s, { localIp: '127.0.0.2' });
      expect(res.status).toBe(403);
      expect(reasonCause(res)).toBe(21);
    });

    it('503 with cause 41 while Redis is down; 200 again once Redis is back', async () => {
      const s = await stack();
      expect((await options(s)).status).toBe(200);
      await t.side.stop();
      try {
        const down = await options(s);
        expect(down.status, down.raw).toBe(503);
        expect(reasonCause(down), 'xline\'s own 503, not drachtio-server\'s "no connected clients"').toBe(41);
      } finally {
        await t.side.restart();
      }
      await waitFor(() => t.side.redis.status === 'ready', 5000, 'redis client ready');
      expect((await options(s)).status).toBe(200);
    });

    it('503 with cause 41 while draining (the SIGTERM drain, app.stop), while a call is still up', async () => {
      const s = await stack();
      const n = await bindAxb();
      const live = call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: n.x, caller: n.a, target: n.b, holdMs: 2500 });
      await waitFor(() => answered(s), 5000, 'call answered');
      expect((await options(s)).status).toBe(200);
      const stopping = s.app.stop(10_000);
      const res = await options(s);
      expect(res.status, res.raw).toBe(503);
      expect(reasonCause(res), 'xline\'s own 503, not drachtio-server\'s "no connected clients"').toBe(41);
      expect(s.app.liveCalls(), 'still draining when asked').toBe(1);
      const r = await live;
      await stopping;
      expect(r.a.code, r.a.errors).toBe(0);
    });
  });

  describe('B legs over TCP (SIP_OUTBOUND_URI ;transport=tcp), caller over UDP', () => {
    it('every URI naming xline carries ;transport=tcp; B\'s re-INVITE and BYE come back over TCP and reach A', async () => {
      const s = await stack({ transport: 'udp', farEndTransport: 'tcp' });
      const n = await bindAxb();
      const r = await call(s, { uac: 'uac-reinvite-from-b-expect-200.xml', uas: 'uas-answer-reinvite-then-bye.xml', x: n.x, caller: n.a, target: n.b });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      expect(r.b.code, r.b.errors + r.b.output.slice(-800)).toBe(0);
      const inv = expectCleanBLeg(r.b, n.b, n.x, n.a);
      expect(inv.transport).toBe('TCP');
      expect(inv.header('via')).toMatch(/^SIP\/2\.0\/TCP /);
      expect(inv.header('contact')).toMatch(/;transport=tcp\b/i);
      // Every header that names xline's SIP address says how to reach it.
      const self = `127.0.0.1:${s.drachtio.sipPort}`;
      const naming = inv.headers.filter(([name, v]) => name !== 'via' && v.includes(self));
      expect(naming.map(([name]) => name)).toEqual(expect.arrayContaining(['from', 'contact', 'p-asserted-identity']));
      for (const [name, v] of naming) expect(v, `${name} lacks ;transport=tcp`).toMatch(/;transport=tcp\b/i);
      // B's own requests went over TCP and did what they should at A.
      const bSent = r.b.messages.filter((m) => m.direction === 'sent' && m.method);
      expect(bSent.map((m) => m.method)).toEqual(['INVITE', 'ACK', 'BYE']);
      for (const m of bSent) expect(m.transport).toBe('TCP');
      const reinviteAtA = got(r.a, (m) => m.method === 'INVITE');
      expect(reinviteAtA).toHaveLength(1);
      expect(reinviteAtA[0]!.body).toMatch(/a=sendonly/);
      expect(got(r.b, inviteStatus(200)).at(-1)?.body, 'B got A\'s answer to its re-INVITE').toMatch(/a=recvonly/);
      expect(reasonCause(got(r.a, (m) => m.method === 'BYE')[0])).toBe(16);
      await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
      expect(await cdrOf(s, r.callId)).toMatchObject({ release_dir: 2, release_cause: 16 });
    });
  });

  describe('100rel / PRACK and UPDATE before the answer', () => {
    let s: Stack;
    beforeAll(async () => {
      s = await stack();
    });

    it('a trunk requiring 100rel gets it; its reliable 183 reaches a 100rel caller reliably; each leg\'s PRACK is answered', async () => {
      const n = await bindAxb();
      const r = await call(s, { uac: 'uac-100rel-expect-200.xml', uas: 'uas-100rel.xml', x: n.x, caller: n.a, target: n.b, ringMs: 300, holdMs: 200 });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      expect(r.b.code, r.b.errors + r.b.output.slice(-800)).toBe(0);
      const inv = expectCleanBLeg(r.b, n.b, n.x, n.a);
      expect(inv.header('supported')).toMatch(/\b100rel\b/);
      const prackAtB = got(r.b, (m) => m.method === 'PRACK');
      expect(prackAtB).toHaveLength(1);
      expect(prackAtB[0]!.header('rack')).toMatch(/^1 \d+ INVITE$/);
      const early = got(r.a, inviteStatus(183))[0]!;
      expect(early.header('require')).toMatch(/\b100rel\b/);
      expect(early.header('rseq')).toMatch(/^\d+$/);
      expect(early.body).toMatch(/a=rtpmap:0 PCMU\/8000/);
      expect(early.raw).not.toContain(n.b);
      expect(got(r.a, (m) => m.status === 200 && /PRACK/.test(m.header('cseq') ?? ''))).toHaveLength(1);
      await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
      expect(await eventTypesOf(s, r.callId)).toEqual(['start', 'ring', 'answer', 'hangup']);
    });

    it('a caller requiring 100rel gets B\'s early media reliably even from a B that sends it unreliably', async () => {
      const n = await bindAxb();
      const r = await call(s, {
        uac: 'uac-100rel-expect-200.xml',
        uas: 'uas-early-media.xml',
        x: n.x,
        caller: n.a,
        target: n.b,
        ringMs: 300,
        extraHeader: 'Require: 100rel',
      });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      expect(r.b.code, r.b.errors).toBe(0);
      const early = got(r.a, inviteStatus(183))[0]!;
      expect(early.header('rseq')).toMatch(/^\d+$/);
      expect(early.body).toMatch(/a=rtpmap:0 PCMU\/8000/);
      // B's leg stays as B knows it: its 183 was not reliable, so B gets no PRACK.
      expect(got(r.b, (m) => m.method === 'PRACK')).toHaveLength(0);
      await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
    });

    it('a caller without 100rel still reaches a trunk that requires it: xline PRACKs B, the caller gets a plain 183', async () => {
      const n = await bindAxb();
      const r = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-100rel.xml', x: n.x, caller: n.a, target: n.b, ringMs: 300 });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      expect(r.b.code, r.b.errors + r.b.output.slice(-800)).toBe(0);
      expect(got(r.b, (m) => m.method === 'PRACK')).toHaveLength(1);
      const early = got(r.a, inviteStatus(183))[0]!;
      expect(early.header('rseq')).toBeUndefined();
      expect(early.header('require') ?? '').not.toMatch(/100rel/);
      await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
    });

    it('the caller\'s UPDATE before the answer reaches B in its early dialog, and B\'s answer comes back', async () => {
      const n = await bindAxb();
      const r = await call(s, { uac: 'uac-100rel-update-expect-200.xml', uas: 'uas-100rel-update.xml', x: n.x, caller: n.a, target: n.b, ringMs: 300 });
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      expect(r.b.code, r.b.errors + r.b.output.slice(-800)).toBe(0);
      const update = got(r.b, (m) => m.method === 'UPDATE');
      expect(update).toHaveLength(1);
      expect(update[0]!.body).toMatch(/m=audio \d+ RTP\/AVP 8\r?\n/);
      expect(update[0]!.raw).not.toContain(n.a);
      const answer = got(r.a, (m) => m.status === 200 && /UPDATE/.test(m.header('cseq') ?? ''));
      expect(answer).toHaveLength(1);
      expect(answer[0]!.body).toMatch(/a=rtpmap:8 PCMA\/8000/);
      expect(answer[0]!.raw).not.toContain(n.b);
      // The UPDATE came before the answer.
      const bLog = r.b.messages.map((m) => m.method ?? String(m.status));
      expect(bLog.indexOf('UPDATE')).toBeLessThan(bLog.indexOf('ACK'));
      await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
    });
  });

  describe('re-INVITE during a call', () => {
    for (const transport of ['udp', 'tcp'] as const) {
      it(`a caller's re-INVITE changing codec (PCMU → PCMA only) reaches B and B's answer comes back (${transport})`, async () => {
        const s = await stack({ transport });
        const n = await bindAxb();
        const r = await call(s, { uac: 'uac-reinvite-codec-expect-200.xml', uas: 'uas-answer-pcma-reinvite.xml', x: n.x, caller: n.a, target: n.b });
        expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
        expect(r.b.code, r.b.errors + r.b.output.slice(-800)).toBe(0);
        const invites = got(r.b, (m) => m.method === 'INVITE');
        expect(invites).toHaveLength(2);
        expect(receivedInvite(r.b)!.body).toMatch(/a=rtpmap:0 PCMU\/8000/);
        expect(invites[1]!.body).toMatch(/m=audio \d+ RTP\/AVP 8 101\r?\n/);
        expect(invites[1]!.body).not.toMatch(/PCMU/);
        expect(invites[1]!.raw).not.toContain(n.a);
        const reanswer = got(r.a, (m) => m.status === 200 && /^2 INVITE/.test(m.header('cseq') ?? ''));
        expect(reanswer).toHaveLength(1);
        expect(reanswer[0]!.body).toMatch(/m=audio \d+ RTP\/AVP 8\r?\n/);
        expect(reanswer[0]!.body).toMatch(/a=rtpmap:8 PCMA\/8000/);
        expect(reanswer[0]!.raw).not.toContain(n.b);
        await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
      });
    }
  });
});
