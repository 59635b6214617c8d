// Redis unavailable: the API answers isp.SYSTEM_ERROR within a second (never a hang, a crash or
// fastify's 500), health says 503, and everything recovers by itself when Redis is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../src/store/embedded-redis.js';
import { hasRedis } from '../support/redis.js';
import { aNo, bNo, expiration, makePool, ops, rpc, startHarness, type Harness } from './api-harness.js';

describe.skipIf(!hasRedis)('admin API while Redis is down', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await makePool(h.app, 'FC_R', 10);
  });
  afterAll(async () => h?.stop());

  const bind = (i: number) => rpc(h.app, 'BindAxb', { PoolKey: 'FC_R', PhoneNoA: aNo(i), PhoneNoB: bNo(i), Expiration: expiration(3600) });

  it('a frozen Redis: isp.SYSTEM_ERROR within 1 s, and no write lands after the answer', async () => {
    const before = (await ops(h.app, 'GET', '/v1/pools/FC_R')).body.bindings as number;
    h.server.process.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      const answers = await Promise.all([bind(30), bind(31), bind(32)]);
      expect(Date.now() - t0).toBeLessThan(1000);
      for (const r of answers) expect(r.body.Code).toBe('isp.SYSTEM_ERROR');
    } finally {
      h.server.process.kill('SIGCONT');
    }
    // a PING on the store's connection is answered after everything queued before it has run
    let back = false;
    for (let i = 0; i < 100 && !back; i++) back = await h.ctx.store.ping();
    expect(back).toBe(true);
    expect((await ops(h.app, 'GET', '/v1/pools/FC_R')).body.bindings).toBe(before);
    expect((await bind(33)).body.Code).toBe('OK');
  });

  it('answers isp.SYSTEM_ERROR within 1 s, 503 on health and /v1, then recovers', async () => {
    expect((await bind(1)).body.Code).toBe('OK');
    const port = h.server.port;
    await h.server.stop();

    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const r = await bind(10 + i);
      const ms = Date.now() - t0;
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ Code: 'isp.SYSTEM_ERROR', RequestId: expect.any(String) });
      expect(ms).toBeLessThan(1000);
    }
    const t0 = Date.now();
    const health = await ops(h.app, 'GET', '/v1/health', undefined, null);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded', redis: 'down' });
    const pool = await ops(h.app, 'GET', '/v1/pools/FC_R');
    expect(pool.status).toBe(503);
    expect(pool.body).toEqual({ error: { code: 'STORAGE_UNAVAILABLE', message: 'Redis is not reachable; nothing was changed, retrying is safe' } });

    // same port again: the client reconnects by itself
    h.server = await startRedisServer({ port });
    const deadline = Date.now() + 10_000;
    let code = '';
    while (Date.now() < deadline) {
      code = (await bind(20)).body.Code;
      if (code !== 'isp.SYSTEM_ERROR') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // reconnected: a business answer again (the data died with the memory-only server, so the
    // pool is gone or empty, depending on what the store had cached)
    expect(code).toMatch(/^isv\./);
    await makePool(h.app, 'FC_R', 10);
    expect((await bind(21)).body.Code).toBe('OK');
    expect((await ops(h.app, 'GET', '/v1/health', undefined, null)).status).toBe(200);
  });
});
