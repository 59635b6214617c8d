// Wiring only, in a fixed order (STYLE): config → logger → Redis → store → events → admin HTTP
// → SIP app (with media). Each piece can run alone via XLINE_ROLE for scale-out.
import { hostname } from 'node:os';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { createMetricsRegistry } from './metrics.js';
import type { Config } from './config.js';
import type { AppContext, Health } from './context.js';
import { MissingBinaryError } from './store/embedded-redis.js';
import { DataDirInUseError } from './store/redis-data-dir-lock.js';
import { createRedisConnection, duplicateClient, waitReady, type RedisConnection } from './store/redis-connection.js';
import { RedisBindingStore, startSweeper } from './store/redis-store.js';
import { huaweiStoreOf } from './store/huawei-store.js';
import { createEventPipeline } from './events/pipeline.js';
import { buildAdminApp } from './api/server.js';
import { startSipApp, type SipApp } from './sip/app.js';
import { startMedia, type MediaService } from './media/media-service.js';
import { startRtpengine } from './media-relay/rtpengine.js';
import { publishEndCall, subscribeEndCall } from './events/end-call-channel.js';

/** How long SIGTERM waits for live calls before ending them (docker-compose grants 60 s). */
const DRAIN_MS = 50_000;

/** The wiring in its fixed order; each step below is one function. */
async function main(): Promise<void> {
  const config = readConfig();
  const instance = config.XLINE_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const log = createLogger(config.LOG_LEVEL, { instance });
  const metrics = createMetricsRegistry();
  const conn = await openRedis(config, log);

  const store = new RedisBindingStore(conn.redis, { log, clockSkewMs: config.REDIS_CLOCK_SKEW_MS });
  const stopSweeper = startSweeper(store, config.SWEEP_INTERVAL_MS, log);
  const { eventsRedis, pipeline } = await startEvents(conn, config, log, metrics, store);

  // One SIP app (and one media link) per drachtio-server; each reports into its own Health, and
  // the process is up while any of them is (DRACHTIO_SERVERS).
  const drachtios: DrachtioServer[] = config.DRACHTIO_SERVERS ?? [{ host: config.DRACHTIO_HOST, port: config.DRACHTIO_PORT }];
  const links = drachtios.map(() => ({ sip: false, media: false }));
  // One media relay client for the process (RTPENGINE_NG): every SIP app anchors through it.
  let relayUp = false;
  const relay =
    config.RTPENGINE_NG && config.XLINE_ROLE !== 'api'
      ? startRtpengine({ ...config.RTPENGINE_NG, log, metrics, onState: (up) => (relayUp = up) })
      : undefined;
  const health = processHealth(config, drachtios, links, () => (relay ? relayUp : undefined));
  const ctx: AppContext = { config, log, store, events: pipeline.sink, callEvents: pipeline.store, metrics, health, ...(relay ? { relay } : {}) };

  const admin = config.XLINE_ROLE === 'sip' ? undefined : await startAdmin(ctx, conn, pipeline);
  const { sips, media } = config.XLINE_ROLE === 'api' ? { sips: [], media: [] } : await startSipApps(ctx, drachtios, links);
  // The console's "End call" and Huawei's callStop: whichever instance holds the call ends it.
  const stopEndCalls = sips.length ? subscribeEndCall(conn.redis, (callId, reason) => sips.forEach((s) => s.endCall(callId, reason))) : undefined;

  installShutdown(log, async () => {
    stopEndCalls?.();
    // Calls first (they write CDRs through the pipeline), then the API, then storage.
    await Promise.all(sips.map((s) => s.stop(DRAIN_MS)));
    await Promise.all(media.map((m) => m.stop()));
    relay?.stop();
    await admin?.close();
    await pipeline.stop();
    eventsRedis.disconnect();
    stopSweeper();
    await store.close();
    await conn.close();
  });
}

type DrachtioServer = { host: string; port: number };
type LinkHealth = { sip: boolean; media: boolean };

/** The validated config, or exit 2 with what is wrong. */
function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`xline: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** The Redis connection, or exit 1 naming what to install or which data dir is taken. */
async function openRedis(config: Config, log: Logger): Promise<RedisConnection> {
  try {
    return await createRedisConnection(config, log);
  } catch (err) {
    if (err instanceof MissingBinaryError || err instanceof DataDirInUseError) {
      log.fatal(err.message);
      process.stderr.write(`xline: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** The event pipeline, started, on a connection of its own. */
async function startEvents(conn: RedisConnection, config: Config, log: Logger, metrics: AppContext['metrics'], store: RedisBindingStore) {
  // Events get their own connection: ~5 writes per call must not queue behind (or in front of)
  // the one lookup an INVITE waits for.
  const eventsRedis = duplicateClient(conn.redis);
  eventsRedis.on('error', () => undefined); // the main connection already logs Redis trouble
  const huaweiApps = huaweiStoreOf(store, config.HUAWEI_APP_CACHE_MS);
  const pipeline = createEventPipeline({ redis: eventsRedis, config, log, metrics, huaweiApps: (appKey) => huaweiApps.readApp(appKey) });
  // The first heartbeat needs the connection up (no offline queue); when Redis is down at start
  // the pipeline reports it and keeps trying, like every other part.
  if (conn.redis.status === 'ready') await waitReady(eventsRedis);
  pipeline.start();
  return { eventsRedis, pipeline };
}

/** The process's health: up while any drachtio-server's SIP app (and media) is. */
function processHealth(config: Config, drachtios: DrachtioServer[], links: LinkHealth[], relayUp: () => boolean | undefined): Health {
  return {
    get relay() {
      return relayUp();
    },
    get sip() {
      return links.some((h) => h.sip);
    },
    get media() {
      return links.some((h) => h.media);
    },
    get drachtio() {
      if (config.XLINE_ROLE === 'api') return undefined;
      return drachtios.map((d, i) => ({ server: `${d.host}:${d.port}`, ...links[i]! }));
    },
  };
}

/** The admin HTTP server (APIs and console), listening. */
async function startAdmin(ctx: AppContext, conn: RedisConnection, pipeline: ReturnType<typeof createEventPipeline>) {
  const admin = await buildAdminApp(ctx, {
    console: { redis: conn.redis, events: pipeline.store, endCall: (callId) => publishEndCall(conn.redis, callId) },
  });
  await admin.listen({ host: ctx.config.ADMIN_HOST, port: ctx.config.ADMIN_PORT });
  ctx.log.info({ host: ctx.config.ADMIN_HOST, port: ctx.config.ADMIN_PORT }, 'admin HTTP listening');
  return admin;
}

/** One SIP app (with its media) per drachtio-server, each reporting into its own link health. */
async function startSipApps(ctx: AppContext, drachtios: DrachtioServer[], links: LinkHealth[]): Promise<{ sips: SipApp[]; media: MediaService[] }> {
  const { config, log } = ctx;
  const sips: SipApp[] = [];
  const media: MediaService[] = [];
  for (const [i, d] of drachtios.entries()) {
    const server = `${d.host}:${d.port}`;
    const one: AppContext = {
      ...ctx,
      config: perServerConfig(config, d, i),
      log: drachtios.length > 1 ? log.child({ drachtio: server }) : log,
      health: links[i]!,
    };
    sips.push(await startSipApp({ ...one, media: (srf) => pushed(media, startMedia(one, srf)) }));
    log.info({ drachtio: server, freeswitch: `${config.FREESWITCH_HOST}:${config.FREESWITCH_PORT}` }, 'SIP app started');
  }
  return { sips, media };
}

/**
 * The config one SIP app sees: its drachtio-server, and its own port for FreeSWITCH's call-back
 * connections (drachtio-fsmrf listens once per app; a fixed MEDIA_LISTEN_PORT becomes port + i).
 */
function perServerConfig(config: Config, d: DrachtioServer, i: number): Config {
  const c: Config = { ...config, DRACHTIO_HOST: d.host, DRACHTIO_PORT: d.port };
  if (i === 0) return c;
  if (config.MEDIA_LISTEN_PORT !== 0) c.MEDIA_LISTEN_PORT = config.MEDIA_LISTEN_PORT + i;
  const adv = config.MEDIA_ADVERTISED_ADDRESS?.split(':');
  if (adv?.length === 2) c.MEDIA_ADVERTISED_ADDRESS = `${adv[0]}:${Number(adv[1]) + i}`;
  return c;
}

function pushed<T>(list: T[], item: T): T {
  list.push(item);
  return item;
}

/**
 * A repeat of the first signal within this long is the same request delivered twice: Ctrl-C in a
 * terminal signals the whole process group, and `npm start` forwards the SIGINT it got as well.
 */
const REPEATED_SIGNAL_MS = 2000;

function installShutdown(log: Logger, shutdown: () => Promise<void>): void {
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first) {
      if (signal === first.signal && Date.now() - first.at < REPEATED_SIGNAL_MS) {
        log.info({ signal }, 'same signal again at once: the same request, still stopping');
        return;
      }
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    first = { signal, at: Date.now() };
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
