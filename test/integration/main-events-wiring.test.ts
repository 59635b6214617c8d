// The events side of the admin API as src/main.ts wires it, in a real xline process on a real
// Redis: GET /v1/cdrs, the dead-letter routes (events its own delivery worker gave up on) and the
// dypls QueryCallStatus action. The call's events and CDR are written through the real events
// pipeline, as the SIP side of another instance would write them (test/sip/process-roles.test.ts
// does the same with a real call through drachtio-server).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEventPipeline, type EventPipeline } from '../../src/events/pipeline.js';
import { createLogger } from '../../src/log.js';
import { freePort, type RedisChild } from '../../src/store/embedded-redis.js';
import { hasRedis, startTestRedis } from '../support/redis.js';
import { startXlineProcess, type XlineProcess } from '../support/xline-process.js';
import { eventually, expirationIn, makePoolVia, xlineHttp, type XlineHttp } from '../support/xline-http.js';
import { startReceiver, type Receiver } from './events-receiver.js';
import { oneCall } from './events-fixtures.js';

const KEY = { accessKeyId: 'wiring', accessKeySecret: 'wiring-secret', opsToken: 'wiring-ops' };
const X = '17090001234';
const A = '13800001234';
const B = '13900001234';

describe.skipIf(!hasRedis)('main.ts wiring of /v1/cdrs, dead letters and QueryCallStatus (real process)', () => {
  let server: RedisChild;
  let redis: Redis;
  let receiver: Receiver;
  let x: XlineProcess;
  let http: XlineHttp;
  let writer: EventPipeline;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xline-wiring-'));
    server = await startTestRedis();
    redis = new Redis(server.url);
    receiver = await startReceiver();
    receiver.answer = () => 500; // until the test says otherwise: everything is dead-lettered
    const webhook = {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: 'wiring-hook',
      WEBHOOK_RETRY_SCHEDULE: '200ms,200ms',
      WEBHOOK_TIMEOUT_MS: '1500',
      WEBHOOK_CLAIM_IDLE_MS: '4500',
    };
    x = await startXlineProcess('wiring', {
      REDIS_URL: server.url,
      ACCESS_KEYS: `${KEY.accessKeyId}:${KEY.accessKeySecret}`,
      OPS_TOKEN: KEY.opsToken,
      // no drachtio-server or FreeSWITCH here: closed ports
      DRACHTIO_PORT: String(await freePort()),
      FREESWITCH_PORT: String(await freePort()),
      EVENT_SPOOL_DIR: join(dir, 'spool'),
      ...webhook,
    });
    http = xlineHttp(x.adminPort, KEY);
    await eventually(async () => ((await x.health()).redis === 'up' ? true : undefined), 30_000, 'xline up with Redis').catch((e: Error) => {
      throw new Error(`${e.message}\n${x.output().slice(-3000)}`);
    });
    // The SIP side of "another instance": the real pipeline (queueing for the webhook), not started.
    writer = createEventPipeline({
      redis,
      config: loadConfig({ ...webhook, EVENT_SPOOL_DIR: join(dir, 'writer-spool'), LOG_LEVEL: 'silent' }),
      log: createLogger('silent'),
      metrics: new Registry(),
    });
  }, 60_000);

  afterAll(async () => {
    await x?.stop(5000);
    await receiver?.close();
    redis?.disconnect();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('QueryCallStatus follows the call, /v1/cdrs lists its CDR, and its undelivered events are dead letters that can be re-sent', async () => {
    await makePoolVia(http, 'WIRING', [X]);
    const bind = await http.dypls('BindAxb', { PoolKey: 'WIRING', PhoneNoA: A, PhoneNoB: B, PhoneNoX: X, Expiration: expirationIn(3600) });
    expect(bind.body, JSON.stringify(bind.body)).toMatchObject({ Code: 'OK', SecretBindDTO: { SecretNo: X } });
    const subsId = String(bind.body.SecretBindDTO.SubsId);
    const status = async () => {
      const r = await http.dypls('QueryCallStatus', { PoolKey: 'WIRING', SubsId: subsId });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.Code, JSON.stringify(r.body)).toBe('OK');
      return r.body.SecretCallStatusDTO as Record<string, unknown>;
    };
    expect(await status()).toMatchObject({ Status: 1, CalledNo: X, CallState: 'IDLE', LiveCalls: 0 });

    const callId = `wiring-${Date.now()}@127.0.0.1`;
    const call = oneCall(callId, subsId);
    const parties = { pool_key: 'WIRING', secret_no: X, phone_no: A, peer_no: B };
    const [start, ring, answer, hangup] = call.events.map((e) => ({ ...e, ...parties }));
    await writer.sink.event(start!);
    await writer.sink.event(ring!);
    expect(await status()).toMatchObject({ CallState: 'RINGING', CallId: callId, LiveCalls: 1 });
    await writer.sink.event(answer!);
    expect(await status()).toMatchObject({ CallState: 'TALKING', CallId: callId, LiveCalls: 1 });
    await writer.sink.event(hangup!);
    await writer.sink.cdr({ ...call.cdr, ...parties, called_display_no: X });
    expect(await status()).toMatchObject({ CallState: 'IDLE', LiveCalls: 0 });

    const bySub = await http.ops('GET', `/v1/cdrs?sub_id=${subsId}`);
    expect(bySub.status, JSON.stringify(bySub.body)).toBe(200);
    expect(bySub.body.items).toHaveLength(1);
    expect(bySub.body.items[0]).toMatchObject({ call_id: callId, sub_id: subsId, secret_no: X, phone_no: A, peer_no: B, release_cause: 16 });
    const byCall = await http.ops('GET', `/v1/cdrs?call_id=${encodeURIComponent(callId)}`);
    expect(byCall.body.items.map((r: { call_id: string }) => r.call_id)).toEqual([callId]);

    // The process's delivery worker tried each event 3 times (500), then dead-lettered it.
    const ids = ['start', 'ring', 'answer', 'hangup', 'cdr'].map((t) => `${callId}:${t}`).sort();
    const stats = await eventually(
      async () => {
        const s = await http.ops('GET', '/v1/events/stats');
        return s.body.dead === ids.length ? s.body : undefined;
      },
      20_000,
      'five dead letters',
    );
    expect(stats).toMatchObject({ queued: 0, dead: 5 });
    expect(receiver.got.filter((g) => g.id === ids[0])).toHaveLength(3);
    const dead = await http.ops('GET', '/v1/events/dead-letter?limit=100');
    expect(dead.status).toBe(200);
    expect(dead.body.items.map((d: { id: string }) => d.id).sort()).toEqual(ids);
    for (const d of dead.body.items) expect(d, d.id).toMatchObject({ attempts: 3, last_status: 500 });
    const one = await http.ops('GET', `/v1/events/dead-letter/${encodeURIComponent(`${callId}:cdr`)}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: `${callId}:cdr`, type: 'cdr', payload: { cdr: { call_id: callId, sub_id: subsId } } });

    // The receiver is fixed: re-send one, then the rest; each arrives once more and is delivered.
    receiver.answer = () => 204;
    const before = receiver.got.length;
    const single = await http.ops('POST', `/v1/events/dead-letter/${encodeURIComponent(`${callId}:cdr`)}/resend`);
    expect(single).toMatchObject({ status: 200, body: { resent: [`${callId}:cdr`] } });
    const bulk = await http.ops('POST', '/v1/events/dead-letter/resend', { all: true });
    expect(bulk.status).toBe(200);
    expect([...bulk.body.resent, `${callId}:cdr`].sort()).toEqual(ids);
    await receiver.waitFor(() => new Set(receiver.got.slice(before).map((g) => g.id)).size === ids.length, 10_000, 'the re-sent events');
    await eventually(async () => {
      const s = await http.ops('GET', '/v1/events/stats');
      return s.body.dead === 0 && s.body.queued === 0 && s.body.retrying === 0 ? true : undefined;
    }, 10_000, 'an empty queue');
    expect((await http.ops('GET', '/v1/events/dead-letter')).body.items).toEqual([]);
  });

  it('the events routes need the ops token, as every /v1 route but health', async () => {
    for (const path of ['/v1/cdrs', '/v1/events/stats', '/v1/events/dead-letter']) {
      const r = await fetch(`http://127.0.0.1:${x.adminPort}${path}`);
      expect(r.status, path).toBe(401);
    }
  });
});
