// Calls for X through a real drachtio-server to xline and on to a sipp far end: every mode,
// every refusal, every far-end failure, over UDP and TCP. Each test checks what the far end
// really received, the caller's final response and Reason, the CDR, and that no call is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canRun,
  cdrOf,
  eventsOf,
  eventTypesOf,
  expectCleanBLeg,
  finalAtCaller,
  mobile,
  placeCall,
  reasonCause,
  reportSeconds,
  startStack,
  type Stack,
} from './harness.js';
import { sipSuite } from '../support/sip-suite.js';

const POOL = 'sip-test-pool';

describe.skipIf(!canRun)('SIP routing through drachtio-server (sipp both ends)', () => {
  // Nothing may outlive a scenario: after each call the live-call registry drains to zero.
  const t = sipSuite({ pool: POOL, poolName: 'sip tests', settle: true });
  const { bind, call } = t;

  for (const transport of ['udp', 'tcp'] as const) {
    describe(`over ${transport.toUpperCase()}`, () => {
      let s: Stack;
      beforeAll(async () => {
        s = await startStack(t.side, { transport });
      });
      afterAll(async () => {
        await s?.stop();
      });

      it('AXB: A→X rings B with From = X, 180 relayed, caller hangs up; CDR caller side', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x, subsId } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: b, holdMs: 300 });
        expect(r.a.code, r.a.errors).toBe(0);
        expect(r.b.code, r.b.errors).toBe(0);
        expectCleanBLeg(r.b, b, x, a);
        const atA = r.a.messages.filter((m) => m.direction === 'received');
        expect(atA.some((m) => m.status === 180)).toBe(true);
        const ok = atA.find((m) => m.status === 200 && /INVITE/.test(m.header('cseq') ?? ''))!;
        // Nothing of B reaches A either: not its number, its PAI or its headers.
        expect(ok.raw).not.toContain(b);
        expect(ok.raw).not.toContain('Bob');
        expect(ok.header('x-callee-secret')).toBeUndefined();
        // B's own answer (PCMU alone), rewritten: no origin user, no session name of B's.
        expect(ok.body).toMatch(/^m=audio \d+ RTP\/AVP 0\r?$/m);
        expect(ok.body).toMatch(/^o=- \d+ 1 IN IP4 \S+\r?$/m);
        expect(ok.body).toMatch(/^s=-\r?$/m);
        // B got A's BYE with A's Reason relayed.
        const byeAtB = r.b.messages.find((m) => m.direction === 'received' && m.method === 'BYE');
        expect(reasonCause(byeAtB)).toBe(16);
        const cdr = await cdrOf(s, r.callId);
        expect(cdr).toMatchObject({ sub_id: subsId, pool_key: POOL, secret_no: x, phone_no: a, peer_no: b, call_type: 0, release_dir: 1, release_cause: 16 });
        const held = reportSeconds(cdr.release_time) - reportSeconds(cdr.start_time);
        expect(held).toBeGreaterThanOrEqual(0);
        expect(held).toBeLessThanOrEqual(2);
        expect(reportSeconds(cdr.ring_time)).toBeGreaterThanOrEqual(reportSeconds(cdr.call_time));
        expect(await eventTypesOf(s, r.callId)).toEqual(['start', 'ring', 'answer', 'hangup']);
      });

      it('AXB: B→X rings A; B hangs up; CDR callee side, release_dir 2', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-bye-from-b-expect-200.xml', uas: 'uas-answer-then-bye.xml', x, caller: b, target: a, ringMs: 300 });
        expect(r.a.code, r.a.errors).toBe(0);
        expect(r.b.code, r.b.errors).toBe(0);
        expectCleanBLeg(r.b, a, x, b);
        const byeAtA = r.a.messages.find((m) => m.direction === 'received' && m.method === 'BYE');
        expect(reasonCause(byeAtA)).toBe(16);
        const cdr = await cdrOf(s, r.callId);
        expect(cdr).toMatchObject({ phone_no: a, peer_no: b, call_type: 1, release_dir: 2, release_cause: 16 });
      });

      it('far end busy: 486 relayed with its Q.850 cause 17; CDR release_dir 2', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-busy-expect-486.xml', uas: 'uas-busy.xml', x, caller: a, target: b });
        expect(r.a.code, r.a.errors).toBe(0);
        expect(r.b.code, r.b.errors).toBe(0);
        expectCleanBLeg(r.b, b, x, a);
        expect(reasonCause(finalAtCaller(r.a))).toBe(17);
        const cdr = await cdrOf(s, r.callId);
        expect(cdr).toMatchObject({ call_type: 0, release_dir: 2, release_cause: 17 });
        expect(cdr.start_time).toBeUndefined();
      });

      it('caller CANCELs while B rings: B gets CANCEL, caller gets 487; CDR release_dir 1', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-cancel-expect-487.xml', uas: 'uas-ring-until-cancel.xml', x, caller: a, target: b });
        expect(r.a.code, r.a.errors).toBe(0);
        expect(r.b.code, r.b.errors).toBe(0);
        expectCleanBLeg(r.b, b, x, a);
        expect(r.b.messages.some((m) => m.direction === 'received' && m.method === 'CANCEL')).toBe(true);
        const cdr = await cdrOf(s, r.callId);
        expect(cdr).toMatchObject({ release_dir: 1, release_cause: 16 });
        expect(cdr.ring_time).toBeDefined();
        expect(cdr.start_time).toBeUndefined();
      });

      const refused = (o: Parameters<typeof placeCall>[1], status: number, cause: number) => t.refused(s, o, status, cause);

      it('stranger→X (AXB) is refused 403 cause 21; CDR call_type 4 with control_type', async () => {
        const a = mobile('138');
        const { x, subsId } = await bind({ mode: 'AXB', a, b: mobile('139') });
        const stranger = mobile('150');
        const r = await refused({ uac: 'uac-refused-expect-403.xml', x, caller: stranger }, 403, 21);
        const cdr = await cdrOf(s, r.callId);
        expect(cdr).toMatchObject({ call_type: 4, release_dir: 0, release_cause: 21, control_type: 'not-a-party', secret_no: x, phone_no: stranger });
        expect(cdr.sub_id === '' || cdr.sub_id === subsId).toBe(true);
        expect(await eventTypesOf(s, r.callId)).toEqual(['start', 'hangup']);
      });

      it('CallRestrict CONTROL_AX_DISABLE: A→X refused 403 cause 21, B→X still rings A', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x, subsId } = await bind({ mode: 'AXB', a, b, callRestrict: 'CONTROL_AX_DISABLE' });
        const r = await refused({ uac: 'uac-refused-expect-403.xml', x, caller: a }, 403, 21);
        expect(await cdrOf(s, r.callId)).toMatchObject({ call_type: 4, sub_id: subsId, control_type: 'call-restricted', release_cause: 21 });
        const ok = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: b, target: a });
        expect(ok.a.code, ok.a.errors).toBe(0);
        expectCleanBLeg(ok.b, a, x, b);
      });

      it('X with no live binding, and an X nobody owns: 404 cause 1', async () => {
        const x = mobile('177');
        await t.side.store.addNumbers(POOL, [{ number: x, city: '杭州' }]);
        const r1 = await refused({ uac: 'uac-unbound-expect-404.xml', x, caller: mobile('138') }, 404, 1);
        expect(await cdrOf(s, r1.callId)).toMatchObject({ call_type: 4, release_dir: 0, release_cause: 1, control_type: 'no-binding', secret_no: x });
        await refused({ uac: 'uac-unbound-expect-404.xml', x: mobile('177'), caller: mobile('138') }, 404, 1);
        await refused({ uac: 'uac-unbound-expect-404.xml', x: 'not-a-number', caller: mobile('138') }, 404, 1);
      });

      it('an expired binding stops routing: 404 cause 1', async () => {
        const a = mobile('138');
        const expiresAt = Math.floor(Date.now() / 1000) + 2;
        const { x } = await bind({ mode: 'AXB', a, b: mobile('139'), expiresAt });
        // Routing stops at the expiry second itself.
        await new Promise((r) => setTimeout(r, expiresAt * 1000 - Date.now() + 50));
        await refused({ uac: 'uac-unbound-expect-404.xml', x, caller: a }, 404, 1);
      });

      it('source address outside SIP_TRUNK_CIDRS (sipp -i 127.0.0.2): 403 cause 21, no lookup, no CDR', async () => {
        const a = mobile('138');
        const { x } = await bind({ mode: 'AXB', a, b: mobile('139') });
        const r = await refused({ uac: 'uac-refused-expect-403.xml', x, caller: a, localIp: '127.0.0.2' }, 403, 21);
        const inv = r.a.messages.find((m) => m.direction === 'sent' && m.method === 'INVITE')!;
        expect(inv.header('via')).toContain('127.0.0.2');
        // A later call that does get a CDR: once its CDR is in Redis, one for the first call
        // (written in the same order by the same pipeline) would be there too.
        const later = await refused({ uac: 'uac-refused-expect-403.xml', x, caller: mobile('150') }, 403, 21);
        await cdrOf(s, later.callId);
        expect(s.sink.reported.has(r.callId), 'the app reported events for an untrusted source').toBe(false);
        expect(await t.side.pipeline.store.getCdr(r.callId)).toBeUndefined();
        expect(await eventsOf(s, r.callId)).toEqual([]);
      });

      it('AXN: A→X rings the default B; any N→X rings A; A without default B → 404', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXN', a, b });
        const r1 = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: b });
        expect(r1.a.code, r1.a.errors).toBe(0);
        expectCleanBLeg(r1.b, b, x, a);
        expect(await cdrOf(s, r1.callId)).toMatchObject({ call_type: 0, phone_no: a, peer_no: b });
        const n = mobile('150');
        const r2 = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: n, target: a });
        expect(r2.a.code, r2.a.errors).toBe(0);
        expectCleanBLeg(r2.b, a, x, n);
        expect(await cdrOf(s, r2.callId)).toMatchObject({ call_type: 1, phone_no: a, peer_no: n });
        const lone = mobile('138');
        const { x: x2 } = await bind({ mode: 'AXN', a: lone });
        await refused({ uac: 'uac-unbound-expect-404.xml', x: x2, caller: lone }, 404, 1);
      });

      it('AX: anyone→X rings A; A calling its own X is refused', async () => {
        const a = mobile('138');
        const { x } = await bind({ mode: 'AX', a });
        const n = mobile('186');
        const r = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: n, target: a });
        expect(r.a.code, r.a.errors).toBe(0);
        expectCleanBLeg(r.b, a, x, n);
        await refused({ uac: 'uac-refused-expect-403.xml', x, caller: a }, 403, 21);
      });

      // Every refusal above runs over both transports; the far-end cases below over UDP only.
      if (transport !== 'udp') return;

      it('603 without a Reason from the far end is relayed with the mapped cause 21', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-declined-expect-603.xml', uas: 'uas-decline.xml', x, caller: a, target: b });
        expect(r.a.code, r.a.errors).toBe(0);
        expect(reasonCause(finalAtCaller(r.a))).toBe(21);
        expect(await cdrOf(s, r.callId)).toMatchObject({ release_dir: 2, release_cause: 21 });
      });

      it('no answer within SIP_RING_TIMEOUT: B gets CANCEL, caller 480 cause 19; CDR platform release', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-noanswer-expect-480.xml', uas: 'uas-ring-until-cancel.xml', x, caller: a, target: b });
        expect(r.a.code, r.a.errors).toBe(0);
        expect(r.b.code, r.b.errors).toBe(0);
        expect(reasonCause(finalAtCaller(r.a))).toBe(19);
        const cancel = r.b.messages.find((m) => m.direction === 'received' && m.method === 'CANCEL');
        expect(cancel).toBeDefined();
        expect(r.ms).toBeGreaterThanOrEqual(1900);
        expect(r.ms).toBeLessThan(4000);
        expect(await cdrOf(s, r.callId)).toMatchObject({ release_dir: 0, release_cause: 19 });
      });

      it('re-INVITE from the caller reaches the far end and its answer comes back', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-reinvite-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: b });
        expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
        expect(r.b.code, r.b.errors).toBe(0);
        const invites = r.b.messages.filter((m) => m.direction === 'received' && m.method === 'INVITE');
        expect(invites).toHaveLength(2);
        // the caller's new offer (PCMU alone), as a new version of the origin B already knows
        expect(invites[1]!.body).toMatch(/^m=audio \d+ RTP\/AVP 0\r?$/m);
        const origin = (sdp: string) => /^o=- (\d+) (\d+) /m.exec(sdp)?.slice(1);
        expect(origin(invites[1]!.body)).toEqual([origin(invites[0]!.body)![0], '2']);
        expect(invites[1]!.raw).not.toContain(a);
        const answers = r.a.messages.filter((m) => m.direction === 'received' && m.status === 200 && /2 INVITE/.test(m.header('cseq') ?? ''));
        // B's re-answer (recvonly), version 2 of what the caller knows
        expect(answers[0]?.body).toMatch(/^a=recvonly\r?$/m);
        expect(origin(answers[0]!.body)?.[1]).toBe('2');
      });

      it('INFO (DTMF relay) and UPDATE in the dialog reach the far end and their answers come back', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-midcall-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: b });
        expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
        expect(r.b.code, r.b.errors).toBe(0);
        const info = r.b.messages.find((m) => m.direction === 'received' && m.method === 'INFO')!;
        expect(info.header('content-type')).toBe('application/dtmf-relay');
        expect(info.body).toContain('Signal=5');
        expect(info.raw).not.toContain(a);
        const update = r.b.messages.find((m) => m.direction === 'received' && m.method === 'UPDATE')!;
        // the caller's new offer (PCMU alone) reaches B rewritten; B's answer comes back rewritten
        // (its media is what B answered before, so the caller sees the same origin version)
        expect(update.body).toMatch(/^m=audio \d+ RTP\/AVP 0\r?$/m);
        expect(update.body).toMatch(/^o=- \d+ 2 /m);
        const updAnswer = r.a.messages.find((m) => m.direction === 'received' && m.status === 200 && /UPDATE/.test(m.header('cseq') ?? ''));
        expect(updAnswer?.body).toMatch(/^m=audio \d+ RTP\/AVP 0\r?$/m);
        expect(updAnswer?.body).toMatch(/^s=-\r?$/m);
      });

      it('early media: 183 with the far end\'s SDP is relayed before the answer; ring recorded', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-early-media.xml', x, caller: a, target: b, ringMs: 300 });
        expect(r.a.code, r.a.errors).toBe(0);
        const early = r.a.messages.find((m) => m.direction === 'received' && m.status === 183);
        // B's early SDP, rewritten; the 200 repeats it, so the caller sees the same version
        expect(early?.body).toMatch(/^m=audio \d+ RTP\/AVP 0\r?$/m);
        expect(early?.body).toMatch(/^s=-\r?$/m);
        const ok = r.a.messages.find((m) => m.direction === 'received' && m.status === 200 && /INVITE/.test(m.header('cseq') ?? ''));
        expect(ok?.body).toBe(early?.body);
        expect(early?.raw).not.toContain(b);
        expect(await eventTypesOf(s, r.callId)).toEqual(['start', 'ring', 'answer', 'hangup']);
        expect((await cdrOf(s, r.callId)).ring_time).toBeDefined();
      });

      for (const [label, form] of [
        ['+86', (n: string) => `+86${n}`],
        ['86', (n: string) => `86${n}`],
        ['0086', (n: string) => `0086${n}`],
      ] as const) {
        it(`X and caller in ${label} form are matched to the national binding`, async () => {
          const a = mobile('138');
          const b = mobile('139');
          const { x } = await bind({ mode: 'AXB', a, b });
          const r = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: form(x), caller: form(a), target: b });
          expect(r.a.code, r.a.errors).toBe(0);
          // B sees the binding's stored form of both numbers.
          expectCleanBLeg(r.b, b, x, a);
        });
      }

      it('P-Asserted-Identity from a trusted trunk identifies the caller (From anonymous)', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        const r = await call(s, {
          uac: 'uac-call-expect-200.xml',
          uas: 'uas-answer.xml',
          x,
          caller: 'anonymous',
          target: b,
          extraHeader: `P-Asserted-Identity: "A" <sip:+86${a}@127.0.0.1>`,
        });
        expect(r.a.code, r.a.errors).toBe(0);
        expectCleanBLeg(r.b, b, x, a);
      });

      it('metrics: calls by outcome, live-call gauge back to 0, post-dial delay observed', async () => {
        const a = mobile('138');
        const b = mobile('139');
        const { x } = await bind({ mode: 'AXB', a, b });
        await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: b });
        await refused({ uac: 'uac-refused-expect-403.xml', x, caller: mobile('150') }, 403, 21);
        await refused({ uac: 'uac-refused-expect-403.xml', x, caller: a, localIp: '127.0.0.2' }, 403, 21);
        const text = await s.ctx.metrics.metrics();
        const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
        expect(value(/^xline_sip_calls_total\{outcome="answered"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
        expect(value(/^xline_sip_calls_total\{outcome="refused"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
        expect(value(/^xline_sip_calls_total\{outcome="untrusted"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
        expect(value(/^xline_sip_live_calls (\d+)/m)).toBe(0);
        expect(value(/^xline_sip_post_dial_delay_seconds_count (\d+)/m)).toBeGreaterThanOrEqual(1);
        expect(value(/^xline_sip_routing_seconds_count (\d+)/m)).toBeGreaterThanOrEqual(1);
      });
    });
  }
});
