// createRedisConnection's three modes (embedded redis-server with AOF, REDIS_URL, REDIS_CLUSTER_NODES),
// the missing-binary message, and startSweeper reclaiming expired bindings in the background.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { xKeys } from '../../src/store/codec.js';
import { MissingBinaryError, type RedisChild } from '../../src/store/embedded-redis.js';
import { createRedisConnection } from '../../src/store/redis-connection.js';
import { RedisBindingStore, startSweeper } from '../../src/store/redis-store.js';
import { startTestCluster } from '../support/cluster.js';
import { hasRedis, startTestRedis } from '../support/redis.js';
import { cluster as clusterKind } from '../support/store-backends.js';

const log = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function smoke(redis: Redis | Cluster) {
  const store = new RedisBindingStore(redis);
  await store.upsertPool('CONN', { name: 'conn', strictCity: false });
  await store.addNumbers('CONN', [{ number: '17600000001', city: '杭州' }]);
  const b = await store.bind({ mode: 'AX', poolKey: 'CONN', a: '13800000001', expiresAt: Math.floor(Date.now() / 1000) + 60, recording: false, callDisplayType: 1 });
  expect(await store.lookup('13900000000', b.x)).toMatchObject({ kind: 'match', binding: { subsId: b.subsId } });
  return b;
}

describe.skipIf(!hasRedis)('createRedisConnection', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xline-conn-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('without REDIS_URL / REDIS_CLUSTER_NODES starts a private redis-server with AOF, stopped by close()', async () => {
    const data = join(dir, 'redis');
    const config = loadConfig({ REDIS_DATA_DIR: data, EMBEDDED_REDIS_PORT: '0' });
    const conn = await createRedisConnection(config, log);
    const child = conn.embedded as RedisChild;
    expect(child).toBeDefined();
    await smoke(conn.redis);
    expect(await (conn.redis as Redis).config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(existsSync(data) && readdirSync(data).length).toBeTruthy();
    // xline talks to its private server over the Unix socket in the data dir, not TCP
    expect(child.socket).toBe(join(data, `redis-${child.port}.sock`));
    expect((conn.redis as Redis).options.path).toBe(child.socket);
    expect(String(await (conn.redis as Redis).client('INFO'))).toContain(`laddr=${child.socket}`);
    await conn.close();
    expect(child.process.exitCode !== null || child.process.signalCode !== null).toBe(true);

    // the data is still there for the next start (AOF)
    const again = await createRedisConnection(config, log);
    const store = new RedisBindingStore(again.redis);
    expect(await store.lookup('13900000000', '17600000001')).toMatchObject({ kind: 'match', role: 'N' });
    await again.close();
  });

  it('runs the private redis-server with appendfsync everysec by default and always with REDIS_APPENDFSYNC=always', async () => {
    for (const [env, want] of [[{}, 'everysec'], [{ REDIS_APPENDFSYNC: 'always' }, 'always']] as const) {
      const conn = await createRedisConnection(loadConfig({ REDIS_DATA_DIR: join(dir, `fsync-${want}`), EMBEDDED_REDIS_PORT: '0', ...env }), log);
      try {
        expect(await (conn.redis as Redis).config('GET', 'appendfsync')).toEqual(['appendfsync', want]);
      } finally {
        await conn.close();
      }
    }
  });

  it('names the package to install when redis-server is missing', async () => {
    const before = process.env.REDIS_SERVER_BIN;
    process.env.REDIS_SERVER_BIN = join(dir, 'no-such-redis-server');
    try {
      const err = await createRedisConnection(loadConfig({ REDIS_DATA_DIR: join(dir, 'x') }), log).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MissingBinaryError);
      expect((err as Error).message).toContain('apt-get install -y redis-server');
      expect((err as Error).message).toContain('REDIS_URL');
    } finally {
      if (before === undefined) delete process.env.REDIS_SERVER_BIN;
      else process.env.REDIS_SERVER_BIN = before;
    }
  });

  it('REDIS_URL connects to that Redis', async () => {
    const srv = await startTestRedis();
    try {
      const conn = await createRedisConnection(loadConfig({ REDIS_URL: srv.url }), log);
      expect(conn.embedded).toBeUndefined();
      await smoke(conn.redis);
      await conn.close();
      expect(srv.process.exitCode).toBeNull(); // not ours to stop
    } finally {
      await srv.stop();
    }
  });

  it.skipIf(!clusterKind.available)('REDIS_CLUSTER_NODES connects to the Cluster', async () => {
    const c = await startTestCluster({ masters: 3, replicasPerMaster: 0 });
    try {
      const conn = await createRedisConnection(loadConfig({ REDIS_CLUSTER_NODES: c.seeds.slice(0, 2).join(',') }), log);
      expect(conn.redis).toBeInstanceOf(Cluster);
      await smoke(conn.redis);
      await conn.close();
    } finally {
      await c.stop();
    }
  }, 60_000);
});

describe.skipIf(!hasRedis)('startSweeper', () => {
  it('reclaims expired bindings in the background and stops when told', async () => {
    const srv = await startTestRedis();
    const conn = await createRedisConnection(loadConfig({ REDIS_URL: srv.url }), log);
    try {
      const store = new RedisBindingStore(conn.redis);
      await store.upsertPool('SW', { name: 'sweep', strictCity: false });
      await store.addNumbers('SW', [{ number: '17600000002', city: '杭州' }]);
      const t = Number((await (conn.redis as Redis).time())[0]);
      const b = await store.bind({ mode: 'AXB', poolKey: 'SW', a: '13800000002', b: '13900000002', expiresAt: t + 2, recording: false, callDisplayType: 1 });
      const stop = startSweeper(store, 100, log);
      const recs = xKeys(b.x)[1];
      let gone = false;
      for (let i = 0; i < 60 && !gone; i++) {
        gone = (await (conn.redis as Redis).exists(recs)) === 0;
        if (!gone) await sleep(100);
      }
      expect(gone).toBe(true);
      stop();
      // stopped: a binding expiring now stays until someone sweeps
      const t2 = Number((await (conn.redis as Redis).time())[0]);
      await store.bind({ mode: 'AXB', poolKey: 'SW', a: '13800000003', b: '13900000003', expiresAt: t2 + 1, recording: false, callDisplayType: 1 });
      await sleep(2200);
      expect(await (conn.redis as Redis).exists(recs)).toBe(1);
      expect(await store.sweep()).toBe(1);
    } finally {
      await conn.close();
      await srv.stop();
    }
  });
});
