// What happens around calls when things go wrong: drachtio-server restarts, Redis stops,
// xline is asked to stop (drain), calls outlive SIP_MAX_CALL_SECONDS, and a trunk that is
// allowed to call but not trusted for P-Asserted-Identity.
import { describe, expect, it } from 'vitest';
import {
  canRun,
  cdrOf,
  expectCleanBLeg,
  finalAtCaller,
  mobile,
  reasonCause,
  waitFor,
  type Stack,
} from './harness.js';
import { sipSuite } from '../support/sip-suite.js';

const POOL = 'sip-resilience';

describe.skipIf(!canRun)('SIP resilience (real drachtio-server, redis-server, sipp)', () => {
  const t = sipSuite({ pool: POOL, poolName: 'resilience' });
  const { stack, call, bindAxb } = t;
  /** Waiting only: what the calls left behind is checked in Redis (cdrOf). */
  const answered = (s: Stack) => s.sink.callsWith('answer').length > 0;

  it('drachtio-server restarts: live calls are closed out, xline reconnects, the next call works', async () => {
    const s = await stack();
    const n = await bindAxb();
    // A call in progress when drachtio-server dies: its dialogs die with it.
    const live = call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: n.x, caller: n.a, target: n.b, holdMs: 2500, farEndGraceMs: 300 });
    await waitFor(() => answered(s), 5000, 'call answered');
    expect(s.app.liveCalls()).toBe(1);
    await s.drachtio.stop();
    await waitFor(() => !s.ctx.health.sip, 3000, 'health.sip down');
    await waitFor(() => s.app.liveCalls() === 0, 3000, 'lost calls closed');
    const lost = await cdrOf(s, s.sink.callsWith('answer')[0]!);
    expect(lost).toMatchObject({ release_dir: 0, release_cause: 41 });
    expect(lost.start_time).toBeDefined();
    await s.drachtio.restart();
    await waitFor(() => s.ctx.health.sip, 10_000, 'xline reconnected to drachtio-server');
    await live.catch(() => undefined);

    const m = await bindAxb();
    const r = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: m.x, caller: m.a, target: m.b });
    expect(r.a.code, r.a.errors + r.a.output.slice(-600)).toBe(0);
    expectCleanBLeg(r.b, m.b, m.x, m.a);
    await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`Redis stops: INVITEs get 503 cause 41 at once (${transport}); the CDR is spooled and lands once Redis is back; calls route again`, async () => {
      const s = await stack({ transport });
      await t.side.stop();
      const r = await call(s, { uac: 'uac-unavailable-expect-503.xml', x: mobile('177'), caller: mobile('138') });
      expect(r.a.code, r.a.errors + r.a.output.slice(-600)).toBe(0);
      expect(reasonCause(finalAtCaller(r.a))).toBe(41);
      // Includes sipp's own start-up (~150 ms): the lookup fails fast, it does not hang.
      expect(r.ms).toBeLessThan(2000);
      await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
      // The pipeline retries Redis, then spools the CDR to disk; once Redis is back the spool is
      // replayed and the CDR read back from Redis.
      await waitFor(() => s.sink.cdrsSettled.has(r.callId), 10_000, 'the CDR spooled');
      await t.side.restart();
      await waitFor(() => t.side.redis.status === 'ready', 5000, 'redis client ready');
      const replay = await t.side.replaySpool();
      expect(replay.replayed, 'the CDR went through the spool').toBeGreaterThanOrEqual(1);
      expect(replay.left).toBe(0);
      const cdr = await cdrOf(s, r.callId);
      expect(cdr).toMatchObject({ call_type: 4, release_dir: 0, release_cause: 41, control_type: 'unavailable' });

      const n = await bindAxb();
      const ok = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: n.x, caller: n.a, target: n.b });
      expect(ok.a.code, ok.a.errors + ok.a.output.slice(-600)).toBe(0);
      expectCleanBLeg(ok.b, n.b, n.x, n.a);
    });

    it(`stop(drainMs) refuses new calls 503 cause 41 (${transport}) and waits for the live call to end`, async () => {
      const s = await stack({ transport });
      const n = await bindAxb();
      const live = call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: n.x, caller: n.a, target: n.b, holdMs: 2000 });
      await waitFor(() => answered(s), 5000, 'call answered');
      const t0 = Date.now();
      const stopping = s.app.stop(10_000);
      const m = await bindAxb();
      const refused = await call(s, { uac: 'uac-unavailable-expect-503.xml', x: m.x, caller: m.a, noFarEnd: true });
      expect(refused.a.code, refused.a.errors).toBe(0);
      expect(reasonCause(finalAtCaller(refused.a))).toBe(41);
      expect(s.app.liveCalls()).toBe(1);
      const r = await live;
      await stopping;
      expect(Date.now() - t0).toBeGreaterThan(1000);
      expect(r.a.code, r.a.errors).toBe(0);
      expect(r.b.code, r.b.errors).toBe(0);
      expect(s.app.liveCalls()).toBe(0);
      expect(s.ctx.health.sip).toBe(false);
      expect(await cdrOf(s, r.callId)).toMatchObject({ release_dir: 1, release_cause: 16 });
      expect(await cdrOf(s, refused.callId)).toMatchObject({ call_type: 4, release_dir: 0, release_cause: 41 });
    });
  }

  it('drain time over: xline BYEs both legs of a call still up', async () => {
    const s = await stack();
    const n = await bindAxb();
    const live = call(s, { uac: 'uac-bye-from-b-expect-200.xml', uas: 'uas-answer.xml', x: n.x, caller: n.a, target: n.b });
    await waitFor(() => answered(s), 5000, 'call answered');
    await s.app.stop(300);
    const r = await live;
    expect(r.a.code, r.a.errors).toBe(0);
    expect(r.b.code, r.b.errors).toBe(0);
    expect(s.app.liveCalls()).toBe(0);
    expect(await cdrOf(s, r.callId)).toMatchObject({ release_dir: 0, release_cause: 41 });
  });

  it('SIP_MAX_CALL_SECONDS ends a connected call on both sides', async () => {
    const s = await stack({ override: { SIP_MAX_CALL_SECONDS: 1 } });
    const n = await bindAxb();
    const t0 = Date.now();
    const r = await call(s, { uac: 'uac-bye-from-b-expect-200.xml', uas: 'uas-answer.xml', x: n.x, caller: n.a, target: n.b });
    expect(r.a.code, r.a.errors).toBe(0);
    expect(r.b.code, r.b.errors).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(reasonCause(r.a.messages.find((m) => m.direction === 'received' && m.method === 'BYE'))).toBe(16);
    await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
    expect(await cdrOf(s, r.callId)).toMatchObject({ release_dir: 0, release_cause: 16 });
  });

  it('a trunk allowed to call but not trusted for P-Asserted-Identity: PAI is ignored', async () => {
    const s = await stack({ env: { SIP_TRUNK_CIDRS: '127.0.0.1/32,127.0.0.3/32', SIP_TRUSTED_PAI_CIDRS: '127.0.0.1/32' } });
    const n = await bindAxb();
    const pai = `P-Asserted-Identity: <sip:${n.a}@127.0.0.1>`;
    const r = await call(s, { uac: 'uac-refused-expect-403.xml', x: n.x, caller: mobile('150'), localIp: '127.0.0.3', extraHeader: pai });
    expect(r.a.code, r.a.errors + r.a.output.slice(-600)).toBe(0);
    expect(reasonCause(finalAtCaller(r.a))).toBe(21);
    // The same PAI from the trusted trunk makes the caller A.
    const ok = await call(s, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: n.x, caller: mobile('150'), target: n.b, extraHeader: pai });
    expect(ok.a.code, ok.a.errors).toBe(0);
    await waitFor(() => s.app.liveCalls() === 0, 3000, 'liveCalls 0');
  });
});
