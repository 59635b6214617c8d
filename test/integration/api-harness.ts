// Shared by the admin API tests: a real redis-server (or a real 3-master Redis Cluster), the real
// RedisBindingStore, the admin app, and a signer that builds POP v1 requests the way Alibaba's
// SDKs do.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { buildAdminApp, type AdminAppExtras } from '../../src/api/server.js';
import { sign } from '../../src/api/dypls/signature.js';
import { loadConfig } from '../../src/config.js';
import type { AppContext, Health } from '../../src/context.js';
import { nullEventSink } from '../../src/events/types.js';
import { createLogger, logDestination } from '../../src/log.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { connectRedis, waitReady } from '../../src/store/redis-connection.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import type { RedisChild } from '../../src/store/embedded-redis.js';
import { startTestRedis } from '../support/redis.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

export const KEY_ID = 'testid';
export const KEY_SECRET = 'testsecret';
export const OPS_TOKEN = 'ops-token-for-tests';
export const TZ = 'Asia/Shanghai';

export interface Harness {
  app: FastifyInstance;
  ctx: AppContext;
  redis: Redis | Cluster;
  /** The one redis-server (standalone harness only: a cluster harness throws on access). */
  server: RedisChild;
  /** The Redis Cluster (cluster harness only). */
  cluster?: TestCluster;
  health: Health;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** 'cluster': a real 3-master / 3-replica Redis Cluster (test/support/cluster.ts). */
  backend?: 'standalone' | 'cluster';
  /** The store's pool cache (default 0: every bind reads the pool; production keeps it 5 s). */
  poolCacheMs?: number;
  /** Where log lines go (LOG_LEVEL in env decides which); default stdout. */
  logDestination?: DestinationStream;
  /** The outage log's summary interval (default the store's). */
  outageSummaryMs?: number;
}

export async function startHarness(env: Record<string, string> = {}, extras: AdminAppExtras = {}, opts: HarnessOptions = {}): Promise<Harness> {
  let server: RedisChild | undefined;
  let cluster: TestCluster | undefined;
  let redis: Redis | Cluster;
  if (opts.backend === 'cluster') {
    cluster = await startTestCluster({ masters: 3, replicasPerMaster: 1 });
    redis = connectRedis({ clusterNodes: cluster.seeds });
  } else {
    server = await startTestRedis();
    redis = connectRedis({ url: server.url });
  }
  redis.on('error', () => {}); // reconnect noise while a test stops redis-server on purpose
  if (!(await waitReady(redis, 15_000))) throw new Error('redis not ready');
  const config = loadConfig({
    RING_TONE_DIR: seededRingTones(),
    ACCESS_KEYS: `${KEY_ID}:${KEY_SECRET},other:othersecret`,
    OPS_TOKEN,
    TIMEZONE: TZ,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const log = createLogger(config.LOG_LEVEL, {}, opts.logDestination ?? logDestination());
  const health: Health = { sip: false, media: false };
  const store = new RedisBindingStore(redis, { log, poolCacheMs: opts.poolCacheMs ?? 0, outageSummaryMs: opts.outageSummaryMs });
  const ctx: AppContext = { config, log, store, events: nullEventSink, metrics: createMetricsRegistry(), health };
  const app = await buildAdminApp(ctx, extras);
  await app.ready();
  const h: Harness = {
    app,
    ctx,
    redis,
    get server(): RedisChild {
      if (!server) throw new Error('a cluster harness has no single redis-server (use h.cluster)');
      return server;
    },
    set server(s: RedisChild) {
      server = s;
    },
    cluster,
    health,
    async stop() {
      await app.close();
      await store.close();
      redis.disconnect();
      // the current server, not the first one: a test may have replaced it with a restarted one
      await server?.stop();
      await cluster?.stop();
    },
  };
  return h;
}

export interface SignOptions {
  method?: 'GET' | 'POST';
  accessKeyId?: string;
  secret?: string;
  timestamp?: string;
  nonce?: string;
  version?: string;
  /** Replace or drop (undefined) common parameters after defaults. */
  override?: Record<string, string | undefined>;
}

/** The full, signed parameter set of one request, as pop-core builds it. */
export function signed(action: string, params: Record<string, string>, o: SignOptions = {}): Record<string, string> {
  const all: Record<string, string> = {
    Action: action,
    Format: 'JSON',
    Version: o.version ?? '2017-05-25',
    AccessKeyId: o.accessKeyId ?? KEY_ID,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: o.nonce ?? randomUUID(),
    Timestamp: o.timestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...params,
  };
  for (const [k, v] of Object.entries(o.override ?? {})) {
    if (v === undefined) delete all[k];
    else all[k] = v;
  }
  all.Signature = sign(o.method ?? 'GET', all, o.secret ?? KEY_SECRET);
  return all;
}

export interface RpcAnswer {
  status: number;
  body: Record<string, any>;
}

/** Sends one signed dypls request through fastify's inject (GET by default, POST form-encoded). */
export async function rpc(app: FastifyInstance, action: string, params: Record<string, string>, o: SignOptions = {}): Promise<RpcAnswer> {
  const method = o.method ?? 'GET';
  const all = signed(action, params, o);
  const qs = new URLSearchParams(all).toString();
  const res =
    method === 'GET'
      ? await app.inject({ method: 'GET', url: '/?' + qs })
      : await app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: qs });
  return { status: res.statusCode, body: res.json() };
}

export async function ops(app: FastifyInstance, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown, token: string | null = OPS_TOKEN) {
  const res = await app.inject({
    method,
    url,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return { status: res.statusCode, body: res.headers['content-type']?.toString().includes('json') ? res.json() : res.body };
}

/** 'YYYY-MM-DD HH:mm:ss' in the API zone, `secondsAhead` from now. */
export function expiration(secondsAhead: number): string {
  const d = new Date(Date.now() + secondsAhead * 1000);
  const s = d.toLocaleString('sv-SE', { timeZone: TZ, hour12: false });
  return s.replace('T', ' ');
}

/** X numbers of the 170 range, A numbers of 138, B numbers of 139: all valid CN mobiles. */
export const xNo = (i: number) => String(17090000000 + i);
export const aNo = (i: number) => String(13800000000 + i);
export const bNo = (i: number) => String(13900000000 + i);

/** Creates a pool with `count` X numbers starting at xNo(first), all in `city`. */
export async function makePool(app: FastifyInstance, poolKey: string, count: number, first = 0, city = '杭州', strictCity = false) {
  const p = await ops(app, 'PUT', `/v1/pools/${poolKey}`, { name: poolKey, strictCity });
  if (p.status !== 200) throw new Error(`pool: ${JSON.stringify(p.body)}`);
  const numbers = Array.from({ length: count }, (_, i) => ({ number: xNo(first + i), city }));
  const r = await ops(app, 'POST', `/v1/pools/${poolKey}/numbers`, { numbers });
  if (r.status !== 200) throw new Error(`numbers: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Every key but replay-protection nonces, with its value: "the store did not change". On a Cluster, every master's keys. */
export async function snapshot(redis: Redis | Cluster): Promise<Record<string, string>> {
  const nodes = typeof (redis as Cluster).refreshSlotsCache === 'function' ? (redis as Cluster).nodes('master') : [redis as Redis];
  const out: Record<string, string> = {};
  for (const r of nodes) await snapshotNode(r, out);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function snapshotNode(r: Redis, out: Record<string, string>): Promise<void> {
  const keys = (await r.keys('*')).filter((k) => !k.startsWith('nonce:')).sort();
  for (const k of keys) {
    const t = await r.type(k);
    if (t === 'string') out[k] = String(await r.get(k));
    else if (t === 'hash') out[k] = JSON.stringify(Object.entries(await r.hgetall(k)).sort());
    else if (t === 'set') out[k] = JSON.stringify((await r.smembers(k)).sort());
    else if (t === 'zset') out[k] = JSON.stringify(await r.zrange(k, 0, -1, 'WITHSCORES'));
    else if (t === 'list') out[k] = JSON.stringify(await r.lrange(k, 0, -1));
    else out[k] = t;
  }
}

/**
 * RingConfig values must name uploaded ring tones (src/media/ring-tones.ts): a temp
 * RING_TONE_DIR holding tiny tones for the ids these tests use ('1'…'9', '11'…'13', '55', '1001'…).
 */
/** A valid 8 kHz mono 16-bit wav of `seconds` of silence. */
export function silentWav(seconds: number): Buffer {
  const data = Math.round(8000 * seconds) * 2;
  const w = Buffer.alloc(44 + data);
  w.write('RIFF', 0, 'ascii');
  w.writeUInt32LE(36 + data, 4);
  w.write('WAVEfmt ', 8, 'ascii');
  w.writeUInt32LE(16, 16);
  w.writeUInt16LE(1, 20);
  w.writeUInt16LE(1, 22);
  w.writeUInt32LE(8000, 24);
  w.writeUInt32LE(16000, 28);
  w.writeUInt16LE(2, 32);
  w.writeUInt16LE(16, 34);
  w.write('data', 36, 'ascii');
  w.writeUInt32LE(data, 40);
  return w;
}

export const TEST_TONE_IDS = ['1', '7', '8', '9', '11', '12', '13', '55', '1001', '1002', 't1'];
function seededRingTones(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'xline-api-tones-')), 'tones');
  mkdirSync(dir);
  const w = silentWav(0.25);
  for (const id of TEST_TONE_IDS) writeFileSync(join(dir, `${id}.wav`), w);
  return dir;
}
