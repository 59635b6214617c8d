// A real redis-server stalled with SIGSTOP past the request deadline, then resumed with SIGCONT
// (it then runs every command it had queued):
// - dypls writes answered isp.SYSTEM_ERROR are NOT live afterwards (the store, QuerySubsId /
//   QuerySubscriptionDetail and Redis itself agree), and a retry makes exactly one binding;
// - /v1 routes answer 503 STORAGE_UNAVAILABLE with an operator's message, within the deadline,
//   and their writes do not land either (a bulk import cut short keeps what landed before, says
//   so, and a retry completes it);
// - the log says the outage began, summarises it, says it ended, and stays a few lines long
//   however many requests fail (no line or stack per request).
// The pool cache is on (as in production): a bind's script goes straight to the stalled Redis.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventsOpsRoutes } from '../../src/api/ops/events-routes.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { EventStore } from '../../src/events/store.js';
import { hasRedis } from '../support/redis.js';
import { aNo, bNo, expiration, KEY_ID, makePool, ops, rpc, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const STALL_MESSAGE = 'Redis did not answer within 800 ms; nothing was changed, retrying is safe';

/** Polls until `ok()` holds (or throws after `ms`): waits on an outcome, never a fixed sleep. */
async function until(ok: () => Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stalls redis-server for the duration of `fn` (always resumed), then waits until it answers again. */
async function stalled<T>(h: Harness, fn: () => Promise<T>): Promise<T> {
  h.server.process.kill('SIGSTOP');
  try {
    return await fn();
  } finally {
    h.server.process.kill('SIGCONT');
    // A PING on the store's own connection is answered after every command queued before it:
    // once it answers, Redis has run (or refused) everything the stalled requests had sent.
    await until(() => h.ctx.store.ping(), 10_000, 'Redis to answer after SIGCONT');
  }
}

const timed = async <T>(p: Promise<T>): Promise<[T, number]> => {
  const t0 = Date.now();
  const v = await p;
  return [v, Date.now() - t0];
};

describe.skipIf(!hasRedis)('a stalled Redis (SIGSTOP past the deadline)', () => {
  let h: Harness;
  let events: EventStore;
  const POOL = 'FC_DL';
  const X = xNo(800);

  beforeAll(async () => {
    h = await startHarness({}, { opsPlugins: [eventsOpsRoutes({ get store() { return events; } })] }, { poolCacheMs: 60_000 });
    events = new EventStore(h.redis as Redis, { retentionMs: 86_400_000, liveTtlMs: 3_600_000, queue: false });
    await makePool(h.app, POOL, 1, 800);
  });
  afterAll(async () => h?.stop());

  const bind = (i: number, nonce?: string) =>
    rpc(h.app, 'BindAxb', { PoolKey: POOL, PhoneNoA: aNo(i), PhoneNoB: bNo(i), Expiration: expiration(3600) }, nonce ? { nonce } : {});
  const subsOf = async (i: number) => (await rpc(h.app, 'QuerySubsId', { PoolKey: POOL, PhoneNoX: X, PhoneNoA: aNo(i) })).body;

  it('dypls binds, an unbind and an update answered isp.SYSTEM_ERROR never land; a retry binds exactly once', async () => {
    // one live binding (and a warm pool cache: the next binds go straight to their script)
    const kept = await bind(1);
    expect(kept.body.Code).toBe('OK');
    const keptSubs = kept.body.SecretBindDTO.SubsId as string;
    const before = await snapshot(h.redis);
    const poolBefore = (await ops(h.app, 'GET', `/v1/pools/${POOL}`)).body;
    expect(poolBefore.bindings).toBe(1);

    const nonces = [2, 3, 4].map((i) => `stalled-bind-${i}-${Date.now()}`);
    const answers = await stalled(h, () =>
      Promise.all([
        ...[2, 3, 4].map((i, k) => timed(bind(i, nonces[k]))),
        timed(rpc(h.app, 'UnbindSubscription', { PoolKey: POOL, SubsId: keptSubs, SecretNo: X })),
        timed(rpc(h.app, 'UpdateSubscription', { PoolKey: POOL, SubsId: keptSubs, PhoneNoX: X, OperateType: 'updateNoB', PhoneNoB: bNo(99) })),
      ]),
    );
    for (const [r, ms] of answers) {
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ Code: 'isp.SYSTEM_ERROR', Message: STALL_MESSAGE });
      expect(ms).toBeLessThan(5000); // answered, not hung
    }

    // Redis has now run everything it had queued: nothing of it wrote
    expect(await snapshot(h.redis)).toEqual(before);
    for (const n of nonces) expect(await (h.redis as Redis).exists(`nonce:dypls:${KEY_ID}:${n}`)).toBe(0);
    for (const i of [2, 3, 4]) {
      expect((await subsOf(i)).Code).toBe('isv.SUBS_NOT_EXIST');
      expect(await h.ctx.store.findSubsId(POOL, X, aNo(i))).toBeUndefined();
    }
    const detail = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId: keptSubs, PhoneNoX: X });
    expect(detail.body).toMatchObject({ Code: 'OK', SecretBindDetailDTO: { Status: 1, PhoneNoA: aNo(1), PhoneNoB: bNo(1) } });

    // the client retries each: exactly one binding per A/B pair
    for (const i of [2, 3, 4]) {
      const r = await bind(i);
      expect(r.body.Code, JSON.stringify(r.body)).toBe('OK');
      expect((await subsOf(i)).SubsId).toBe(r.body.SecretBindDTO.SubsId);
      const d = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId: r.body.SecretBindDTO.SubsId, PhoneNoX: X });
      expect(d.body.SecretBindDetailDTO).toMatchObject({ Status: 1, PhoneNoA: aNo(i), PhoneNoB: bNo(i) });
    }
    expect((await ops(h.app, 'GET', `/v1/pools/${POOL}`)).body.bindings).toBe(4);
    // and Redis holds exactly those: 4 records on X
    expect(await (h.redis as Redis).hlen(`b:{${X}}`)).toBe(4);
  });

  it('/v1 routes answer 503 STORAGE_UNAVAILABLE for an operator, within the deadline, and change nothing', async () => {
    const r = h.redis as Redis;
    await r
      .multi()
      .hset(EVENT_KEYS.deadEntries, 'dl-1:cdr', JSON.stringify({ id: 'dl-1:cdr', type: 'cdr', body: '{}', t: '1', n: '7', st: 500, err: 'HTTP 500', dead: 1000 }))
      .zadd(EVENT_KEYS.deadAt, 1000, 'dl-1:cdr')
      .exec();
    const before = await snapshot(h.redis);
    const answers = await stalled(h, () =>
      Promise.all([
        timed(ops(h.app, 'GET', `/v1/pools/${POOL}`)),
        timed(ops(h.app, 'GET', '/v1/pools')),
        timed(ops(h.app, 'PUT', `/v1/pools/${POOL}`, { name: 'renamed', strictCity: true })),
        timed(ops(h.app, 'POST', `/v1/pools/${POOL}/numbers`, { numbers: [{ number: xNo(801), city: '杭州' }] })),
        timed(ops(h.app, 'POST', '/v1/numbers', { numbers: [{ number: xNo(802), city: '杭州' }] })),
        timed(ops(h.app, 'GET', '/v1/cdrs?limit=5')),
        timed(ops(h.app, 'POST', '/v1/events/dead-letter/dl-1:cdr/resend')),
      ]),
    );
    for (const [res, ms] of answers) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: { code: 'STORAGE_UNAVAILABLE', message: STALL_MESSAGE } });
      expect(ms).toBeLessThan(5000);
    }
    expect(await snapshot(h.redis)).toEqual(before);
    expect((await ops(h.app, 'GET', `/v1/pools/${POOL}`)).body).toMatchObject({ name: POOL, strictCity: false, numbers: 1 });
    // and they work again
    expect((await ops(h.app, 'POST', '/v1/events/dead-letter/dl-1:cdr/resend')).body).toEqual({ resent: ['dl-1:cdr'] });
  });

  it('a bulk import cut short keeps what landed, says so, and a retry completes it', async () => {
    await ops(h.app, 'PUT', '/v1/pools/FC_BULK', { name: 'bulk', strictCity: false });
    const numbers = Array.from({ length: 10_000 }, (_, i) => ({ number: String(17300000000 + i), city: '杭州' }));
    const watcher = (h.redis as Redis).duplicate();
    try {
      const importing = ops(h.app, 'POST', '/v1/pools/FC_BULK/numbers', { numbers });
      // stall Redis as soon as the first numbers have landed
      await until(async () => (await watcher.hlen('pn:{FC_BULK}').catch(() => 0)) > 0, 10_000, 'the first numbers');
      const res = await stalled(h, () => importing);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('STORAGE_UNAVAILABLE');
      expect(res.body.error.message).toMatch(/part-way through: what was done before stays done, nothing was changed after that; sending the request again completes it/);
      const landed = (await ops(h.app, 'GET', '/v1/pools/FC_BULK')).body.numbers as number;
      expect(landed).toBeGreaterThan(0);
      expect(landed).toBeLessThan(10_000);
      const again = await ops(h.app, 'POST', '/v1/pools/FC_BULK/numbers', { numbers });
      expect(again.status).toBe(200);
      expect(again.body.conflicts).toEqual([]);
      expect(again.body.added + again.body.existing).toBe(10_000);
      // Numbers Redis added in the instant it stopped had their replies (so their pool-index
      // hints) held back past the deadline: the count above missed them, the retry finds them
      // 'existing' and writes their hints.
      expect(again.body.existing).toBeGreaterThanOrEqual(landed);
      expect((await ops(h.app, 'GET', '/v1/pools/FC_BULK')).body.numbers).toBe(10_000);
    } finally {
      watcher.disconnect();
    }
  });
});

describe.skipIf(!hasRedis)('the log during an outage', () => {
  let h: Harness;
  const lines: Record<string, any>[] = [];
  const POOL = 'FC_LOG';

  beforeAll(async () => {
    h = await startHarness(
      { LOG_LEVEL: 'info' },
      {},
      {
        poolCacheMs: 60_000,
        outageSummaryMs: 1000,
        logDestination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, any>) },
      },
    );
    await makePool(h.app, POOL, 5, 900);
  });
  afterAll(async () => h?.stop());
  afterEach(() => {
    lines.length = 0;
  });

  it('says when it began, summarises every few seconds, says when it ended: a few lines for 120 failed requests, no stacks', async () => {
    expect((await rpc(h.app, 'BindAxb', { PoolKey: POOL, PhoneNoA: aNo(1), PhoneNoB: bNo(1), Expiration: expiration(3600) })).body.Code).toBe('OK');
    lines.length = 0;
    const N = 120;
    const codes = await stalled(h, async () => {
      const out: string[] = [];
      // four waves over ~3 s of outage: dypls binds and ops reads
      for (let wave = 0; wave < 4; wave++) {
        const batch = await Promise.all(
          Array.from({ length: N / 4 }, (_, j) => {
            const i = 10 + wave * 100 + j;
            return j % 5 === 0
              ? ops(h.app, 'GET', `/v1/pools/${POOL}`).then((r) => String(r.status))
              : rpc(h.app, 'BindAxb', { PoolKey: POOL, PhoneNoA: aNo(i), PhoneNoB: bNo(i), Expiration: expiration(3600) }).then((r) => String(r.body.Code));
          }),
        );
        out.push(...batch);
      }
      return out;
    });
    expect(codes).toHaveLength(N);
    expect(new Set(codes)).toEqual(new Set(['isp.SYSTEM_ERROR', '503']));

    await until(async () => lines.some((l) => /outage ended/.test(l.msg)), 10_000, 'the outage-ended line');
    const began = lines.filter((l) => /outage began/.test(l.msg));
    const summaries = lines.filter((l) => /outage continues/.test(l.msg));
    const ended = lines.filter((l) => /outage ended/.test(l.msg));
    expect(began).toHaveLength(1);
    expect(began[0]).toMatchObject({ level: 40 });
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.reduce((n, l) => n + (l.failedRequests as number), 0)).toBeGreaterThan(0);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.totalFailedRequests).toBe(N);
    // bounded: the three kinds of line, plus a summary per second of outage; none per request
    expect(lines.length).toBeLessThanOrEqual(2 + 8);
    expect(lines.filter((l) => !/outage (began|continues|ended)/.test(l.msg))).toEqual([]);
    for (const l of lines) expect(JSON.stringify(l)).not.toMatch(/"stack"/);
  });
});
