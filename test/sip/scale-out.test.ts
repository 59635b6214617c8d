// Scale-out (issue 7 §4): two xline processes (src/main.ts, as users start it) and two real
// drachtio-servers on one Redis. Instance x1 is connected to both servers (DRACHTIO_SERVERS),
// x2 to the first only, so calls through d1 are shared by x1 and x2 (drachtio round-robins new
// INVITEs over the apps connected to it) and calls through d2 all reach x1. Every call is checked
// at the far end (sipp UAS), in Redis (CDR read back through the events pipeline's store), in the
// webhook deliveries of both instances' workers, and in the instances' own logs (which one ended
// the call). Finally x2 is SIGKILLed while it holds an answered call: x1 sees its heartbeat stop
// and writes the lost call's CDR (platform release, cause 41) in its place.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/events/types.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { reportTime } from '../../src/domain/wall-clock.js';
import { canRun, mobile, sleep, startRedisSide, waitFor, type RedisSide } from './harness.js';
import { freeUdpTcpPort, startDrachtio, type DrachtioServer } from '../support/drachtio.js';
import { cleanupSipp, startSipp, uriUser, type SippResult } from '../support/sipp.js';
import { sipProcessEnv } from '../support/sip-process.js';
import { startXlineProcess, type XlineProcess } from '../support/xline-process.js';

const POOL = 'scale-out';
/** Short heartbeat and grace, so a killed instance's calls are reaped within seconds. */
const HEARTBEAT_MS = 200;
const GRACE_MS = 1000;

describe.skipIf(!canRun)('scale-out: two xline processes × two drachtio-servers, one Redis', { timeout: 30_000 }, () => {
  let side: RedisSide;
  let d1: DrachtioServer;
  let d2: DrachtioServer;
  let x1: XlineProcess;
  let x2: XlineProcess;
  let x3: XlineProcess | undefined;
  let farEndPort: number;
  let hook: Server;
  let spool: string;
  let common: Record<string, string>;
  /** A process's SIP env: on `drachtio`, its spool in spool/<name>. */
  let envOf: (name: string, drachtio: DrachtioServer | DrachtioServer[]) => Promise<Record<string, string>>;
  /** Webhook deliveries by event id (`<call_id>:<type>`-like, one id per call and type). */
  const delivered = new Map<string, { callId: string; type: string; n: number }>();
  const results: SippResult[] = [];

  beforeAll(async () => {
    side = await startRedisSide();
    await side.store.upsertPool(POOL, { name: 'scale-out', strictCity: false });
    [d1, d2] = await Promise.all([startDrachtio(), startDrachtio()]);
    farEndPort = await freeUdpTcpPort();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const m = JSON.parse(body) as { id: string; type: string; event?: { call_id: string }; cdr?: { call_id: string } };
        const callId = m.event?.call_id ?? m.cdr?.call_id ?? '';
        const e = delivered.get(m.id) ?? { callId, type: m.type, n: 0 };
        e.n++;
        delivered.set(m.id, e);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const hookPort = (hook.address() as { port: number }).port;
    spool = mkdtempSync(join(tmpdir(), 'xline-scale-out-'));
    // No FreeSWITCH in this file: a closed port (plain bridges do not need media).
    envOf = (name, drachtio) => sipProcessEnv({ redisUrl: side.child.url, drachtio, farEndPort, dir: spool, spool: name });
    common = {
      SIP_RING_TIMEOUT: '5',
      WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
      SWEEP_INTERVAL_MS: '60000',
      EVENT_HEARTBEAT_MS: String(HEARTBEAT_MS),
      EVENT_OWNER_GRACE_MS: String(GRACE_MS),
    };
    [x1, x2] = await Promise.all([
      startXlineProcess('x1', { ...(await envOf('x1', [d1, d2])), ...common }),
      startXlineProcess('x2', { ...(await envOf('x2', d1)), ...common }),
    ]);
    // hostport: the SIP addresses of the server connected to
    const connected = (x: XlineProcess, d: DrachtioServer) =>
      x.waitLog((l) => l.msg === 'connected to drachtio-server' && String(l.hostport).includes(`udp/127.0.0.1:${d.sipPort}`), 40_000, `connected to drachtio SIP :${d.sipPort}`);
    await Promise.all([connected(x1, d1), connected(x1, d2), connected(x2, d1)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([x1?.stop(5000), x2?.stop(5000), x3?.stop(5000)]);
    await Promise.all([d1?.stop(), d2?.stop()]);
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    await side?.close();
    for (const r of results) cleanupSipp(r);
    if (spool) rmSync(spool, { recursive: true, force: true });
  });

  async function bindAxb(): Promise<{ a: string; b: string; x: string; subsId: string }> {
    const a = mobile('138');
    const b = mobile('139');
    const x = mobile('177');
    await side.store.addNumbers(POOL, [{ number: x, city: '杭州' }]);
    const r = await side.store.bind({ poolKey: POOL, mode: 'AXB', a, b, x, expiresAt: Math.floor(Date.now() / 1000) + 3600, recording: false, callDisplayType: 1 });
    return { a, b, x, subsId: r.subsId };
  }

  /** `calls` A→X calls through one drachtio-server to one sipp far end taking them all. */
  async function callBatch(d: DrachtioServer, calls: number, o: { uac?: string; uas?: string; holdMs?: number; ringMs?: number } = {}) {
    const p = await bindAxb();
    const far = await startSipp({ scenario: o.uas ?? 'uas-answer.xml', port: farEndPort, service: p.b, calls, durationMs: o.ringMs ?? 100, timeoutSec: 20 });
    const caller = await startSipp({
      scenario: o.uac ?? 'uac-call-expect-200.xml',
      remote: `127.0.0.1:${d.sipPort}`,
      service: p.x,
      caller: p.a,
      calls,
      rate: 10,
      limit: calls,
      durationMs: o.holdMs ?? 300,
      timeoutSec: 20,
    });
    return { ...p, far, caller };
  }

  const callIdsSent = (r: SippResult) => [...new Set(r.messages.filter((m) => m.direction === 'sent' && m.method === 'INVITE').map((m) => m.header('call-id')!))];

  /** Which instances logged the end of each call (one line per call end: CallSession:end). */
  function endedBy(callIds: string[]): Map<string, string[]> {
    const m = new Map<string, string[]>(callIds.map((c) => [c, []]));
    for (const x of [x1, x2, x3]) {
      if (!x) continue;
      for (const l of x.lines) if (l.msg === 'CallSession:end' && m.has(String(l.callId))) m.get(String(l.callId))!.push(x.name);
    }
    return m;
  }

  /** Each call's CDR in Redis, once every call has one. */
  async function cdrs(callIds: string[], ms = 8000): Promise<Map<string, CallRecord>> {
    const out = new Map<string, CallRecord>();
    const deadline = Date.now() + ms;
    while (out.size < callIds.length) {
      for (const id of callIds) {
        if (out.has(id)) continue;
        const r = await side.pipeline.store.getCdr(id);
        if (r) out.set(id, r);
      }
      if (out.size === callIds.length) break;
      if (Date.now() > deadline) throw new Error(`CDRs missing for ${callIds.filter((c) => !out.has(c)).join(', ')}`);
      await sleep(100);
    }
    return out;
  }

  /**
   * Nothing left to deliver: the delivery stream (entries in flight stay there until their POST is
   * answered) and the retry set are empty, so every POST that will ever be made has been received
   * and a duplicate cannot come later.
   */
  async function queueSettled(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while ((await side.redis.xlen(EVENT_KEYS.stream)) + (await side.redis.zcard(EVENT_KEYS.retryDue)) > 0) {
      if (Date.now() > deadline) throw new Error('webhook deliveries still queued');
      await sleep(50);
    }
  }

  /** Every call's events and CDR reached the webhook receiver, each exactly once. */
  async function expectDeliveredOnce(callIds: string[], types = ['start', 'ring', 'answer', 'hangup', 'cdr']): Promise<void> {
    const has = (id: string, t: string) => [...delivered.values()].some((e) => e.callId === id && e.type === t);
    await waitFor(() => callIds.every((id) => types.every((t) => has(id, t))), 10_000, 'webhook deliveries of every call');
    await queueSettled();
    for (const id of callIds) {
      const got = [...delivered.values()].filter((e) => e.callId === id);
      expect(got.map((e) => e.type).sort(), id).toEqual([...types].sort());
      for (const e of got) expect(e.n, `${id} ${e.type} delivered ${e.n} times`).toBe(1);
    }
  }

  /**
   * The killed instance's call: exactly one CDR, written by x1's reaper (platform release, Q.850
   * 41) within the grace and a few heartbeats of the kill, released at the dead instance's last
   * heartbeat; its hangup and CDR delivered once each; x1 logged it without a number.
   */
  async function expectReaped(orphan: string, killedAt: number, dead: string, expected: Partial<CallRecord>, reapedSoFar: number): Promise<CallRecord> {
    const r = (await cdrs([orphan], GRACE_MS + 8000)).get(orphan)!;
    expect(r).toMatchObject({ ...expected, release_dir: 0, release_cause: 41, control_type: 'instance-lost' });
    const recordedAt = Number(await side.redis.hget(EVENT_KEYS.cdr(orphan), 't'));
    expect(recordedAt - killedAt, 'reaped within the grace and a few heartbeats').toBeLessThan(GRACE_MS + 10 * HEARTBEAT_MS);
    expect(recordedAt - killedAt).toBeGreaterThanOrEqual(GRACE_MS - 2 * HEARTBEAT_MS);
    const tz = 'Asia/Shanghai';
    expect(r.release_time >= reportTime(killedAt - 2000, tz) && r.release_time <= reportTime(killedAt, tz), `release_time ${r.release_time}`).toBe(true);
    await waitFor(() => ['hangup', 'cdr'].every((t) => [...delivered.values()].some((e) => e.callId === orphan && e.type === t)), 10_000, 'orphan hangup + cdr delivered');
    await queueSettled();
    for (const t of ['hangup', 'cdr']) expect([...delivered.values()].filter((e) => e.callId === orphan && e.type === t).map((e) => e.n), t).toEqual([1]);
    const warn = await x1.waitLog((l) => String(l.msg).startsWith('events:instance stopped heartbeating') && String(l.owner).startsWith(`${dead}~`), 5000, 'reaper warn');
    expect(warn).toMatchObject({ reaped: 1 });
    for (const n of [r.phone_no, r.peer_no]) expect(JSON.stringify(warn)).not.toContain(n);
    expect(await x1.metric('xline_events_reaped_calls_total')).toBe(reapedSoFar);
    return r;
  }

  function expectBLegs(far: SippResult, n: number, b: string, x: string, a: string): void {
    const invites = far.messages.filter((m) => m.direction === 'received' && m.method === 'INVITE');
    expect(new Set(invites.map((m) => m.header('call-id'))).size, far.output.slice(-1500)).toBe(n);
    for (const inv of invites) {
      expect(uriUser(inv.uri)).toBe(b);
      expect(uriUser(inv.header('from'))).toBe(x);
      expect(inv.raw.includes(a), 'caller number leaked to the far end').toBe(false);
    }
  }

  /** N calls through `d` that both sipp ends complete, each B leg checked; the binding and Call-IDs. */
  async function placeBatch(d: Parameters<typeof callBatch>[0], N: number) {
    const { a, b, x, subsId, far, caller } = await callBatch(d, N);
    const [ra, rb] = await Promise.all([caller.done, far.done]);
    results.push(ra, rb);
    expect(ra.code, `${ra.errors}\n${ra.output.slice(-1500)}`).toBe(0);
    expect(rb.code, `${rb.errors}\n${rb.output.slice(-1500)}`).toBe(0);
    expectBLegs(rb, N, b, x, a);
    const ids = callIdsSent(ra);
    expect(ids).toHaveLength(N);
    return { a, b, x, subsId, ids };
  }

  it('one drachtio-server, two instances: calls are shared by both, each ends on one, one CDR each', async () => {
    const { a, b, x, subsId, ids } = await placeBatch(d1, 6);

    const records = await cdrs(ids);
    for (const r of records.values()) {
      expect(r).toMatchObject({ sub_id: subsId, secret_no: x, phone_no: a, peer_no: b, call_type: 0, release_dir: 1, release_cause: 16 });
      expect(r.start_time).toBeDefined();
    }
    // Nothing but these calls' CDRs under this binding.
    expect((await side.pipeline.store.listCdrs({ subId: subsId, limit: 100 })).items.map((r) => r.call_id).sort()).toEqual([...ids].sort());

    const by = endedBy(ids);
    for (const [id, who] of by) expect(who, `call ${id} ended by`).toHaveLength(1);
    const perInstance = { x1: [...by.values()].filter((w) => w[0] === 'x1').length, x2: [...by.values()].filter((w) => w[0] === 'x2').length };
    // drachtio-server hands new INVITEs to its apps in turn: both instances took calls.
    expect(perInstance.x1, JSON.stringify(perInstance)).toBeGreaterThan(0);
    expect(perInstance.x2, JSON.stringify(perInstance)).toBeGreaterThan(0);
    await expectDeliveredOnce(ids);
  });

  it('one instance, two drachtio-servers: calls through the second server succeed too, on x1 alone', async () => {
    const { a, b, x, subsId, ids } = await placeBatch(d2, 4);
    const records = await cdrs(ids);
    for (const r of records.values()) expect(r).toMatchObject({ sub_id: subsId, secret_no: x, phone_no: a, peer_no: b, release_dir: 1 });
    for (const [id, who] of endedBy(ids)) expect(who, `call ${id} ended by`).toEqual(['x1']);
    await expectDeliveredOnce(ids);
    // Health: the process-wide sip flag, and one entry per drachtio-server.
    expect(await x1.health()).toMatchObject({
      redis: 'up',
      sip: 'up',
      media: 'down',
      drachtio: [
        { server: `127.0.0.1:${d1.adminPort}`, sip: 'up', media: 'down' },
        { server: `127.0.0.1:${d2.adminPort}`, sip: 'up', media: 'down' },
      ],
    });
    expect((await x2.health()).drachtio).toEqual([{ server: `127.0.0.1:${d1.adminPort}`, sip: 'up', media: 'down' }]);
  });

  it('SIGKILL of an instance holding an answered call: its call ends at the first BYE (481) and gets one CDR from x1\'s reaper, the other instance\'s call and new calls are unaffected', async () => {
    // Two calls through d1 one after the other: round-robin puts one on each instance.
    const { a, b, x, subsId, far, caller } = await callBatch(d1, 2, { uac: 'uac-call-bye-200-or-481.xml', uas: 'uas-answer-bye-within-6s.xml', holdMs: 2500 });
    // Both answered (live state in Redis, written by each instance's events) and one on each.
    const deadline = Date.now() + 5000;
    for (;;) {
      const live = await side.pipeline.store.liveCalls(subsId);
      const [m1, m2] = await Promise.all([x1.metric('xline_sip_live_calls'), x2.metric('xline_sip_live_calls')]);
      if (live.length === 2 && live.every((c) => c.state === 'talking') && m1 === 1 && m2 === 1) break;
      if (Date.now() > deadline) throw new Error(`calls not both answered, one per instance: ${JSON.stringify({ live, m1, m2 })}`);
      await sleep(50);
    }
    const killedAt = Date.now();
    x2.kill('SIGKILL');
    expect(await x2.exited).toBeNull();

    const [ra, rb] = await Promise.all([caller.done, far.done]);
    results.push(ra, rb);
    expect(ra.code, `${ra.errors}\n${ra.output.slice(-1500)}`).toBe(0);
    expect(rb.code, `${rb.errors}\n${rb.output.slice(-1500)}`).toBe(0);
    expectBLegs(rb, 2, b, x, a);
    const ids = callIdsSent(ra);
    expect(ids).toHaveLength(2);
    const by = endedBy(ids);
    const survivor = ids.find((id) => by.get(id)!.includes('x1'))!;
    const orphan = ids.find((id) => id !== survivor)!;
    expect(by.get(survivor)).toEqual(['x1']);
    expect(by.get(orphan), 'the killed instance never ended its call').toEqual([]);

    const byeAnswer = (r: SippResult, id: string, dir: 'sent' | 'received') =>
      r.messages.find((m) => m.direction === (dir === 'sent' ? 'received' : 'sent') && m.status !== undefined && m.header('call-id') === id && /BYE/.test(m.header('cseq') ?? ''));
    const byeSeen = (r: SippResult, id: string) => r.messages.some((m) => m.direction === 'received' && m.method === 'BYE' && m.header('call-id') === id);
    // Survivor: the caller's BYE was answered 200 by x1, which sent B its BYE.
    expect(byeAnswer(ra, survivor, 'sent')?.status).toBe(200);
    // Orphan: drachtio-server keeps both dialogs but has no app for them. The caller's BYE is
    // answered 481 at once (and that dialog forgotten); B hears nothing and, hanging up itself
    // after 6 s, gets 481 too. The CDR comes from x1's reaper (below).
    expect(byeAnswer(ra, orphan, 'sent')?.status).toBe(481);
    const bCalls = callIdsOfB(rb);
    expect(bCalls).toHaveLength(2);
    const bOrphan = bCalls.find((id) => !byeSeen(rb, id));
    const bSurv = bCalls.find((id) => byeSeen(rb, id));
    expect(bOrphan, 'one B leg got no BYE').toBeDefined();
    expect(bSurv, 'one B leg got a BYE').toBeDefined();
    expect(byeAnswer(rb, bOrphan!, 'sent')?.status).toBe(481);
    expect(d1.output()).toContain('unable to find client for dialog');
    expect(Date.now() - killedAt).toBeLessThan(12_000);

    const records = await cdrs([survivor]);
    expect(records.get(survivor)).toMatchObject({ release_dir: 1, release_cause: 16 });
    const reaped = await expectReaped(orphan, killedAt, 'x2', { sub_id: subsId, secret_no: x, phone_no: a, peer_no: b, call_type: 0 }, 1);
    expect(reaped.start_time, 'answered before the kill').toBeDefined();
    // One CDR per call, and the survivor's is still its own.
    expect((await side.pipeline.store.listCdrs({ subId: subsId, limit: 100 })).items.map((r) => r.call_id).sort()).toEqual([...ids].sort());
    expect(await side.pipeline.store.getCdr(survivor)).toEqual(records.get(survivor));

    // New calls through d1 now all reach x1 and succeed.
    const next = await callBatch(d1, 3);
    const [na, nb] = await Promise.all([next.caller.done, next.far.done]);
    results.push(na, nb);
    expect(na.code, `${na.errors}\n${na.output.slice(-1500)}`).toBe(0);
    expect(nb.code).toBe(0);
    expectBLegs(nb, 3, next.b, next.x, next.a);
    const nextIds = callIdsSent(na);
    await cdrs(nextIds);
    for (const [id, who] of endedBy(nextIds)) expect(who, `call ${id} ended by`).toEqual(['x1']);
    await expectDeliveredOnce(nextIds);
    // x1 is still connected to both servers and healthy.
    expect(await x1.health()).toMatchObject({ redis: 'up', sip: 'up' });
  });

  it('SIGKILL of an instance while its call rings: the caller\'s CANCEL is answered 487 by drachtio-server; B is never told; x1\'s reaper writes its CDR', async () => {
    // x3 replaces x2 on d1; two ringing calls through d1, one on each instance.
    x3 = await startXlineProcess('x3', { ...(await envOf('x3', d1)), ...common });
    await x3.waitLog((l) => l.msg === 'connected to drachtio-server', 40_000, 'x3 connected');
    const { subsId, far, caller } = await callBatch(d1, 2, { uac: 'uac-ring-d-then-cancel-expect-487.xml', uas: 'uas-ring-until-cancel.xml', holdMs: 2500 });
    const deadline = Date.now() + 5000;
    for (;;) {
      const live = await side.pipeline.store.liveCalls(subsId);
      const [m1, m3] = await Promise.all([x1.metric('xline_sip_live_calls'), x3!.metric('xline_sip_live_calls')]);
      if (live.length === 2 && live.every((c) => c.state === 'ringing') && m1 === 1 && m3 === 1) break;
      if (Date.now() > deadline) throw new Error(`calls not both ringing, one per instance: ${JSON.stringify({ live, m1, m3 })}`);
      await sleep(50);
    }
    const killedAt = Date.now();
    x3.kill('SIGKILL');
    await x3.exited;
    // Callers CANCEL when their ring timer (-d) runs out.
    const ra = await caller.done;
    results.push(ra);
    expect(ra.code, `${ra.errors}\n${ra.output.slice(-1500)}`).toBe(0);
    const ids = callIdsSent(ra);
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      const final = ra.messages.find((m) => m.direction === 'received' && m.header('call-id') === id && /INVITE/.test(m.header('cseq') ?? '') && (m.status ?? 0) >= 200);
      expect(final?.status, id).toBe(487);
    }
    // x1 hears of its caller's CANCEL after drachtio-server answered it.
    await waitFor(() => [...endedBy(ids).values()].some((w) => w.includes('x1')), 3000, 'x1 ended its call');
    const by = endedBy(ids);
    const survivor = ids.find((id) => by.get(id)!.includes('x1'))!;
    const orphan = ids.find((id) => id !== survivor)!;
    expect(by.get(survivor)).toEqual(['x1']);
    expect(by.get(orphan), 'the killed instance never ended its call').toEqual([]);
    // B: x1 relayed its caller's CANCEL; the killed instance's B leg is known to nobody now and
    // keeps ringing until B gives up by itself (here: the test stops it, once x1's CANCEL is in).
    const cancelAtB = () => far.messagesSoFar().some((m) => m.direction === 'received' && m.method === 'CANCEL');
    await waitFor(cancelAtB, 5000, "x1's CANCEL at the far end");
    const rb = await far.stop();
    results.push(rb);
    expect(callIdsOfB(rb)).toHaveLength(2);
    const canceled = callIdsOfB(rb).filter((id) => rb.messages.some((m) => m.direction === 'received' && m.method === 'CANCEL' && m.header('call-id') === id));
    expect(canceled).toHaveLength(1);
    const survivorCdr = (await cdrs([survivor])).get(survivor)!;
    expect(survivorCdr).toMatchObject({ release_dir: 1 });
    const reaped = await expectReaped(orphan, killedAt, 'x3', { sub_id: subsId, call_type: 0 }, 2);
    expect(reaped.ring_time, 'rang before the kill').toBeDefined();
    expect(reaped.start_time, 'never answered').toBeUndefined();
    expect((await side.pipeline.store.listCdrs({ subId: subsId, limit: 100 })).items.map((r) => r.call_id).sort()).toEqual([...ids].sort());
    expect(await side.pipeline.store.getCdr(survivor)).toEqual(survivorCdr);
  });
});

function callIdsOfB(r: SippResult): string[] {
  return [...new Set(r.messages.filter((m) => m.direction === 'received' && m.method === 'INVITE').map((m) => m.header('call-id')!))];
}
