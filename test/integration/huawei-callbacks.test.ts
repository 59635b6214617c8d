// Huawei apps' callbacks (HUAWEI.md §5, §5b) through the events pipeline on a real redis-server
// and the real admin API, to a real HTTP receiver that checks every X-AKSK signature with the
// app's secret (test/support/huawei-receiver.ts, written from HUAWEI.md): 500 then an empty 200,
// retried on the (shortened) HUAWEI_CALLBACK_RETRY_SCHEDULE; kept across a worker restart;
// dead-lettered when exhausted and re-sent through the ops routes, signed with the app's secret
// as it is at the retry; a deleted app's callbacks dead-lettered saying so.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { hasRedis } from '../support/redis.js';
import { startHuaweiReceiver, type HuaweiReceiver } from '../support/huawei-receiver.js';
import { aNo, bNo, makePool, ops, startHarness, xNo, type Harness } from './api-harness.js';
import { flushAll, makePipeline, queueSettled } from './events-fixtures.js';
import { eventsOpsRoutes } from '../../src/api/ops/events-routes.js';
import type { EventPipeline } from '../../src/events/pipeline.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { huaweiStoreOf } from '../../src/store/huawei-store.js';
import type { Binding } from '../../src/domain/binding.js';
import { callEvent, callRecord } from '../../src/sip/call-records.js';
import { huaweiEvents, huaweiFee, type HuaweiCallFacts, type HuaweiReportTarget } from '../../src/sip/huawei-records.js';
import type { CallEnding } from '../../src/sip/media-call.js';
import { HuaweiCallReports } from '../../src/sip/huawei-reporting.js';
import { reportTime } from '../../src/domain/wall-clock.js';

const APP = 'hwcb-app';
const SECRET = 'first-app-secret-0001';
const NEW_SECRET = 'second-app-secret-0002';

describe.skipIf(!hasRedis)('Huawei callbacks: delivery to the app (real Redis, real receiver)', () => {
  let h: Harness;
  let rx: HuaweiReceiver;
  let current: EventPipeline | undefined;
  const running: EventPipeline[] = [];

  beforeAll(async () => {
    h = await startHarness({}, { opsPlugins: [eventsOpsRoutes({ get store() { return current!.store; } })] });
  });
  afterAll(async () => h?.stop());
  beforeEach(async () => {
    await flushAll(h.redis);
    await makePool(h.app, 'HWCB', 2);
    rx = await startHuaweiReceiver(APP, SECRET);
    await putApp(SECRET);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await rx.close();
  });

  const putApp = async (appSecret: string, urls = true) => {
    const r = await ops(h.app, 'PUT', `/v1/huawei/apps/${APP}`, { appSecret, mode: 'AXB', poolKey: 'HWCB', ...(urls ? { statusUrl: `${rx.url}/status`, feeUrl: `${rx.url}/fee` } : {}) });
    expect(r.status).toBeLessThan(300);
  };

  /** A pipeline delivering Huawei callbacks (no WEBHOOK_URL), started unless `start` is false. */
  const pipeline = (schedule: string, start = true) => {
    const hw = huaweiStoreOf(h.ctx.store);
    const p = makePipeline(h.redis, undefined, { HUAWEI_CALLBACK_RETRY_SCHEDULE: schedule }, { huaweiApps: (k) => hw.readApp(k) }).pipeline;
    running.push(p);
    current = p;
    if (start) p.start();
    return p;
  };

  /** An answered AXB call A → B through X, produced as the call session does: each event with its Huawei reports. */
  const produceCall = async (p: EventPipeline, callId: string) => {
    const t0 = Date.now() - 60_000;
    const binding: Binding = {
      subsId: 'S-hwcb-1', mode: 'AXB', poolKey: 'HWCB', x: xNo(0), a: aNo(1), b: bNo(1), expiresAt: 0, createdAt: 0,
      recording: false, callDisplayType: 1, huawei: { appKey: APP, userData: 'order-42' },
    };
    const f: HuaweiCallFacts = {
      callId, caller: aNo(1), secretNo: xNo(0), binding, callType: 0, target: bNo(1), receivedAt: t0,
      calloutAt: t0 + 20, ringAt: t0 + 1000, answerAt: t0 + 3000, record: {},
    };
    const t: HuaweiReportTarget = { appKey: APP, spId: APP, hostName: 'xline-test', recordDomain: '127.0.0.1', home: 'CN' };
    const ending: CallEnding = { dir: 1, cause: 16, outcome: 'answered' };
    const at = { start: t0, ring: t0 + 1000, answer: t0 + 3000, hangup: t0 + 30_000 } as const;
    for (const type of ['start', 'ring', 'answer', 'hangup'] as const) {
      await p.sink.event(callEvent(f, type, at[type]), huaweiEvents(f, t, type, at[type], type === 'hangup' ? ending : undefined));
    }
    await p.sink.cdr(callRecord(f, ending, at.hangup, 'Asia/Shanghai'), [huaweiFee(f, t, ending, at.hangup)]);
  };

  it("a call whose instance died: the reaping instance sends the app its disconnect and fee record, released at the dead instance's last heartbeat", async () => {
    const dead = makePipeline(h.redis, undefined).pipeline; // produces, never delivers, then "dies"
    running.push(dead);
    const t0 = Date.now() - 20_000;
    const binding: Binding = {
      subsId: 'S-hwcb-2', mode: 'AXB', poolKey: 'HWCB', x: xNo(1), a: aNo(2), b: bNo(2), expiresAt: 0, createdAt: 0,
      recording: false, callDisplayType: 1, huawei: { appKey: APP },
    };
    const f: HuaweiCallFacts = { callId: 'hwcb-lost@test', caller: aNo(2), secretNo: xNo(1), binding, callType: 0, target: bNo(2), receivedAt: t0, ringAt: t0 + 1000, answerAt: t0 + 2000, record: {} };
    // what the SIP side hands over while the call is live (the reports kept for a reaper included)
    const reports = new HuaweiCallReports({ target: (appKey) => ({ appKey, spId: appKey, hostName: 'xline-dead', recordDomain: '127.0.0.1', home: 'CN' }), appOfNumber: async () => undefined });
    reports.calloutSent(t0 + 10);
    for (const [type, at] of [['start', t0], ['ring', t0 + 1000], ['answer', t0 + 2000]] as const) {
      await dead.sink.event(callEvent(f, type, at), reports.events(f, type, at));
    }
    const lastSeen = await dead.store.heartbeat(dead.owner);
    await new Promise((r) => setTimeout(r, 500));
    const hw = huaweiStoreOf(h.ctx.store);
    const survivor = makePipeline(h.redis, undefined, { HUAWEI_CALLBACK_RETRY_SCHEDULE: '1s' }, { huaweiApps: (k) => hw.readApp(k), ownerGraceMs: 400 }).pipeline;
    running.push(survivor);
    current = survivor;
    survivor.start();
    expect(await survivor.reap.reapOnce()).toMatchObject({ owners: 1, reaped: 1 });
    await rx.waitFor(() => rx.got.length >= 6, 10_000, 'the live events, then the disconnect and fee');
    await queueSettled(h.redis);
    expect(rx.got.map((c) => c.json.eventType).sort()).toEqual(['alerting', 'answer', 'callin', 'callout', 'disconnect', 'fee']);
    expect(rx.got.every((c) => c.valid)).toBe(true);
    const released = reportTime(lastSeen, 'UTC');
    const disc = rx.got.find((c) => c.json.eventType === 'disconnect')!.json.statusInfo!;
    expect(disc).toMatchObject({ sessionId: 'hwcb-lost@test', timestamp: released, stateCode: 0 });
    expect(disc.stateDesc).toContain('instance-lost');
    const fee = rx.got.find((c) => c.json.eventType === 'fee')!.json.feeLst![0]!;
    expect(fee).toMatchObject({ sessionId: 'hwcb-lost@test', callEndTime: released, fwdAnswerTime: reportTime(t0 + 2000, 'UTC'), ulFailReason: 0, hostName: 'xline-dead', direction: 1 });
    expect(rx.got.some((c) => c.body.includes('1970-01-01'))).toBe(false);
  });

  const stats = async () => (await ops(h.app, 'GET', '/v1/events/stats')).body as { queued: number; retrying: number; dead: number };

  it('events reach statusUrl and the CDR feeUrl, signed X-AKSK with the app secret; a 500 is retried on the schedule, an empty 200 acknowledges', async () => {
    rx.answer = (_c, n) => (n === 1 ? 500 : 200);
    const p = pipeline('1s,1s');
    await produceCall(p, 'hwcb-call-1@test');
    await rx.waitFor(() => rx.got.length >= 12, 10_000, 'six callbacks, each twice');
    await queueSettled(h.redis);
    expect(rx.got).toHaveLength(12);
    expect(rx.got.every((c) => c.valid)).toBe(true);
    expect(rx.got.every((c) => String(c.headers['content-type']).startsWith('application/json'))).toBe(true);
    const bodies = new Map<string, number[]>();
    for (const c of rx.got) bodies.set(c.body, [...(bodies.get(c.body) ?? []), c.at]);
    expect(bodies.size).toBe(6);
    for (const [, [first, second]] of bodies) expect(second! - first!).toBeGreaterThanOrEqual(950);

    const events = rx.events().filter((_c, i, all) => all.findIndex((o) => o.body === _c.body) === i);
    expect(events.map((c) => c.json.eventType).sort()).toEqual(['alerting', 'answer', 'callin', 'callout', 'disconnect']);
    const ev = (type: string) => events.find((c) => c.json.eventType === type)!.json.statusInfo!;
    expect(ev('callin')).toMatchObject({ sessionId: 'hwcb-call-1@test', caller: `+86${aNo(1)}`, called: `+86${xNo(0)}`, subscriptionId: 'S-hwcb-1', userData: 'order-42' });
    expect(ev('callin').timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(ev('disconnect')).toMatchObject({ stateCode: 0, stateDesc: 'The user releases the call.', called: `+86${bNo(1)}` });
    expect(ev('alerting').stateCode).toBeUndefined();

    const fee = rx.fees()[0]!.json;
    expect(fee.eventType).toBe('fee');
    expect(fee.feeLst).toHaveLength(1);
    expect(fee.feeLst![0]).toMatchObject({
      direction: 1, appKey: APP, spId: APP, bindNum: `+86${xNo(0)}`, sessionId: 'hwcb-call-1@test', subscriptionId: 'S-hwcb-1',
      callerNum: `+86${aNo(1)}`, calleeNum: `+86${xNo(0)}`, fwdDisplayNum: `+86${xNo(0)}`, fwdDstNum: `+86${bNo(1)}`,
      fwdUnaswRsn: 0, ulFailReason: 0, recordFlag: 0, userData: 'order-42', hostName: 'xline-test',
    });
    // times in UTC: the call came in 60 s ago
    expect(fee.feeLst![0]!.callInTime).toBe(new Date(Date.parse(String(ev('callin').timestamp).replace(' ', 'T') + 'Z')).toISOString().slice(0, 19).replace('T', ' '));
    expect(Math.abs(Date.parse(String(fee.feeLst![0]!.callInTime).replace(' ', 'T') + 'Z') - (Date.now() - 60_000))).toBeLessThan(5000);
    expect(fee.feeLst![0]!.failTime).toBeUndefined();
    // no WEBHOOK_URL: xline's own events were not queued, only the app's callbacks
    expect(await h.redis.xlen(EVENT_KEYS.stream)).toBe(0);
  });

  it('undelivered callbacks survive a restart: produced with no worker running, failing while the receiver is down, delivered by the next worker', async () => {
    await rx.close();
    // produced by an instance whose worker never ran: the entries wait in the stream
    await produceCall(pipeline('1s', false), 'hwcb-restart@test');
    expect(await h.redis.xlen(EVENT_KEYS.stream)).toBe(6);
    // a worker tries them against the closed port, then stops with them scheduled for a retry
    const first = pipeline('1s');
    for (const deadline = Date.now() + 10_000; (await h.redis.zcard(EVENT_KEYS.retryDue)) < 6; ) {
      if (Date.now() > deadline) throw new Error('the failed attempts were not scheduled for a retry');
      await new Promise((r) => setTimeout(r, 25));
    }
    await first.stop();
    await rx.reopen();
    pipeline('1s');
    await rx.waitFor(() => rx.got.length >= 6, 10_000, 'the six callbacks after the restart');
    await queueSettled(h.redis);
    expect(rx.got).toHaveLength(6);
    expect(new Set(rx.got.map((c) => c.json.eventType))).toEqual(new Set(['callin', 'callout', 'alerting', 'answer', 'disconnect', 'fee']));
    expect(rx.got.every((c) => c.valid)).toBe(true);
  });

  it('exhausted retries are dead letters in the ops listing; a resend after the secret changed is signed with the new secret', async () => {
    rx.answer = () => 500;
    pipeline('300ms');
    await produceCall(current!, 'hwcb-dead@test');
    for (const deadline = Date.now() + 10_000; (await stats()).dead < 6; ) {
      if (Date.now() > deadline) throw new Error(`not dead-lettered: ${JSON.stringify(await stats())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rx.got).toHaveLength(12); // first attempt + the one retry, each
    const dead = await ops(h.app, 'GET', '/v1/events/dead-letter?limit=100');
    expect(dead.status).toBe(200);
    const items = dead.body.items as Array<{ id: string; type: string; target: string; attempts: number; last_status: number; payload: { eventType: string } }>;
    expect(items).toHaveLength(6);
    for (const d of items) {
      expect(d.attempts).toBe(2);
      expect(d.last_status).toBe(500);
      expect(d.payload.eventType).toBe(d.type);
      expect(d.target).toBe(d.type === 'fee' ? `huawei:fee:${APP}` : `huawei:status:${APP}`);
    }
    const one = await ops(h.app, 'GET', `/v1/events/dead-letter/${encodeURIComponent(items[0]!.id)}`);
    expect(one.body.target).toBe(items[0]!.target);

    // the app's secret changes; the customer's receiver now knows only the new one
    await putApp(NEW_SECRET);
    rx.secret = NEW_SECRET;
    rx.answer = () => 200;
    rx.got.length = 0;
    const resent = await ops(h.app, 'POST', '/v1/events/dead-letter/resend', { all: true });
    expect(resent.body.resent).toHaveLength(6);
    await rx.waitFor(() => rx.got.length >= 6, 10_000, 'the re-sent callbacks');
    await queueSettled(h.redis);
    expect(rx.got).toHaveLength(6);
    expect(rx.got.every((c) => c.valid && c.signedBy === NEW_SECRET)).toBe(true);
    expect(await stats()).toEqual({ queued: 0, retrying: 0, dead: 0 });
  });

  it("a deleted app's callbacks are dead-lettered at once, saying why; an app without URLs gets nothing and keeps nothing", async () => {
    const del = await h.app.inject({ method: 'DELETE', url: `/v1/huawei/apps/${APP}`, headers: { authorization: `Bearer ${h.ctx.config.OPS_TOKEN}` } });
    expect(del.statusCode).toBe(204);
    pipeline('1s,1s');
    await produceCall(current!, 'hwcb-deleted@test');
    for (const deadline = Date.now() + 10_000; (await stats()).dead < 6; ) {
      if (Date.now() > deadline) throw new Error(`not dead-lettered: ${JSON.stringify(await stats())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const items = (await ops(h.app, 'GET', '/v1/events/dead-letter')).body.items as Array<{ attempts: number; last_error: string }>;
    expect(items.every((d) => d.attempts === 1 && d.last_error === `Huawei app ${APP} does not exist (deleted?)`)).toBe(true);
    expect(rx.got).toHaveLength(0);

    // the app again, without statusUrl / feeUrl: the re-sent ones and a new call's are
    // acknowledged without a POST, nothing dead
    await putApp(SECRET, false);
    expect((await ops(h.app, 'POST', '/v1/events/dead-letter/resend', { all: true })).body.resent).toHaveLength(6);
    await produceCall(current!, 'hwcb-nourl@test');
    await queueSettled(h.redis);
    expect(await stats()).toEqual({ queued: 0, retrying: 0, dead: 0 });
    expect(rx.got).toHaveLength(0);
  });
});
