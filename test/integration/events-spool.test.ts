// Redis unreachable when a call ends: the sink spools the events and the CDR to local disk
// (fsynced) instead of losing them, and replays them once Redis is back; they are then stored and
// delivered like any other. Real redis-server (stopped and restarted on the same port, AOF on).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { startRedisServer, type RedisChild } from '../../src/store/embedded-redis.js';
import { connectRedis, waitReady } from '../../src/store/redis-connection.js';
import { hasRedis } from '../support/redis.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { startReceiver, type Receiver } from './events-receiver.js';
import { makePipeline, oneCall } from './events-fixtures.js';
import { createLogger } from '../../src/log.js';

describe.skipIf(!hasRedis)('events: Redis down when a call ends', () => {
  let dataDir: string;
  let spoolDir: string;
  let server: RedisChild;
  let redis: Redis | Cluster;
  let rx: Receiver;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'xline-events-redis-'));
    spoolDir = mkdtempSync(join(tmpdir(), 'xline-events-spool-'));
    server = await startRedisServer({ dir: dataDir });
    redis = connectRedis({ url: server.url });
    redis.on('error', () => {});
    await waitReady(redis, 10_000);
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx?.close();
    redis?.disconnect();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('spools what Redis cannot take, replays it when Redis returns, and delivers it', async () => {
    const lines: { msg: string }[] = [];
    const log = createLogger('info', {}, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) });
    const { pipeline, registry } = makePipeline(redis, rx.url, { EVENT_SPOOL_DIR: spoolDir }, { sinkRetryDelaysMs: [50, 50], spoolDrainMs: 200, log });
    pipeline.start();
    try {
      const call = oneCall('outage-1', 'sub-o');
      await pipeline.sink.event(call.events[0]!);
      await pipeline.sink.event(call.events[1]!);
      await rx.waitFor(() => rx.got.length >= 2, 5000, 'the first two events');

      await server.stop(); // Redis goes away mid-call
      const t0 = Date.now();
      await pipeline.sink.event(call.events[2]!);
      await pipeline.sink.event(call.events[3]!);
      await pipeline.sink.cdr(call.cdr); // resolves: the CDR is safe on disk
      expect(Date.now() - t0).toBeLessThan(5000);
      // this process's spool (a replay attempt during the outage may have set some aside as .replaying)
      const files = readdirSync(spoolDir);
      expect(files.every((f) => f.startsWith(`spool-${process.pid}.`))).toBe(true);
      const ops = files.flatMap((f) => readFileSync(join(spoolDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
      expect(ops.map((o) => o.kind).sort()).toEqual(['cdr', 'event', 'event']);
      expect(await registry.metrics()).toMatch(/xline_events_spooled_total\{type="cdr"\} 1/);
      // malformed input is still refused, never spooled
      await expect(pipeline.sink.cdr({ ...call.cdr, call_id: '' })).rejects.toThrow(/call_id/);

      server = await startRedisServer({ dir: dataDir, port: server.port }); // back, with its AOF
      await rx.waitFor(() => rx.ids().size >= 5, 20_000, 'all five ids after Redis returned');
      expect([...rx.ids()].sort()).toEqual(['outage-1:answer', 'outage-1:cdr', 'outage-1:hangup', 'outage-1:ring', 'outage-1:start']);
      expect(await pipeline.store.getCdr('outage-1')).toEqual(call.cdr);
      expect(await pipeline.store.liveCalls('sub-o')).toEqual([]);
      expect(readdirSync(spoolDir)).toEqual([]);
      // the CDR keeps the time the call really ended, not the replay time
      const recordedAt = Number(await redis.zscore(EVENT_KEYS.cdrsByTime, 'outage-1'));
      expect(recordedAt).toBeGreaterThanOrEqual(t0);
      expect(recordedAt).toBeLessThan(t0 + 5000);
      // the log: the outage once (not a line per spooled event, nor per failed replay), then the replay
      expect(lines.filter((l) => /spooled to disk/.test(l.msg))).toHaveLength(1);
      expect(lines.filter((l) => /spool replay failed/.test(l.msg)).length).toBeLessThanOrEqual(1);
      expect(lines.filter((l) => /replayed into Redis/.test(l.msg)).length).toBeGreaterThanOrEqual(1);
    } finally {
      await pipeline.stop();
    }
  }, 60_000);

  it('replays the spool a crashed process left behind, once', async () => {
    const call = oneCall('orphan-1', 'sub-x');
    // pid 2^22+1 is above Linux's pid_max default: certainly not running
    const op = { kind: 'cdr', r: call.cdr, at: Date.now() - 1000 };
    writeFileSync(join(spoolDir, 'spool-4194305.jsonl'), JSON.stringify(op) + '\n' + JSON.stringify(op) + '\n{"torn');
    const { pipeline } = makePipeline(redis, undefined, { EVENT_SPOOL_DIR: spoolDir }, { spoolDrainMs: 100 });
    pipeline.start();
    try {
      const deadline = Date.now() + 5000;
      while (readdirSync(spoolDir).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(await pipeline.store.getCdr('orphan-1')).toEqual(call.cdr);
      expect((await pipeline.store.listCdrs({ subId: 'sub-x', limit: 10 })).items).toHaveLength(1);
    } finally {
      await pipeline.stop();
    }
  });
});
