// The POP gateway in front of every action: signature, access keys, timestamp window, nonce
// replay, version, action, format, throttling, GET and POST forms; Alibaba's codes and statuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../support/redis.js';
import { aNo, bNo, expiration, KEY_SECRET, makePool, rpc, signed, snapshot, startHarness, type Harness } from './api-harness.js';

const iso = (msAhead: number) => new Date(Date.now() + msAhead).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe.skipIf(!hasRedis)('dypls gateway', () => {
  let h: Harness;
  const POOL = 'FCGW';
  const query = () => ({ PoolKey: POOL, SubsId: '1', PhoneNoX: '17090000000' });
  const bindParams = (i: number) => ({ PoolKey: POOL, PhoneNoA: aNo(i), PhoneNoB: bNo(i), Expiration: expiration(3600) });

  beforeAll(async () => {
    h = await startHarness();
    await makePool(h.app, POOL, 10);
  });
  afterAll(async () => h?.stop());

  async function gatewayRefuses(r: { status: number; body: Record<string, any> }, status: number, code: string) {
    expect(r.body.Code, JSON.stringify(r.body)).toBe(code);
    expect(r.status).toBe(status);
    expect(r.body.RequestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(typeof r.body.Message).toBe('string');
    expect(r.body).toMatchObject({ HostId: 'xline', Recommend: expect.any(String) });
  }

  it('answers a signed GET and a signed form POST; POST also takes parameters in the query', async () => {
    expect((await rpc(h.app, 'BindAxb', bindParams(1))).body.Code).toBe('OK');
    expect((await rpc(h.app, 'BindAxb', bindParams(2), { method: 'POST' })).body.Code).toBe('OK');
    const all = signed('BindAxb', bindParams(3), { method: 'POST' });
    const { Action, Version, ...rest } = all;
    const res = await h.app.inject({
      method: 'POST',
      url: '/?' + new URLSearchParams({ Action: Action!, Version: Version! }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(rest).toString(),
    });
    expect(res.json().Code).toBe('OK');
    expect(res.headers['x-acs-request-id']).toBe(res.json().RequestId);
  });

  it('a GET signature does not verify as a POST', async () => {
    const all = signed('BindAxb', bindParams(4), { method: 'GET' });
    const res = await h.app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(all).toString(),
    });
    await gatewayRefuses({ status: res.statusCode, body: res.json() }, 400, 'SignatureDoesNotMatch');
  });

  it('refuses a wrong signature (and says what it signed), writing nothing', async () => {
    const before = await snapshot(h.redis);
    const r = await rpc(h.app, 'BindAxb', bindParams(5), { secret: 'wrong' });
    await gatewayRefuses(r, 400, 'SignatureDoesNotMatch');
    expect(r.body.Message).toContain('GET&%2F&AccessKeyId%3Dtestid');
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('refuses a tampered parameter', async () => {
    const all = signed('BindAxb', bindParams(6));
    all.PhoneNoB = bNo(66);
    const res = await h.app.inject({ method: 'GET', url: '/?' + new URLSearchParams(all).toString() });
    await gatewayRefuses({ status: res.statusCode, body: res.json() }, 400, 'SignatureDoesNotMatch');
  });

  it('verifies values that need POP encoding (space, *, ~, Chinese)', async () => {
    const r = await rpc(h.app, 'BindAxb', { ...bindParams(7), OutId: 'a b*c~d(e)!', ExpectCity: '杭州' });
    expect(r.body.Code, JSON.stringify(r.body)).toBe('OK');
    const b = await h.ctx.store.get(POOL, r.body.SecretBindDTO.SecretNo, r.body.SecretBindDTO.SubsId);
    expect(b?.outId).toBe('a b*c~d(e)!');
  });

  it('refuses an unknown AccessKeyId with 404 InvalidAccessKeyId.NotFound', async () => {
    await gatewayRefuses(await rpc(h.app, 'QuerySubscriptionDetail', query(), { accessKeyId: 'nobody' }), 404, 'InvalidAccessKeyId.NotFound');
  });

  it('accepts a second configured key with its own secret', async () => {
    const r = await rpc(h.app, 'QuerySubscriptionDetail', query(), { accessKeyId: 'other', secret: 'othersecret' });
    expect(r.body.Code).toBe('isv.SUBS_NOT_EXIST');
    expect(r.status).toBe(200);
  });

  it('refuses Timestamps more than 15 minutes off, either way', async () => {
    await gatewayRefuses(await rpc(h.app, 'QuerySubscriptionDetail', query(), { timestamp: iso(-16 * 60_000) }), 400, 'InvalidTimeStamp.Expired');
    await gatewayRefuses(await rpc(h.app, 'QuerySubscriptionDetail', query(), { timestamp: iso(16 * 60_000) }), 400, 'InvalidTimeStamp.Expired');
    const ok = await rpc(h.app, 'QuerySubscriptionDetail', query(), { timestamp: iso(-14 * 60_000) });
    expect(ok.body.Code).toBe('isv.SUBS_NOT_EXIST');
  });

  it('refuses a badly formatted Timestamp', async () => {
    await gatewayRefuses(await rpc(h.app, 'QuerySubscriptionDetail', query(), { timestamp: '2024-01-01 00:00:00' }), 400, 'InvalidTimeStamp.Format');
  });

  it('refuses a reused SignatureNonce, and the replayed bind does not run twice', async () => {
    const nonce = 'nonce-replay-1';
    const first = await rpc(h.app, 'BindAxb', bindParams(8), { nonce });
    expect(first.body.Code).toBe('OK');
    const before = await snapshot(h.redis);
    const again = await rpc(h.app, 'BindAxb', bindParams(9), { nonce });
    await gatewayRefuses(again, 400, 'SignatureNonceUsed');
    expect(await snapshot(h.redis)).toEqual(before);
    // nonces are per AccessKeyId
    const other = await rpc(h.app, 'QuerySubscriptionDetail', query(), { nonce, accessKeyId: 'other', secret: 'othersecret' });
    expect(other.body.Code).toBe('isv.SUBS_NOT_EXIST');
  });

  it('a bind refused before it reached Redis has used its SignatureNonce all the same', async () => {
    const nonce = 'nonce-replay-2';
    const first = await rpc(h.app, 'BindAxb', { ...bindParams(10), Expiration: expiration(-3600) }, { nonce });
    expect(first.body.Code).toBe('isv.EXPIRE_DATE_ILLEGAL');
    const before = await snapshot(h.redis);
    await gatewayRefuses(await rpc(h.app, 'BindAxb', bindParams(11), { nonce }), 400, 'SignatureNonceUsed');
    expect(await snapshot(h.redis)).toEqual(before);
    // and so has one refused by the bind script itself (PhoneNoX already taken by A)
    const ok = await rpc(h.app, 'BindAxb', bindParams(12));
    const x = ok.body.SecretBindDTO.SecretNo;
    const conflict = await rpc(h.app, 'BindAxb', { ...bindParams(13), PhoneNoA: aNo(12), PhoneNoX: x }, { nonce: 'nonce-replay-3' });
    expect(conflict.body.Code).toBe('isv.BIND_CONFLICT');
    await gatewayRefuses(await rpc(h.app, 'BindAxb', bindParams(14), { nonce: 'nonce-replay-3' }), 400, 'SignatureNonceUsed');
  });

  it('keeps a nonce only until its Timestamp leaves the 15-minute window (plus a minute)', async () => {
    const ttl = (nonce: string) => (h.redis as import('ioredis').Redis).ttl(`nonce:dypls:testid:${nonce}`);
    // a bind (nonce claimed in the bind script) and a query (claimed by the gateway)
    expect((await rpc(h.app, 'BindAxb', bindParams(15), { nonce: 'ttl-now' })).body.Code).toBe('OK');
    expect((await rpc(h.app, 'QuerySubscriptionDetail', query(), { nonce: 'ttl-old', timestamp: iso(-14 * 60_000) })).body.Code).toBe('isv.SUBS_NOT_EXIST');
    expect((await rpc(h.app, 'QuerySubscriptionDetail', query(), { nonce: 'ttl-ahead', timestamp: iso(14 * 60_000) })).body.Code).toBe('isv.SUBS_NOT_EXIST');
    const now = await ttl('ttl-now');
    expect(now).toBeGreaterThan(15 * 60);
    expect(now).toBeLessThanOrEqual(16 * 60);
    const old = await ttl('ttl-old');
    expect(old).toBeGreaterThan(60);
    expect(old).toBeLessThanOrEqual(2 * 60);
    const ahead = await ttl('ttl-ahead');
    expect(ahead).toBeGreaterThan(29 * 60);
    expect(ahead).toBeLessThanOrEqual(31 * 60);
  });

  it.each(['AccessKeyId', 'Signature', 'SignatureNonce', 'Timestamp', 'SignatureMethod', 'SignatureVersion', 'Version', 'Action'])(
    'refuses a request without %s (Missing…, 400)',
    async (name) => {
      const all = signed('QuerySubscriptionDetail', query(), { override: name === 'Signature' ? {} : { [name]: undefined } });
      if (name === 'Signature') delete all.Signature;
      const res = await h.app.inject({ method: 'GET', url: '/?' + new URLSearchParams(all).toString() });
      await gatewayRefuses({ status: res.statusCode, body: res.json() }, 400, `Missing${name}`);
    },
  );

  it('refuses another SignatureMethod', async () => {
    await gatewayRefuses(
      await rpc(h.app, 'QuerySubscriptionDetail', query(), { override: { SignatureMethod: 'HMAC-SHA256' } }),
      400,
      'IncompleteSignature',
    );
  });

  it('refuses an unknown Action with 404 InvalidAction.NotFound and another Version with InvalidVersion', async () => {
    await gatewayRefuses(await rpc(h.app, 'BindAxg', query()), 404, 'InvalidAction.NotFound');
    await gatewayRefuses(await rpc(h.app, 'bindaxb', query()), 404, 'InvalidAction.NotFound');
    await gatewayRefuses(await rpc(h.app, 'BindAxb', bindParams(10), { version: '2020-01-01' }), 400, 'InvalidVersion');
  });

  it('refuses Format=XML clearly; accepts Format=json', async () => {
    await gatewayRefuses(await rpc(h.app, 'QuerySubscriptionDetail', query(), { override: { Format: 'XML' } }), 400, 'InvalidParameter.Format');
    const r = await rpc(h.app, 'QuerySubscriptionDetail', query(), { override: { Format: 'json' } });
    expect(r.body.Code).toBe('isv.SUBS_NOT_EXIST');
  });

  it('refuses a parameter given twice', async () => {
    const all = signed('QuerySubscriptionDetail', query());
    const res = await h.app.inject({ method: 'GET', url: '/?' + new URLSearchParams(all).toString() + '&SubsId=2' });
    await gatewayRefuses({ status: res.statusCode, body: res.json() }, 400, 'InvalidParameter');
  });

  it('answers unknown paths, methods and bodies in the gateway format, never fastify defaults', async () => {
    const notFound = await h.app.inject({ method: 'GET', url: '/nope' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toMatchObject({ Code: 'InvalidAction.NotFound' });
    const put = await h.app.inject({ method: 'PUT', url: '/' });
    expect(put.statusCode).toBe(404);
    expect(put.json().Code).toBeDefined();
    const json = await h.app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, payload: '{"Action":"BindAxb"}' });
    // POP takes form bodies only; a JSON body carries no signature the gateway accepts
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ Code: 'MissingAccessKeyId' });
    const xml = await h.app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'text/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json()).toMatchObject({ Code: 'InvalidParameter' });
    const big = await h.app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'OutId=' + 'x'.repeat(3 * 1024 * 1024),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ Code: 'RequestEntityTooLarge' });
  });

  it('throttles one AccessKeyId beyond API_RATE_LIMIT (Throttling.User) and not the others', async () => {
    const t = await startHarness({ API_RATE_LIMIT: '5' });
    try {
      const answers = await Promise.all(Array.from({ length: 12 }, () => rpc(t.app, 'QuerySubscriptionDetail', query())));
      const throttled = answers.filter((r) => r.body.Code === 'Throttling.User');
      expect(throttled.length).toBeGreaterThanOrEqual(6);
      expect(throttled.every((r) => r.status === 400)).toBe(true);
      const other = await rpc(t.app, 'QuerySubscriptionDetail', query(), { accessKeyId: 'other', secret: 'othersecret' });
      expect(other.body.Code).toBe('isv.SUBS_NOT_EXIST');
    } finally {
      await t.stop();
    }
  });

  it('with ACCESS_KEYS unset, refuses every request', async () => {
    const t = await startHarness({ ACCESS_KEYS: '' });
    try {
      const r = await rpc(t.app, 'QuerySubscriptionDetail', query(), { secret: KEY_SECRET });
      await gatewayRefuses(r, 403, 'Forbidden.AccessKeyDisabled');
      expect(r.body.Message).toContain('ACCESS_KEYS');
    } finally {
      await t.stop();
    }
  });

  it('counts requests by action and code in /metrics', async () => {
    const m = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.body).toMatch(/xline_api_requests_total\{action="BindAxb",code="OK"\} \d+/);
    expect(m.body).toMatch(/xline_api_requests_total\{action="unknown",code="SignatureDoesNotMatch"\} \d+/);
    expect(m.body).toMatch(/xline_api_request_duration_seconds_bucket\{le="0.005",action="BindAxb"\} \d+/);
  });
});
