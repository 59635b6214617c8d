// A real Redis Cluster on loopback from Debian's redis-server: N masters (+ replicas), created with
// `redis-cli --cluster create`, ready when every node reports cluster_state:ok and every replica
// is in sync. Never a mock.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisChild } from '../../src/store/embedded-redis.js';
import { findBinary } from '../../src/util/binaries.js';
import { dataMemory } from './redis-memory.js';

const run = promisify(execFile);

export interface ClusterNode {
  id: string;
  addr: string;
  port: number;
  role: 'master' | 'replica';
  /** For a replica, the id of its master. */
  masterId?: string;
  /** For a master, its slot ranges. */
  slots: [number, number][];
  failed: boolean;
}

export interface TestCluster {
  /** host:port of every node started (seeds for REDIS_CLUSTER_NODES). */
  seeds: string[];
  /** The cluster's current view (CLUSTER NODES from a live node). */
  nodes(): Promise<ClusterNode[]>;
  /** Direct connection to one node (caller disconnects). */
  client(port: number): Redis;
  /** SIGKILL one node (a crash). */
  kill(port: number): Promise<void>;
  /** Starts a killed node again with its nodes.conf (it rejoins, as a replica if it lost its slots). */
  restart(port: number): Promise<void>;
  /** Waits until every live node reports cluster_state:ok and agrees on 16384 covered slots. */
  waitOk(timeoutMs?: number): Promise<void>;
  /** Dataset memory (redis-memory.ts) summed over live masters. */
  usedMemory(): Promise<number>;
  /** Process ids of the running nodes (benchmarks read their CPU time). */
  pids(): number[];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how fast a dead master is detected and replaced. */
  nodeTimeoutMs?: number;
}

/** A port p with p and its cluster bus port p + 10000 both free. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  const isFree = (p: number) =>
    new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen(p, '127.0.0.1', () => s.close(() => res(true)));
    });
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 25000);
    if (taken.has(p) || taken.has(p + 10000)) continue;
    if ((await isFree(p)) && (await isFree(p + 10000))) {
      taken.add(p);
      return p;
    }
  }
  throw new Error('no free port pair for a cluster node');
}

export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      const flags = f[2]!.split(',');
      const addr = f[1]!.split('@')[0]!;
      const slots: [number, number][] = [];
      for (const s of f.slice(8)) {
        if (s.startsWith('[')) continue; // migrating / importing markers
        const [a, b] = s.split('-');
        slots.push([Number(a), Number(b ?? a)]);
      }
      const node: ClusterNode = {
        id: f[0]!,
        addr,
        port: Number(addr.split(':')[1]),
        role: flags.includes('master') ? 'master' : 'replica',
        slots,
        failed: flags.includes('fail') || flags.includes('fail?') || flags.includes('noaddr'),
      };
      if (f[3] && f[3] !== '-') node.masterId = f[3];
      return node;
    });
}

/** Starts a cluster; on a shared, busy machine a start can fail (a port taken meanwhile): one retry. */
export async function startTestCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  try {
    return await startOnce(opts);
  } catch (e) {
    process.stderr.write(`test cluster: first start failed (${e instanceof Error ? e.message : String(e)}); retrying on other ports\n`);
    return startOnce(opts);
  }
}

async function startOnce(opts: ClusterOptions): Promise<TestCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  const nodeTimeout = opts.nodeTimeoutMs ?? 1000;
  const cli = findBinary('redis-cli', 'REDIS_CLI_BIN');
  if (!cli) throw new Error('redis-cli not found (apt-get install -y redis-tools)');
  const dir = mkdtempSync(join(tmpdir(), 'xline-cluster-'));
  const taken = new Set<number>();
  const children = new Map<number, RedisChild>();

  const startNode = async (port: number) => {
    children.set(port, await startRedisServer({ port, extraArgs: nodeArgs(dir, port, nodeTimeout) }));
  };
  const removeAll = async () => {
    await Promise.all([...children.values()].map((c) => c.stop()));
    children.clear();
    rmSync(dir, { recursive: true, force: true });
  };

  const ports: number[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) ports.push(await freeClusterPort(taken));
  try {
    await Promise.all(ports.map(startNode));
    await run(cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 30_000,
    });
  } catch (e) {
    await removeAll();
    throw e;
  }

  const nodes = () => onLiveNode(ports.filter((p) => children.has(p)), async (r) => parseClusterNodes(String(await r.call('CLUSTER', 'NODES'))));

  const waitOk = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await everyNodeOk(children.keys())) {
        // every master's slots owned by a live master, and each master has its replicas attached
        const view = await nodes();
        const liveMasters = view.filter((n) => n.role === 'master' && !n.failed && n.slots.length);
        if (liveMasters.length === masters) return;
      }
      if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    await waitOk(60_000);
  } catch (e) {
    await removeAll();
    throw e;
  }

  return {
    seeds: ports.map((p) => `127.0.0.1:${p}`),
    nodes,
    client: nodeClient,
    async kill(port) {
      const c = children.get(port);
      if (!c) return;
      children.delete(port);
      const exited = new Promise<void>((r) => c.process.once('exit', () => r()));
      c.process.kill('SIGKILL');
      await exited;
    },
    async restart(port) {
      if (children.has(port)) return;
      await startNode(port);
    },
    waitOk,
    usedMemory: async () => mastersMemory(await nodes()),
    pids: () => [...children.values()].map((c) => c.process.pid!).filter(Boolean),
    stop: removeAll,
  };
}

/** `fn` on the first of `ports` where it succeeds (the last error when none does). */
async function onLiveNode<T>(ports: number[], fn: (r: Redis) => Promise<T>): Promise<T> {
  let lastErr: unknown;
  for (const port of ports) {
    const r = nodeClient(port);
    try {
      return await fn(r);
    } catch (e) {
      lastErr = e;
    } finally {
      r.disconnect();
    }
  }
  throw lastErr ?? new Error('no live cluster node');
}

/** redis-server's arguments for the cluster node on `port`, its files in `dir`. */
function nodeArgs(dir: string, port: number, nodeTimeout: number): string[] {
  return [
    '--dir', dir,
    '--cluster-enabled', 'yes',
    '--cluster-config-file', join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout', String(nodeTimeout),
    // a replica whose link was down a while may still be promoted (the test kills masters)
    '--cluster-replica-validity-factor', '0',
    '--cluster-allow-reads-when-down', 'no',
    '--dbfilename', `dump-${port}.rdb`,
    '--appendfilename', `appendonly-${port}.aof`,
  ];
}

/** A client of one node (no retries, errors ignored: the caller sees a failed command). */
function nodeClient(port: number): Redis {
  const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  return r;
}

/** Every node says cluster_state:ok with all slots served, and every replica's link is up. */
async function everyNodeOk(ports: Iterable<number>): Promise<boolean> {
  for (const port of ports) {
    const r = nodeClient(port);
    try {
      const info = String(await r.call('CLUSTER', 'INFO'));
      if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
      const repl = await r.info('replication');
      if (repl.includes('role:slave') && !repl.includes('master_link_status:up')) return false;
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  }
  return true;
}

/** The data memory of the live masters, summed. */
async function mastersMemory(view: ClusterNode[]): Promise<number> {
  let sum = 0;
  for (const n of view) {
    if (n.role !== 'master' || n.failed) continue;
    const r = nodeClient(n.port);
    try {
      sum += dataMemory(await r.info('memory'));
    } finally {
      r.disconnect();
    }
  }
  return sum;
}
