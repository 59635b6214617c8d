// SIGTERM to a real xline process (src/main.ts, as users start it) holding a live call, with a
// real drachtio-server, redis-server and sipp at both ends. What the README promises: xline stops
// taking calls (503, Q.850 41), waits for the live call, which ends normally with its BYE, flushes
// the calls' events and CDRs to Redis, and exits 0.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_KEYS } from '../../src/events/keys.js';
import type { CallRecord } from '../../src/events/types.js';
import { drachtioBin } from '../support/drachtio.js';
import { hasRedis } from '../support/redis.js';
import { cnMobile, finalToInvite, inviteCallIds, q850Cause } from '../support/sip-msgs.js';
import { cleanupSipp, runSipp, sippBin, uriUser, type SippResult } from '../support/sipp.js';
import { startSipSite, type SipSite } from '../support/sip-process.js';
import type { XlineProcess } from '../support/xline-process.js';
import { eventually, expirationIn, makePoolVia, xlineHttp, type XlineHttp } from '../support/xline-http.js';

const KEY = { accessKeyId: 'drain', accessKeySecret: 'drain-secret', opsToken: 'drain-ops' };
const POOL = 'DRAIN';

describe.skipIf(!(drachtioBin && sippBin && hasRedis))('SIGTERM to a real xline process holding a live call', () => {
  let site: SipSite;
  let redis: Redis;
  let x: XlineProcess;
  let http: XlineHttp;
  const results: SippResult[] = [];

  beforeAll(async () => {
    site = await startSipSite('drain');
    redis = new Redis(site.redis.url);
    x = await site.startXline('drain', await site.env({ keys: KEY }));
    http = xlineHttp(x.adminPort, KEY);
    await x.waitLog((l) => l.msg === 'connected to drachtio-server', 40_000, 'connected to drachtio-server');
  }, 90_000);

  afterAll(async () => {
    redis?.disconnect();
    await site?.stop();
    for (const r of results) cleanupSipp(r);
  });

  it('refuses new calls with 503 (Q.850 41), lets the live call end with its BYE, writes both calls\' events and CDRs, exits 0', async () => {
    const [a, b, xNo] = [cnMobile('138'), cnMobile('139'), cnMobile('177')];
    await makePoolVia(http, POOL, [xNo]);
    const bind = await http.dypls('BindAxb', { PoolKey: POOL, PhoneNoA: a, PhoneNoB: b, PhoneNoX: xNo, Expiration: expirationIn(3600) });
    expect(bind.body.Code, JSON.stringify(bind.body)).toBe('OK');
    const subsId = String(bind.body.SecretBindDTO.SubsId);

    // A calls X; B answers; A holds the call for 6 s, then hangs up.
    const call = await site.call({ x: xNo, a, b, holdMs: 6000 });
    // Talking, as QueryCallStatus (through the process's API) sees it from the call's events.
    const talking = await eventually(
      async () => {
        const r = await http.dypls('QueryCallStatus', { PoolKey: POOL, SubsId: subsId });
        return r.body.SecretCallStatusDTO?.CallState === 'TALKING' ? r.body.SecretCallStatusDTO : undefined;
      },
      5000,
      'the call answered',
    );
    const liveCallId = String(talking.CallId);

    x.kill('SIGTERM');
    const exitCode = x.exited;
    await x.waitLog((l) => l.msg === 'draining SIP calls', 5000, 'drain started');

    // A new call while draining: refused at once, B never rings.
    const refused = await runSipp({ scenario: 'uac-unavailable-expect-503.xml', remote: `127.0.0.1:${site.drachtio.sipPort}`, service: xNo, caller: a, timeoutSec: 10 });
    results.push(refused);
    expect(refused.code, `${refused.errors}\n${refused.output.slice(-1500)}`).toBe(0);
    const final = finalToInvite(refused);
    expect(final?.status).toBe(503);
    expect(q850Cause(final), final?.header('reason')).toBe(41);
    const [refusedCallId] = inviteCallIds(refused);

    // The live call goes on until A hangs up: A's BYE answered 200, B got the BYE.
    const { a: ra, b: rb } = await call.done();
    expect(inviteCallIds(ra)).toEqual([liveCallId]);
    const byeOk = ra.messages.find((m) => m.direction === 'received' && m.status === 200 && /BYE/.test(m.header('cseq') ?? ''));
    expect(byeOk, 'A\'s BYE answered 200').toBeDefined();
    expect(rb.messages.some((m) => m.direction === 'received' && m.method === 'BYE'), 'B got a BYE').toBe(true);
    const bInvites = rb.messages.filter((m) => m.direction === 'received' && m.method === 'INVITE');
    expect(bInvites, 'only the live call reached B').toHaveLength(1);
    expect(uriUser(bInvites[0]!.uri)).toBe(b);

    expect(await exitCode, x.output().slice(-3000)).toBe(0);

    // Everything was in Redis before the process exited.
    const cdrOf = async (callId: string) => {
      const h = await redis.hgetall(EVENT_KEYS.cdr(callId));
      expect(h.r, `CDR of ${callId} in Redis\n${x.output().slice(-4000)}`).toBeDefined();
      return { cdr: JSON.parse(h.r!) as CallRecord, events: Object.keys(h).filter((k) => k.startsWith('ev:')).sort() };
    };
    const live = await cdrOf(liveCallId);
    // Ended by the caller (release_dir 1, normal clearing), not by the drain deadline (0, 41).
    expect(live.cdr).toMatchObject({ call_id: liveCallId, sub_id: subsId, secret_no: xNo, phone_no: a, peer_no: b, release_dir: 1, release_cause: 16 });
    expect(live.cdr.start_time, 'answered').toBeDefined();
    expect(live.events).toEqual(['ev:answer', 'ev:hangup', 'ev:ring', 'ev:start']);
    const ref = await cdrOf(refusedCallId!);
    expect(ref.cdr).toMatchObject({ call_id: refusedCallId, release_dir: 0, release_cause: 41 });
    expect(ref.cdr.start_time).toBeUndefined();
    expect(ref.events).toEqual(['ev:hangup', 'ev:start']);
    // No call left recorded as live, and the instance left cleanly (its heartbeat removed, so no
    // other instance will "reap" calls of a process that ended them itself).
    expect(await redis.exists(EVENT_KEYS.call(liveCallId), EVENT_KEYS.call(refusedCallId!))).toBe(0);
    expect(await redis.scard(EVENT_KEYS.live(subsId))).toBe(0);
    expect((await redis.zrange(EVENT_KEYS.owners, 0, -1)).filter((o) => o.startsWith("drain~")), x.output().slice(-4000)).toEqual([]);

    const drainLine = x.lines.find((l) => l.msg === 'draining SIP calls');
    expect(drainLine).toMatchObject({ liveCalls: 1 });
    expect(x.lines.some((l) => l.msg === 'drain time over: ending remaining calls')).toBe(false);
    expect(x.lines.some((l) => l.msg === 'stopped')).toBe(true);
    expect(x.lines.some((l) => String(l.msg).startsWith('events:stopping with live calls recorded'))).toBe(false);
    const errors = x.lines.filter((l) => Number(l.level) >= 50);
    expect(errors, JSON.stringify(errors)).toEqual([]);
  }, 60_000);
});
