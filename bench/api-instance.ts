// A second (third, …) admin API instance for `npm run bench api`: the compiled dist/ API on its own
// port and process, on the same Redis, as an operator runs several XLINE_ROLE=api instances on one
// host behind a load balancer. argv: port, Redis socket path or URL. Prints 'ready' when listening.
import { distModule } from './dist.js';

const [port, redisAt] = process.argv.slice(2) as [string, string];
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
const config = loadConfig({ ACCESS_KEYS: process.env.BENCH_ACCESS_KEYS ?? '', OPS_TOKEN: 'bench', API_RATE_LIMIT: '0', LOG_LEVEL: 'silent' });
const log = createLogger('silent');
const app = await buildAdminApp({ config, log, store: new RedisBindingStore(redis, { log }), events: nullEventSink, metrics: createMetricsRegistry(), health: { sip: false, media: false } });
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
