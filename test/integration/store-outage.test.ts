// Redis unavailable: the store answers isp.SYSTEM_ERROR within 1 s (never hangs), and works again by
// itself once Redis is back — for a killed redis-server and for a frozen one (SIGSTOP). A write
// that failed at its deadline never lands, even though a frozen Redis runs it when it resumes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { XlineError } from '../../src/domain/errors.js';
import { startRedisServer, type RedisChild } from '../../src/store/embedded-redis.js';
import { connectRedis, waitReady } from '../../src/store/redis-connection.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import { hasRedis } from '../support/redis.js';
import { snapshot } from './api-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs op, returns [elapsed ms, error code or 'ok']. */
async function timed(op: () => Promise<unknown>): Promise<[number, string]> {
  const t = performance.now();
  try {
    await op();
    return [performance.now() - t, 'ok'];
  } catch (e) {
    return [performance.now() - t, e instanceof XlineError ? e.code : `raw:${String(e)}`];
  }
}

describe.skipIf(!hasRedis)('RedisBindingStore when Redis goes away', () => {
  let dir: string;
  let srv: RedisChild;
  let redis: Redis;
  let store: RedisBindingStore;
  let x = '17200000001';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xline-outage-'));
    srv = await startRedisServer({ dir }); // AOF on: the data must survive the restart
    redis = connectRedis({ url: srv.url }) as Redis;
    redis.on('error', () => undefined);
    await waitReady(redis);
    store = new RedisBindingStore(redis);
    await store.upsertPool('OUT', { name: 'outage', strictCity: false });
    await store.addNumbers('OUT', [{ number: x, city: '杭州' }]);
  });
  afterAll(async () => {
    redis?.disconnect();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const bindReq = (a: string) => ({
    mode: 'AXB' as const,
    poolKey: 'OUT',
    a,
    b: '139' + a.slice(3),
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    recording: false,
    callDisplayType: 1,
  });

  it('killed: SYSTEM_ERROR within 1 s for every operation, then recovers with its data', async () => {
    const kept = await store.bind(bindReq('13800000001'));
    const port = srv.port;
    await srv.stop(); // SIGTERM: AOF flushed, as on a clean restart
    await sleep(50);
    for (const op of [
      () => store.lookup(kept.a, x),
      () => store.bind(bindReq('13800000002')),
      () => store.get('OUT', x, kept.subsId),
      () => store.sweep(),
      () => store.getPool('OUT'),
    ]) {
      const [ms, code] = await timed(op);
      expect(code).toBe('isp.SYSTEM_ERROR');
      expect(ms).toBeLessThan(1000);
    }
    const t = performance.now();
    expect(await store.ping()).toBe(false);
    expect(performance.now() - t).toBeLessThan(1000);

    srv = await startRedisServer({ dir, port });
    // no reconnect call: the client finds Redis again by itself
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      back = await store.ping();
      if (!back) await sleep(100);
    }
    expect(back).toBe(true);
    expect(await store.lookup(kept.a, x)).toMatchObject({ kind: 'match', binding: { subsId: kept.subsId } });
    expect((await store.bind(bindReq('13800000003'))).x).toBe(x);
  });

  it('frozen (SIGSTOP): commands time out into SYSTEM_ERROR within 1 s; SIGCONT heals', async () => {
    x = '17200000001';
    srv.process.kill('SIGSTOP');
    try {
      const results = await Promise.all([
        timed(() => store.lookup('13800000001', x)),
        timed(() => store.bind(bindReq('13800000004'))),
      ]);
      for (const [ms, code] of results) {
        expect(code).toBe('isp.SYSTEM_ERROR');
        expect(ms).toBeLessThan(1000);
      }
    } finally {
      srv.process.kill('SIGCONT');
    }
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = (await store.lookup('13800000001', x)).kind === 'match';
      if (!ok) await sleep(100);
    }
    expect(ok).toBe(true);
  });

  it('frozen past the deadline: binds, unbind, update, release, pool change and nonce claim fail and never land; a retry binds once', async () => {
    await store.addNumbers('OUT', [{ number: '17200000002', city: '杭州' }]); // no bindings: releasable
    const kept = await store.bind({ ...bindReq('13800000010'), x });
    const before = await snapshot(redis);
    srv.process.kill('SIGSTOP');
    let results: [number, string][];
    try {
      results = await Promise.all([
        timed(() => store.bind({ ...bindReq('13800000011'), x })),
        timed(() => store.bind({ ...bindReq('13800000012'), x })),
        timed(() => store.unbind('OUT', x, kept.subsId)),
        timed(() => store.update('OUT', x, kept.subsId, { b: '13900000099' })),
        timed(() => store.releaseNumber('OUT', '17200000002')),
        timed(() => store.upsertPool('OUT', { name: 'renamed', strictCity: true })),
        timed(() => store.claimNonce('frozen-nonce', 60)),
      ]);
    } finally {
      srv.process.kill('SIGCONT');
    }
    for (const [, code] of results) expect(code).toBe('isp.SYSTEM_ERROR');
    // answered on the same connection after every command queued before it: all of them have run
    let back = false;
    for (let i = 0; i < 100 && !back; i++) back = await store.ping();
    expect(back).toBe(true);
    expect(await snapshot(redis)).toEqual(before);
    expect(await redis.exists('nonce:frozen-nonce')).toBe(0);
    expect(await store.findSubsId('OUT', x, '13800000011')).toBeUndefined();
    expect(await store.get('OUT', x, kept.subsId)).toMatchObject({ a: '13800000010', b: '13900000010' });

    const retried = await store.bind({ ...bindReq('13800000011'), x });
    expect(await store.findSubsId('OUT', x, '13800000011')).toBe(retried.subsId);
    const live = (await store.getPool('OUT'))!.bindings;
    expect(await store.bind({ ...bindReq('13800000012'), x })).toMatchObject({ a: '13800000012' });
    expect((await store.getPool('OUT'))!.bindings).toBe(live + 1);
  });
});
