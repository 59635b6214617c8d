// CDR storage and pull queries, live call state, idempotent produce and retention, on a real Redis.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { backends } from '../support/store-backends.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { CursorError, InvalidEventError } from '../../src/events/store.js';
import type { CallRecord } from '../../src/events/types.js';
import { makePipeline, oneCall } from './events-fixtures.js';
import { keyCount, useRedis } from './events-fixtures.js';

describe.each(backends)('events: CDRs, live state, retention on $name', (kind) => {
  if (!kind.available) return void it.skip(`needs ${kind.name} Redis binaries`, () => {});
  const db = useRedis(kind);
  let redis: Redis | Cluster;

  beforeAll(() => {
    redis = db.redis;
  });

  it('tracks a call live (calling → ringing → talking) and the CDR write ends that state in the same step', async () => {
    const { pipeline } = makePipeline(redis, undefined);
    const call = oneCall('live-1', 'sub-live');
    const [start, ring, answer, hangup] = call.events;
    expect(await pipeline.store.liveCalls('sub-live')).toEqual([]);
    await pipeline.sink.event(start!);
    expect(await pipeline.store.liveCalls('sub-live')).toMatchObject([{ call_id: 'live-1', state: 'calling', secret_no: '13900000000' }]);
    await pipeline.sink.event(ring!);
    expect((await pipeline.store.liveCalls('sub-live'))[0]!.state).toBe('ringing');
    // a second call on the same binding (AXN: several callers reach A)
    await pipeline.sink.event({ ...start!, call_id: 'live-2' });
    await pipeline.sink.event(answer!);
    const both = await pipeline.store.liveCalls('sub-live');
    expect(both.map((c) => [c.call_id, c.state]).sort()).toEqual([
      ['live-1', 'talking'],
      ['live-2', 'calling'],
    ]);
    await pipeline.sink.event(hangup!);
    expect((await pipeline.store.liveCalls('sub-live')).find((c) => c.call_id === 'live-1')!.state).toBe('ended');
    await pipeline.sink.cdr(call.cdr);
    expect((await pipeline.store.liveCalls('sub-live')).map((c) => c.call_id)).toEqual(['live-2']);
    expect(await redis.exists(EVENT_KEYS.call('live-1'))).toBe(0);
    // no WEBHOOK_URL: nothing queued for delivery, the CDR is stored for pull all the same
    expect(await redis.exists(EVENT_KEYS.stream)).toBe(0);
    expect(await pipeline.store.getCdr('live-1')).toEqual(call.cdr);
  });

  it('one CDR per call: a repeated cdr() or event() writes nothing', async () => {
    const { pipeline } = makePipeline(redis, 'http://127.0.0.1:9/unused');
    const call = oneCall('dup-1');
    for (const e of call.events) await pipeline.sink.event(e);
    await pipeline.sink.event(call.events[1]!);
    await pipeline.sink.cdr(call.cdr);
    await pipeline.sink.cdr({ ...call.cdr, release_cause: 99 });
    await pipeline.sink.event(call.events[3]!); // a late duplicate after the CDR
    // a recording-ready event after the hangup is a new event, once
    await pipeline.sink.event({ ...call.events[0]!, type: 'recording', data: { record_url: 'http://x/rec' } });
    await pipeline.sink.event({ ...call.events[0]!, type: 'recording', data: { record_url: 'http://x/rec' } });
    const entries = await redis.xrange(EVENT_KEYS.stream, '-', '+');
    expect(entries.map(([, f]) => f[1]).sort()).toEqual(
      ['dup-1:answer', 'dup-1:cdr', 'dup-1:hangup', 'dup-1:recording', 'dup-1:ring', 'dup-1:start'].sort(),
    );
    expect((await pipeline.store.getCdr('dup-1'))!.release_cause).toBe(16);
    expect(await redis.zcard(EVENT_KEYS.cdrsByTime)).toBe(1);
  });

  it('refuses malformed input with a clear error and writes nothing', async () => {
    const { pipeline } = makePipeline(redis, 'http://127.0.0.1:9/unused');
    const call = oneCall('bad-1');
    await expect(pipeline.sink.event({ ...call.events[0]!, call_id: '' })).rejects.toThrow(InvalidEventError);
    await expect(pipeline.sink.event({ ...call.events[0]!, type: 'teleport' as never })).rejects.toThrow(/unknown event type/);
    await expect(pipeline.sink.cdr({ ...call.cdr, call_id: 'x'.repeat(1025) })).rejects.toThrow(/at most 1024/);
    await expect(pipeline.sink.cdr({ ...call.cdr, sub_id: 42 as never })).rejects.toThrow(InvalidEventError);
    expect(await keyCount(redis)).toBe(0);
  });

  it('lists CDRs by time range, sub_id and call_id, page by page without gaps or repeats', async () => {
    let clock = 1_700_000_000_000;
    const { pipeline } = makePipeline(redis, undefined, {}, { now: () => clock });
    const all: CallRecord[] = [];
    for (let i = 0; i < 25; i++) {
      // three CDRs share each millisecond: the cursor must still split them exactly
      clock = 1_700_000_000_000 + Math.floor(i / 3) * 1000;
      const r = oneCall(`list-${String(i).padStart(2, '0')}`, i % 2 ? 'odd' : 'even').cdr;
      all.push(r);
      await pipeline.sink.cdr(r);
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const p = await pipeline.store.listCdrs({ limit: 4, cursor });
      pages.push(p.items.map((r) => r.call_id));
      cursor = p.next_cursor ?? undefined;
    } while (cursor);
    expect(pages.flat()).toEqual(all.map((r) => r.call_id));
    expect(pages).toHaveLength(7);
    expect(pages.every((p, i) => p.length === (i < 6 ? 4 : 1))).toBe(true);

    // time range [from, to): CDRs recorded in seconds 2 and 3 → i = 6..11
    const range = await pipeline.store.listCdrs({ from: 1_700_000_002_000, to: 1_700_000_004_000, limit: 100 });
    expect(range.items.map((r) => r.call_id)).toEqual(['list-06', 'list-07', 'list-08', 'list-09', 'list-10', 'list-11']);
    expect(range.next_cursor).toBeNull();

    const odd = await pipeline.store.listCdrs({ subId: 'odd', limit: 5 });
    expect(odd.items.map((r) => r.call_id)).toEqual(['list-01', 'list-03', 'list-05', 'list-07', 'list-09']);
    const odd2 = await pipeline.store.listCdrs({ subId: 'odd', limit: 100, cursor: odd.next_cursor! });
    expect(odd2.items.map((r) => r.call_id)).toEqual(['list-11', 'list-13', 'list-15', 'list-17', 'list-19', 'list-21', 'list-23']);
    const oddRange = await pipeline.store.listCdrs({ subId: 'odd', from: 1_700_000_002_000, to: 1_700_000_004_000, limit: 100 });
    expect(oddRange.items.map((r) => r.call_id)).toEqual(['list-07', 'list-09', 'list-11']);

    expect((await pipeline.store.listCdrs({ callId: 'list-07', limit: 10 })).items).toEqual([all[7]]);
    expect((await pipeline.store.listCdrs({ callId: 'list-07', subId: 'even', limit: 10 })).items).toEqual([]);
    expect((await pipeline.store.listCdrs({ callId: 'nope', limit: 10 })).items).toEqual([]);
    await expect(pipeline.store.listCdrs({ limit: 10, cursor: 'garbage!' })).rejects.toThrow(CursorError);
  });

  it('trims CDRs, indexes and dead letters past the retention', async () => {
    const { pipeline } = makePipeline(redis, undefined, {}, { retentionMs: 800 });
    for (let i = 0; i < 5; i++) await pipeline.sink.cdr(oneCall(`old-${i}`, 'sub-r').cdr);
    await redis.hset(EVENT_KEYS.deadEntries, 'old-dead', JSON.stringify({ id: 'old-dead', type: 'cdr', body: '{}', t: '0', n: '7' }));
    await redis.zadd(EVENT_KEYS.deadAt, Date.now(), 'old-dead');
    await new Promise((r) => setTimeout(r, 1000));
    await pipeline.sink.cdr(oneCall('fresh', 'sub-r').cdr);
    expect(await pipeline.store.trim()).toEqual({ cdrs: 5, dead: 1 });
    expect(await redis.zrange(EVENT_KEYS.cdrsByTime, 0, -1)).toEqual(['fresh']);
    // the per-binding index is trimmed by the next CDR of that binding
    expect(await redis.zrange(EVENT_KEYS.cdrsBySub('sub-r'), 0, -1)).toEqual(['fresh']);
    for (let i = 0; i < 5; i++) expect(await redis.exists(EVENT_KEYS.cdr(`old-${i}`))).toBe(0);
    expect(await redis.hlen(EVENT_KEYS.deadEntries)).toBe(0);
    expect((await pipeline.store.listCdrs({ limit: 10 })).items.map((r) => r.call_id)).toEqual(['fresh']);
    expect(await redis.pttl(EVENT_KEYS.cdr('fresh'))).toBeGreaterThan(0);
  });
});
