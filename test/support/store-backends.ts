// The Redis deployments the store suite runs against: the same tests, the same assertions, once on a
// standalone redis-server and once on a real 3-master Redis Cluster (issue 7 §2).
import type { Cluster, Redis } from 'ioredis';
import { connectRedis, waitReady } from '../../src/store/redis-connection.js';
import { startTestCluster, type TestCluster } from './cluster.js';
import { hasRedis, startTestRedis } from './redis.js';
import { requireBinary } from './binaries.js';
import { dataMemory } from './redis-memory.js';

export interface Backend {
  /** A new client with xline's production options (fail-fast, autopipelining). */
  connect(): Promise<Redis | Cluster>;
  /** Dataset memory (redis-memory.ts dataMemory) summed over every master. */
  usedMemory(): Promise<number>;
  stop(): Promise<void>;
}

export interface BackendKind {
  name: 'standalone' | 'cluster';
  available: boolean;
  start(): Promise<Backend>;
}

const hasCli = Boolean(requireBinary('redis-cli', 'REDIS_CLI_BIN', 'apt-get install -y redis-tools'));

async function ready(r: Redis | Cluster): Promise<Redis | Cluster> {
  r.on('error', () => undefined); // reconnect noise after a test stops its servers
  if (!(await waitReady(r, 15_000))) throw new Error('redis client did not become ready');
  return r;
}


export const standalone: BackendKind = {
  name: 'standalone',
  available: hasRedis,
  async start() {
    const srv = await startTestRedis();
    const clients: (Redis | Cluster)[] = [];
    let meter: Redis | Cluster | undefined;
    return {
      async connect() {
        const r = connectRedis({ url: srv.url });
        clients.push(r);
        return ready(r);
      },
      async usedMemory() {
        // one long-lived client, so its own buffers do not move the figure
        if (!meter) {
          meter = connectRedis({ url: srv.url });
          clients.push(meter);
          await ready(meter);
        }
        return dataMemory(await (meter as Redis).info('memory'));
      },
      async stop() {
        for (const c of clients) c.disconnect();
        await srv.stop();
      },
    };
  },
};

export const cluster: BackendKind = {
  name: 'cluster',
  available: hasRedis && hasCli,
  async start() {
    const c: TestCluster = await startTestCluster({ masters: 3, replicasPerMaster: 1 });
    const clients: (Redis | Cluster)[] = [];
    return {
      async connect() {
        const r = connectRedis({ clusterNodes: c.seeds });
        clients.push(r);
        return ready(r);
      },
      usedMemory: () => c.usedMemory(),
      async stop() {
        for (const cl of clients) cl.disconnect();
        await c.stop();
      },
    };
  },
};

export const backends: BackendKind[] = [standalone, cluster];
