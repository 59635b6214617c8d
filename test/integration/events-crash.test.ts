// xline killed with SIGKILL in the middle of deliveries, then restarted: nothing is lost. The
// delivering process is a real child process; the receiver holds its POSTs unanswered so that the
// kill lands while they are in flight.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { RedisChild } from '../../src/store/embedded-redis.js';
import { hasRedis, startTestRedis } from '../support/redis.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { startReceiver, type Receiver } from './events-receiver.js';
import { SECRET, makePipeline, oneCall, queueSettled } from './events-fixtures.js';

const CHILD = fileURLToPath(new URL('./events-worker-child.ts', import.meta.url));

function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('child did not start in 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(t);
        resolve(child);
      }
    });
  });
}

const killed = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode ? r() : c.once('exit', () => r())));

describe.skipIf(!hasRedis)('events: xline killed mid-delivery', () => {
  let server: RedisChild;
  let redis: Redis;
  let rx: Receiver;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    rx = await startReceiver();
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });
  afterAll(async () => {
    await rx?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it('SIGKILL while POSTs are in flight, restart: every event delivered, re-sends only by id', async () => {
    const env = {
      REDIS_URL: server.url,
      WEBHOOK_URL: rx.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s',
      // longer than the whole first life: a held POST must not time out (and move to the retry queue) before the kill
      WEBHOOK_TIMEOUT_MS: '30000',
      // far longer than this test: only resuming its own pending entries can deliver the held ones
      WEBHOOK_CLAIM_IDLE_MS: '600000',
      WEBHOOK_CONCURRENCY: '8',
      // the restarted process comes back under the same name and resumes its own pending entries at once
      XLINE_INSTANCE_ID: 'xline-crash-test',
    };
    // the SIP side of this test: queues 200 events (40 calls) into Redis
    const producer = makePipeline(redis, rx.url).pipeline;
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const call = oneCall(`crash-${i}`, `sub-${i}`);
      for (const e of call.events) await producer.sink.event(e);
      await producer.sink.cdr(call.cdr);
      ids.push(...call.events.map((e) => `crash-${i}:${e.type}`), `crash-${i}:cdr`);
    }
    expect(await redis.xlen(EVENT_KEYS.stream)).toBe(200);

    // first life: the receiver takes 30 POSTs, then holds the next ones unanswered
    rx.answer = () => (rx.got.length > 30 ? 'hang' : 200);
    const first = await startChild(env);
    children.push(first);
    // The worker refills its 8 slots in batches (once a quarter is free), so the held window is
    // 7 or 8 POSTs: wait until at least 7 distinct events are held and no new POST arrives.
    const held = () => new Set(rx.got.slice(30).map((g) => g.id)).size;
    await rx.waitFor(() => rx.got.length > 30 && held() >= 7, 15_000, 'a full window of POSTs in flight');
    for (let n = rx.got.length, i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (rx.got.length === n) break;
      n = rx.got.length;
    }
    first.kill('SIGKILL');
    await killed(first);
    const pending = ((await redis.xpending(EVENT_KEYS.stream, 'webhook')) as [number])[0];
    const deliveredBefore = new Set(rx.got.slice(0, 30).map((g) => g.id));
    const interrupted = new Set(rx.got.slice(30).map((g) => g.id));
    expect(interrupted.size).toBeGreaterThanOrEqual(7);
    expect(interrupted.size).toBeLessThanOrEqual(8);
    expect(pending).toBe(interrupted.size); // exactly the in-flight window: unacknowledged, still in Redis

    // second life: the receiver is healthy again
    rx.answer = () => 200;
    const second = await startChild(env);
    children.push(second);
    await rx.waitFor(() => ids.every((id) => rx.ids().has(id)), 30_000, 'every id');
    await queueSettled(redis);
    expect([...rx.ids()].sort()).toEqual([...ids].sort());
    // the only re-sends are the 8 POSTs the kill interrupted; what was answered 2xx is never re-sent
    const counts = rx.countById();
    const resent = new Set([...counts].filter(([, n]) => n > 1).map(([id]) => id));
    expect(resent).toEqual(interrupted);
    for (const id of resent) expect(deliveredBefore.has(id)).toBe(false);
    expect(await redis.xlen(EVENT_KEYS.stream)).toBe(0);
    expect(((await redis.xpending(EVENT_KEYS.stream, 'webhook')) as [number])[0]).toBe(0);
    second.kill('SIGTERM');
    await killed(second);
  }, 60_000);
});
