// The media side of the admin API against a real redis-server: ring-tone upload (PUT/GET/DELETE
// /v1/ring-tones), RingConfig naming an unknown tone refused at bind/update/pool time, and
// QueryRecordFileDownloadUrl with the signed, expiring download link (403 when expired or altered).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingFileName, recordingLinks } from '../../src/audio-files/recording-files.js';
import { aNo, bNo, expiration, makePool, OPS_TOKEN, ops, rpc, snapshot, startHarness, xNo, type Harness } from '../integration/api-harness.js';
import { hasRedis } from '../support/redis.js';
import { wav } from './fixtures.js';

const POOL = 'FCMEDIA01';

describe.skipIf(!hasRedis)('media API', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xline-media-api-'));
    h = await startHarness({ RING_TONE_DIR: join(dir, 'tones'), RECORDING_DIR: join(dir, 'rec'), PUBLIC_BASE_URL: 'http://media.example:8080/' });
    await makePool(h.app, POOL, 5, 500);
  });
  afterAll(async () => {
    await h?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const putTone = (id: string, body: Buffer | string, type = 'audio/wav', token: string | null = OPS_TOKEN) =>
    h.app.inject({
      method: 'PUT',
      url: `/v1/ring-tones/${id}`,
      headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      payload: body,
    });

  describe('PUT /v1/ring-tones/{id}', () => {
    it('needs the ops token', async () => {
      expect((await putTone('t1', wav(1), 'audio/wav', null)).statusCode).toBe(401);
    });
    it('stores a wav (201), replaces it (200) and lists it', async () => {
      const r1 = await putTone('vip', wav(1.5));
      expect(r1.statusCode).toBe(201);
      expect(r1.json()).toMatchObject({ id: 'vip', durationSec: 1.5, sampleRate: 8000, channels: 1 });
      const r2 = await putTone('vip', wav(2, 16000));
      expect(r2.statusCode).toBe(200);
      expect(r2.json()).toMatchObject({ durationSec: 2, sampleRate: 16000 });
      const l = await ops(h.app, 'GET', '/v1/ring-tones');
      expect(l.body.ringTones).toEqual([{ id: 'vip', bytes: wav(2, 16000).length }]);
    });
    it('refuses what FreeSWITCH could not play, writing nothing', async () => {
      for (const [body, type, status] of [
        [Buffer.from('GIF89a not audio'), 'audio/wav', 400],
        [wav(1, 8000, 32), 'audio/wav', 400],
        [wav(0.05), 'audio/wav', 400],
        [wav(1), 'application/json', 400],
        [wav(1), 'text/plain', 415],
      ] as const) {
        const r = await putTone('bad', body, type);
        expect(r.statusCode, `${type} ${r.body}`).toBe(status);
        expect(r.json().error.code).toBeTypeOf('string');
      }
      expect((await putTone('.hidden', wav(1))).statusCode).toBe(400);
      expect((await putTone('a'.repeat(65), wav(1))).statusCode).toBe(400);
      const l = await ops(h.app, 'GET', '/v1/ring-tones');
      expect(l.body.ringTones.map((t: { id: string }) => t.id)).toEqual(['vip']);
    });
    it('refuses a body over 10 MB with 413', async () => {
      const r = await putTone('huge', Buffer.alloc(10 * 1024 * 1024 + 1));
      expect(r.statusCode).toBe(413);
    });
    it('deletes (204), then 404', async () => {
      expect((await putTone('gone', wav(1))).statusCode).toBe(201);
      const d1 = await h.app.inject({ method: 'DELETE', url: '/v1/ring-tones/gone', headers: { authorization: `Bearer ${OPS_TOKEN}` } });
      expect(d1.statusCode).toBe(204);
      const d2 = await h.app.inject({ method: 'DELETE', url: '/v1/ring-tones/gone', headers: { authorization: `Bearer ${OPS_TOKEN}` } });
      expect(d2.statusCode).toBe(404);
    });
  });

  describe('RingConfig must name uploaded tones', () => {
    it('BindAxn with an unknown tone: isv.INVALID_PARAMETERS naming it, nothing written', async () => {
      const before = await snapshot(h.redis);
      const r = await rpc(h.app, 'BindAxn', {
        PoolKey: POOL,
        PhoneNoA: aNo(501),
        Expiration: expiration(3600),
        RingConfig: JSON.stringify({ AXNRing_N: 'nosuchtone' }),
      });
      expect(r.body.Code).toBe('isv.INVALID_PARAMETERS');
      expect(r.body.Message).toContain("'nosuchtone'");
      expect(r.body.Message).toContain('AXNRing_N');
      expect(await snapshot(h.redis)).toEqual(before);
    });
    it('BindAxnExtension with an uploaded tone binds; updateRingConfig to an unknown one is refused', async () => {
      const r = await rpc(h.app, 'BindAxnExtension', {
        PoolKey: POOL,
        PhoneNoA: aNo(502),
        PhoneNoX: xNo(500),
        Extension: '77',
        Expiration: expiration(3600),
        RingConfig: JSON.stringify({ AXNRing_N: 'vip' }),
      });
      expect(r.body.Code).toBe('OK');
      const subsId = r.body.SecretBindDTO.SubsId;
      const u = await rpc(h.app, 'UpdateSubscription', {
        PoolKey: POOL,
        PhoneNoX: xNo(500),
        SubsId: subsId,
        OperateType: 'updateRingConfig',
        RingConfig: JSON.stringify({ AXNRing_N: 'other' }),
      });
      expect(u.body.Code).toBe('isv.INVALID_PARAMETERS');
      const d = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, PhoneNoX: xNo(500), SubsId: subsId });
      expect(JSON.parse(d.body.SecretBindDetailDTO.RingConfig)).toEqual({ AXNRing_N: 'vip' });
    });
    it('a pool default naming an unknown tone is refused 400', async () => {
      const r = await ops(h.app, 'PUT', `/v1/pools/${POOL}`, { name: POOL, ringConfig: { AXBRing_A: 'nope' } });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain("'nope'");
      const ok = await ops(h.app, 'PUT', `/v1/pools/${POOL}`, { name: POOL, ringConfig: { AXBRing_A: 'vip' } });
      expect(ok.status).toBe(200);
    });
    void bNo;
  });

  describe('QueryRecordFileDownloadUrl and /v1/recordings', () => {
    const callId = 'c0ffee-1@10.1.2.3';
    const name = recordingFileName(callId);
    const audio = wav(3);

    beforeAll(async () => {
      await mkdir(join(dir, 'rec'), { recursive: true });
      await writeFile(join(dir, 'rec', name), audio);
    });

    it('no recording for the call: a clear business error', async () => {
      const r = await rpc(h.app, 'QueryRecordFileDownloadUrl', { PoolKey: POOL, CallId: 'never-recorded', CallTime: '2024-01-01 00:00:00' });
      expect(r.status).toBe(200);
      expect(r.body.Code).toBe('isv.INVALID_PARAMETERS');
      expect(r.body.Message).toMatch(/no recording/);
    });

    it('returns a link on PUBLIC_BASE_URL that downloads the wav without a token', async () => {
      const r = await rpc(h.app, 'QueryRecordFileDownloadUrl', { PoolKey: POOL, CallId: callId, CallTime: '2024-01-01 00:00:00' });
      expect(r.body.Code).toBe('OK');
      const u = new URL(r.body.DownloadUrl);
      expect(u.origin).toBe('http://media.example:8080');
      expect(u.pathname).toBe(`/v1/recordings/${name}`);
      const res = await h.app.inject({ method: 'GET', url: u.pathname + u.search });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('audio/wav');
      expect(res.rawPayload.equals(audio)).toBe(true);
    });

    it('an altered or expired link is 403; a valid link to a removed file 404', async () => {
      const r = await rpc(h.app, 'QueryRecordFileDownloadUrl', { PoolKey: POOL, CallId: callId });
      const u = new URL(r.body.DownloadUrl);
      const exp = u.searchParams.get('expires')!;
      const sig = u.searchParams.get('sig')!;
      const get = (path: string) => h.app.inject({ method: 'GET', url: path });
      const tampered = [
        `/v1/recordings/${name}?expires=${Number(exp) + 86400}&sig=${sig}`,
        `/v1/recordings/${name}?expires=${exp}&sig=${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`,
        `/v1/recordings/other.wav?expires=${exp}&sig=${sig}`,
        `/v1/recordings/${name}`,
      ];
      for (const t of tampered) {
        const res = await get(t);
        expect(res.statusCode, t).toBe(403);
        expect(res.json().error.code).toBe('LINK_INVALID');
      }
      const old = recordingLinks(h.ctx.config).url(name, Math.floor(Date.now() / 1000) - h.ctx.config.RECORDING_URL_TTL_SECONDS - 5);
      const res = await get(new URL(old.url).pathname + new URL(old.url).search);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('LINK_EXPIRED');
      expect((await get(`/v1/recordings/..%2F..%2Fetc%2Fpasswd?expires=${exp}&sig=${sig}`)).statusCode).toBe(400);

      const link = recordingLinks(h.ctx.config).url('removed.wav');
      expect((await get(new URL(link.url).pathname + new URL(link.url).search)).statusCode).toBe(404);
    });
  });
});
