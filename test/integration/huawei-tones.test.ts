// Huawei tone names through real HTTP against a real redis-server: every tone field of AXB, AX
// and AXE (preVoice.callerHintTone, preVoice.calleeHintTone, recordHintTone, lastMinVoice) must
// name a ring tone uploaded with PUT /v1/ring-tones/{id}; an unknown one is refused at bind AND at
// modify with 1010002 naming the field, writing nothing (the Redis snapshot). A ring tone a Huawei
// binding names (those four, and AXE's callbackTone) — under its id or as `<id>.wav` — cannot be
// deleted (409 RING_TONE_IN_USE) until the binding lets go of it.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminApp } from '../../src/api/server.js';
import { EventStore } from '../../src/events/store.js';
import { HuaweiClient } from '../support/huawei-client.js';
import { hasRedis } from '../support/redis.js';
import { aNo, bNo, OPS_TOKEN, ops, silentWav, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const PATHS = {
  AXB: '/rest/caas/relationnumber/partners/v1.0',
  AX: '/rest/provision/caas/privatenumber/v1.0',
  AXE: '/rest/caas/extendnumber/v1.0',
} as const;
type Mode = keyof typeof PATHS;
const g = (n: string) => '+86' + n;

/** Each tone field as a body fragment naming `tone`, and the field name 1010002 must give. */
const TONE_FIELDS: Array<[field: string, body: (tone: string) => Record<string, unknown>]> = [
  ['preVoice.callerHintTone', (t) => ({ preVoice: { callerHintTone: t } })],
  ['preVoice.calleeHintTone', (t) => ({ preVoice: { calleeHintTone: t } })],
  ['recordHintTone', (t) => ({ recordFlag: true, recordHintTone: t })],
  ['lastMinVoice', (t) => ({ maxDuration: 5, lastMinVoice: t })],
];

describe.skipIf(!hasRedis)('Huawei tone names: bind, modify, ring tones in use', () => {
  let h: Harness;
  /** The admin app as main.ts mounts it (with the console parts: the ring-tone in-use rule). */
  let app: FastifyInstance;
  const client: Partial<Record<Mode, HuaweiClient>> = {};
  let seq = 0;

  beforeAll(async () => {
    h = await startHarness();
    const events = new EventStore(h.redis as Redis, { retentionMs: 86_400_000, liveTtlMs: 3_600_000, queue: false });
    app = await buildAdminApp(h.ctx, { console: { redis: h.redis, events, endCall: async () => 0 } });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const mode of ['AXB', 'AX', 'AXE'] as const) {
      const pool = `HWTONE${mode}`;
      await ops(app, 'PUT', `/v1/pools/${pool}`, { name: pool });
      await ops(app, 'POST', `/v1/pools/${pool}/numbers`, { numbers: Array.from({ length: 20 }, (_, i) => ({ number: xNo(700 + i + 20 * ['AXB', 'AX', 'AXE'].indexOf(mode)), city: '深圳' })) });
      const appKey = `tones-${mode.toLowerCase()}`;
      expect((await ops(app, 'PUT', `/v1/huawei/apps/${appKey}`, { appSecret: `secret-of-${appKey}-0001`, mode, poolKey: pool })).status).toBeLessThan(300);
      client[mode] = new HuaweiClient({ baseUrl: base, appKey, appSecret: `secret-of-${appKey}-0001` });
    }
  });
  afterAll(async () => {
    await app?.close();
    await h?.stop();
  });

  /** A bind body of `mode` for a fresh A (and B), on a free X of the app's pool (AX: one X per A). */
  function bindBody(mode: Mode): Record<string, unknown> {
    const n = 800 + ++seq;
    if (mode === 'AXB') return { callerNum: g(aNo(n)), calleeNum: g(bNo(n)) };
    if (mode === 'AX') return { origNum: g(aNo(n)) };
    return { bindNum: g(aNo(n)) };
  }
  const bind = (mode: Mode, body: Record<string, unknown>) => client[mode]!.request('POST', PATHS[mode], { body });
  const modify = (mode: Mode, subscriptionId: string, body: Record<string, unknown>) => client[mode]!.request('PUT', PATHS[mode], { body: { subscriptionId, ...body } });

  for (const mode of ['AXB', 'AX', 'AXE'] as const) {
    it(`${mode}: an unknown tone in any tone field is refused at bind and at modify (1010002 naming it), nothing written`, async () => {
      const bound = await bind(mode, bindBody(mode));
      expect(bound.body.resultcode, JSON.stringify(bound.body)).toBe('0');
      const sid = bound.body.subscriptionId as string;
      for (const [field, body] of TONE_FIELDS) {
        const before = await snapshot(h.redis);
        const b = await bind(mode, { ...bindBody(mode), ...body('no-such-tone.wav') });
        expect([b.status, b.body], `bind ${field}`).toEqual([403, { resultcode: '1010002', resultdesc: `Invalid request.${field}` }]);
        const m = await modify(mode, sid, { userData: 'changed', ...body('nosuch') });
        expect([m.status, m.body], `modify ${field}`).toEqual([403, { resultcode: '1010002', resultdesc: `Invalid request.${field}` }]);
        expect(await snapshot(h.redis), `${field}: nothing written`).toEqual(before);
        // an uploaded one (as its id, or as <id>.wav) is taken by both
        expect((await bind(mode, { ...bindBody(mode), ...body('t1.wav') })).body.resultcode, `bind ${field}`).toBe('0');
        expect((await modify(mode, sid, body('t1'))).body.resultcode, `modify ${field}`).toBe('0');
      }
    });
  }

  it('a ring tone a Huawei binding names is in use: DELETE /v1/ring-tones/{id} → 409 naming the binding, until the binding lets go', async () => {
    const del = (id: string) => app.inject({ method: 'DELETE', url: `/v1/ring-tones/${id}`, headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    const upload = async (id: string) => {
      const r = await app.inject({ method: 'PUT', url: `/v1/ring-tones/${id}`, headers: { authorization: `Bearer ${OPS_TOKEN}`, 'content-type': 'audio/wav' }, payload: silentWav(0.5) });
      expect(r.statusCode).toBeLessThan(300);
    };
    for (const [field, body] of TONE_FIELDS) {
      for (const mode of ['AXB', 'AX', 'AXE'] as const) {
        const id = `inuse-${mode.toLowerCase()}-${field.replace(/\W/g, '')}`;
        await upload(id);
        // named with Huawei's file suffix: `<id>.wav` stands for ring tone <id>
        const r = await bind(mode, { ...bindBody(mode), ...body(`${id}.wav`) });
        expect(r.body.resultcode, JSON.stringify(r.body)).toBe('0');
        const refused = await del(id);
        expect(refused.statusCode, `${mode} ${field}`).toBe(409);
        expect(refused.json().error).toMatchObject({ code: 'RING_TONE_IN_USE' });
        expect(refused.json().error.message).toContain(r.body.subscriptionId);
        // the binding lets go of it (a tone set to "" is removed): the tone may go
        const letGo = field.startsWith('preVoice') ? { preVoice: { [field.split('.')[1]!]: '' } } : { [field]: '' };
        expect((await modify(mode, r.body.subscriptionId, letGo)).body.resultcode).toBe('0');
        expect((await del(id)).statusCode, `${mode} ${field} released`).toBe(204);
      }
    }
    // AXE callbackTone: in use until a callbackNum replaces it
    await upload('inuse-callback');
    const r = await bind('AXE', { ...bindBody('AXE'), callbackTone: 'inuse-callback' });
    expect(r.body.resultcode).toBe('0');
    expect((await del('inuse-callback')).statusCode).toBe(409);
    expect((await modify('AXE', r.body.subscriptionId, { callbackNum: g(bNo(999)) })).body.resultcode).toBe('0');
    expect((await del('inuse-callback')).statusCode).toBe(204);
  });
});
