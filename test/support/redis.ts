// A real redis-server per test file, on a free loopback port (never a mock).
import { startRedisServer, type RedisChild } from '../../src/store/embedded-redis.js';
import { requireBinary } from './binaries.js';

export const hasRedis = Boolean(requireBinary('redis-server', 'REDIS_SERVER_BIN', 'apt-get install -y redis-server'));

export async function startTestRedis(extraArgs: string[] = []): Promise<RedisChild> {
  return startRedisServer({ extraArgs });
}
