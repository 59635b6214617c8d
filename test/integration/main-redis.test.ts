// xline's private redis-server (REDIS_URL unset) under real process deaths: the server SIGKILLed
// under a running xline (restarted, writes succeed again), xline SIGKILLed (its server exits by
// itself), an orphan left by a killed xline (stopped, its data kept), a stranger or a live xline
// on the same data dir (refused), and the server's own output in xline's log.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/util/binaries.js';
import { freePort, startRedisServer, type RedisChild } from '../../src/store/embedded-redis.js';
import { LOCK_FILE } from '../../src/store/redis-data-dir-lock.js';
import { requireBinary } from '../support/binaries.js';
import { alive, waitUntil as waitOn } from '../support/processes.js';
import { hasRedis, startTestRedis } from '../support/redis.js';
import { startXlineProcess, type LogLine, type XlineProcess } from '../support/xline-process.js';

const hasSetpriv = Boolean(requireBinary('setpriv', undefined, 'util-linux; Linux only'));
const TOKEN = 'ops-token';

/** Polls every 50 ms. */
const waitUntil = (pred: () => boolean | Promise<boolean>, ms: number, what: string) => waitOn(pred, ms, what, 50);

/** Live redis-server processes working in `dir` (redis-server chdirs into its --dir). */
function serversOn(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'redis-server') continue;
      if (readlinkSync(`/proc/${p}/cwd`) === dir && alive(Number(p))) pids.push(Number(p));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

const started = (l: LogLine) => l.msg === 'redis: started private redis-server (AOF on)';

async function serverPid(x: XlineProcess): Promise<number> {
  const pid = Number((await x.waitLog(started, 30_000, 'private redis-server')).pid);
  seen.push(pid);
  return pid;
}

/** xline's exit code, or 'serving' once its admin API listens (a refusal that did not happen). */
async function outcome(x: XlineProcess): Promise<number | null | 'serving'> {
  return Promise.race([x.exited, x.waitLog((l) => l.msg === 'admin HTTP listening', 30_000, 'admin API').then(() => 'serving' as const, () => x.exited)]);
}

async function ops(x: XlineProcess, method: string, path: string, body?: unknown): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${x.adminPort}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(3000),
  });
  await r.arrayBuffer();
  return r.status;
}

const putPool = (x: XlineProcess, key: string) => ops(x, 'PUT', `/pools/${key}`, { name: key, strictCity: false });

const dirs: string[] = [];
const procs: XlineProcess[] = [];
const servers: RedisChild[] = [];
/** Every private server a test saw: none may be left behind, even by a failing test. */
const seen: number[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const pid of seen.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'xline-main-redis-'));
  dirs.push(d);
  return join(d, 'redis');
}

async function xline(name: string, dir: string, env: Record<string, string> = {}): Promise<XlineProcess> {
  const p = await startXlineProcess(name, { XLINE_ROLE: 'api', OPS_TOKEN: TOKEN, REDIS_DATA_DIR: dir, EMBEDDED_REDIS_PORT: '0', ...env });
  procs.push(p);
  return p;
}

describe.skipIf(!hasRedis)('xline: its private redis-server', () => {
  it('SIGKILLed under a running xline: restarted (logged), and writes succeed again with the data kept', async () => {
    const dir = dataDir();
    const x = await xline('sup', dir);
    const first = await serverPid(x);
    await waitUntil(async () => (await putPool(x, 'P1')) === 200, 10_000, 'first write');

    process.kill(first, 'SIGKILL');
    const exit = await x.waitLog((l) => l.msg?.startsWith('redis: private redis-server exited') === true, 10_000, 'exit logged');
    expect(exit).toMatchObject({ level: 50, pid: first, signal: 'SIGKILL' });
    expect(exit.restartInMs).toBeGreaterThan(0);
    const again = Number((await x.waitLog((l) => l.msg === 'redis: private redis-server restarted', 15_000, 'restart')).pid);
    seen.push(again);
    expect(again).not.toBe(first);

    await waitUntil(async () => (await putPool(x, 'P2')) === 200, 10_000, 'a write after the restart');
    expect(await ops(x, 'GET', '/pools/P1')).toBe(200); // from the AOF
    expect(await x.health()).toMatchObject({ redis: 'up' });
    expect(serversOn(dir)).toEqual([again]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ xline: { pid: x.pid }, redis: { pid: again } });
  }, 60_000);

  it.skipIf(!hasSetpriv)('xline SIGKILLed: its redis-server exits by itself; the next xline takes the stale lock', async () => {
    const dir = dataDir();
    const x = await xline('victim', dir);
    const redisPid = await serverPid(x);
    x.kill('SIGKILL');
    await x.exited;
    await waitUntil(() => !alive(redisPid), 10_000, `redis-server ${redisPid} to exit after its xline`);
    expect(serversOn(dir)).toEqual([]);

    const next = await xline('next', dir);
    await serverPid(next);
    expect(next.lines.some((l) => l.msg?.startsWith('redis: took over the lock of an xline that is gone') && l.xlinePid === x.pid)).toBe(true);
  }, 60_000);

  it('an orphan (left where setpriv is missing, then xline SIGKILLed) is stopped, logged, and replaced; its data is kept', async () => {
    const dir = dataDir();
    const port = String(await freePort());
    // Without setpriv on PATH nothing ties the server to xline: a real orphan.
    const noSetpriv = join(dir, '..', 'bin');
    mkdirSync(noSetpriv);
    const old = await xline('old', dir, { PATH: noSetpriv, REDIS_SERVER_BIN: findBinary('redis-server', 'REDIS_SERVER_BIN')!, EMBEDDED_REDIS_PORT: port });
    const orphan = await serverPid(old);
    expect(old.lines.some((l) => l.msg?.startsWith('redis: setpriv (util-linux) not found') && l.level === 40)).toBe(true);
    await waitUntil(async () => (await putPool(old, 'KEPT')) === 200, 10_000, 'a write');
    old.kill('SIGKILL');
    await old.exited;
    expect(alive(orphan)).toBe(true); // the defect this guards against, made on purpose

    const x = await xline('new', dir, { EMBEDDED_REDIS_PORT: port });
    const own = await serverPid(x);
    const stopped = x.lines.find((l) => l.msg?.startsWith('redis: stopping the orphaned private redis-server'));
    expect(stopped).toMatchObject({ orphanPid: orphan, xlinePid: old.pid });
    expect(own).not.toBe(orphan);
    expect(alive(orphan)).toBe(false);
    expect(serversOn(dir)).toEqual([own]);
    await waitUntil(async () => (await ops(x, 'GET', '/pools/KEPT')) === 200, 10_000, 'the orphan’s data');
  }, 60_000);

  it('refuses a data dir another live xline runs its server on (no second server there)', async () => {
    const dir = dataDir();
    const a = await xline('a', dir);
    const aRedis = await serverPid(a);
    const b = await xline('b', dir);
    expect(await outcome(b)).toBe(1);
    expect(b.output()).toContain(`is in use by xline pid ${a.pid}`);
    expect(serversOn(dir)).toEqual([aRedis]);
    expect(await a.health()).toMatchObject({ redis: 'up' });
  }, 60_000);

  it('refuses a data dir where a redis-server not started by xline answers, and leaves it running', async () => {
    const dir = dataDir();
    const stranger = await startRedisServer({ dir });
    servers.push(stranger);
    const x = await xline('x', dir);
    expect(await outcome(x)).toBe(1);
    expect(x.output()).toContain(`a redis-server not started by a running xline (pid ${stranger.process.pid}) answers on ${stranger.socket}`);
    expect(serversOn(dir)).toEqual([stranger.process.pid]);
  }, 60_000);

  it('logs the server’s own output: a port taken by another Redis is refused with "Address already in use", not used', async () => {
    const other = await startTestRedis();
    servers.push(other);
    const x = await xline('x', dataDir(), { EMBEDDED_REDIS_PORT: String(other.port) });
    expect(await outcome(x)).toBe(1);
    expect(x.output()).toMatch(/Address already in use/);
    // line by line in the log too, as the server printed them
    expect(x.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('redis-server: ') && l.msg.includes('Address already in use'))).toBe(true);
  }, 60_000);
});
