// A private redis-server child for a developer's machine (REDIS_URL unset) and for tests.
// Started through util-linux's `setpriv --pdeathsig SIGTERM` where it exists (Linux): the kernel
// sends the server SIGTERM (a clean shutdown, AOF flushed) when the process that started it dies,
// however it dies (SIGKILL included), so a private server never outlives its owner. setpriv
// execs redis-server, so the child's pid is the server's.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
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
  /** Its last lines of output (redis-server logs to stdout; "Address already in use" lands there). */
  lastOutput(): string[];
  /** Resolves once the server has exited and its output is read. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

export interface RedisChildOptions {
  port?: number;
  /** Data directory; AOF on when set, memory only when not. */
  dir?: string;
  extraArgs?: string[];
  /** Called with each line the server prints (its warnings: it runs with --loglevel warning). */
  onOutput?: (line: string) => void;
}

export class MissingBinaryError extends Error {}

const OUTPUT_LINES = 20;

/** setpriv, when this system can tie a child's life to ours (see the top of this file). */
export const pdeathsigWrapper: string | undefined = process.platform === 'linux' ? findBinary('setpriv') : undefined;

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
  const { args, sockDir, socket } = serverArgs(port, opts);
  const child = spawnServer(bin, args);
  const output = readOutput(child, opts.onOutput);
  const end = watchExit(child, output.onLine, () => {
    if (!opts.dir) rmSync(sockDir, { recursive: true, force: true });
  });
  const url = `redis://127.0.0.1:${port}`;
  await answering(url, port, child, end, output.lines);
  return {
    url,
    port,
    ...(socket ? { socket } : {}),
    process: child,
    lastOutput: () => [...output.lines],
    exited: end.exited,
    async stop() {
      if (!end.gone()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await end.exited;
        clearTimeout(t);
      }
    },
  };
}

/** redis-server's command line: loopback TCP on `port`, AOF in opts.dir if set, its Unix socket. */
function serverArgs(port: number, opts: RedisChildOptions): { args: string[]; sockDir: string; socket: string | undefined } {
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
  return { args, sockDir, socket };
}

function spawnServer(bin: string, args: string[]): ChildProcess {
  // detached: a process group of its own, so a terminal's Ctrl-C (sent to the whole foreground
  // group) reaches only xline, which stops it after draining instead of losing it mid-drain.
  const spawnOpts: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], detached: true };
  const child: ChildProcess = pdeathsigWrapper
    ? spawn(pdeathsigWrapper, ['--pdeathsig', 'SIGTERM', bin, ...args], spawnOpts)
    : spawn(bin, args, spawnOpts);
  // Also when this process exits without calling stop() (or where setpriv is missing).
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** The server's output line by line: the last OUTPUT_LINES kept, each handed to onOutput. */
function readOutput(child: ChildProcess, onOutput: ((line: string) => void) | undefined): { lines: string[]; onLine(line: string): void } {
  const lines: string[] = [];
  const onLine = (line: string) => {
    if (!line.trim()) return;
    lines.push(line);
    if (lines.length > OUTPUT_LINES) lines.shift();
    onOutput?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop() ?? '';
      parts.forEach(onLine);
    });
    stream?.once('end', () => partial && onLine(partial));
  }
  return { lines, onLine };
}

interface ExitWatch {
  /** The child has exited (or could not be run). */
  gone(): boolean;
  /** Resolves once it has, its output read and `cleanup` done. */
  exited: Promise<void>;
}

function watchExit(child: ChildProcess, onLine: (line: string) => void, cleanup: () => void): ExitWatch {
  let gone = false;
  // Resolves once the child has exited and its output is read ('close'), or shortly after the
  // exit if a forked child of the server (an AOF rewrite) still holds the pipes.
  const exited = new Promise<void>((r) => {
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      cleanup();
      r();
    };
    child.once('close', done);
    child.once('exit', () => {
      gone = true;
      setTimeout(done, 200).unref();
    });
    child.once('error', (err) => {
      onLine(`could not run: ${err.message}`);
      gone = true;
      done();
    });
  });
  return { gone: () => gone, exited };
}

/** Resolves once this child answers on `url`; throws (the child stopped) if it exits or stays silent 10 s. */
async function answering(url: string, port: number, child: ChildProcess, end: ExitWatch, output: string[]): Promise<void> {
  const failure = (why: string) => new Error(`redis-server ${why}${output.length ? `; its last output:\n${output.join('\n')}` : ' (no output)'}`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (end.gone()) {
      await end.exited;
      throw failure(`exited at start (${child.exitCode ?? child.signalCode})`);
    }
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined); // refused while redis-server starts: expected, retried below
    try {
      await probe.connect();
      // The server answering must be this child, not another one already on the port (which
      // makes this child exit on "Address already in use"): wait for that exit instead.
      const info = await probe.info('server');
      probe.disconnect();
      if (Number(/process_id:(\d+)/.exec(info)?.[1]) === child.pid) return;
      throw new Error('another server on the port');
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await end.exited;
        throw failure(`did not answer on port ${port} within 10 s`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
