// Store throughput: binds/s and lookups/s through RedisBindingStore (one EVALSHA each, ioredis
// autopipelining) on a standalone redis-server vs a local 3-master Redis Cluster (no replicas),
// same machine, same run (issue 7 §5: cluster overhead target ≤ 1.3×).
// Two figures per operation, because the machine is shared and wall-clock rates swing with other
// load: the best rate over alternating rounds, and the CPU time one operation costs (xline's node
// process + every redis-server, from /proc), which on a dedicated box bounds the rate.
import type { Cluster, Redis } from 'ioredis';
import { findBinary } from '../src/util/binaries.js';
import { distModule, ranWithStartFlags, runIfMain } from './dist.js';
import { procCpuSeconds } from './process-stats.js';
import { startTestCluster } from '../test/support/cluster.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const X_COUNT = 1000;

interface Figures {
  ops: number;
  rate: number;
  p50: number;
  p99: number;
  /** CPU microseconds (node + redis) spent, and node's share. */
  cpuUs: number;
  nodeUs: number;
}

/** utime + stime of processes, in microseconds. */
function cpuOf(pids: readonly number[]): number {
  return pids.reduce((t, pid) => t + procCpuSeconds(pid) * 1e6, 0);
}

async function loop(redisPids: readonly number[], op: (i: number) => Promise<unknown>): Promise<Figures> {
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
  const r0 = cpuOf(redisPids);
  const n0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - t0) / 1000;
  const n = process.cpuUsage(n0);
  const cpuUs = n.user + n.system + cpuOf(redisPids) - r0;
  const nodeUs = n.user + n.system;
  lat.sort((a, b) => a - b);
  return { ops: lat.length, rate: lat.length / secs, p50: lat[Math.floor(lat.length * 0.5)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, cpuUs, nodeUs };
}

let runId = 0;

type StoreModule = typeof import('../src/store/redis-store.js');

async function measure(RedisBindingStore: StoreModule['RedisBindingStore'], redis: Redis | Cluster, pids: readonly number[]): Promise<{ bind: Figures; lookup: Figures }> {
  const store = new RedisBindingStore(redis, { poolCacheMs: 3_600_000 });
  const pool = `BENCH${++runId}`;
  await store.upsertPool(pool, { name: 'bench', strictCity: false });
  const prefix = String(170 + runId).slice(-3);
  const xs = Array.from({ length: X_COUNT }, (_, i) => prefix + String(i).padStart(8, '0'));
  await store.addNumbers(pool, xs.map((number) => ({ number, city: '杭州' })));
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const num = (p: string, k: number) => p + String(k).padStart(8, '0');
  // the pool picks the X (the common case: no PhoneNoX), as BindAxb does
  const bind = await loop(pids, (k) =>
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
  const lookup = await loop(pids, async (k) => {
    const [caller, x] = live[(k * 7919) % live.length]!;
    const r = await store.lookup(k % 10 === 0 ? '13500000000' : caller, x);
    if (k % 10 !== 0 && r.kind !== 'match') throw new Error(`lookup answered ${r.kind}`);
  });
  return { bind, lookup };
}

type Op = 'bind' | 'lookup';
type Name = 'standalone' | 'cluster';

export async function run(): Promise<void> {
  if (!findBinary('redis-server', 'REDIS_SERVER_BIN') || !findBinary('redis-cli', 'REDIS_CLI_BIN')) {
    console.log('SKIPPED: redis-server / redis-cli not found (apt-get install -y redis-server)');
    return;
  }
  // The store as `npm start` runs it: compiled dist/, with its node flags (GC settings matter here).
  if (await ranWithStartFlags(import.meta.url)) return;
  const { RedisBindingStore } = await distModule<StoreModule>('store/redis-store.js');
  const { startRedisServer } = await distModule<typeof import('../src/store/embedded-redis.js')>('store/embedded-redis.js');
  const { connectRedis, waitReady } = await distModule<typeof import('../src/store/redis-connection.js')>('store/redis-connection.js');
  const srv = await startRedisServer();
  const cluster = await startTestCluster({ masters: 3, replicasPerMaster: 0 });
  const single = connectRedis({ url: srv.url });
  const multi = connectRedis({ clusterNodes: cluster.seeds });
  for (const c of [single, multi]) c.on('error', () => undefined);
  try {
    await waitReady(single);
    await waitReady(multi, 15_000);
    console.log(`${SECONDS} s per figure, ${CONCURRENCY} calls in flight, pool of ${X_COUNT} X, ${ROUNDS} alternating rounds`);
    const best: Record<Name, Partial<Record<Op, Figures>>> = { standalone: {}, cluster: {} };
    const cpu: Record<Name, Record<Op, { us: number; node: number; ops: number }>> = {
      standalone: { bind: { us: 0, node: 0, ops: 0 }, lookup: { us: 0, node: 0, ops: 0 } },
      cluster: { bind: { us: 0, node: 0, ops: 0 }, lookup: { us: 0, node: 0, ops: 0 } },
    };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, client, pids] of [
        ['standalone', single, [srv.process.pid!]],
        ['cluster', multi, cluster.pids()],
      ] as const) {
        const m = await measure(RedisBindingStore, client, pids);
        for (const op of ['bind', 'lookup'] as const) {
          if (!best[name][op] || m[op].rate > best[name][op]!.rate) best[name][op] = m[op];
          cpu[name][op].us += m[op].cpuUs;
          cpu[name][op].node += m[op].nodeUs;
          cpu[name][op].ops += m[op].ops;
        }
      }
    }
    const perOp = (name: Name, op: Op) => cpu[name][op].us / cpu[name][op].ops;
    for (const name of ['standalone', 'cluster'] as const) {
      for (const op of ['bind', 'lookup'] as const) {
        const f = best[name][op]!;
        console.log(
          `  ${name.padEnd(10)} ${op.padEnd(6)} best ${Math.round(f.rate).toString().padStart(6)}/s  p50 ${f.p50.toFixed(2)} ms  p99 ${f.p99.toFixed(2)} ms` +
            `  CPU ${perOp(name, op).toFixed(1)} µs/op (node ${(cpu[name][op].node / cpu[name][op].ops).toFixed(1)} + redis ${((cpu[name][op].us - cpu[name][op].node) / cpu[name][op].ops).toFixed(1)})`,
        );
      }
    }
    for (const op of ['bind', 'lookup'] as const) {
      const rate = best.standalone[op]!.rate / best.cluster[op]!.rate;
      const cost = perOp('cluster', op) / perOp('standalone', op);
      console.log(
        `  cluster overhead (${op}s): CPU per op ${cost.toFixed(2)}× ${cost <= 1.3 ? 'OK' : 'OVER'}, best rate ${rate.toFixed(2)}× ${rate <= 1.3 ? 'OK' : 'OVER'} (target ≤ 1.30×)`,
      );
    }
  } finally {
    single.disconnect();
    multi.disconnect();
    await srv.stop();
    await cluster.stop();
  }
}

runIfMain(import.meta.url, run);
