// The admin API as `npm run bench api` measures it, in its own process and in any extra instance:
// the compiled dist/ app on a Redis reached as xline reaches it, log silent, no rate limit, no
// events (so the bench measures the API, not the receipts).
import type { AppContext } from '../src/context.js';
import { distModule } from './dist.js';

/** A connected client (Unix socket path or redis:// URL), with the store, the API's context and its factory. */
export async function benchApi(redisAt: string, accessKeys: string) {
  const { buildAdminApp } = await distModule<typeof import('../src/api/server.js')>('api/server.js');
  const { loadConfig } = await distModule<typeof import('../src/config.js')>('config.js');
  const { nullEventSink } = await distModule<typeof import('../src/events/types.js')>('events/types.js');
  const { createLogger } = await distModule<typeof import('../src/log.js')>('log.js');
  const { createMetricsRegistry } = await distModule<typeof import('../src/metrics.js')>('metrics.js');
  const { connectRedis, waitReady } = await distModule<typeof import('../src/store/redis-connection.js')>('store/redis-connection.js');
  const { RedisBindingStore } = await distModule<typeof import('../src/store/redis-store.js')>('store/redis-store.js');
  const redis = connectRedis(redisAt.startsWith('/') ? { path: redisAt } : { url: redisAt });
  redis.on('error', () => undefined);
  await waitReady(redis, 10_000);
  const config = loadConfig({ ACCESS_KEYS: accessKeys, OPS_TOKEN: 'bench', API_RATE_LIMIT: '0', LOG_LEVEL: 'silent' });
  const log = createLogger('silent');
  const store = new RedisBindingStore(redis, { log });
  const ctx: AppContext = { config, log, store, events: nullEventSink, metrics: createMetricsRegistry(), health: { sip: false, media: false } };
  return { redis, store, ctx, buildAdminApp };
}
