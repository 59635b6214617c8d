// `npm start` as users run it (npm → sh → node dist/main.js, the build first): a signal to
// npm, or a Ctrl-C (xline gets the terminal's SIGINT and npm's copy), stops xline through its graceful path,
// and its private redis-server with it; nothing of the tree is left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/store/embedded-redis.js';
import { LOCK_FILE } from '../../src/store/redis-data-dir-lock.js';
import { requireBinary } from '../support/binaries.js';
import { alive, processGroup, waitUntil } from '../support/processes.js';
import { hasRedis } from '../support/redis.js';

const root = resolve(import.meta.dirname, '../..');
const hasNpm = Boolean(requireBinary('npm'));

interface NpmStart {
  npm: ChildProcess;
  adminPort: number;
  dir: string;
  output: () => string;
  messages: () => string[];
  exited: Promise<number | null>;
}

const groups: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  // whatever a failing test left of its tree (npm leads its own process group)
  for (const g of groups.splice(0)) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // all gone
    }
  }
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function npmStart(): Promise<NpmStart> {
  const tmp = mkdtempSync(join(tmpdir(), 'xline-npm-start-'));
  dirs.push(tmp);
  const adminPort = await freePort();
  const dir = join(tmp, 'redis');
  // detached: npm leads a process group of its own, as in a terminal (and so it can be cleaned up)
  const npm = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      XLINE_ROLE: 'api',
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      REDIS_DATA_DIR: dir,
      EMBEDDED_REDIS_PORT: '0',
      LOG_LEVEL: 'info',
    },
  });
  groups.push(npm.pid!);
  let out = '';
  npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)));
  const messages = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => String((JSON.parse(l) as { msg?: string }).msg));
  return { npm, adminPort, dir, output: () => out, messages, exited };
}

/** Waits until xline answers; returns the pids of xline and of its redis-server (from its lock). */
async function serving(s: NpmStart): Promise<{ xline: number; redis: number }> {
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${s.adminPort}/v1/health`)).ok, 120_000, `xline to answer (output:\n${s.output()})`);
  const lock = JSON.parse(readFileSync(join(s.dir, LOCK_FILE), 'utf8')) as { xline: { pid: number }; redis: { pid: number } };
  expect(alive(lock.xline.pid) && alive(lock.redis.pid)).toBe(true);
  return { xline: lock.xline.pid, redis: lock.redis.pid };
}

async function expectAllGone(s: NpmStart, pids: { xline: number; redis: number }, signal: string): Promise<void> {
  await Promise.race([s.exited, new Promise((_, rej) => setTimeout(() => rej(new Error(`npm still running:\n${s.output()}`)), 30_000))]);
  await waitUntil(() => !alive(pids.xline) && !alive(pids.redis), 15_000, `xline ${pids.xline} and redis-server ${pids.redis} to exit`);
  const msgs = s.messages();
  // one graceful stop, not the "exit now" of a second signal
  expect(msgs.filter((m) => m === 'shutting down: draining calls')).toHaveLength(1);
  expect(msgs).not.toContain('second signal: exiting now');
  expect(msgs.at(-1)).toBe('stopped');
  expect(s.output()).toContain(`"signal":"${signal}"`);
  expect(await s.exited).toBe(0);
}

describe.skipIf(!hasRedis || !hasNpm)('npm start', () => {
  it('SIGTERM to npm: xline drains and exits 0, its redis-server with it, npm exits', async () => {
    const s = await npmStart();
    const pids = await serving(s);
    process.kill(s.npm.pid!, 'SIGTERM');
    await expectAllGone(s, pids, 'SIGTERM');
  }, 180_000);

  it('SIGINT to npm: the same', async () => {
    const s = await npmStart();
    const pids = await serving(s);
    process.kill(s.npm.pid!, 'SIGINT');
    await expectAllGone(s, pids, 'SIGINT');
  }, 180_000);

  it('Ctrl-C (SIGINT to the whole process group, and npm forwards a copy): one graceful stop', async () => {
    const s = await npmStart();
    const pids = await serving(s);
    // The terminal's SIGINT must not reach the redis-server (it would stop under a draining xline
    // and be restarted mid-drain): it leads a process group of its own. Checked where it is,
    // since the timing of a stop lost that way is not observable without a live call.
    expect(processGroup(pids.xline)).toBe(s.npm.pid);
    expect(processGroup(pids.redis)).toBe(pids.redis);
    // xline's stop is over in milliseconds and two copies sent at once may be merged by the
    // kernel: hold xline in its stop (its redis-server paused, as a live call would hold it) and
    // send npm a further SIGINT once the first is handled, so a copy certainly arrives mid-stop.
    process.kill(pids.redis, 'SIGSTOP');
    try {
      process.kill(-s.npm.pid!, 'SIGINT');
      await waitUntil(() => s.messages().includes('shutting down: draining calls'), 10_000, 'the first SIGINT handled');
      process.kill(s.npm.pid!, 'SIGINT');
      await waitUntil(
        () => s.messages().some((m) => m.startsWith('same signal again') || m.startsWith('second signal')),
        10_000,
        'the second SIGINT handled',
      );
    } finally {
      if (alive(pids.redis)) process.kill(pids.redis, 'SIGCONT');
    }
    await expectAllGone(s, pids, 'SIGINT');
  }, 180_000);
});
