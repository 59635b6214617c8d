// The events pipeline's stop() on a real Redis: whatever the sink was handed before stop() is in
// Redis when stop() returns. main.ts exits right after it on SIGTERM, and a drained call's hangup
// event and CDR are still being written when the drain ends (calls never wait for their events).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_KEYS } from '../../src/events/keys.js';
import type { RedisChild } from '../../src/store/embedded-redis.js';
import { hasRedis, startTestRedis } from '../support/redis.js';
import { makePipeline, oneCall } from './events-fixtures.js';

describe.skipIf(!hasRedis)('events pipeline: stop() flushes the sink', () => {
  let server: RedisChild;
  let redis: Redis;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('an event and a CDR handed over just before stop() are in Redis when it returns, and the instance leaves with no live call', async () => {
    const { pipeline } = makePipeline(redis, undefined);
    pipeline.start();
    const call = oneCall(`stop-${Date.now()}`, 'sub-stop');
    for (const e of call.events.slice(0, 3)) await pipeline.sink.event(e);
    // As CallSession.end() does: the hangup event and the CDR are not awaited by the call.
    void pipeline.sink.event(call.events[3]!);
    void pipeline.sink.cdr(call.cdr);
    await pipeline.stop();

    const h = await redis.hgetall(EVENT_KEYS.cdr(call.cdr.call_id));
    expect(h.r, 'CDR in Redis').toBeDefined();
    expect(Object.keys(h).filter((k) => k.startsWith('ev:')).sort()).toEqual(['ev:answer', 'ev:hangup', 'ev:ring', 'ev:start']);
    expect(await redis.exists(EVENT_KEYS.call(call.cdr.call_id))).toBe(0);
    // Its heartbeat is gone: no other instance will take its (ended) call for an orphan.
    expect(await redis.zscore(EVENT_KEYS.owners, pipeline.owner)).toBeNull();
  });
});
