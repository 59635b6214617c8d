// SignatureNonce replay protection on a real redis-server: a nonce is claimed once, and kept for
// as long as any accepted Timestamp stays valid (±15 min window → 31 min with the margin).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NONCE_TTL_SECONDS, nonceClaimer } from '../../src/api/dypls/nonce.js';
import type { RedisChild } from '../../src/store/embedded-redis.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import { hasRedis, startTestRedis } from '../support/redis.js';

describe.skipIf(!hasRedis)('nonce claimer', () => {
  let server: RedisChild;
  let redis: Redis;
  let store: RedisBindingStore;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    store = new RedisBindingStore(redis);
  });
  afterAll(async () => {
    await store?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it('claims a nonce once; another nonce is its own', async () => {
    const claim = nonceClaimer(store);
    expect(await claim('n1')).toBe(true);
    expect(await claim('n1'), 'replayed').toBe(false);
    expect(await claim('n2')).toBe(true);
  });

  it('keeps a nonce in Redis for as long as any accepted Timestamp stays valid (±15 min); once gone, it is new again', async () => {
    const claim = nonceClaimer(store);
    expect(await claim('n3')).toBe(true);
    const ttl = await redis.ttl('nonce:n3');
    expect(NONCE_TTL_SECONDS).toBeGreaterThanOrEqual(30 * 60);
    expect(ttl).toBeGreaterThan(NONCE_TTL_SECONDS - 5);
    expect(ttl).toBeLessThanOrEqual(NONCE_TTL_SECONDS);
    // once Redis lets it go (as it does when the TTL runs out), the nonce is new again
    await redis.del('nonce:n3');
    expect(await claim('n3')).toBe(true);
  });
});
