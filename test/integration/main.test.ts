// The production entry point as a user starts it: private redis-server when REDIS_URL is unset,
// admin API up, clean stop on SIGTERM (child redis-server stopped with it).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/store/embedded-redis.js';
import { hasRedis } from '../support/redis.js';

const root = resolve(import.meta.dirname, '../..');
const tsx = join(root, 'node_modules/.bin/tsx');

function start(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(tsx, [join(root, 'src/main.ts')], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitFor<T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(!hasRedis)('xline main (npm start)', () => {
  it('starts a private redis-server, serves the admin API, stops cleanly on SIGTERM', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'xline-main-'));
    dirs.push(cwd);
    const [adminPort, redisPort] = [await freePort(), await freePort()];
    const p = start({ ADMIN_PORT: String(adminPort), EMBEDDED_REDIS_PORT: String(redisPort), OPS_TOKEN: 't', DRACHTIO_PORT: String(await freePort()) }, cwd);
    const health = await waitFor(async () => {
      const r = await fetch(`http://127.0.0.1:${adminPort}/v1/health`);
      return (await r.json()) as Record<string, string>;
    }, 30_000);
    expect(health).toMatchObject({ redis: 'up', sip: 'down' });

    const put = await fetch(`http://127.0.0.1:${adminPort}/v1/pools/P1`, {
      method: 'PUT',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'p', strictCity: false }),
    });
    expect(put.status).toBe(200);

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    // the private redis-server went with it, and its AOF data is in ./var/redis
    await expect(fetch(`http://127.0.0.1:${adminPort}/v1/health`)).rejects.toThrow();
    const probe = await import('node:net').then(
      (net) =>
        new Promise<boolean>((r) => {
          const s = net.connect(redisPort, '127.0.0.1');
          s.once('connect', () => (s.destroy(), r(true)));
          s.once('error', () => r(false));
        }),
    );
    expect(probe).toBe(false);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(cwd, 'var/redis/appendonlydir'))).toBe(true);
    expect(p.output()).not.toMatch(/"level":50/);
  }, 60_000);

  it('says exactly what to install when redis-server is missing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'xline-main-'));
    dirs.push(cwd);
    const p = start({ REDIS_SERVER_BIN: '/nonexistent/redis-server', ADMIN_PORT: String(await freePort()) }, cwd);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('apt-get install -y redis-server');
  }, 30_000);

  it('refuses a bad configuration, naming every bad variable', async () => {
    const p = start({ ADMIN_PORT: 'eighty', TIMEZONE: 'Nowhere/Land' }, tmpdir());
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/ADMIN_PORT/);
    expect(p.output()).toMatch(/TIMEZONE/);
  }, 30_000);
});
