// Wiring only, in a fixed order (STYLE): config → logger → Redis → store → events → admin HTTP
// → SIP app (with media). Each piece can run alone via XLINE_ROLE for scale-out.
import { hostname } from 'node:os';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { createMetricsRegistry } from './metrics.js';
import type { AppContext } from './context.js';
import { MissingBinaryError } from './store/embedded-redis.js';
import { createRedisConnection } from './store/redis-connection.js';
import { RedisBindingStore, startSweeper } from './store/redis-store.js';
import { createEventPipeline } from './events/pipeline.js';
import { buildAdminApp } from './api/server.js';
import { eventsOpsRoutes } from './api/ops/events-routes.js';
import { queryCallStatusAction } from './api/dypls/actions/query-call-status.js';
import { startSipApp, type SipApp } from './sip/app.js';
import { startMedia, type MediaService } from './media/media-service.js';

/** How long SIGTERM waits for live calls before ending them (docker-compose grants 60 s). */
const DRAIN_MS = 50_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`xline: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const instance = config.XLINE_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const log = createLogger(config.LOG_LEVEL, { instance });
  const metrics = createMetricsRegistry();

  let conn;
  try {
    conn = await createRedisConnection(config, log);
  } catch (err) {
    if (err instanceof MissingBinaryError) {
      log.fatal(err.message);
      process.stderr.write(`xline: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const store = new RedisBindingStore(conn.redis, { log });
  const stopSweeper = startSweeper(store, config.SWEEP_INTERVAL_MS, log);
  const pipeline = createEventPipeline({ redis: conn.redis, config, log, metrics });
  pipeline.start();

  const ctx: AppContext = { config, log, store, events: pipeline.sink, metrics, health: { sip: false, media: false } };

  const admin =
    config.XLINE_ROLE === 'sip'
      ? undefined
      : await buildAdminApp(ctx, {
          opsPlugins: [eventsOpsRoutes(pipeline)],
          actions: [queryCallStatusAction(pipeline.callState)],
        });
  if (admin) {
    await admin.listen({ host: config.ADMIN_HOST, port: config.ADMIN_PORT });
    log.info({ host: config.ADMIN_HOST, port: config.ADMIN_PORT }, 'admin HTTP listening');
  }

  let sip: SipApp | undefined;
  let media: MediaService | undefined;
  if (config.XLINE_ROLE !== 'api') {
    sip = await startSipApp({
      ...ctx,
      media: (srf) => (media = startMedia(ctx, srf)),
    });
    log.info({ drachtio: `${config.DRACHTIO_HOST}:${config.DRACHTIO_PORT}`, freeswitch: `${config.FREESWITCH_HOST}:${config.FREESWITCH_PORT}` }, 'SIP app started');
  }

  installShutdown(log, async () => {
    // Calls first (they write CDRs through the pipeline), then the API, then storage.
    await sip?.stop(DRAIN_MS);
    await media?.stop();
    await admin?.close();
    await pipeline.stop();
    stopSweeper();
    await store.close();
    await conn.close();
  });
}

function installShutdown(log: Logger, shutdown: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: draining calls');
    shutdown()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`xline: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
