// Calls orphaned by a dead xline instance (SIGKILL, host lost): another instance's pipeline sees the
// owner's heartbeat stop and ends its live calls with one hangup event and one CDR each, on a real
// Redis (standalone and Cluster). A "dead" owner here is a pipeline that heartbeat once and then
// never again, which is what Redis sees of a killed process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { startRedisServer, type RedisChild } from '../../src/store/embedded-redis.js';
import { connectRedis, waitReady } from '../../src/store/redis-connection.js';
import { hasRedis } from '../support/redis.js';
import { backends } from '../support/store-backends.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { reportTime } from '../../src/domain/wall-clock.js';
import type { CallEvent } from '../../src/events/types.js';
import { makePipeline, oneCall, useRedis } from './events-fixtures.js';

const URL = 'http://127.0.0.1:9/unused'; // queue for delivery (entries checked in the stream); never started
const GRACE = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tz = 'Asia/Shanghai';

describe.each(backends)('events: calls of a dead instance are reaped on $name', (kind) => {
  if (!kind.available) return void it.skip(`needs ${kind.name} Redis binaries`, () => {});
  const db = useRedis(kind);
  let redis: Redis | Cluster;

  beforeAll(() => {
    redis = db.redis;
  });

  /** A pipeline that produces calls (the instance about to die) and one that reaps (a survivor). */
  function owner() {
    return makePipeline(redis, URL).pipeline;
  }
  function reaper(graceMs = GRACE) {
    const p = makePipeline(redis, URL, {}, { ownerGraceMs: graceMs });
    return { ...p, reaped: async () => (await p.registry.getSingleMetric('xline_events_reaped_calls_total')!.get()).values[0]?.value ?? 0 };
  }

  /** Stream entries (delivery queue) as [event id, parsed body]. */
  async function queued(): Promise<Array<[string, { type: string; event?: CallEvent & { data?: Record<string, unknown> }; cdr?: Record<string, unknown> }]>> {
    const entries = await redis.xrange(EVENT_KEYS.stream, '-', '+');
    return entries.map(([, f]) => [f[1]!, JSON.parse(f[5]!)]);
  }

  it('writes one hangup event and one CDR per orphaned call, rebuilt from the live state (release_dir 0, cause 41)', async () => {
    const dead = owner();
    const t0 = Date.now() - 10_000;
    const talking = oneCall('orph-talk', 'sub-o', t0);
    const ringing = oneCall('orph-ring', 'sub-o', t0 + 500);
    for (const e of talking.events.slice(0, 3)) await dead.sink.event(e);
    for (const e of ringing.events.slice(0, 2)) await dead.sink.event({ ...e, out_id: 'order-7', out_order_id: 'ord-77', call_type: 1 });
    const lastSeen = await dead.store.heartbeat(dead.owner);
    expect(await redis.smembers(EVENT_KEYS.owned(dead.owner))).toHaveLength(2);

    const r = reaper();
    // Within the grace: nothing happens.
    expect(await r.pipeline.reap.reapOnce()).toEqual({ owners: 0, reaped: 0, gone: 0 });
    expect(await r.pipeline.store.getCdr('orph-talk')).toBeUndefined();
    await sleep(GRACE + 100);
    expect(await r.pipeline.reap.reapOnce()).toEqual({ owners: 1, reaped: 2, gone: 0 });
    expect(await r.reaped()).toBe(2);

    const control = { control_type: 'instance-lost', control_msg: expect.stringContaining(dead.owner) };
    expect(await r.pipeline.store.getCdr('orph-talk')).toEqual({
      ...talking.cdr,
      free_ring_time: talking.cdr.ring_time,
      release_time: reportTime(lastSeen, tz),
      release_dir: 0,
      release_cause: 41,
      // answered: put through, whatever ended it
      unconnected_cause: 0,
      ...control,
    });
    const ringCdr = await r.pipeline.store.getCdr('orph-ring');
    const { start_time: _never, ...ringingCdr } = ringing.cdr;
    expect(ringCdr).toEqual({
      ...ringingCdr,
      call_type: 1,
      free_ring_time: ringing.cdr.ring_time,
      release_time: reportTime(lastSeen, tz),
      release_dir: 0,
      release_cause: 41,
      // never answered, ended by the platform: Alibaba's "other"
      unconnected_cause: 4,
      out_id: 'order-7',
      out_order_id: 'ord-77',
      ...control,
    });
    expect(ringCdr!.start_time).toBeUndefined();

    // Exactly one hangup and one CDR queued per call, after the call's own events.
    const q = await queued();
    expect(q.map(([id]) => id)).toEqual([
      'orph-talk:start', 'orph-talk:ring', 'orph-talk:answer', 'orph-ring:start', 'orph-ring:ring',
      ...q.slice(5).map(([id]) => id),
    ]);
    expect(q.slice(5).map(([id]) => id).sort()).toEqual(['orph-ring:cdr', 'orph-ring:hangup', 'orph-talk:cdr', 'orph-talk:hangup']);
    const hangup = q.find(([id]) => id === 'orph-talk:hangup')![1].event!;
    expect(hangup).toMatchObject({ type: 'hangup', call_id: 'orph-talk', sub_id: 'sub-o', secret_no: '13900000000', phone_no: '13800000001', at: lastSeen });
    expect(hangup.data).toMatchObject({ release_dir: 0, release_cause: 41, control_type: 'instance-lost' });
    expect(q.find(([id]) => id === 'orph-ring:hangup')![1].event).toMatchObject({ out_id: 'order-7', out_order_id: 'ord-77' });

    // Live state, the owner's index and its heartbeat are gone; a second pass does nothing.
    expect(await r.pipeline.store.liveCalls('sub-o')).toEqual([]);
    expect(await redis.exists(EVENT_KEYS.owned(dead.owner))).toBe(0);
    expect(await redis.zscore(EVENT_KEYS.owners, dead.owner)).toBeNull();
    expect(await r.pipeline.reap.reapOnce()).toEqual({ owners: 0, reaped: 0, gone: 0 });
    expect((await queued()).length).toBe(9);
  });

  it('leaves the calls of an owner that still heartbeats, even slowly, and reaps them once it stops', async () => {
    const slow = owner();
    const call = oneCall('slow-1', 'sub-s');
    for (const e of call.events.slice(0, 3)) await slow.sink.event(e);
    const r = reaper();
    // Heartbeats 300 ms apart (grace 400 ms): late, but never past the grace.
    for (let i = 0; i < 5; i++) {
      await slow.store.heartbeat(slow.owner);
      await sleep(300);
      expect(await r.pipeline.reap.reapOnce()).toEqual({ owners: 0, reaped: 0, gone: 0 });
    }
    expect(await r.pipeline.store.liveCalls('sub-s')).toMatchObject([{ call_id: 'slow-1', state: 'talking' }]);
    expect(await r.pipeline.store.getCdr('slow-1')).toBeUndefined();
    // The reap guard itself refuses while the owner is within the grace (a reaper that listed it
    // as silent just before it heartbeat again writes nothing).
    await slow.store.heartbeat(slow.owner);
    const reap = { owner: slow.owner, graceMs: GRACE };
    expect(await r.pipeline.store.writeCdr({ ...call.cdr, release_dir: 0, release_cause: 41 }, undefined, reap)).toBe(-1);
    expect(await r.pipeline.store.writeEvent({ ...call.events[3]! }, undefined, reap)).toBe(-1);
    expect(await r.pipeline.store.getCdr('slow-1')).toBeUndefined();
    // Now it stops.
    await sleep(GRACE + 100);
    expect((await r.pipeline.reap.reapOnce()).reaped).toBe(1);
    expect(await r.pipeline.store.getCdr('slow-1')).toMatchObject({ release_dir: 0, release_cause: 41 });
  });

  it('two pipelines reaping at once write exactly one CDR and one hangup per call', async () => {
    const dead = owner();
    const N = 40;
    for (let i = 0; i < N; i++) {
      const c = oneCall(`race-${i}`, `sub-race-${i % 4}`);
      for (const e of c.events.slice(0, 1 + (i % 3))) await dead.sink.event(e);
    }
    await dead.store.heartbeat(dead.owner);
    await sleep(GRACE + 100);
    const r1 = reaper();
    const r2 = reaper();
    const results = await Promise.all([r1.pipeline.reap.reapOnce(), r2.pipeline.reap.reapOnce(), r1.pipeline.reap.reapOnce(), r2.pipeline.reap.reapOnce()]);
    const byOne = results.reduce((n, x) => n + x.reaped, 0);
    expect(byOne).toBe(N);
    expect((await r1.reaped()) + (await r2.reaped())).toBe(N);
    expect(await redis.zcard(EVENT_KEYS.cdrsByTime)).toBe(N);
    const q = await queued();
    for (let i = 0; i < N; i++) {
      expect(q.filter(([id]) => id === `race-${i}:cdr`), `race-${i}`).toHaveLength(1);
      expect(q.filter(([id]) => id === `race-${i}:hangup`), `race-${i}`).toHaveLength(1);
      expect((await r1.pipeline.store.getCdr(`race-${i}`))!.release_cause).toBe(41);
    }
    expect(await redis.zscore(EVENT_KEYS.owners, dead.owner)).toBeNull();
    expect(await redis.exists(EVENT_KEYS.owned(dead.owner))).toBe(0);
  });

  it('a call that ends normally after a slow heartbeat has one CDR: its own, never a reaped one', async () => {
    const slow = owner();
    const call = oneCall('late-1', 'sub-l');
    for (const e of call.events.slice(0, 3)) await slow.sink.event(e);
    await slow.store.heartbeat(slow.owner);
    // A grace of its own, long enough that "half of it" stays inside it on a loaded machine.
    const grace = 2000;
    const r = reaper(grace);
    await sleep(grace / 2);
    expect((await r.pipeline.reap.reapOnce()).reaped).toBe(0);
    // The owner, late but within the grace, ends the call itself.
    await slow.store.heartbeat(slow.owner);
    await slow.sink.event(call.events[3]!);
    await slow.sink.cdr(call.cdr);
    expect(await redis.smembers(EVENT_KEYS.owned(slow.owner))).toEqual([]);
    // Then it falls silent: the reaper finds nothing to end and just forgets it.
    await sleep(grace + 100);
    expect(await r.pipeline.reap.reapOnce()).toEqual({ owners: 1, reaped: 0, gone: 0 });
    expect(await redis.zscore(EVENT_KEYS.owners, slow.owner)).toBeNull();
    expect(await r.pipeline.store.getCdr('late-1')).toEqual(call.cdr);
    expect(await redis.zcard(EVENT_KEYS.cdrsByTime)).toBe(1);
    expect((await queued()).filter(([id]) => id.endsWith(':cdr'))).toHaveLength(1);
  });

  it('an owner silent past the grace that comes back: its CDR after the reaper\'s is refused (one CDR per call)', async () => {
    const stalled = owner();
    const call = oneCall('stall-1', 'sub-st');
    for (const e of call.events.slice(0, 3)) await stalled.sink.event(e);
    await stalled.store.heartbeat(stalled.owner);
    await sleep(GRACE + 100);
    const r = reaper();
    expect((await r.pipeline.reap.reapOnce()).reaped).toBe(1);
    // It wakes up (a 500 ms pause) and ends the call as if nothing happened.
    await stalled.store.heartbeat(stalled.owner);
    expect(await stalled.store.produceEvent(call.events[3]!)).toBe(false);
    expect(await stalled.store.produceCdr(call.cdr)).toBe(false);
    expect(await r.pipeline.store.getCdr('stall-1')).toMatchObject({ release_dir: 0, release_cause: 41 });
    const q = await queued();
    expect(q.filter(([id]) => id === 'stall-1:cdr')).toHaveLength(1);
    expect(q.filter(([id]) => id === 'stall-1:hangup')).toHaveLength(1);
    expect(await redis.exists(EVENT_KEYS.call('stall-1'))).toBe(0);
  });

  it('live state expired before the reaper came: the index entry is dropped, nothing else written, no error', async () => {
    const dead = owner();
    const gone = oneCall('exp-1', 'sub-e');
    const kept = oneCall('exp-2', 'sub-e');
    await dead.sink.event(gone.events[0]!);
    await dead.sink.event(kept.events[0]!);
    await redis.pexpire(EVENT_KEYS.call('exp-1'), 1); // as the live TTL would, hours later
    await dead.store.heartbeat(dead.owner);
    await sleep(GRACE + 100);
    const r = reaper();
    expect(await r.pipeline.reap.reapOnce()).toEqual({ owners: 1, reaped: 1, gone: 1 });
    expect(await r.pipeline.store.getCdr('exp-1')).toBeUndefined();
    expect(await r.pipeline.store.getCdr('exp-2')).toMatchObject({ release_cause: 41 });
    expect(await redis.zscore(EVENT_KEYS.owners, dead.owner)).toBeNull();
    expect((await queued()).map(([id]) => id).filter((id) => id.startsWith('exp-1'))).toEqual(['exp-1:start']);
  });

  it('started pipelines heartbeat and reap on their own timers; stop() removes the heartbeat of an owner with no calls', async () => {
    const dead = owner();
    const call = oneCall('timer-1', 'sub-t');
    for (const e of call.events.slice(0, 2)) await dead.sink.event(e);
    await dead.store.heartbeat(dead.owner);
    const { pipeline: live, registry } = makePipeline(redis, undefined, {}, { heartbeatMs: 100, ownerGraceMs: GRACE });
    live.start();
    try {
      const t = Date.now();
      while (!(await live.store.getCdr('timer-1'))) {
        if (Date.now() - t > 5000) throw new Error('not reaped within 5 s');
        await sleep(50);
      }
      // reaped after the grace, within a couple of ticks of it
      expect(Date.now() - t).toBeLessThan(GRACE + 1500);
      expect((await registry.getSingleMetric('xline_events_reaped_calls_total')!.get()).values[0]!.value).toBe(1);
      expect(await redis.zscore(EVENT_KEYS.owners, live.owner)).not.toBeNull();
      // the live pipeline is never reaped while it heartbeats: two graces on, a reaper's pass
      // (as any other instance runs it) finds no silent owner, and the call is still its own
      const mine = oneCall('timer-2', 'sub-t');
      await live.sink.event(mine.events[0]!);
      await sleep(GRACE * 2);
      expect(await reaper().pipeline.reap.reapOnce()).toEqual({ owners: 0, reaped: 0, gone: 0 });
      expect(await live.store.getCdr('timer-2')).toBeUndefined();
      expect((await live.store.liveCallRecord('timer-2'))?.owner).toBe(live.owner);
      await live.sink.cdr(mine.cdr);
    } finally {
      await live.stop();
    }
    expect(await redis.zscore(EVENT_KEYS.owners, live.owner)).toBeNull();
    expect(await redis.exists(EVENT_KEYS.owned(live.owner))).toBe(0);
  });

  it('stop() with a call still recorded leaves the heartbeat to age, and another pipeline ends the call', async () => {
    const { pipeline: a } = makePipeline(redis, undefined, {}, { heartbeatMs: 100, ownerGraceMs: GRACE });
    a.start();
    const call = oneCall('left-1', 'sub-left');
    await a.sink.event(call.events[0]!);
    await a.stop();
    expect(await redis.zscore(EVENT_KEYS.owners, a.owner)).not.toBeNull();
    await sleep(GRACE + 100);
    const r = reaper();
    expect((await r.pipeline.reap.reapOnce()).reaped).toBe(1);
    expect(await r.pipeline.store.getCdr('left-1')).toMatchObject({ release_dir: 0, release_cause: 41, call_time: call.cdr.call_time });
  });
});

describe.skipIf(!hasRedis)('events: the reaper after a Redis outage', () => {
  let dir: string;
  let server: RedisChild;
  const clients: Array<Redis | Cluster> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xline-reaper-'));
    server = await startRedisServer({ dir }); // append-only file: the owners survive the restart
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function client() {
    const c = connectRedis({ url: server.url });
    c.on('error', () => undefined);
    clients.push(c);
    await waitReady(c, 5000);
    return c;
  }

  it('an outage longer than the grace gets no live instance\'s calls ended: reapers wait a grace of their own heartbeats first', async () => {
    // a: holds a call and heartbeats a little slower than b, which would reap it first otherwise
    const { pipeline: a } = makePipeline(await client(), undefined, {}, { heartbeatMs: 190, ownerGraceMs: GRACE });
    const { pipeline: b } = makePipeline(await client(), undefined, {}, { heartbeatMs: 50, ownerGraceMs: GRACE });
    a.start();
    b.start();
    try {
      const call = oneCall('outage-1', 'sub-out');
      await a.sink.event(call.events[0]!);
      await sleep(GRACE + 200);
      const port = server.port;
      await server.stop();
      await sleep(GRACE * 3);
      server = await startRedisServer({ dir, port });
      await sleep(GRACE * 3);
      const probe = await client();
      expect(await probe.exists(EVENT_KEYS.cdr('outage-1'))).toBe(0);
      expect(await probe.hget(EVENT_KEYS.call('outage-1'), 'state')).toBe('calling');
      expect(await probe.zscore(EVENT_KEYS.owners, a.owner)).not.toBeNull();
      await a.sink.cdr(call.cdr);
      expect((await a.store.getCdr('outage-1'))?.release_dir).toBe(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 20_000);
});
