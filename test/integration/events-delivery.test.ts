// Webhook delivery against a real redis-server and a real HTTP receiver: signatures, retries with
// the same id, a receiver that is down for a while, dead letters, two workers on one stream.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { backends } from '../support/store-backends.js';
import { verifyWebhook, signWebhook } from '../../src/events/webhook.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import type { EventPipeline } from '../../src/events/pipeline.js';
import { DeliveryWorker } from '../../src/events/worker.js';
import { eventMetrics } from '../../src/events/metrics.js';
import { createLogger } from '../../src/log.js';
import { startReceiver, type Receiver } from './events-receiver.js';
import { SECRET, makePipeline, oneCall, queueSettled } from './events-fixtures.js';
import { useRedis } from './events-fixtures.js';

describe.each(backends)('events: webhook delivery on $name', (kind) => {
  if (!kind.available) return void it.skip(`needs ${kind.name} Redis binaries`, () => {});
  const db = useRedis(kind);
  let redis: Redis | Cluster;
  let rx: Receiver;
  const running: EventPipeline[] = [];

  const start = (env: Record<string, string> = {}, deps = {}) => {
    const made = makePipeline(redis, rx.url, env, deps);
    running.push(made.pipeline);
    made.pipeline.start();
    return made;
  };

  beforeAll(() => {
    redis = db.redis;
  });
  beforeEach(async () => {
    rx = await startReceiver();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await rx.close();
  });

  it('POSTs each event once, signed over timestamp + body, with a stable id', async () => {
    const { pipeline, registry } = start();
    const call = oneCall('call-a@host');
    for (const e of call.events) await pipeline.sink.event(e);
    await pipeline.sink.cdr(call.cdr);
    await rx.waitFor(() => rx.got.length >= 5, 5000, '5 POSTs');
    await queueSettled(redis);
    expect(rx.got).toHaveLength(5);
    expect(rx.got.map((g) => g.id).sort()).toEqual(
      ['call-a@host:answer', 'call-a@host:cdr', 'call-a@host:hangup', 'call-a@host:ring', 'call-a@host:start'].sort(),
    );
    for (const g of rx.got) {
      expect(g.headers['content-type']).toBe('application/json');
      expect(g.attempt).toBe(1);
      const ts = g.headers['x-xline-timestamp'] as string;
      const sig = g.headers['x-xline-signature'] as string;
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
      expect(sig).toBe(signWebhook(SECRET, Number(ts), g.body));
      expect(verifyWebhook({ secret: SECRET, body: g.body, timestamp: ts, signature: sig })).toBe(true);
      // what a receiver must refuse: another secret, a changed body, a replay 6 minutes later
      expect(verifyWebhook({ secret: 'other', body: g.body, timestamp: ts, signature: sig })).toBe(false);
      expect(verifyWebhook({ secret: SECRET, body: g.body + ' ', timestamp: ts, signature: sig })).toBe(false);
      expect(verifyWebhook({ secret: SECRET, body: g.body, timestamp: ts, signature: sig, nowSec: Number(ts) + 360 })).toBe(false);
      const body = JSON.parse(g.body) as { id: string; type: string };
      expect(body.id).toBe(g.id);
      expect(body.type).toBe(g.type);
    }
    const cdr = JSON.parse(rx.got.find((g) => g.type === 'cdr')!.body) as { report: string; cdr: Record<string, unknown> };
    expect(cdr.report).toBe('SecretReport');
    expect(cdr.cdr).toEqual(call.cdr);
    const answer = JSON.parse(rx.got.find((g) => g.type === 'answer')!.body) as { report: string; event: Record<string, unknown> };
    expect(answer.report).toBe('SecretPickUpReport');
    expect(answer.event).toMatchObject({ call_id: 'call-a@host', sub_id: 'sub-1', type: 'answer' });

    // producing the same event again (a SIP-side retry) queues nothing
    await pipeline.sink.event(call.events[0]!);
    await pipeline.sink.cdr(call.cdr);
    await queueSettled(redis);
    expect(rx.got).toHaveLength(5);

    const text = await registry.metrics();
    expect(text).toMatch(/xline_events_delivered_total\{type="cdr"\} 1/);
    expect(text).toMatch(/xline_events_queued_total\{type="start"\} 1/);
    expect(text).toMatch(/xline_event_delivery_latency_seconds_count\{type="cdr"\} 1/);
    expect(text).toMatch(/xline_events_queue_depth\{queue="queued"\} 0/);
  });

  it('receiver answers 500, then 200: delivered once more with the same id and the same body', async () => {
    rx.answer = (_g, n) => (n === 1 ? 500 : 200);
    const { pipeline, registry } = start({ WEBHOOK_RETRY_SCHEDULE: '1s,1s' });
    const call = oneCall('call-b');
    const t0 = Date.now();
    await pipeline.sink.cdr(call.cdr);
    await rx.waitFor(() => rx.got.length >= 2, 5000, 'the retry');
    await queueSettled(redis);
    expect(rx.got).toHaveLength(2);
    const [first, second] = rx.got as [(typeof rx.got)[0], (typeof rx.got)[0]];
    expect(second.id).toBe(first.id);
    expect(second.body).toBe(first.body);
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    // the schedule's first wait (1 s) was honoured, from Redis, not a hot loop
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(second.at - t0).toBeLessThan(4000);
    expect(await redis.zcard(EVENT_KEYS.retryDue)).toBe(0);
    const text = await registry.metrics();
    expect(text).toMatch(/xline_events_retried_total\{type="cdr"\} 1/);
    expect(text).toMatch(/xline_events_delivered_total\{type="cdr"\} 1/);
  });

  it('receiver down while 1,000 events are produced, then up: all 1,000 delivered, duplicates only by id', async () => {
    const port = rx.port;
    await rx.close();
    const { pipeline, registry } = start({ WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s,1s,1s', WEBHOOK_CONCURRENCY: '32' });
    const ids: string[] = [];
    const produce = async (i: number) => {
      const call = oneCall(`down-${i}`, `sub-${i % 50}`);
      for (const e of call.events) {
        await pipeline.sink.event(e);
        ids.push(`down-${i}:${e.type}`);
      }
      // only the first four events of this call; the 1,000 are 250 calls × 4
    };
    for (let i = 0; i < 250; i += 25) await Promise.all(Array.from({ length: 25 }, (_, k) => produce(i + k)));
    expect(ids).toHaveLength(1000);
    // attempts against the closed port fail (a thousand of them counted); every event is parked
    // for a retry, none is lost
    const failedAttempts = async () => (await registry.getSingleMetric('xline_events_retried_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    for (const deadline = Date.now() + 10_000; (await failedAttempts()) < 1000; ) {
      if (Date.now() > deadline) throw new Error(`only ${await failedAttempts()} failed attempts`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const parked = await pipeline.store.depth();
    expect(parked.queued + parked.retrying).toBe(1000);
    expect(parked.dead).toBe(0);
    rx.port = port;
    await rx.reopen();
    await rx.waitFor(() => rx.ids().size >= 1000, 40_000, 'all 1,000 ids');
    expect([...rx.ids()].sort()).toEqual([...ids].sort());
    // nothing left anywhere
    await queueSettled(redis);
    expect(await redis.zcard(EVENT_KEYS.deadAt)).toBe(0);
    // any extra POST is a re-send of one of these ids, never a foreign or malformed one
    expect(rx.got.every((g) => ids.includes(g.id))).toBe(true);
  }, 70_000);

  it('exhausted retries go to the dead letters, which can be listed and re-sent', async () => {
    rx.answer = () => 503;
    const { pipeline, registry } = start({ WEBHOOK_RETRY_SCHEDULE: '200ms,200ms' });
    const call = oneCall('call-dead');
    await pipeline.sink.cdr(call.cdr);
    await pipeline.sink.event(call.events[0]!);
    await rx.waitFor(() => rx.got.length >= 6, 5000, '3 attempts of 2 events');
    await queueSettled(redis);
    expect(rx.got).toHaveLength(6);
    expect(rx.got.map((g) => g.attempt).sort()).toEqual([1, 1, 2, 2, 3, 3]);
    const page = await pipeline.store.listDead({ limit: 10 });
    expect(page.items.map((d) => d.id).sort()).toEqual(['call-dead:cdr', 'call-dead:start']);
    const d = page.items.find((x) => x.id === 'call-dead:cdr')!;
    expect(d).toMatchObject({ type: 'cdr', attempts: 3, last_status: 503 });
    expect((d.payload as { cdr: unknown }).cdr).toEqual(call.cdr);
    expect(await registry.metrics()).toMatch(/xline_events_dead_lettered_total\{type="cdr"\} 1/);

    rx.answer = () => 200;
    expect(await pipeline.store.resendDead(['call-dead:cdr', 'no-such-id'])).toEqual(['call-dead:cdr']);
    await rx.waitFor(() => rx.got.length >= 7, 3000, 'the re-sent CDR');
    expect(rx.got[6]).toMatchObject({ id: 'call-dead:cdr', attempt: 1 });
    expect((await pipeline.store.listDead({ limit: 10 })).items.map((x) => x.id)).toEqual(['call-dead:start']);
    expect(await pipeline.store.resendDead(undefined)).toEqual(['call-dead:start']);
    await rx.waitFor(() => rx.got.length >= 8, 3000, 'the bulk re-send');
    expect((await pipeline.store.listDead({ limit: 10 })).items).toEqual([]);
  });

  it('two workers on one stream: every event is POSTed exactly once', async () => {
    const a = start({}, { consumer: 'worker-a' });
    const b = start({}, { consumer: 'worker-b' });
    const byConsumer = new Map<string, number>();
    rx.answer = () => 200;
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const call = oneCall(`pair-${i}`);
      const p = i % 2 ? a.pipeline : b.pipeline;
      await Promise.all(call.events.map((e) => p.sink.event(e)));
      await p.sink.cdr(call.cdr);
      ids.push(...call.events.map((e) => `pair-${i}:${e.type}`), `pair-${i}:cdr`);
    }
    await rx.waitFor(() => rx.got.length >= 500, 10_000, '500 POSTs');
    await queueSettled(redis);
    expect(rx.got).toHaveLength(500);
    expect([...rx.countById().values()].every((n) => n === 1)).toBe(true);
    expect([...rx.ids()].sort()).toEqual(ids.sort());
    // both consumers took part
    const info = (await redis.xinfo('CONSUMERS', EVENT_KEYS.stream, 'webhook')) as Array<Array<string | number>>;
    for (const c of info) byConsumer.set(String(c[1]), Number(c[3]));
    expect([...byConsumer.keys()].sort()).toEqual(['worker-a', 'worker-b']);
  });

  it('forgets consumers of instances long gone, unless they still hold entries', async () => {
    const produceOnly = makePipeline(redis, rx.url).pipeline;
    await produceOnly.sink.cdr(oneCall('held-by-ghost').cdr);
    await redis.xgroup('CREATE', EVENT_KEYS.stream, 'webhook', '0', 'MKSTREAM');
    await redis.xgroup('CREATECONSUMER', EVENT_KEYS.stream, 'webhook', 'gone-empty');
    // 'gone-holding' reads the entry and dies: it must survive pruning until the entry is claimed
    await redis.xreadgroup('GROUP', 'webhook', 'gone-holding', 'COUNT', 1, 'STREAMS', EVENT_KEYS.stream, '>');
    await new Promise((r) => setTimeout(r, 600));
    const w = new DeliveryWorker({
      redis,
      log: createLogger('silent'),
      metrics: eventMetrics(new Registry(), async () => ({ queued: 0, retrying: 0, dead: 0 })),
      url: rx.url,
      secret: SECRET,
      schedule: [300],
      timeoutMs: 2000,
      concurrency: 4,
      claimIdleMs: 600_000,
      consumer: 'pruner',
      tickMs: 100,
      pruneIdleMs: 500,
    });
    await w.start();
    try {
      const names = async () =>
        ((await redis.xinfo('CONSUMERS', EVENT_KEYS.stream, 'webhook')) as Array<Array<string | number>>).map((c) => String(c[1])).sort();
      const deadline = Date.now() + 3000;
      while ((await names()).includes('gone-empty') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await names()).toEqual(['gone-holding', 'pruner']);
      expect(((await redis.xpending(EVENT_KEYS.stream, 'webhook')) as [number])[0]).toBe(1);
    } finally {
      await w.stop();
    }
  });

  it('a worker that dies holding events: another takes them over once idle, nothing lost', async () => {
    // the first worker's POSTs hang; then it vanishes without settling anything, as on SIGKILL
    let holding = true;
    rx.answer = () => (holding ? 'hang' : 200);
    // a producer that queues (WEBHOOK_URL set) but is never started: the dying worker is the only consumer
    const produceOnly = makePipeline(redis, rx.url).pipeline;
    const dying = new DeliveryWorker({
      redis,
      log: createLogger('silent'),
      metrics: eventMetrics(new Registry(), async () => ({ queued: 0, retrying: 0, dead: 0 })),
      url: rx.url,
      secret: SECRET,
      schedule: [300],
      timeoutMs: 1500,
      concurrency: 16,
      claimIdleMs: 4500,
      consumer: 'dying',
      tickMs: 100,
    });
    await dying.start();
    for (let i = 0; i < 10; i++) await produceOnly.sink.cdr(oneCall(`held-${i}`).cdr);
    await rx.waitFor(() => rx.got.length >= 10, 3000, 'the held POSTs');
    const pending = (await redis.xpending(EVENT_KEYS.stream, 'webhook')) as [number, ...unknown[]];
    expect(pending[0]).toBe(10);
    dying.abandon();
    holding = false;
    await rx.close(); // the held connections go down with the "dead" process
    await rx.reopen();
    const t0 = Date.now();
    start({ WEBHOOK_CLAIM_IDLE_MS: '4500' }, { consumer: 'survivor' });
    await rx.waitFor(() => rx.got.length >= 20, 10_000, 'the take-over');
    // taken over only once idle, never while the first worker could still be sending
    expect(Date.now() - t0).toBeGreaterThan(1000);
    expect(new Set(rx.got.slice(10).map((g) => g.id))).toEqual(new Set(rx.got.slice(0, 10).map((g) => g.id)));
    await queueSettled(redis);
    expect(rx.got).toHaveLength(20);
    expect(((await redis.xpending(EVENT_KEYS.stream, 'webhook')) as [number])[0]).toBe(0);
    expect(await redis.xlen(EVENT_KEYS.stream)).toBe(0);
  }, 30_000);
});
