// A private redis-server child for a developer's machine (REDIS_URL unset) and for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { findBinary } from '../util/binaries.js';

export interface RedisChild {
  url: string;
  port: number;
  /**
   * Its Unix socket (also listening on 127.0.0.1:port). xline connects here: a round trip costs
   * the client less than over TCP loopback. Undefined when the path would be too long.
   */
  socket?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface RedisChildOptions {
  port?: number;
  /** Data directory; AOF on when set, memory only when not. */
  dir?: string;
  extraArgs?: string[];
}

export class MissingBinaryError extends Error {}

const live = new Set<ChildProcess>();
process.once('exit', () => live.forEach((c) => c.kill('SIGKILL')));

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, host, () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

export async function startRedisServer(opts: RedisChildOptions = {}): Promise<RedisChild> {
  const bin = findBinary('redis-server', 'REDIS_SERVER_BIN');
  if (!bin) {
    throw new MissingBinaryError(
      'redis-server not found on PATH. Install it (Debian/Ubuntu: apt-get install -y redis-server) or set REDIS_URL to an existing Redis.',
    );
  }
  const port = opts.port || (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
  if (opts.dir) {
    const dir = resolve(opts.dir);
    mkdirSync(dir, { recursive: true });
    args.push('--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec');
  } else {
    args.push('--appendonly', 'no');
  }
  // Unix socket paths are limited to 107 bytes; a private temp dir when there is no data dir.
  const sockDir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'xline-redis-'));
  const socketPath = join(sockDir, `redis-${port}.sock`);
  const socket = Buffer.byteLength(socketPath) <= 100 ? socketPath : undefined;
  if (socket) args.push('--unixsocket', socket, '--unixsocketperm', '700');
  args.push(...(opts.extraArgs ?? []));
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // A private server never outlives its owner, even one that exits without calling stop().
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      if (!opts.dir) rmSync(sockDir, { recursive: true, force: true });
      r();
    }),
  );
  const url = `redis://127.0.0.1:${port}`;

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${stderr.trim()}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined); // refused while redis-server starts: expected, retried below
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not answer on port ${port}: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return {
    url,
    port,
    ...(socket ? { socket } : {}),
    process: child,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
