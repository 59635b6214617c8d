// Events benchmark (`npm run bench events`): webhook delivery through Redis to a local receiver.
//  1. throughput: events/s from sink.event() to the receiver's 2xx, vs a same-run baseline of
//     plain keep-alive HTTP POSTs (xline's own HTTP client) at the same concurrency, no Redis;
//  2. latency: 500 calls/s × 5 events (start, ring, answer, hangup, CDR) for 10 s; delay from
//     sink.cdr() (the hangup) to the receiver, p50/p99/max, vs plain POSTs at the same rate.
// Redis is a private redis-server with AOF (appendfsync everysec), as xline's embedded one.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createEventPipeline } from '../src/events/pipeline.js';
import { createPoster } from '../src/events/http-post.js';
import type { CallEvent, CallRecord } from '../src/events/types.js';
import { startRedisServer } from '../src/store/embedded-redis.js';
import { connectRedis, waitReady } from '../src/store/redis-connection.js';
import { findBinary } from '../src/util/binaries.js';
import type { Redis } from 'ioredis';

const CONCURRENCY = 32;
const THROUGHPUT_EVENTS = 20_000;
const CALLS_PER_SEC = 500;
const LATENCY_SECONDS = 10;

interface Receiver {
  url: string;
  /** id → arrival ms (first arrival). */
  arrivals: Map<string, number>;
  count: number;
  close(): Promise<void>;
}

/** The receiver runs in a child process (bench/events-receiver.ts), so it does not share xline's event loop. */
async function receiver(): Promise<Receiver> {
  const child = fork(fileURLToPath(new URL('./events-receiver.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const r = { arrivals: new Map<string, number>(), count: 0 } as Receiver;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exited (${code})`)));
    child.on('message', (m: { port?: number; arrivals?: Array<[string, number]> }) => {
      if (m.port) resolve(m.port);
      for (const [id, t] of m.arrivals ?? []) {
        if (!r.arrivals.has(id)) r.arrivals.set(id, t);
        r.count++;
      }
    });
  });
  r.url = `http://127.0.0.1:${port}/hook`;
  r.close = async () => {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  };
  return r;
}

/** Epoch ms with sub-ms precision: comparable with the receiver process's clock. */
const clock = () => performance.timeOrigin + performance.now();

const fmt = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');

function call(id: string, i: number): { events: CallEvent[]; cdr: CallRecord } {
  const at = Date.now();
  const base = { call_id: id, sub_id: `1709000${String(i % 1000).padStart(4, '0')}000000001`, pool_key: 'FC-BENCH', secret_no: '17090000000', phone_no: '13800000001', peer_no: '13900000002', call_type: 0 };
  return {
    events: (['start', 'ring', 'answer', 'hangup'] as const).map((type) => ({ ...base, type, at })),
    cdr: {
      pool_key: 'FC-BENCH', sub_id: base.sub_id, call_id: id, phone_no: base.phone_no, secret_no: base.secret_no, peer_no: base.peer_no,
      called_display_no: base.secret_no, call_type: 0, call_time: fmt(at), ring_time: fmt(at), start_time: fmt(at), release_time: fmt(at),
      release_dir: 1, release_cause: 16,
    },
  };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** Baseline: POST each body straight to the receiver, `concurrency` at a time, with xline's HTTP client. */
async function plainPosts(url: string, bodies: string[], concurrency: number): Promise<number> {
  const poster = createPoster(url, { timeoutMs: 10_000, maxSockets: concurrency });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        await poster.post(bodies[i]!, { 'content-type': 'application/json', 'x-xline-event-id': `base-${i}` });
      }
    }),
  );
  poster.close();
  return bodies.length / ((performance.now() - t0) / 1000);
}

/** Runs `fire(i)` `perSec` times a second for `seconds`, on a 10 ms grid. */
async function paced(perSec: number, seconds: number, fire: (i: number) => void): Promise<void> {
  const perTick = perSec / 100;
  const t0 = performance.now();
  let done = 0;
  const total = perSec * seconds;
  while (done < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 10 + 1) * perTick));
    while (done < due) fire(done++);
    await sleep(10 - ((performance.now() - t0) % 10));
  }
}

export async function run(): Promise<void> {
  if (!findBinary('redis-server', 'REDIS_SERVER_BIN')) {
    console.log('SKIP events bench: redis-server not found (apt-get install -y redis-server)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'xline-bench-events-'));
  const redisChild = await startRedisServer({ dir });
  const redis = connectRedis({ url: redisChild.url });
  redis.on('error', () => {});
  await waitReady(redis, 10_000);
  const rx = await receiver();
  const config = loadConfig({
    WEBHOOK_URL: rx.url,
    WEBHOOK_SECRET: 'bench-secret',
    WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    WEBHOOK_RETRY_SCHEDULE: '1s,5s',
    LOG_LEVEL: 'warn',
  });
  const pipeline = createEventPipeline({ redis, config, log: createLogger('warn'), metrics: new Registry() });
  try {
    console.log(`redis-server ${redisChild.url} (AOF everysec), receiver ${rx.url}, webhook concurrency ${CONCURRENCY}`);

    // CPU of this process (xline) and of redis-server over a phase: steadier than rates on a
    // shared, busy machine.
    const redisCpu = async () => {
      const info = await (redis as Redis).info('cpu');
      return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
    };
    const meter = async () => {
      const c0 = process.cpuUsage();
      const r0 = await redisCpu();
      const t0 = performance.now();
      return async (n: number) => {
        const wall = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        const node = (c.user + c.system) / 1e6;
        const rcpu = (await redisCpu()) - r0;
        return { wall, rate: n / wall, nodeUs: (node * 1e6) / n, redisUs: (rcpu * 1e6) / n, nodeUtil: node / wall };
      };
    };
    const us = (v: number) => `${v.toFixed(0)} µs`;

    // ---- 1. throughput
    const sample = call('sample', 0);
    const bodies = Array.from({ length: THROUGHPUT_EVENTS }, (_, i) => JSON.stringify({ id: `base-${i}`, type: 'answer', event: { ...sample.events[2], call_id: `base-${i}` } }));
    await plainPosts(rx.url, bodies.slice(0, 2000), CONCURRENCY); // warm-up
    const mBase = await meter();
    await plainPosts(rx.url, bodies, CONCURRENCY);
    const base = await mBase(THROUGHPUT_EVENTS);

    // sink throughput: events into Redis with no delivery running
    const before = rx.arrivals.size;
    const mProduce = await meter();
    let produced = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (produced < THROUGHPUT_EVENTS) {
          const i = produced++;
          const c = call(`tp-${i >> 2}`, i);
          await pipeline.sink.event(c.events[i & 3]!);
        }
      }),
    );
    const prod = await mProduce(THROUGHPUT_EVENTS);
    // delivery throughput: the queue drained to the receiver
    const mDeliver = await meter();
    pipeline.start();
    const ok = await waitUntil(() => rx.arrivals.size - before >= THROUGHPUT_EVENTS, 120_000);
    const del = await mDeliver(THROUGHPUT_EVENTS);
    console.log(`throughput (${THROUGHPUT_EVENTS} events)${ok ? '' : ' (TIMED OUT)'}:`);
    console.log(`  sink.event() into Redis (64 callers, no delivery running): ${Math.round(prod.rate)} events/s; per event xline ${us(prod.nodeUs)}, redis ${us(prod.redisUs)} CPU`);
    console.log(`  delivered from the queue to the receiver: ${Math.round(del.rate)} events/s; per event xline ${us(del.nodeUs)}, redis ${us(del.redisUs)} CPU`);
    console.log(`  baseline (plain POSTs, same HTTP client and concurrency, no Redis): ${Math.round(base.rate)} POST/s; per POST ${us(base.nodeUs)} CPU`);
    console.log(`  ratio delivered / baseline: rate ${(del.rate / base.rate).toFixed(2)}, xline CPU per event ${(del.nodeUs / base.nodeUs).toFixed(2)}×`);

    // ---- 2. latency at 500 calls/s × 5 events
    await sleep(500);
    const cdrStart = new Map<string, number>();
    const eventsPerSec = CALLS_PER_SEC * 5;
    const sinkErrors: string[] = [];
    const arrivedBefore = rx.count;
    const mLat = await meter();
    await paced(CALLS_PER_SEC, LATENCY_SECONDS, (i) => {
      const c = call(`lat-${i}`, i);
      void (async () => {
        try {
          for (const e of c.events) await pipeline.sink.event(e);
          cdrStart.set(`lat-${i}:cdr`, clock());
          await pipeline.sink.cdr(c.cdr);
        } catch (err) {
          sinkErrors.push(String(err));
        }
      })();
    });
    const total = CALLS_PER_SEC * LATENCY_SECONDS * 5;
    const okLat = await waitUntil(() => rx.count - arrivedBefore >= total, 60_000);
    const lat = await mLat(total);
    const delays = [...cdrStart].map(([id, t]) => (rx.arrivals.get(id) ?? Infinity) - t);
    const lost = delays.filter((d) => !Number.isFinite(d)).length;
    const fin = delays.filter(Number.isFinite);

    // baseline: the same rate of POSTs straight to the receiver from a queue drained by the same
    // number of concurrent senders as the worker's; delay = enqueue → arrival
    const baseDelays: number[] = [];
    const baseStart = new Map<string, number>();
    const backlog: string[] = [];
    let pacing = true;
    const poster = createPoster(rx.url, { timeoutMs: 10_000, maxSockets: CONCURRENCY });
    const senders = Array.from({ length: CONCURRENCY }, async () => {
      while (pacing || backlog.length) {
        const id = backlog.shift();
        if (!id) {
          await sleep(1);
          continue;
        }
        await poster.post(bodies[0]!, { 'content-type': 'application/json', 'x-xline-event-id': id });
      }
    });
    await paced(eventsPerSec, LATENCY_SECONDS, (i) => {
      const id = `lb-${i}`;
      baseStart.set(id, clock());
      backlog.push(id);
    });
    pacing = false;
    await Promise.all(senders);
    poster.close();
    for (const [id, t] of baseStart) baseDelays.push((rx.arrivals.get(id) ?? Infinity) - t);

    console.log(`latency: ${CALLS_PER_SEC} calls/s × 5 events = ${eventsPerSec} events/s for ${LATENCY_SECONDS} s${okLat ? '' : ' (NOT ALL DELIVERED in 60 s)'}`);
    console.log(`  xline process CPU ${(lat.nodeUtil * 100).toFixed(0)}% of a core (${us(lat.nodeUs)} per event, sink + delivery), redis ${us(lat.redisUs)} per event`);
    console.log(`  hangup (sink.cdr) → receiver: p50 ${pct(fin, 50).toFixed(1)} ms, p99 ${pct(fin, 99).toFixed(1)} ms, max ${Math.max(...fin).toFixed(1)} ms over ${fin.length} CDRs; lost ${lost}; sink errors ${sinkErrors.length}`);
    console.log(`  baseline plain POST at ${eventsPerSec}/s: p50 ${pct(baseDelays, 50).toFixed(1)} ms, p99 ${pct(baseDelays, 99).toFixed(1)} ms`);
    console.log(`  ratio p99 xline / baseline = ${(pct(fin, 99) / pct(baseDelays, 99)).toFixed(2)}; added p99 ${(pct(fin, 99) - pct(baseDelays, 99)).toFixed(1)} ms`);
    const d = await pipeline.store.depth();
    console.log(`  queue after: queued ${d.queued}, retrying ${d.retrying}, dead ${d.dead}`);
  } finally {
    await pipeline.stop();
    await rx.close();
    redis.disconnect();
    await redisChild.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
