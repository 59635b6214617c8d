// Input the admin API refuses cleanly, with a 4xx in the API's own format, nothing written and
// nothing alarming logged: text that is not text (a lone UTF-16 surrogate, bytes that are not
// UTF-8), more than 1,000 parameters, numbers and Timestamps that only look right. And slow
// clients: a request whose body never finishes is answered 408 and closed at its deadline (API
// bodies, and ring-tone uploads with their own, longer one) while the listener keeps serving.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../support/redis.js';
import { aNo, bNo, expiration, makePool, ops, OPS_TOKEN, rpc, signed, silentWav, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** Log lines at warn or above, or carrying a stack: what an operator would be alarmed by. */
function alarming(lines: string[]): string[] {
  return lines.filter((l) => {
    const o = JSON.parse(l) as { level: number };
    return o.level >= 40 || l.includes('"stack"');
  });
}

describe.skipIf(!hasRedis)('admin API: input that is not text, too many parameters, look-alike values', () => {
  let h: Harness;
  const lines: string[] = [];
  beforeAll(async () => {
    h = await startHarness({ LOG_LEVEL: 'info' }, {}, { logDestination: { write: (s: string) => void lines.push(s) } });
    await makePool(h.app, 'INPUT', 3);
  });
  afterAll(async () => h?.stop());

  const bindParams = () => ({ PoolKey: 'INPUT', PhoneNoA: aNo(1), PhoneNoB: bNo(1), Expiration: expiration(3600) });

  it('a signed JSON body with a lone surrogate ("P\\ud800") is 400 InvalidParameter: no isp.SYSTEM_ERROR, no stack, nothing written', async () => {
    const before = await snapshot(h.redis);
    lines.length = 0;
    const all = signed('BindAxb', bindParams(), { method: 'POST' });
    const json = JSON.stringify(all).replace('"PoolKey":"INPUT"', '"PoolKey":"INPUT\\ud800"');
    expect(json).toContain('\\ud800');
    const res = await h.app.inject({ method: 'POST', url: '/', headers: JSON_TYPE, payload: json });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('surrogate') });
    expect(alarming(lines)).toEqual([]);
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('percent-escapes that are not UTF-8 (%ED%A0%80 is a lone surrogate, %FF no character) are 400 InvalidParameter in a form body and in a query', async () => {
    const before = await snapshot(h.redis);
    lines.length = 0;
    for (const bad of ['%ED%A0%80', '%FF']) {
      const qs = new URLSearchParams(signed('BindAxb', bindParams(), { method: 'POST' })).toString().replace('PoolKey=INPUT', `PoolKey=INPUT${bad}`);
      const post = await h.app.inject({ method: 'POST', url: '/', headers: FORM, payload: qs });
      expect(post.statusCode).toBe(400);
      expect(post.json()).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('UTF-8') });
      const get = await h.app.inject({ method: 'GET', url: '/?' + qs });
      expect(get.statusCode).toBe(400);
      expect(get.json()).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('UTF-8') });
    }
    // raw bytes that are not UTF-8 in a form body
    const raw = Buffer.concat([Buffer.from(new URLSearchParams(signed('BindAxb', bindParams(), { method: 'POST' })).toString() + '&OutId='), Buffer.from([0xed, 0xa0, 0x80])]);
    const res = await h.app.inject({ method: 'POST', url: '/', headers: FORM, payload: raw });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ Code: 'InvalidParameter' });
    expect(alarming(lines)).toEqual([]);
    expect(await snapshot(h.redis)).toEqual(before);
    // Chinese, correctly encoded, still verifies and reaches the action, by POST and GET
    for (const method of ['POST', 'GET'] as const) {
      const ok = await rpc(h.app, 'BindAxb', { ...bindParams(), PhoneNoA: aNo(method === 'GET' ? 3 : 2), ExpectCity: '杭州' }, { method });
      expect(ok.body.Code).toBe('OK');
    }
  });

  it('ops REST: a lone surrogate in a JSON body is 400 INVALID_REQUEST and nothing is stored; a surrogate pair (an emoji) is text', async () => {
    lines.length = 0;
    const bad = await h.app.inject({
      method: 'PUT',
      url: '/v1/pools/SURR',
      headers: { ...JSON_TYPE, authorization: `Bearer ${OPS_TOKEN}` },
      payload: '{"name":"x\\udc00","strictCity":false}',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.stringContaining('surrogate') } });
    expect((await ops(h.app, 'GET', '/v1/pools/SURR')).status).toBe(404);
    const city = await h.app.inject({
      method: 'POST',
      url: '/v1/pools/INPUT/numbers',
      headers: { ...JSON_TYPE, authorization: `Bearer ${OPS_TOKEN}` },
      payload: `{"numbers":[{"number":"${xNo(90)}","city":"\\ud800"}]}`,
    });
    expect(city.statusCode).toBe(400);
    const emoji = await h.app.inject({
      method: 'PUT',
      url: '/v1/pools/SURR',
      headers: { ...JSON_TYPE, authorization: `Bearer ${OPS_TOKEN}` },
      payload: '{"name":"x\\ud83d\\ude00","strictCity":false}',
    });
    expect(emoji.statusCode).toBe(200);
    expect(emoji.json().name).toBe('x😀');
    expect(alarming(lines)).toEqual([]);
  });

  it('a path that is not percent-encoded UTF-8 is 400 in the API format, not fastify default body', async () => {
    const o = await h.app.inject({ method: 'GET', url: '/v1/pools/P%ED%A0%80', headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    expect(o.statusCode).toBe(400);
    expect(o.json()).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.any(String) } });
    const d = await h.app.inject({ method: 'GET', url: '/%FF?Action=BindAxb' });
    expect(d.statusCode).toBe(400);
    expect(d.json()).toMatchObject({ Code: 'InvalidParameter' });
  });

  it('more than 1,000 parameters are refused 400 InvalidParameter (form body and query), not cut to the first 1,000', async () => {
    const before = await snapshot(h.redis);
    // The signed parameters come last: cut at 1,000, the request lost its Signature.
    const extra = Array.from({ length: 1000 }, (_, i) => `X${i}=1`).join('&');
    const qs = extra + '&' + new URLSearchParams(signed('BindAxb', bindParams(), { method: 'POST' })).toString();
    const post = await h.app.inject({ method: 'POST', url: '/', headers: FORM, payload: qs });
    expect(post.statusCode).toBe(400);
    expect(post.json()).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('more than 1000 parameters') });
    const get = await h.app.inject({ method: 'GET', url: '/?' + qs });
    expect(get.statusCode).toBe(400);
    expect(get.json()).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('more than 1000 parameters') });
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('a number with a leading sign ("-13800000222") is isv.MOBILE_NUMBER_ILLEGAL, not bound as 13800000222', async () => {
    const before = await snapshot(h.redis);
    for (const PhoneNoA of ['-13800000222', '13800000222-', '+-8613800000222']) {
      const r = await rpc(h.app, 'BindAxb', { ...bindParams(), PhoneNoA });
      expect(r.body.Code).toBe('isv.MOBILE_NUMBER_ILLEGAL');
    }
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('a Timestamp on a day its month does not have (2026-02-31) is InvalidTimeStamp.Format', async () => {
    for (const timestamp of ['2026-02-31T00:00:00Z', '2027-04-31T08:00:00Z']) {
      const r = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: 'INPUT', SubsId: '1' }, { timestamp });
      expect(r.status).toBe(400);
      expect(r.body.Code).toBe('InvalidTimeStamp.Format');
    }
  });
});

interface Stalled {
  socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<string>;
}

/** Opens a connection, sends `head` (maybe nothing) and then nothing more. */
function stall(port: number, head: string | Buffer): Stalled {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {}); // a reset is a close too
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks).toString())));
  if (head.length) socket.write(head);
  return { socket, closed };
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0);
}

function bodyOf(answer: string): any {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
}


describe.skipIf(!hasRedis)('admin API: slow clients', () => {
  const API_MS = 1000;
  const UPLOAD_MS = 5000;
  let h: Harness;
  let port: number;
  let base: string;
  const open: Socket[] = [];
  const lines: string[] = [];
  beforeAll(async () => {
    h = await startHarness(
      { LOG_LEVEL: 'info', ADMIN_REQUEST_TIMEOUT_MS: String(API_MS), RING_TONE_UPLOAD_TIMEOUT_MS: String(UPLOAD_MS) },
      {},
      { logDestination: { write: (s: string) => void lines.push(s) } },
    );
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(base).port);
  });
  afterAll(async () => {
    for (const s of open) s.destroy();
    await h?.stop();
  });
  const track = (s: Stalled) => (open.push(s.socket), s);

  it('a POST / whose body stalls is answered 408 RequestTimeout and closed, while the listener keeps answering', async () => {
    const qs = new URLSearchParams(signed('QuerySubscriptionDetail', { PoolKey: 'X', SubsId: '1' }, { method: 'POST' })).toString();
    const s = track(stall(port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${qs.length + 50}\r\n\r\n${qs}`));
    // served meanwhile, on other connections
    const health = await fetch(`${base}/v1/health`);
    expect(health.status).toBe(200);
    const query = await fetch(`${base}/?${new URLSearchParams(signed('QuerySubscriptionDetail', { PoolKey: 'X', SubsId: '1', PhoneNoX: xNo(0) })).toString()}`);
    expect(((await query.json()) as { Code: string }).Code).toBe('isv.SUBS_NOT_EXIST');
    const answer = await s.closed;
    expect(statusOf(answer)).toBe(408);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(bodyOf(answer)).toMatchObject({ Code: 'RequestTimeout' });
  });

  it('three hundred clients stalling their bodies (dypls and ops) all get 408 and are closed; other requests are answered meanwhile', async () => {
    lines.length = 0;
    const stalled: Stalled[] = [];
    for (let i = 0; i < 300; i++) {
      stalled.push(
        track(
          i % 2
            ? stall(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nAction=Bi')
            : stall(port, `POST /v1/numbers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPS_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"numbers":[`),
        ),
      );
    }
    const pools = await fetch(`${base}/v1/pools`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    expect(pools.status).toBe(200);
    const answers = await Promise.all(stalled.map((s) => s.closed));
    expect(answers.map(statusOf)).toEqual(answers.map(() => 408));
    expect(bodyOf(answers[0]!)).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: expect.any(String) } });
    expect(bodyOf(answers[1]!)).toMatchObject({ Code: 'RequestTimeout' });
    expect((await fetch(`${base}/v1/health`)).status).toBe(200);
    expect(alarming(lines)).toEqual([]);
  });

  it('a connection that sends nothing, or half its headers, is answered 408 and closed', async () => {
    const nothing = track(stall(port, ''));
    const half = track(stall(port, 'POST / HTTP/1.1\r\nHost: x\r\n'));
    for (const answer of await Promise.all([nothing.closed, half.closed])) {
      expect(statusOf(answer)).toBe(408);
      expect(bodyOf(answer)).toMatchObject({ Code: 'RequestTimeout', error: { code: 'REQUEST_TIMEOUT' } });
    }
  });

  it('a ring-tone upload slower than the API deadline but within RING_TONE_UPLOAD_TIMEOUT_MS is stored; one that stalls gets 408', async () => {
    const tone = silentWav(2);
    const head = (id: string) =>
      `PUT /v1/ring-tones/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPS_TOKEN}\r\nContent-Type: audio/wav\r\nContent-Length: ${tone.length}\r\nConnection: close\r\n\r\n`;
    // four pieces, 0.6 × API_MS apart: the whole body takes 1.8 times the API deadline
    const slow = track(stall(port, head('slowtone')));
    const pieces = 4;
    const size = Math.ceil(tone.length / pieces);
    for (let i = 0; i < pieces; i++) {
      if (i) await new Promise((r) => setTimeout(r, API_MS * 0.6));
      slow.socket.write(tone.subarray(i * size, (i + 1) * size));
    }
    const stored = await slow.closed;
    expect(statusOf(stored)).toBe(201);
    expect(bodyOf(stored)).toMatchObject({ id: 'slowtone', bytes: tone.length });

    const stuck = track(stall(port, Buffer.concat([Buffer.from(head('stucktone')), tone.subarray(0, 1000)])));
    const answer = await stuck.closed;
    expect(statusOf(answer)).toBe(408);
    expect(bodyOf(answer)).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: expect.any(String) } });
    const list = await ops(h.app, 'GET', '/v1/ring-tones');
    expect(list.body.ringTones.map((t: { id: string }) => t.id)).toContain('slowtone');
    expect(list.body.ringTones.map((t: { id: string }) => t.id)).not.toContain('stucktone');
  }, 60_000);
});

describe.skipIf(!hasRedis)('admin API: ADMIN_MAX_CONNECTIONS', () => {
  it('closes connections beyond the limit at once and counts them; the slots free up again', async () => {
    const h = await startHarness({ ADMIN_MAX_CONNECTIONS: '3' });
    const base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(base).port);
    const held = [stall(port, ''), stall(port, ''), stall(port, '')];
    try {
      await Promise.all(held.map((s) => new Promise((r) => s.socket.once('connect', r))));
      // the server accepts the fourth only to close it, without an answer
      const extra = stall(port, 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await extra.closed).toBe('');
    } finally {
      for (const s of held) s.socket.destroy();
    }
    await Promise.all(held.map((s) => s.closed));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^xline_api_connections_dropped_total 1$/m);
    await h.stop();
  });
});
