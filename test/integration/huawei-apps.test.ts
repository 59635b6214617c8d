// Huawei applications through the ops REST API (/v1/huawei/apps) on a real redis-server: created
// (201) and replaced (200), read, listed and deleted; the secret is never answered; a bad body or
// an unknown pool writes nothing; the routes are in the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePool, ops, OPS_TOKEN, snapshot, startHarness, type Harness } from './api-harness.js';

describe('Huawei applications (ops REST)', () => {
  let h: Harness;
  const SECRET = 'a-long-app-secret-0001';

  beforeAll(async () => {
    h = await startHarness();
    await makePool(h.app, 'HWP', 2);
  });
  afterAll(async () => h?.stop());

  const del = async (appKey: string, token: string | null = OPS_TOKEN) => {
    const r = await h.app.inject({ method: 'DELETE', url: `/v1/huawei/apps/${appKey}`, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: r.statusCode, body: r.body };
  };

  it('creates (201), replaces (200), reads and lists an app; the secret never appears', async () => {
    const c = await ops(h.app, 'PUT', '/v1/huawei/apps/app1', { appSecret: SECRET, mode: 'AXB', poolKey: 'HWP', statusUrl: 'http://127.0.0.1:9/status' });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ appKey: 'app1', mode: 'AXB', poolKey: 'HWP', statusUrl: 'http://127.0.0.1:9/status' });
    expect(c.body.createdAt).toBeGreaterThan(1_700_000_000);
    const r = await ops(h.app, 'PUT', '/v1/huawei/apps/app1', { appSecret: SECRET + 'x', mode: 'AX', poolKey: 'HWP', feeUrl: 'https://example.test/fee' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ appKey: 'app1', mode: 'AX', feeUrl: 'https://example.test/fee', createdAt: c.body.createdAt });
    expect(r.body.statusUrl).toBeUndefined();
    const g = await ops(h.app, 'GET', '/v1/huawei/apps/app1');
    expect(g.status).toBe(200);
    expect(g.body).toEqual(r.body);
    await ops(h.app, 'PUT', '/v1/huawei/apps/app2', { appSecret: SECRET, mode: 'AXE', poolKey: 'HWP' });
    const l = await ops(h.app, 'GET', '/v1/huawei/apps');
    expect(l.body.apps.map((a: { appKey: string }) => a.appKey)).toEqual(['app1', 'app2']);
    for (const body of [c.body, r.body, g.body, l.body]) expect(JSON.stringify(body)).not.toContain(SECRET);
    // the secret is stored (the API authenticates with it)
    expect(await h.redis.hget('hwapp:{app1}', 's')).toBe(SECRET + 'x');
  });

  it('refuses a bad body, an unknown pool or no token, writing nothing', async () => {
    const before = await snapshot(h.redis);
    const bad = [
      { appSecret: 'short', mode: 'AXB', poolKey: 'HWP' },
      { appSecret: SECRET, mode: 'AXN', poolKey: 'HWP' },
      { appSecret: SECRET, mode: 'AXB' },
      { appSecret: SECRET, mode: 'AXB', poolKey: 'HWP', statusUrl: 'ftp://x' },
      { appSecret: SECRET, mode: 'AXB', poolKey: 'HWP', extra: 1 },
    ];
    for (const body of bad) expect((await ops(h.app, 'PUT', '/v1/huawei/apps/app9', body)).status, JSON.stringify(body)).toBe(400);
    expect((await ops(h.app, 'PUT', '/v1/huawei/apps/bad%20key', { appSecret: SECRET, mode: 'AXB', poolKey: 'HWP' })).status).toBe(400);
    const np = await ops(h.app, 'PUT', '/v1/huawei/apps/app9', { appSecret: SECRET, mode: 'AXB', poolKey: 'NOPE' });
    expect(np.status).toBe(404);
    expect(np.body.error.code).toBe('isv.POOLKEY_NOT_EXISTS');
    expect((await ops(h.app, 'PUT', '/v1/huawei/apps/app9', { appSecret: SECRET, mode: 'AXB', poolKey: 'HWP' }, null)).status).toBe(401);
    expect((await ops(h.app, 'GET', '/v1/huawei/apps', undefined, 'wrong')).status).toBe(401);
    expect((await del('app1', null)).status).toBe(401);
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('deletes an app (204), then 404 for it', async () => {
    await ops(h.app, 'PUT', '/v1/huawei/apps/gone', { appSecret: SECRET, mode: 'AXB', poolKey: 'HWP' });
    expect((await del('gone')).status).toBe(204);
    expect((await ops(h.app, 'GET', '/v1/huawei/apps/gone')).status).toBe(404);
    expect((await del('gone')).status).toBe(404);
    expect(await h.redis.exists('hwapp:{gone}')).toBe(0);
    const l = await ops(h.app, 'GET', '/v1/huawei/apps');
    expect(l.body.apps.map((a: { appKey: string }) => a.appKey)).not.toContain('gone');
  });

  it('is in the OpenAPI document, without any secret in its answers', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/huawei/apps', '/v1/huawei/apps/{appKey}']));
    const item = doc.paths['/v1/huawei/apps/{appKey}'];
    expect(Object.keys(item)).toEqual(expect.arrayContaining(['put', 'get', 'delete']));
    expect(JSON.stringify(item.get.responses)).not.toContain('appSecret');
  });
});
