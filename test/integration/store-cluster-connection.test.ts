// The Cluster client opens its connection to every master before a request needs it: at start and
// again after a master's connection dropped. Without that, ioredis opens it on the master's first
// command, and with the offline queue off a MULTI or pipeline sent while it opens is refused
// "Connection is closed." (isp.SYSTEM_ERROR for a real request). A real 3-master Redis Cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { connectRedis, duplicateClient, waitReady } from '../../src/store/redis-connection.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { cluster as clusterKind } from '../support/store-backends.js';

/** One hash tag per master: tags whose slots the client's slot map gives to each of the masters. */
async function keysOnEveryMaster(c: TestCluster, client: Cluster, masters: number): Promise<string[]> {
  const byMaster = new Map<string, string>();
  const admin = c.client(Number(c.seeds[0]!.split(':')[1]));
  try {
    for (let i = 0; byMaster.size < masters && i < 1000; i++) {
      const tag = `race:${i}`;
      const owner = client.slots[Number(await admin.call('CLUSTER', 'KEYSLOT', tag))]?.[0];
      if (owner && !byMaster.has(owner)) byMaster.set(owner, tag);
    }
  } finally {
    admin.disconnect();
  }
  expect(byMaster.size).toBe(masters);
  return [...byMaster.values()];
}

/**
 * Transactions to every master as requests send them (the event store and the console sessions
 * use MULTI and pipelines; plain commands share ioredis's auto-pipeline, whose later batches wait
 * for the first): a few on each turn of the event loop. What each one answered.
 */
async function burst(client: Cluster, keys: string[]): Promise<string[]> {
  const sent: Promise<string>[] = [];
  for (let turn = 0; turn < 4; turn++) {
    for (const k of keys) {
      const tx = client.multi().set(`{${k}}:${turn}`, 'v').incr(`{${k}}:n`).exec();
      sent.push(tx.then((r) => (r?.every(([err]) => !err) ? 'OK' : 'partial'), (e: Error) => e.message));
    }
    await new Promise((r) => setImmediate(r));
  }
  return Promise.all(sent);
}

describe.skipIf(!clusterKind.available)('Cluster client: every master connection open before it is needed', () => {
  let c: TestCluster;
  const clients: Cluster[] = [];
  beforeAll(async () => {
    c = await startTestCluster({ masters: 3, replicasPerMaster: 0 });
  }, 90_000);
  afterAll(async () => {
    for (const cl of clients) cl.disconnect();
    await c?.stop();
  });

  function track(client: Cluster): Cluster {
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  async function fresh(): Promise<Cluster> {
    const client = track(connectRedis({ clusterNodes: c.seeds }) as Cluster);
    expect(await waitReady(client, 15_000)).toBe(true);
    return client;
  }

  it('a fresh client answers concurrent first commands on all three masters', async () => {
    const client = await fresh();
    const keys = await keysOnEveryMaster(c, client, 3);
    expect(await burst(client, keys)).toEqual(keys.flatMap(() => ['OK', 'OK', 'OK', 'OK']));
  }, 30_000);

  // the events pipeline runs on a duplicate of the main client (main.ts)
  it.each([
    ['a client', fresh],
    ['a duplicate of a client', async () => track(duplicateClient(await fresh()) as Cluster)],
  ])('after a master drops the connection (CLIENT KILL), %s opens it again and concurrent commands succeed', async (_name, make) => {
    const client = await make();
    expect(await waitReady(client, 15_000)).toBe(true);
    const keys = await keysOnEveryMaster(c, client, 3);
    for (const k of keys) await client.set(`{${k}}:warm`, 'v'); // every master's connection in use
    expect(client.nodes('master').map((n) => n.status)).toEqual(['ready', 'ready', 'ready']);
    const victim = client.nodes('master')[0]!;
    const port = Number(victim.options.port);
    const admin: Redis = c.client(port);
    try {
      const ended = new Promise<void>((r) => victim.once('end', () => r()));
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await ended;
    } finally {
      admin.disconnect();
    }
    // the client finds that master again on its next slot-map refresh (every 2 s)
    const back = Date.now() + 8000;
    const reconnected = () => client.nodes('master').find((n) => Number(n.options.port) === port && n !== victim);
    while (!reconnected() && Date.now() < back) await new Promise((r) => setTimeout(r, 50));
    expect(reconnected()).toBeDefined();
    // and then has its connection open before any command needs it
    await waitReady(reconnected()!, 3000);
    expect(await burst(client, keys)).toEqual(keys.flatMap(() => ['OK', 'OK', 'OK', 'OK']));
  }, 30_000);
});
