// Store throughput: binds/s and lookups/s through RedisBindingStore (one EVALSHA each, ioredis
// autopipelining) on a standalone redis-server vs a local 3-master Redis Cluster, same machine,
// same run; printed as rates, latency percentiles and the cluster overhead ratio (issue 7 §5:
// target ≤ 1.3×). Rounds alternate standalone / cluster and the best round of each is kept,
// because the machine is shared.
import type { Cluster, Redis } from 'ioredis';
import { startRedisServer } from '../src/store/embedded-redis.js';
import { connectRedis, waitReady } from '../src/store/redis-connection.js';
import { RedisBindingStore } from '../src/store/redis-store.js';
import { findBinary } from '../src/util/binaries.js';
import { startTestCluster } from '../test/support/cluster.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const X_COUNT = 1000;

interface Figures {
  rate: number;
  p50: number;
  p99: number;
}

async function loop(op: (i: number) => Promise<unknown>): Promise<Figures> {
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let i = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await op(i++);
      lat.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { rate: lat.length / secs, p50: lat[Math.floor(lat.length * 0.5)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0 };
}

let runId = 0;

async function measure(redis: Redis | Cluster): Promise<{ bind: Figures; lookup: Figures }> {
  const store = new RedisBindingStore(redis, { poolCacheMs: 3_600_000 });
  const pool = `BENCH${++runId}`;
  await store.upsertPool(pool, { name: 'bench', strictCity: false });
  const prefix = String(170 + runId).slice(-3);
  const xs = Array.from({ length: X_COUNT }, (_, i) => prefix + String(i).padStart(8, '0'));
  await store.addNumbers(pool, xs.map((number) => ({ number, city: '杭州' })));
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const num = (p: string, k: number) => p + String(k).padStart(8, '0');
  // the pool picks the X (the common case: no PhoneNoX), as BindAxb does
  const bind = await loop((k) =>
    store.bind({ mode: 'AXB', poolKey: pool, a: num('138', k), b: num('139', k), expiresAt, recording: false, callDisplayType: 1 }),
  );
  // lookups of live bindings, callers alternating A and B, plus 10% strangers
  const live: Array<[string, string]> = [];
  for (let k = 0; k < 20_000; k += 500) {
    const got = await Promise.all(
      Array.from({ length: 500 }, (_, j) =>
        store.bind({ mode: 'AXB', poolKey: pool, a: num('136', k + j), b: num('137', k + j), expiresAt, recording: false, callDisplayType: 1 }),
      ),
    );
    for (const b of got) live.push([b.a, b.x], [b.b!, b.x]);
  }
  const lookup = await loop(async (k) => {
    const [caller, x] = live[(k * 7919) % live.length]!;
    const r = await store.lookup(k % 10 === 0 ? '13500000000' : caller, x);
    if (k % 10 !== 0 && r.kind !== 'match') throw new Error(`lookup answered ${r.kind}`);
  });
  return { bind, lookup };
}

const fmt = (f: Figures) => `${Math.round(f.rate).toString().padStart(6)}/s  p50 ${f.p50.toFixed(2)} ms  p99 ${f.p99.toFixed(2)} ms`;

export async function run(): Promise<void> {
  if (!findBinary('redis-server', 'REDIS_SERVER_BIN') || !findBinary('redis-cli', 'REDIS_CLI_BIN')) {
    console.log('SKIPPED: redis-server / redis-cli not found (apt-get install -y redis-server)');
    return;
  }
  const srv = await startRedisServer();
  const cluster = await startTestCluster({ masters: 3, replicasPerMaster: 0 });
  const single = connectRedis({ url: srv.url });
  const multi = connectRedis({ clusterNodes: cluster.seeds });
  for (const c of [single, multi]) c.on('error', () => undefined);
  try {
    await waitReady(single);
    await waitReady(multi, 15_000);
    console.log(`${SECONDS} s per figure, ${CONCURRENCY} calls in flight, pool of ${X_COUNT} X, best of ${ROUNDS} alternating rounds`);
    const best: Record<'standalone' | 'cluster', { bind?: Figures; lookup?: Figures }> = { standalone: {}, cluster: {} };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, client] of [['standalone', single], ['cluster', multi]] as const) {
        const m = await measure(client);
        const b = best[name];
        if (!b.bind || m.bind.rate > b.bind.rate) b.bind = m.bind;
        if (!b.lookup || m.lookup.rate > b.lookup.rate) b.lookup = m.lookup;
      }
    }
    for (const name of ['standalone', 'cluster'] as const) {
      console.log(`  ${name.padEnd(10)} bind   ${fmt(best[name].bind!)}`);
      console.log(`  ${name.padEnd(10)} lookup ${fmt(best[name].lookup!)}`);
    }
    const ratio = (k: 'bind' | 'lookup') => best.standalone[k]!.rate / best.cluster[k]!.rate;
    for (const k of ['bind', 'lookup'] as const) {
      const r = ratio(k);
      console.log(`  cluster overhead (${k}s): ${r.toFixed(2)}× standalone's rate ${r <= 1.3 ? 'OK' : 'OVER'} (target ≤ 1.30×)`);
    }
  } finally {
    single.disconnect();
    multi.disconnect();
    await srv.stop();
    await cluster.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
