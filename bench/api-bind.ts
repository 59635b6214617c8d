// Admin API benchmark: BindAxb through HTTP + POP v1 signature + nonce + Lua bind, against a real
// redis-server, with autocannon on loopback in a separate node process (its own event loop and core).
// Every request is freshly signed with a new nonce and unique A/B numbers. Printed beside a
// fastify hello-world route measured by the same load generator in the same run.
// Targets (issue 3, 2 cores, generator on the same machine): ≥10,000 binds/s, p99 ≤15 ms, ≥50% of
// hello-world. A Huawei AXB bind (POST JSON signed with X-AKSK) is measured in the same run and must
// cost ≤ 1.1× a BindAxb in rate and CPU per request (issue 13), judged on alternating slices of the
// two (BENCH_API_HW_ROUNDS pairs, default 4).
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import fastify from 'fastify';
import { benchApi } from './api-app.js';
import { distModule, NODE_FLAGS, ranWithStartFlags, runIfMain } from './dist.js';
import { procCpuSeconds, startProfile } from './process-stats.js';

const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_API_CONNECTIONS ?? 64);
/** BENCH_API_INSTANCES=N: also measure N API processes on one host (default 1: not run; on 2 cores a second one only competes for the same cores). */
const INSTANCES = Number(process.env.BENCH_API_INSTANCES ?? 1);
const POOL_SIZE = 1000;
const KEY_ID = 'bench';
const KEY_SECRET = 'bench-secret';
/** The Huawei app the Huawei AXB bind run authenticates as (issue 13 item 12). */
const HW_KEY = 'benchhw';
const HW_SECRET = 'bench-huawei-app-secret-0001';

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  ok: number;
  notOk: number;
  errors: number;
  timeouts: number;
  sampleFailure?: string;
  /** Load generator CPU, in cores (1.0 = it saturated one core: the figure is its limit). */
  genCpu: number;
  /** Requests signed before the run, and signed during it once those ran out. */
  presigned?: number;
  signedLive?: number;
}

// The load generator, as plain CommonJS run by its own node process (its own event loop and core;
// autocannon in a worker thread would hand back unaggregated histograms).
// It signs like pop-core: sorted params, POP percent-encoding, HMAC-SHA1(secret + '&').
const GENERATOR = `
const workerData = JSON.parse(process.argv[1]);
const report = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const { createHmac, randomUUID } = require('node:crypto');
const autocannon = require(workerData.autocannon);
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function signedPath(params, secret) {
  const keys = Object.keys(params).sort();
  const q = keys.map((k) => enc(k) + '=' + enc(params[k])).join('&');
  const sig = createHmac('sha1', secret + '&').update('GET&%2F&' + enc(q)).digest('base64');
  return '/?' + q + '&Signature=' + enc(sig);
}
let seq = workerData.firstSeq;
let ok = 0, notOk = 0, sampleFailure;
const common = () => ({
  Format: 'JSON', Version: '2017-05-25', AccessKeyId: workerData.keyId, SignatureMethod: 'HMAC-SHA1',
  SignatureVersion: '1.0', SignatureNonce: randomUUID(), Timestamp: new Date().toISOString().replace(/\\.\\d{3}Z$/, 'Z'),
});
const bindPath = (i) => signedPath({ ...common(), Action: 'BindAxb', PoolKey: workerData.pool,
  PhoneNoA: String(13000000000 + i), PhoneNoB: String(15000000000 + i), Expiration: workerData.expiration }, workerData.secret);
// Huawei AXB bind (POST JSON, X-AKSK: Base64(HMAC-SHA256(app_secret, Nonce + Created))), as a
// Huawei client sends it: fresh nonce, unique A/B per request.
const hwCreated = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const hwRequest = (i) => {
  const nonce = randomUUID().replace(/-/g, '');
  const created = hwCreated();
  const digest = createHmac('sha256', workerData.hwSecret).update(nonce + created).digest('base64');
  return {
    headers: {
      'content-type': 'application/json;charset=UTF-8',
      authorization: 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"',
      'x-aksk': 'UsernameToken Username="' + workerData.hwKey + '",PasswordDigest="' + digest + '",Nonce="' + nonce + '",Created="' + created + '"',
    },
    body: JSON.stringify({ callerNum: '+86' + String(13100000000 + i), calleeNum: '+86' + String(15100000000 + i), duration: 86400 }),
  };
};
// Signing costs the generator about as much CPU as the server spends on a bind: sign ahead, before
// the clock starts, so the generator is not the limit (each request is still unique and fresh:
// its Timestamp is seconds old when sent, well inside the 15-minute window).
const presigned = [];
if (workerData.mode === 'bind') for (let n = 0; n < workerData.presign; n++) presigned.push(bindPath(seq + n));
if (workerData.mode === 'huawei') for (let n = 0; n < workerData.presign; n++) presigned.push(hwRequest(seq + n));
let next = 0;
const cpu0 = process.cpuUsage();
const request = workerData.mode === 'bind'
  ? {
      method: 'GET',
      setupRequest(req) {
        const i = seq++;
        req.path = next < presigned.length ? presigned[next++] : bindPath(i);
        return req;
      },
      onResponse(status, body) {
        if (status === 200 && body.includes('"Code":"OK"')) ok++;
        else { notOk++; if (!sampleFailure) sampleFailure = status + ' ' + body.slice(0, 200); }
      },
    }
  : workerData.mode === 'huawei'
  ? {
      method: 'POST',
      path: workerData.hwPath,
      setupRequest(req) {
        const i = seq++;
        const r = next < presigned.length ? presigned[next++] : hwRequest(i);
        req.headers = r.headers;
        req.body = r.body;
        return req;
      },
      onResponse(status, body) {
        if (status === 200 && body.includes('"resultcode":"0"')) ok++;
        else { notOk++; if (!sampleFailure) sampleFailure = status + ' ' + body.slice(0, 200); }
      },
    }
  : { method: 'GET', path: '/hello', onResponse(status) { if (status === 200) ok++; else notOk++; } };
autocannon({ url: workerData.url, connections: workerData.connections, duration: workerData.seconds, requests: [request] }, (err, r) => {
  if (err) { report({ error: String(err) }); return; }
  report({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total,
    ok, notOk, errors: r.errors, timeouts: r.timeouts, sampleFailure, genCpu: ((u) => (u.user + u.system) / 1e6 / workerData.seconds)(process.cpuUsage(cpu0)), presigned: presigned.length, signedLive: Math.max(0, seq - workerData.firstSeq - presigned.length) });
});
`;

function load(url: string, mode: 'bind' | 'huawei' | 'hello', extra: Record<string, unknown> = {}): Promise<LoadResult> {
  const data = {
    url,
    mode,
    connections: CONNECTIONS,
    seconds: SECONDS,
    keyId: KEY_ID,
    secret: KEY_SECRET,
    autocannon: fileURLToPath(import.meta.resolve('autocannon')),
    // enough for 25,000 binds/s over the run
    hwKey: HW_KEY,
    hwSecret: HW_SECRET,
    hwPath: '/rest/caas/relationnumber/partners/v1.0',
    presign: mode !== 'hello' ? Math.min(400_000, 25_000 * (Number(extra.seconds ?? SECONDS) || SECONDS)) : 0,
    ...extra,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', GENERATOR, JSON.stringify(data)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        const m = JSON.parse(out.trim().split('\n').pop() ?? '') as LoadResult & { error?: string };
        if (m.error) reject(new Error(m.error));
        else resolve(m);
      } catch {
        reject(new Error(`load generator exited ${code}: ${out.slice(0, 500)}`));
      }
    });
  });
}

/** 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai, one day ahead. */
function expirationTomorrow(): string {
  return new Date(Date.now() + 86_400_000).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai', hour12: false });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** CPU µs used so far by this process and by the redis-server child (from /proc, Linux). */
function cpuNow(redisPid: number | undefined): { node: number; redis: number } {
  const u = process.cpuUsage();
  return { node: u.user + u.system, redis: procCpuSeconds(redisPid) * 1e6 };
}

/** Removes every binding of the BENCH and BENCH_HW pools (one Redis, not a Cluster: an X's three keys in one DEL). */
async function emptyPoolsOf(redis: { del(...keys: string[]): Promise<number> }): Promise<void> {
  for (const first of [17100000000, 17200000000]) {
    await Promise.all(Array.from({ length: POOL_SIZE }, (_, i) => redis.del(`b:{${first + i}}`, `n:{${first + i}}`, `z:{${first + i}}`)));
  }
}

export async function run(): Promise<void> {
  if (await ranWithStartFlags(import.meta.url)) return;
  // The server side as `npm start` runs it: compiled dist/.
  const { startRedisServer } = await distModule<typeof import('../src/store/embedded-redis.js')>('store/embedded-redis.js');
  const redisServer = await startRedisServer();
  // As xline connects to its private redis-server (REDIS_URL unset): over the Unix socket.
  const { redis, store, ctx, buildAdminApp } = await benchApi(redisServer.socket ?? redisServer.url, `${KEY_ID}:${KEY_SECRET}`);
  const { config } = ctx;
  const emptyPools = () => emptyPoolsOf(redis as unknown as { del(...keys: string[]): Promise<number> });
  const app = await buildAdminApp(ctx);
  // The same API without the SignatureNonce check, to show what replay protection costs (a bind
  // claims its nonce inside its own script on one Redis, so: about nothing); DISABLE_SIGNATURE_NONCE_CHECK
  // is not for production.
  const nonceless = await buildAdminApp({ ...ctx, config: { ...config, DISABLE_SIGNATURE_NONCE_CHECK: true } });
  const hello = fastify();
  hello.get('/hello', async () => ({ hello: 'world' }));
  // The stack's floor: a plain fastify route doing only the Redis work of a bind (the same store
  // call, the nonce claimed in the bind script as the gateway has it done) — no signature,
  // validation, deadline, metrics or error mapping. What xline adds on top of fastify + ioredis +
  // Redis is bind ÷ floor.
  const floor = fastify();
  floor.get('/', async (req) => {
    const q = req.query as Record<string, string>;
    const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
    const nonce = { key: `floor:${q.SignatureNonce}`, ttlSeconds: 1860 };
    if (!store.bindClaimsNonce) await redis.set(`nonce:${nonce.key}`, '1', 'EX', nonce.ttlSeconds, 'NX');
    const b = await store.bind(
      { mode: 'AXB', poolKey: q.PoolKey!, a: q.PhoneNoA!, b: q.PhoneNoB!, expiresAt, recording: false, callDisplayType: 1 },
      store.bindClaimsNonce ? { nonce } : undefined,
    );
    return { Code: 'OK', Message: 'OK', RequestId: q.SignatureNonce, SecretBindDTO: { SubsId: b.subsId, SecretNo: b.x } };
  });
  let multi: { binds: number; p99: number } | undefined;
  try {
    await store.upsertPool('BENCH', { name: 'bench', strictCity: false });
    const numbers = Array.from({ length: POOL_SIZE }, (_, i) => ({ number: String(17100000000 + i), city: '杭州' }));
    await store.addNumbers('BENCH', numbers);
    const { huaweiStoreOf } = await distModule<typeof import('../src/store/huawei-store.js')>('store/huawei-store.js');
    const { Deadline } = await distModule<typeof import('../src/store/deadline.js')>('store/deadline.js');
    // its own pool of as many X, empty like BENCH's before the BindAxb run: the two measure the
    // same Redis work (per-X hashes grow with the bindings already on them)
    await store.upsertPool('BENCH_HW', { name: 'bench huawei', strictCity: false });
    await store.addNumbers('BENCH_HW', Array.from({ length: POOL_SIZE }, (_, i) => ({ number: String(17200000000 + i), city: '杭州' })));
    await huaweiStoreOf(store).putApp({ appKey: HW_KEY, appSecret: HW_SECRET, mode: 'AXB', poolKey: 'BENCH_HW' }, new Deadline(true));
    const apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const noncelessUrl = await nonceless.listen({ host: '127.0.0.1', port: 0 });
    const helloUrl = await hello.listen({ host: '127.0.0.1', port: 0 });
    const floorUrl = await floor.listen({ host: '127.0.0.1', port: 0 });
    console.log(
      `api-bind: ${SECONDS} s per run, ${CONNECTIONS} connections, pool of ${POOL_SIZE} X, autocannon in its own process, server node ${NODE_FLAGS.join(' ')}`,
    );

    // Short warm-up of both (JIT, connection pools), then the measured runs.
    const expiration = expirationTomorrow();
    const warm = Math.min(2, SECONDS);
    if (process.env.BENCH_API_ONLY !== 'bind') await load(helloUrl, 'hello', { seconds: warm });
    await load(apiUrl, 'bind', { seconds: warm, pool: 'BENCH', expiration, firstSeq: 90_000_000 });
    await load(apiUrl, 'huawei', { seconds: warm, firstSeq: 90_000_000 });
    // the warm-ups' bindings go, so both measured runs start on empty pools
    await emptyPools();

    // BENCH_API_ONLY=bind skips the baseline (for profiling the bind path alone).
    const onlyBind = process.env.BENCH_API_ONLY === 'bind';
    const hc = cpuNow(redisServer.process.pid);
    const h = onlyBind ? { rps: NaN, p50: NaN, p99: NaN, notOk: 0, errors: 0, total: 0, genCpu: NaN } : await load(helloUrl, 'hello');
    const bc = cpuNow(redisServer.process.pid);
    const stopProfile = process.env.BENCH_API_CPUPROF ? await startProfile('cpu', process.env.BENCH_API_CPUPROF) : undefined;
    const b = await load(apiUrl, 'bind', { pool: 'BENCH', expiration, firstSeq: 0 });
    const ec = cpuNow(redisServer.process.pid);
    if (stopProfile) await stopProfile();
    const binds = (b.ok / b.total) * b.rps;
    console.log(`hello-world : ${fmt(h.rps)} req/s  p50 ${h.p50} ms  p99 ${h.p99} ms  (${h.notOk + h.errors} failed; load generator ${(h.genCpu ?? NaN).toFixed(2)} cores)`);
    console.log(
      `BindAxb     : ${fmt(binds)} binds/s  p50 ${b.p50} ms  p99 ${b.p99} ms  (${fmt(b.ok)} OK, ${b.notOk} not OK, ${b.errors} errors, ${b.timeouts} timeouts; load generator ${b.genCpu.toFixed(2)} cores)`,
    );
    if (b.sampleFailure) console.log(`  first failure: ${b.sampleFailure}`);
    // CPU per request does not depend on what else the machine runs, unlike the rates above.
    const usHello = h.total ? (bc.node - hc.node) / h.total : NaN;
    const usBind = (ec.node - bc.node) / b.total;
    const usRedis = (ec.redis - bc.redis) / b.total;
    console.log(
      `cpu/request : hello-world ${usHello.toFixed(0)} µs (xline process); BindAxb ${usBind.toFixed(0)} µs (xline process) + ${usRedis.toFixed(0)} µs (redis-server)` +
        ` → one core of each sustains ≈ ${fmt(1e6 / usBind)} binds/s (xline) and ≈ ${fmt(1e6 / usRedis)} binds/s (redis)`,
    );
    console.log(`load        : ${loadavg().map((l) => l.toFixed(1)).join(' ')} (1/5/15-min load average on ${cpus().length} cores)`);
    console.log(`ratio       : BindAxb / hello-world = ${(binds / h.rps).toFixed(2)}`);
    {
      // Huawei AXB bind on the same app, same pool, same run (issue 13 item 12: ≤ 1.1× BindAxb's
      // cost in rate and CPU per request)
      const stopHwProfile = process.env.BENCH_API_HUAWEI_CPUPROF ? await startProfile('cpu', process.env.BENCH_API_HUAWEI_CPUPROF) : undefined;
      const w0 = cpuNow(redisServer.process.pid);
      const w = await load(apiUrl, 'huawei', { firstSeq: 0 });
      const w1 = cpuNow(redisServer.process.pid);
      if (stopHwProfile) await stopHwProfile();
      const hwRate = (w.ok / w.total) * w.rps;
      const usHw = (w1.node - w0.node) / w.total;
      console.log(
        `Huawei AXB  : ${fmt(hwRate)} binds/s  p50 ${w.p50} ms  p99 ${w.p99} ms  (${fmt(w.ok)} OK, ${w.notOk} not OK, ${w.errors} errors, ${w.timeouts} timeouts; load generator ${w.genCpu.toFixed(2)} cores), ` +
          `${usHw.toFixed(0)} µs/bind (xline) + ${((w1.redis - w0.redis) / w.total).toFixed(0)} µs (redis)`,
      );
      if (w.sampleFailure) console.log(`  first failure: ${w.sampleFailure}`);
      console.log(`huawei/dypls: single runs above: rate ${(binds / hwRate).toFixed(2)}×, CPU per request ${(usHw / usBind).toFixed(2)}× (BindAxb ÷ Huawei rate; Huawei ÷ BindAxb CPU)`);
      // The verdict: BindAxb and Huawei binds in alternating short slices (which goes first
      // alternates too), both pools emptied before each pair, so that the machine's other load
      // and the pools' fill fall on both alike.
      const rounds = Number(process.env.BENCH_API_HW_ROUNDS ?? 4);
      const slice = Math.max(2, Math.round(SECONDS / 2));
      const acc = { bind: { rate: 0, node: 0, total: 0, failed: 0 }, huawei: { rate: 0, node: 0, total: 0, failed: 0 } };
      for (let r = 0; r < rounds; r++) {
        await emptyPools();
        const order: Array<'bind' | 'huawei'> = r % 2 === 0 ? ['bind', 'huawei'] : ['huawei', 'bind'];
        for (const mode of order) {
          const c0 = cpuNow(redisServer.process.pid);
          const x = await load(apiUrl, mode, { seconds: slice, pool: 'BENCH', expiration, firstSeq: 20_000_000 + r * 1_000_000 });
          const c1 = cpuNow(redisServer.process.pid);
          const a = acc[mode];
          a.rate += (x.ok / x.total) * x.rps;
          a.node += c1.node - c0.node;
          a.total += x.total;
          a.failed += x.notOk + x.errors;
        }
      }
      const rateCost = acc.bind.rate / acc.huawei.rate;
      const cpuCost = acc.huawei.node / acc.huawei.total / (acc.bind.node / acc.bind.total);
      console.log(
        `huawei/dypls: ${rounds} alternating pairs of ${slice} s: BindAxb ${fmt(acc.bind.rate / rounds)} binds/s, ${(acc.bind.node / acc.bind.total).toFixed(0)} µs; ` +
          `Huawei ${fmt(acc.huawei.rate / rounds)} binds/s, ${(acc.huawei.node / acc.huawei.total).toFixed(0)} µs (${acc.bind.failed + acc.huawei.failed} failed) → ` +
          `cost in rate ${rateCost.toFixed(2)}×, CPU per request ${cpuCost.toFixed(2)}× — target ≤ 1.10×: ${rateCost <= 1.1 ? 'met' : 'NOT met'} (rate), ${cpuCost <= 1.1 ? 'met' : 'NOT met'} (CPU)`,
      );
    }
    if (!onlyBind) {
      const f0 = cpuNow(redisServer.process.pid);
      const f = await load(floorUrl, 'bind', { pool: 'BENCH', expiration, firstSeq: 40_000_000 });
      const f1 = cpuNow(redisServer.process.pid);
      const floorRate = (f.ok / f.total) * f.rps;
      const usFloor = (f1.node - f0.node) / f.total;
      console.log(
        `stack floor : ${fmt(floorRate)} binds/s  p50 ${f.p50} ms  p99 ${f.p99} ms, ${usFloor.toFixed(0)} µs/bind (xline process) + ${((f1.redis - f0.redis) / f.total).toFixed(0)} µs (redis) — ` +
          `a bare fastify route doing only the bind's Redis work (the bind script, nonce claimed in it), no signature, validation or metrics`,
      );
      console.log(`xline/floor : rate ${(binds / floorRate).toFixed(2)}×, CPU per bind ${(usBind / usFloor).toFixed(2)}× (what the gateway, signature, validation and metrics cost)`);
      const c0 = cpuNow(redisServer.process.pid);
      const n = await load(noncelessUrl, 'bind', { pool: 'BENCH', expiration, firstSeq: 50_000_000 });
      const c1 = cpuNow(redisServer.process.pid);
      console.log(
        `no nonce    : ${fmt((n.ok / n.total) * n.rps)} binds/s  p50 ${n.p50} ms  p99 ${n.p99} ms, ${((c1.node - c0.node) / n.total).toFixed(0)} µs/bind (xline) — the same bind without SignatureNonce replay protection (the bind claims its nonce in its own script: this should match BindAxb)`,
      );
    }
    if (INSTANCES > 1 && !onlyBind) {
      // Several API processes on one host (XLINE_ROLE=api instances behind a load balancer): the
      // in-process app plus INSTANCES-1 children, each loaded by its own generator with an equal
      // share of the connections (the balancer's job, done here by splitting the load).
      const extra = await startInstances(INSTANCES - 1, redisServer.socket ?? redisServer.url);
      try {
        const urls = [apiUrl, ...extra.map((e) => e.url)];
        await Promise.all(urls.map((url, i) => load(url, 'bind', { seconds: warm, pool: 'BENCH', expiration, firstSeq: 80_000_000 + i * 1_000_000, connections: Math.ceil(CONNECTIONS / urls.length) })));
        const c0 = cpuNow(redisServer.process.pid);
        const k0 = extra.reduce((t, e) => t + procCpuSeconds(e.pid) * 1e6, 0);
        const runs = await Promise.all(urls.map((url, i) => load(url, 'bind', { pool: 'BENCH', expiration, firstSeq: 60_000_000 + i * 2_000_000, connections: Math.ceil(CONNECTIONS / urls.length), presign: Math.ceil((25_000 * SECONDS) / urls.length) })));
        const c1 = cpuNow(redisServer.process.pid);
        const k1 = extra.reduce((t, e) => t + procCpuSeconds(e.pid) * 1e6, 0);
        const total = runs.reduce((t, r) => t + r.total, 0);
        const ok = runs.reduce((t, r) => t + (r.ok / r.total) * r.rps, 0);
        const us = (c1.node - c0.node + k1 - k0) / total;
        console.log(
          `${INSTANCES} instances : ${fmt(ok)} binds/s  p50 ${Math.max(...runs.map((r) => r.p50))} ms  p99 ${Math.max(...runs.map((r) => r.p99))} ms (worst generator)  ` +
            `${runs.reduce((t, r) => t + r.notOk + r.errors, 0)} failed; ${us.toFixed(0)} µs/bind (all API processes) + ${((c1.redis - c0.redis) / total).toFixed(0)} µs (redis); ` +
            `load generators ${runs.reduce((t, r) => t + r.genCpu, 0).toFixed(2)} cores → ${(ok / binds).toFixed(2)}× one instance, ${(ok / h.rps).toFixed(2)} of hello-world`,
        );
        multi = { binds: ok, p99: Math.max(...runs.map((r) => r.p99)) };
      } finally {
        for (const e of extra) e.stop();
      }
    }
    const pool = await store.getPool('BENCH');
    console.log(`check       : pool BENCH holds ${fmt(pool?.bindings ?? 0)} bindings after the runs`);
    console.log(
      `targets     : ≥10,000 binds/s ${binds >= 10_000 ? 'met' : 'NOT met'}; p99 ≤15 ms ${b.p99 <= 15 ? 'met' : 'NOT met'}; ≥50% of hello-world ${binds / h.rps >= 0.5 ? 'met' : 'NOT met'} (one instance)`,
    );
    if (multi) {
      console.log(
        `              ≥10,000 binds/s ${multi.binds >= 10_000 ? 'met' : 'NOT met'}; p99 ≤15 ms ${multi.p99 <= 15 ? 'met' : 'NOT met'}; ≥50% of hello-world ${multi.binds / h.rps >= 0.5 ? 'met' : 'NOT met'} (${INSTANCES} instances)`,
      );
    }
  } finally {
    await app.close();
    await nonceless.close();
    await hello.close();
    await floor.close();
    redis.disconnect();
    await redisServer.stop();
  }
}

// `tsx bench/api-bind.ts` runs it alone (and run() re-executes this file with NODE_FLAGS).
runIfMain(import.meta.url, run);

/** Starts `n` bench/api-instance.ts children (dist/, npm start's node flags) on free ports. */
async function startInstances(n: number, redisAt: string): Promise<Array<{ url: string; pid?: number; stop(): void }>> {
  const { freePort } = await distModule<typeof import('../src/store/embedded-redis.js')>('store/embedded-redis.js');
  const script = fileURLToPath(new URL('./api-instance.ts', import.meta.url));
  return Promise.all(
    Array.from({ length: n }, async () => {
      const port = await freePort();
      const child = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', script, String(port), redisAt], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, BENCH_NO_BUILD: '1', BENCH_ACCESS_KEYS: `${KEY_ID}:${KEY_SECRET}` },
      });
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`api instance exited ${code}`)));
      });
      return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill('SIGTERM') };
    }),
  );
}
