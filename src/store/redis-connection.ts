// The Redis connection xline runs on: REDIS_CLUSTER_NODES → ioredis Cluster, REDIS_URL → one
// Redis, neither → a private redis-server child (data in REDIS_DATA_DIR, AOF on, restarted when it
// dies, stopped by close(): embedded-redis-supervisor.ts).
//
// Fail fast, recover by itself: while Redis is unreachable every command is rejected at once
// (no offline queue) or after COMMAND_TIMEOUT_MS, so callers answer isp.SYSTEM_ERROR within a
// second instead of hanging; the client keeps reconnecting in the background. Commands are never
// retried by the client (nor resent after a reconnect: maxRetriesPerRequest 0 fails them): a bind
// must not run twice (it could land on another X). A write that times out is refused by its own
// script if Redis runs it later (deadline.ts), so its isp.SYSTEM_ERROR means nothing was written.
//
// Durability on Redis Cluster failover (test/integration/store-failover.test.ts tests exactly this):
// - planned failover (CLUSTER FAILOVER on a replica, the default mode): the replica takes over only
//   once it has the master's whole replication stream, so every bind that returned OK survives;
// - master crash: Redis replicates asynchronously, so binds acknowledged before the replica had
//   received them (on a LAN, the last milliseconds before the crash) can be lost; everything the
//   replica had received survives. Calls during the switch fail fast with isp.SYSTEM_ERROR and the
//   client finds the promoted replica by itself (slot map refreshed on errors and every 2 s).
//
// A Cluster client's connection to each master is opened before a request needs it (at start,
// and after each slot-map refresh for a master found anew: promoted, restarted, or whose
// connection dropped): ioredis opens it on the master's first command otherwise, and with the
// offline queue off a MULTI or pipeline sent while it opens is refused "Connection is closed."
// Nothing is queued for it, so no command can run after its request gave up (deadline.ts).
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisChild } from './embedded-redis.js';
import { superviseRedisServer } from './embedded-redis-supervisor.js';
import { STORE_DEADLINE_MS } from './deadline.js';

/** A command waits at most this long; a request never waits longer in all (deadline.ts). */
export const COMMAND_TIMEOUT_MS = STORE_DEADLINE_MS;
const CONNECT_WAIT_MS = 5000;

export const redisClientOptions: RedisOptions = {
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: 1000,
  retryStrategy: (times) => Math.min(50 * times, 500),
};

export function clusterClientOptions(): ClusterOptions {
  return {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    scaleReads: 'master',
    // MOVED / ASK are followed (the command did not run). A closed connection or CLUSTERDOWN is
    // NOT retried: the command may have run (a retried bind could land twice), and retrying
    // would hold the caller past the 1 s budget. The store refreshes the slot map on such errors.
    maxRedirections: 16,
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 1000,
    slotsRefreshInterval: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    redisOptions: {
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 1000,
    },
  };
}

export interface RedisConnection {
  redis: Redis | Cluster;
  /** Set when xline started its own redis-server. */
  embedded?: RedisChild;
  close(): Promise<void>;
}

/** Creates a Redis or Cluster client with xline's fail-fast options from host:port strings, a URL or a Unix socket path. */
export function connectRedis(target: { url?: string; clusterNodes?: string[]; path?: string }): Redis | Cluster {
  if (target.clusterNodes?.length) {
    const nodes = target.clusterNodes.map((hp) => {
      const i = hp.lastIndexOf(':');
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
    });
    return openingMasters(new Cluster(nodes, clusterClientOptions()));
  }
  if (target.path) return new Redis({ ...redisClientOptions, path: target.path });
  if (!target.url) throw new Error('connectRedis: url, path or clusterNodes required');
  return new Redis(target.url, redisClientOptions);
}

/** A second client like `redis`, on connections of its own; a Cluster one opens its masters as connectRedis's do. */
export function duplicateClient(redis: Redis | Cluster): Redis | Cluster {
  return redis instanceof Cluster ? openingMasters(redis.duplicate()) : redis.duplicate();
}

/**
 * After every slot-map refresh (the first, the one every 2 s, after a MOVED or a failover), opens
 * the connection to each master that has none yet. On the next turn of the event loop: the ready
 * check ioredis sends on the first refresh must find its master idle, not opening (it would be
 * refused and the client would reconnect).
 */
function openingMasters(cluster: Cluster): Cluster {
  cluster.on('refresh', () => setImmediate(() => openMasterConnections(cluster)));
  return cluster;
}

function openMasterConnections(cluster: Cluster): void {
  if (cluster.status !== 'connect' && cluster.status !== 'ready') return;
  for (const master of cluster.nodes('master')) {
    // a master that cannot be reached is found again on the next refresh
    if (master.status === 'wait') master.connect().catch(() => undefined);
  }
}

/**
 * Resolves true when the client is ready (a Cluster: with its connection to every master open),
 * false after `ms` (it keeps connecting in the background).
 */
export async function waitReady(redis: Redis | Cluster, ms = CONNECT_WAIT_MS): Promise<boolean> {
  const until = Date.now() + ms;
  if (!(await readyEvent(redis, ms))) return false;
  if (!(redis instanceof Cluster)) return true;
  openMasterConnections(redis);
  const masters = await Promise.all(redis.nodes('master').map((m) => readyEvent(m, Math.max(0, until - Date.now()))));
  return !masters.includes(false);
}

function readyEvent(redis: Redis | Cluster, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    redis.on('ready', onReady);
  });
}

export async function createRedisConnection(config: Config, log: Logger): Promise<RedisConnection> {
  let embedded: RedisChild | undefined;
  let redis: Redis | Cluster;
  if (config.REDIS_CLUSTER_NODES?.length) {
    redis = connectRedis({ clusterNodes: config.REDIS_CLUSTER_NODES });
    log.info({ nodes: config.REDIS_CLUSTER_NODES }, 'redis: connecting to Redis Cluster');
  } else if (config.REDIS_URL) {
    redis = connectRedis({ url: config.REDIS_URL });
    log.info({ url: redactUrl(config.REDIS_URL) }, 'redis: connecting');
  } else {
    // throws MissingBinaryError naming the package to install when redis-server is absent, and
    // DataDirInUseError when another xline (or a stranger) runs a server on the data dir
    embedded = await superviseRedisServer({
      dir: config.REDIS_DATA_DIR,
      port: config.EMBEDDED_REDIS_PORT,
      log,
      // after startRedisServer's own --appendfsync everysec: the last one given wins
      extraArgs: ['--appendfsync', config.REDIS_APPENDFSYNC],
    });
    redis = connectRedis(embedded.socket ? { path: embedded.socket } : { url: embedded.url });
  }
  let lastError = '';
  redis.on('error', (e: Error) => {
    // ioredis repeats the same error on every reconnect attempt: log changes only
    if (e.message !== lastError) log.warn({ err: e.message }, 'redis: connection error');
    lastError = e.message;
  });
  redis.on('ready', () => {
    if (lastError) log.info('redis: connection restored');
    lastError = '';
  });
  if (!(await waitReady(redis))) log.warn('redis: not reachable yet; answering SYSTEM_ERROR until it is');
  return {
    redis,
    embedded,
    async close() {
      try {
        await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1000))]);
      } catch {
        // already gone
      }
      redis.disconnect();
      await embedded?.stop();
    },
  };
}

function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'redis://?';
  }
}
