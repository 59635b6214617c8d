// The events side of the admin API on the real admin app, real store and real Redis:
// GET /v1/cdrs, the dead-letter routes, and the QueryCallStatus dypls action.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { hasRedis } from '../support/redis.js';
import { startHarness, rpc, ops, makePool, expiration, aNo, bNo, type Harness } from './api-harness.js';
import { eventsOpsRoutes } from '../../src/api/ops/events-routes.js';
import { queryCallStatusAction } from '../../src/api/dypls/actions/query-call-status.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import type { EventPipeline } from '../../src/events/pipeline.js';
import { makePipeline, oneCall } from './events-fixtures.js';

describe.skipIf(!hasRedis)('events: ops routes and QueryCallStatus', () => {
  let h: Harness;
  let pipeline: EventPipeline;
  let clock = 1_700_000_000_000;

  beforeAll(async () => {
    // the plugin and the action read the pipeline per request; it is built once Redis is up
    h = await startHarness(
      {},
      {
        opsPlugins: [eventsOpsRoutes({ get store() { return pipeline.store; } })],
        actions: [queryCallStatusAction({ get: (s) => pipeline.store.liveCalls(s) })],
      },
    );
    // a webhook nobody listens to: events queue, and dead letters can be made by hand
    pipeline = makePipeline(h.redis as Redis, 'http://127.0.0.1:9/never', {}, { now: () => clock }).pipeline;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('GET /v1/cdrs: filters, pages, validates, and needs the bearer token', async () => {
    for (let i = 0; i < 7; i++) {
      clock = 1_700_000_000_000 + i * 60_000; // one a minute
      await pipeline.sink.cdr(oneCall(`rt-${i}`, i < 3 ? 'sub-a' : 'sub-b').cdr);
    }
    const all = await ops(h.app, 'GET', '/v1/cdrs?limit=5');
    expect(all.status).toBe(200);
    expect(all.body.items.map((r: { call_id: string }) => r.call_id)).toEqual(['rt-0', 'rt-1', 'rt-2', 'rt-3', 'rt-4']);
    expect(all.body.items[0]).toMatchObject({ sub_id: 'sub-a', release_dir: 1, release_cause: 16, phone_no: '13800000001' });
    const rest = await ops(h.app, 'GET', `/v1/cdrs?limit=5&cursor=${all.body.next_cursor}`);
    expect(rest.body).toMatchObject({ next_cursor: null });
    expect(rest.body.items.map((r: { call_id: string }) => r.call_id)).toEqual(['rt-5', 'rt-6']);

    // the same instants in the three accepted forms: ms, ISO 8601, wall clock in TIMEZONE (UTC+8)
    const from = 1_700_000_000_000 + 60_000;
    const to = 1_700_000_000_000 + 3 * 60_000;
    const wall = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    for (const [f, t] of [
      [String(from), String(to)],
      [new Date(from).toISOString(), new Date(to).toISOString()],
      [wall(from), wall(to)],
    ]) {
      const r = await ops(h.app, 'GET', `/v1/cdrs?from=${encodeURIComponent(f!)}&to=${encodeURIComponent(t!)}`);
      expect(r.status).toBe(200);
      expect(r.body.items.map((x: { call_id: string }) => x.call_id)).toEqual(['rt-1', 'rt-2']);
    }
    const bySub = await ops(h.app, 'GET', '/v1/cdrs?sub_id=sub-a&from=' + from);
    expect(bySub.body.items.map((x: { call_id: string }) => x.call_id)).toEqual(['rt-1', 'rt-2']);
    const byCall = await ops(h.app, 'GET', '/v1/cdrs?call_id=rt-4');
    expect(byCall.body.items.map((x: { call_id: string }) => x.call_id)).toEqual(['rt-4']);

    for (const bad of ['from=yesterday', 'from=2023-13-01%2000:00:00', 'limit=0', 'limit=5000', 'cursor=nonsense', 'colour=red', `from=${to}&to=${from}`]) {
      const r = await ops(h.app, 'GET', `/v1/cdrs?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code, bad).toBe('INVALID_REQUEST');
    }
    expect((await ops(h.app, 'GET', '/v1/cdrs', undefined, null)).status).toBe(401);
    expect((await ops(h.app, 'GET', '/v1/cdrs', undefined, 'wrong')).status).toBe(401);
  });

  it('documents its routes in the OpenAPI document', async () => {
    const doc = await ops(h.app, 'GET', '/v1/openapi.json', undefined, null);
    expect(doc.status).toBe(200);
    for (const path of ['/v1/cdrs', '/v1/events/stats', '/v1/events/dead-letter', '/v1/events/dead-letter/{id}', '/v1/events/dead-letter/{id}/resend', '/v1/events/dead-letter/resend']) {
      expect(Object.keys(doc.body.paths), path).toContain(path);
    }
    const deadParams = doc.body.paths['/v1/events/dead-letter'].get.parameters as Array<{ name: string; in: string; schema: { pattern?: string } }>;
    expect(deadParams.find((p) => p.name === 'target')).toMatchObject({ in: 'query', schema: { pattern: expect.stringContaining('webhook|huawei') } });
  });

  it('dead letters: list, read, re-send one or all; unknown ids are 404', async () => {
    const r = h.redis as Redis;
    const dead = (id: string, at: number) =>
      r
        .multi()
        .hset(EVENT_KEYS.deadEntries, id, JSON.stringify({ id, type: 'cdr', body: JSON.stringify({ id }), t: '1', n: '7', st: 500, err: 'HTTP 500', dead: at }))
        .zadd(EVENT_KEYS.deadAt, at, id)
        .exec();
    await dead('d-1:cdr', 1000);
    await dead('d-2:cdr', 2000);
    await dead('d-3:cdr', 3000);
    const before = await r.xlen(EVENT_KEYS.stream);

    const list = await ops(h.app, 'GET', '/v1/events/dead-letter?limit=2');
    expect(list.status).toBe(200);
    expect(list.body.items.map((d: { id: string }) => d.id)).toEqual(['d-1:cdr', 'd-2:cdr']);
    expect(list.body.items[0]).toMatchObject({ type: 'cdr', attempts: 7, last_status: 500, last_error: 'HTTP 500', dead_at: 1000, payload: { id: 'd-1:cdr' } });
    const next = await ops(h.app, 'GET', `/v1/events/dead-letter?cursor=${list.body.next_cursor}`);
    expect(next.body.items.map((d: { id: string }) => d.id)).toEqual(['d-3:cdr']);
    expect((await ops(h.app, 'GET', '/v1/events/dead-letter/d-2:cdr')).body.id).toBe('d-2:cdr');
    expect((await ops(h.app, 'GET', '/v1/events/dead-letter/nope')).status).toBe(404);
    expect((await ops(h.app, 'GET', '/v1/events/stats')).body).toMatchObject({ dead: 3 });

    const one = await ops(h.app, 'POST', '/v1/events/dead-letter/d-2:cdr/resend');
    expect(one).toMatchObject({ status: 200, body: { resent: ['d-2:cdr'] } });
    expect((await ops(h.app, 'POST', '/v1/events/dead-letter/d-2:cdr/resend')).status).toBe(404);
    expect((await ops(h.app, 'POST', '/v1/events/dead-letter/resend', {})).status).toBe(400);
    expect((await ops(h.app, 'POST', '/v1/events/dead-letter/resend', { ids: ['x'], all: true })).status).toBe(400);
    const bulk = await ops(h.app, 'POST', '/v1/events/dead-letter/resend', { all: true });
    expect(bulk.body.resent.sort()).toEqual(['d-1:cdr', 'd-3:cdr']);
    expect(await r.zcard(EVENT_KEYS.deadAt)).toBe(0);
    // re-queued entries start a fresh schedule
    const queued = await r.xrange(EVENT_KEYS.stream, '-', '+');
    expect(queued.length - before).toBe(3);
    expect(queued.slice(-3).every(([, f]) => f[f.indexOf('n') + 1] === '0')).toBe(true);
  });

  it('dead letters by target: webhook, every Huawei app, one kind, one app; a bad target is 400', async () => {
    const r = h.redis as Redis;
    await r.del(EVENT_KEYS.deadEntries, EVENT_KEYS.deadAt);
    const dead = (id: string, to: string | undefined, at: number) =>
      r
        .multi()
        .hset(EVENT_KEYS.deadEntries, id, JSON.stringify({ id, type: 'callin', ...(to ? { to } : {}), body: '{}', t: '1', n: '1', dead: at }))
        .zadd(EVENT_KEYS.deadAt, at, id)
        .exec();
    await dead('t-1:start', undefined, 1000);
    await dead('t-1:hw.callin', 'huawei:status:app1', 2000);
    await dead('t-1:hw.fee', 'huawei:fee:app1', 3000);
    await dead('t-2:hw.callin', 'huawei:status:app10', 4000);
    await dead('t-2:cdr', undefined, 5000);
    const ids = async (q: string) => {
      const res = await ops(h.app, 'GET', `/v1/events/dead-letter?${q}`);
      expect(res.status, q).toBe(200);
      return (res.body.items as Array<{ id: string }>).map((d) => d.id);
    };
    expect(await ids('target=webhook')).toEqual(['t-1:start', 't-2:cdr']);
    expect(await ids('target=huawei')).toEqual(['t-1:hw.callin', 't-1:hw.fee', 't-2:hw.callin']);
    expect(await ids('target=huawei:status')).toEqual(['t-1:hw.callin', 't-2:hw.callin']);
    expect(await ids('target=huawei:fee')).toEqual(['t-1:hw.fee']);
    expect(await ids('target=huawei:status:app1')).toEqual(['t-1:hw.callin']); // not app10's
    expect(await ids('target=huawei:status:nobody')).toEqual([]);
    // paged: the cursor goes on after the last one read, matching or not
    const first = await ops(h.app, 'GET', '/v1/events/dead-letter?target=webhook&limit=1');
    expect(first.body.items.map((d: { id: string }) => d.id)).toEqual(['t-1:start']);
    expect(await ids(`target=webhook&limit=1&cursor=${first.body.next_cursor}`)).toEqual(['t-2:cdr']);
    for (const bad of ['target=', 'target=Webhook', 'target=huawei:', 'target=huawei:call', 'target=huawei:status:', 'target=huawei:fee:a%20b', 'target=webhook:x']) {
      const res = await ops(h.app, 'GET', `/v1/events/dead-letter?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code, bad).toBe('INVALID_REQUEST');
    }
    await r.del(EVENT_KEYS.deadEntries, EVENT_KEYS.deadAt);
  });

  it('QueryCallStatus answers the live state of a binding call, Alibaba fields first', async () => {
    clock = Date.now();
    await makePool(h.app, 'FCQ', 2, 500);
    const bind = await rpc(h.app, 'BindAxb', { PoolKey: 'FCQ', PhoneNoA: aNo(1), PhoneNoB: bNo(1), Expiration: expiration(3600) });
    expect(bind.body.Code).toBe('OK');
    const subsId = bind.body.SecretBindDTO.SubsId as string;
    const x = bind.body.SecretBindDTO.SecretNo as string;

    const q = (extra: Record<string, string> = {}) => rpc(h.app, 'QueryCallStatus', { PoolKey: 'FCQ', SubsId: subsId, ...extra });
    expect((await q()).body).toMatchObject({ Code: 'OK', SecretCallStatusDTO: { Status: 1, CalledNo: x, CallState: 'IDLE', LiveCalls: 0 } });

    const call = oneCall('qcs-1', subsId, clock);
    const ev = call.events.map((e) => ({ ...e, secret_no: x, phone_no: aNo(1), peer_no: bNo(1) }));
    await pipeline.sink.event(ev[0]!);
    await pipeline.sink.event(ev[1]!);
    expect((await q()).body.SecretCallStatusDTO).toMatchObject({ Status: 1, CallState: 'RINGING', CallId: 'qcs-1', LiveCalls: 1 });
    await pipeline.sink.event(ev[2]!);
    expect((await q()).body.SecretCallStatusDTO).toMatchObject({ CallState: 'TALKING', CallId: 'qcs-1' });
    expect((await q()).body.SecretCallStatusDTO.StateTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // CallNo narrows to calls that number takes part in
    expect((await q({ CallNo: bNo(1) })).body.SecretCallStatusDTO.CallState).toBe('TALKING');
    expect((await q({ CallNo: bNo(77) })).body.SecretCallStatusDTO.CallState).toBe('IDLE');
    await pipeline.sink.event(ev[3]!);
    await pipeline.sink.cdr({ ...call.cdr, sub_id: subsId });
    expect((await q()).body.SecretCallStatusDTO).toMatchObject({ Status: 1, CallState: 'IDLE', LiveCalls: 0 });

    expect((await rpc(h.app, 'QueryCallStatus', { PoolKey: 'FCQ', SubsId: '999' })).body.Code).toBe('isv.SUBS_NOT_EXIST');
    expect((await rpc(h.app, 'QueryCallStatus', { PoolKey: 'OTHER', SubsId: subsId })).body.Code).not.toBe('OK');
    expect((await q({ CallNo: 'not-a-number' })).body.Code).toBe('isv.MOBILE_NUMBER_ILLEGAL');
    const missing = await rpc(h.app, 'QueryCallStatus', { PoolKey: 'FCQ' });
    expect(missing.status).toBe(400);
    expect(missing.body.Code).toBe('MissingSubsId');
  });
});
