// Shared by the events tests: a pipeline on a real Redis with a seconds-scale retry schedule, and
// the events + CDR of one call as the SIP side produces them.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { Registry } from 'prom-client';
import type { Cluster, Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createEventPipeline, type EventPipelineDeps } from '../../src/events/pipeline.js';
import type { CallEvent, CallRecord } from '../../src/events/types.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import type { Backend, BackendKind } from '../support/store-backends.js';

export const SECRET = 'test-webhook-secret';

export function testConfig(url: string | undefined, env: Record<string, string> = {}) {
  return loadConfig({
    WEBHOOK_URL: url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_RETRY_SCHEDULE: '300ms,300ms',
    WEBHOOK_TIMEOUT_MS: '1500',
    WEBHOOK_CLAIM_IDLE_MS: '4500',
    WEBHOOK_CONCURRENCY: '16',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export function makePipeline(redis: Redis | Cluster, url: string | undefined, env: Record<string, string> = {}, deps: Partial<EventPipelineDeps> = {}) {
  const config = testConfig(url, env);
  const registry = deps.metrics ?? new Registry();
  return {
    registry,
    pipeline: createEventPipeline({ redis, config, log: createLogger(config.LOG_LEVEL), metrics: registry, ...deps }),
  };
}

const fmt = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');

/** The four events and the CDR of one answered AXB call, caller hangs up. */
export function oneCall(callId: string, subId = 'sub-1', t0 = Date.now()): { events: CallEvent[]; cdr: CallRecord } {
  const base = { call_id: callId, sub_id: subId, pool_key: 'FC100', secret_no: '13900000000', phone_no: '13800000001', peer_no: '13800000002', call_type: 0 };
  return {
    events: [
      { ...base, type: 'start', at: t0 },
      { ...base, type: 'ring', at: t0 + 1000 },
      { ...base, type: 'answer', at: t0 + 3000 },
      { ...base, type: 'hangup', at: t0 + 63_000 },
    ],
    cdr: {
      pool_key: 'FC100',
      sub_id: subId,
      call_id: callId,
      phone_no: '13800000001',
      secret_no: '13900000000',
      peer_no: '13800000002',
      called_display_no: '13900000000',
      call_type: 0,
      call_time: fmt(t0),
      ring_time: fmt(t0 + 1000),
      start_time: fmt(t0 + 3000),
      release_time: fmt(t0 + 63_000),
      release_dir: 1,
      release_cause: 16,
    },
  };
}

/**
 * Waits until nothing is left to deliver: the stream (an entry stays there, pending, until its
 * POST is answered) and the retry set are empty. From then on no POST can come, so counting what
 * the receiver got is final; used instead of sleeping "long enough for a duplicate to show".
 */
export async function queueSettled(redis: Redis | Cluster, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const [len, retrying] = await Promise.all([redis.xlen(EVENT_KEYS.stream), redis.zcard(EVENT_KEYS.retryDue)]);
    if (len + retrying === 0) return;
    if (Date.now() > deadline) throw new Error(`deliveries still queued after ${ms} ms: ${len} in the stream, ${retrying} waiting for a retry`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Empties the database on a standalone Redis or on every master of a Cluster. */
export async function flushAll(redis: Redis | Cluster): Promise<void> {
  if (redis.isCluster) await Promise.all((redis as Cluster).nodes('master').map((n) => n.flushall()));
  else await (redis as Redis).flushall();
}

/** Keys in the database, summed over the masters of a Cluster. */
export async function keyCount(redis: Redis | Cluster): Promise<number> {
  if (!redis.isCluster) return (redis as Redis).dbsize();
  const n = await Promise.all((redis as Cluster).nodes('master').map((m) => m.dbsize()));
  return n.reduce((a, b) => a + b, 0);
}

/**
 * The test file's Redis of `kind` (standalone or cluster): started and connected before its tests,
 * flushed before each test, stopped after. Read `.redis` in tests and hooks.
 */
export function useRedis(kind: BackendKind): { readonly redis: Redis | Cluster } {
  let backend: Backend | undefined;
  let redis: Redis | Cluster | undefined;
  beforeAll(async () => {
    backend = await kind.start();
    redis = await backend.connect();
  }, 90_000);
  afterAll(async () => {
    await backend?.stop();
  });
  beforeEach(async () => {
    await flushAll(redis!);
  });
  return {
    get redis() {
      return redis!;
    },
  };
}
