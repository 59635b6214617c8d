// Redis bytes per AXB binding at 100k bindings (issue 3 §9: target ≤ 400 B), measured as the
// INFO memory used_memory delta of a private redis-server, for three densities of bindings per X
// (small per-X hashes and zsets stay listpack-encoded; past *-max-listpack-entries they become
// hashtables / skiplists), with the server's own encoding thresholds (printed) and with upstream
// Redis's stock ones (128 entries). Binds go through RedisBindingStore.bind, as in production.
import type { Redis } from 'ioredis';
import { startRedisServer } from '../src/store/embedded-redis.js';
import { connectRedis, waitReady } from '../src/store/redis-connection.js';
import { RedisBindingStore } from '../src/store/redis-store.js';
import { dataMemory } from '../test/support/redis-memory.js';
import { findBinary } from '../src/util/binaries.js';
import { runIfMain } from './dist.js';

const TOTAL = Number(process.env.BENCH_BINDINGS ?? 100_000);
const TARGET = 400;

const UPSTREAM = ['--hash-max-listpack-entries', '128', '--hash-max-listpack-value', '64', '--zset-max-listpack-entries', '128', '--zset-max-listpack-value', '64'];

async function measure(xCount: number, extraArgs: string[] = []): Promise<{ perBinding: number; perBindingData: number; seconds: number; thresholds: string }> {
  const srv = await startRedisServer({ extraArgs });
  const redis = connectRedis({ url: srv.url }) as Redis;
  redis.on('error', () => undefined);
  try {
    await waitReady(redis);
    const store = new RedisBindingStore(redis, { poolCacheMs: 3_600_000 });
    await store.upsertPool('MEM', { name: 'memory bench', strictCity: false });
    const xs = Array.from({ length: xCount }, (_, i) => '171' + String(i).padStart(8, '0'));
    for (let i = 0; i < xs.length; i += 1000) {
      await store.addNumbers('MEM', xs.slice(i, i + 1000).map((number) => ({ number, city: '杭州' })));
    }
    // warm up the scripts and the due index (these bindings are removed before measuring)
    for (const x of xs.slice(0, 16)) {
      const b = await store.bind({ mode: 'AXB', poolKey: 'MEM', x, a: '13000000000', b: '13100000000', expiresAt: 4102444800, recording: false, callDisplayType: 1 });
      await store.unbind('MEM', x, b.subsId);
    }
    const cfg = (k: string) => redis.config('GET', k).then((v) => `${k.replace('-max-listpack', '')}=${(v as string[])[1]}`);
    const thresholds = (await Promise.all(['hash-max-listpack-entries', 'hash-max-listpack-value', 'zset-max-listpack-entries', 'zset-max-listpack-value'].map(cfg))).join(' ');
    const info0 = await redis.info('memory');
    const t0 = performance.now();
    const expiresAt = Math.floor(Date.now() / 1000) + 7 * 86400;
    const batch = 500;
    for (let i = 0; i < TOTAL; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, TOTAL - i) }, (_, j) => {
          const k = i + j;
          // A and B unique per X: k's pair lives on X k % xCount
          return store.bind({
            mode: 'AXB',
            poolKey: 'MEM',
            x: xs[k % xCount],
            a: '138' + String(k).padStart(8, '0'),
            b: '139' + String(k).padStart(8, '0'),
            expiresAt: expiresAt + (k % 3600),
            recording: false,
            callDisplayType: 1,
          });
        }),
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    const info1 = await redis.info('memory');
    const used = (s: string) => Number(/used_memory:(\d+)/.exec(s)![1]);
    return {
      perBinding: (used(info1) - used(info0)) / TOTAL,
      perBindingData: (dataMemory(info1) - dataMemory(info0)) / TOTAL,
      seconds,
      thresholds,
    };
  } finally {
    redis.disconnect();
    await srv.stop();
  }
}

export async function run(): Promise<void> {
  if (!findBinary('redis-server', 'REDIS_SERVER_BIN')) {
    console.log('SKIPPED: redis-server not found (apt-get install -y redis-server)');
    return;
  }
  console.log(`${TOTAL} AXB bindings (A, B 11 digits, no optional fields)`);
  const runs: Array<[number, string[], string]> = [
    [1000, [], 'server defaults'],
    [10_000, [], 'server defaults'],
    [100, [], 'server defaults'],
    [1000, UPSTREAM, 'upstream defaults'],
  ];
  for (const [xCount, args, label] of runs) {
    const r = await measure(xCount, args);
    const per = Math.round(r.perBinding);
    console.log(
      `  ${String(TOTAL / xCount).padStart(5)} bindings per X (${xCount} X), ${label} [${r.thresholds}]: ${per} B/binding used_memory` +
        ` (${Math.round(r.perBindingData)} B without buffers), ${(TOTAL / r.seconds).toFixed(0)} binds/s while loading` +
        `  ${per <= TARGET ? 'OK' : 'OVER'} vs target ${TARGET} B (ratio ${(per / TARGET).toFixed(2)})`,
    );
  }
}

runIfMain(import.meta.url, run);
