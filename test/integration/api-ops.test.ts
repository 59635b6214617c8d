// The ops REST API (/v1): bearer token, pools, numbers, inventory, health, metrics, OpenAPI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../support/redis.js';
import { ops, OPS_TOKEN, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

describe.skipIf(!hasRedis)('ops REST API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('requires the bearer token on /v1 except /v1/health and /v1/openapi.json', async () => {
    for (const token of [null, 'wrong']) {
      const r = await ops(h.app, 'GET', '/v1/pools', undefined, token);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    }
    const put = await ops(h.app, 'PUT', '/v1/pools/P', { name: 'x' }, null);
    expect(put.status).toBe(401);
    expect((await ops(h.app, 'GET', '/v1/pools')).status).toBe(200);
    expect((await ops(h.app, 'GET', '/v1/health', undefined, null)).status).toBe(200);
    expect((await ops(h.app, 'GET', '/v1/openapi.json', undefined, null)).status).toBe(200);
  });

  it('with OPS_TOKEN unset refuses everything but health', async () => {
    const t = await startHarness({ OPS_TOKEN: '' });
    try {
      const r = await ops(t.app, 'GET', '/v1/pools', undefined, OPS_TOKEN);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('OPS_DISABLED');
      expect((await ops(t.app, 'POST', '/v1/numbers', { numbers: [{ number: xNo(1), city: 'a' }] }, OPS_TOKEN)).status).toBe(403);
      expect((await ops(t.app, 'GET', '/v1/health', undefined, null)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });

  it('creates, updates, lists and counts pools', async () => {
    const created = await ops(h.app, 'PUT', '/v1/pools/FC_OPS', { name: 'ops pool', strictCity: true, ringConfig: { AXBRing_A: '9' } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ poolKey: 'FC_OPS', name: 'ops pool', strictCity: true, numbers: 0, bindings: 0 });
    const add = await ops(h.app, 'POST', '/v1/pools/FC_OPS/numbers', {
      numbers: [
        { number: xNo(1), city: '杭州' },
        { number: '+86' + xNo(2), city: '杭州' },
        { number: xNo(3), city: '北京' },
      ],
    });
    expect(add.status).toBe(200);
    expect(add.body).toEqual({ added: 3, existing: 0, conflicts: [] });
    const again = await ops(h.app, 'POST', '/v1/pools/FC_OPS/numbers', { numbers: [{ number: xNo(1), city: '杭州' }] });
    expect(again.body).toEqual({ added: 0, existing: 1, conflicts: [] });
    const updated = await ops(h.app, 'PUT', '/v1/pools/FC_OPS', { name: 'renamed' });
    expect(updated.body).toMatchObject({ name: 'renamed', strictCity: false });
    const got = await ops(h.app, 'GET', '/v1/pools/FC_OPS');
    expect(got.body).toMatchObject({ poolKey: 'FC_OPS', numbers: 3, numbersInUse: 0, bindings: 0, byCity: { 杭州: 2, 北京: 1 } });
    const list = await ops(h.app, 'GET', '/v1/pools');
    expect(list.body.pools).toContain('FC_OPS');
  });

  it('pool numbers may carry an area code (Huawei areaCode), 755 gaining its 0; inventory numbers may not', async () => {
    await ops(h.app, 'PUT', '/v1/pools/FC_AREA', { name: 'areas' });
    const r = await ops(h.app, 'POST', '/v1/pools/FC_AREA/numbers', {
      numbers: [
        { number: xNo(40), city: '深圳', areaCode: '0755' },
        { number: xNo(41), city: '深圳', areaCode: '755' },
        { number: xNo(42), city: '北京' },
      ],
    });
    expect(r.body).toEqual({ added: 3, existing: 0, conflicts: [] });
    expect(await h.redis.hget(`x:{${xNo(40)}}`, 'ac')).toBe('0755');
    expect(await h.redis.hget(`x:{${xNo(41)}}`, 'ac')).toBe('0755');
    expect(await h.redis.hget(`x:{${xNo(42)}}`, 'ac')).toBeNull();
    expect((await ops(h.app, 'GET', '/v1/pools/FC_AREA')).body).toMatchObject({ numbers: 3, byCity: { 深圳: 2, 北京: 1 }, byAreaCode: { '0755': 2 } });
    const before = await snapshot(h.redis);
    for (const areaCode of ['07a5', '7', '012345678', '']) {
      const bad = await ops(h.app, 'POST', '/v1/pools/FC_AREA/numbers', { numbers: [{ number: xNo(43), city: '深圳', areaCode }] });
      expect(bad.status, areaCode).toBe(400);
      expect(bad.body.error.code).toBe('INVALID_REQUEST');
    }
    const inv = await ops(h.app, 'POST', '/v1/numbers', { numbers: [{ number: xNo(44), city: '深圳', areaCode: '0755' }] });
    expect(inv.status).toBe(400);
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('reports numbers already in another pool as conflicts, without moving them', async () => {
    await ops(h.app, 'PUT', '/v1/pools/FC_OPS2', { name: 'second' });
    const r = await ops(h.app, 'POST', '/v1/pools/FC_OPS2/numbers', { numbers: [{ number: xNo(3), city: '北京' }, { number: xNo(4), city: '北京' }] });
    expect(r.body).toEqual({ added: 1, existing: 0, conflicts: [xNo(3)] });
    expect((await ops(h.app, 'GET', '/v1/pools/FC_OPS')).body.numbers).toBe(3);
  });

  it.each([
    ['PUT', '/v1/pools/FC_BAD', { strictCity: true }, 400, 'INVALID_REQUEST'],
    ['PUT', '/v1/pools/FC_BAD', { name: '' }, 400, 'INVALID_REQUEST'],
    ['PUT', '/v1/pools/bad%20key', { name: 'x' }, 400, 'INVALID_REQUEST'],
    ['PUT', '/v1/pools/FC_BAD', { name: 'x', ringConfig: { Nope: '1' } }, 400, 'INVALID_REQUEST'],
    ['GET', '/v1/pools/FC_MISSING', undefined, 404, 'NOT_FOUND'],
    ['POST', '/v1/pools/FC_OPS/numbers', { numbers: [] }, 400, 'INVALID_REQUEST'],
    ['POST', '/v1/pools/FC_OPS/numbers', { numbers: [{ number: xNo(9) }] }, 400, 'INVALID_REQUEST'],
    ['POST', '/v1/pools/FC_OPS/numbers', { numbers: [{ number: xNo(9), city: '杭州' }, { number: 'abc', city: '杭州' }] }, 400, 'isv.MOBILE_NUMBER_ILLEGAL'],
    ['POST', '/v1/pools/FC_MISSING/numbers', { numbers: [{ number: xNo(9), city: '杭州' }] }, 404, 'isv.POOLKEY_NOT_EXISTS'],
    ['POST', '/v1/numbers', { numbers: [{ number: '1', city: '杭州' }] }, 400, 'isv.MOBILE_NUMBER_ILLEGAL'],
    ['POST', '/v1/numbers', 'not json', 415, 'INVALID_REQUEST'],
    ['GET', '/v1/nothing-here', undefined, 404, 'NOT_FOUND'],
  ] as const)('%s %s %j → %i %s, nothing written', async (method, url, payload, status, code) => {
    const before = await snapshot(h.redis);
    const r = await ops(h.app, method, url, payload);
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('refuses malformed JSON with 400 in the ops format', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: { authorization: `Bearer ${OPS_TOKEN}`, 'content-type': 'application/json' },
      payload: '{"numbers": [',
    });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.any(String) } });
  });

  it('imports inventory', async () => {
    const r = await ops(h.app, 'POST', '/v1/numbers', { numbers: [{ number: xNo(700), city: '深圳' }, { number: xNo(1), city: '深圳' }] });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ added: 1, existing: 0, conflicts: [xNo(1)] });
    expect(await h.ctx.store.countInventory('深圳')).toBe(1);
  });

  it('health follows Redis, SIP and media', async () => {
    h.health.sip = false;
    h.health.media = false;
    let r = await ops(h.app, 'GET', '/v1/health', undefined, null);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'degraded', redis: 'up', sip: 'down', media: 'down' });
    h.health.sip = true;
    h.health.media = true;
    r = await ops(h.app, 'GET', '/v1/health', undefined, null);
    expect(r.body).toEqual({ status: 'ok', redis: 'up', sip: 'up', media: 'up' });
  });

  it('health shows the media relay only when one is configured, and is degraded while it does not answer', async () => {
    h.health.sip = true;
    h.health.media = true;
    try {
      h.health.relay = false;
      let r = await ops(h.app, 'GET', '/v1/health', undefined, null);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 'degraded', redis: 'up', sip: 'up', media: 'up', relay: 'down' });
      h.health.relay = true;
      r = await ops(h.app, 'GET', '/v1/health', undefined, null);
      expect(r.body).toEqual({ status: 'ok', redis: 'up', sip: 'up', media: 'up', relay: 'up' });
    } finally {
      delete h.health.relay;
    }
  });

  it('serves Prometheus text with API metrics', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain');
    expect(r.body).toContain('xline_process_cpu_user_seconds_total');
    expect(r.body).toMatch(/xline_ops_requests_total\{route="\/v1\/pools\/:poolKey",status="200"\} \d+/);
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const r = await ops(h.app, 'GET', '/v1/openapi.json', undefined, null);
    expect(r.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(r.body.paths);
    for (const p of ['/v1/pools/{poolKey}', '/v1/pools/{poolKey}/numbers', '/v1/pools', '/v1/numbers', '/v1/health', '/metrics']) {
      expect(paths).toContain(p);
    }
    expect(r.body.paths['/v1/pools/{poolKey}'].put.requestBody.content['application/json'].schema.required).toEqual(['name']);
    expect(r.body.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });
});
