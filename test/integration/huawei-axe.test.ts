// Huawei AXE mode and the recording link through real HTTP against a real redis-server, with the
// Huawei client written from HUAWEI.md: bind (extendNum of 1-4 digits or auto-allocated; virtualNum
// or areaCode), every field stored and answered by query v1, modify, the v2 cursor query over one X,
// unbind by subscriptionId or virtualNum + extendNum, bindExpiredTime / timeUnit as the binding's
// expiry, and the codes: 1020167 (no free extension), 1011005, 1016002, 1016001, 1010002 naming the
// field, 1010040; the recording link's 301 and 1012007. A refused request writes nothing.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingFileName } from '../../src/audio-files/recording-files.js';
import { EventStore } from '../../src/events/store.js';
import { HuaweiClient } from '../support/huawei-client.js';
import { hasRedis } from '../support/redis.js';
import { aNo, ops, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const AXE = '/rest/caas/extendnumber/v1.0';
const AXE2 = '/rest/caas/extendnumber/v2.0';
const RECORD = '/rest/provision/voice/record/v1.0';
const g = (n: string) => '+86' + n;

describe.skipIf(!hasRedis)('Huawei AXE API and recording link', () => {
  let h: Harness;
  let axe: HuaweiClient;
  let wsse: HuaweiClient;
  let other: HuaweiClient;
  let axOnly: HuaweiClient;
  let base: string;
  let recDir: string;
  const redisNow = async () => Number(((await h.redis.call('TIME')) as string[])[0]);

  beforeAll(async () => {
    recDir = join(mkdtempSync(join(tmpdir(), 'xline-hw-rec-')), 'rec');
    mkdirSync(recDir);
    h = await startHarness({ RECORDING_DIR: recDir, RECORDING_URL_SECRET: 'rec-secret-for-tests', PUBLIC_BASE_URL: 'https://xline.example.test' });
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    await ops(h.app, 'PUT', '/v1/pools/HWAXE', { name: 'axe' });
    await ops(h.app, 'POST', '/v1/pools/HWAXE/numbers', {
      numbers: [
        { number: xNo(200), city: '深圳', areaCode: '0755' },
        { number: xNo(201), city: '深圳', areaCode: '0755' },
        { number: xNo(202), city: '北京', areaCode: '010' },
        { number: xNo(203), city: '北京' },
        { number: xNo(204), city: '北京' },
      ],
    });
    for (const [key, mode] of [
      ['axe-app', 'AXE'],
      ['axe-other', 'AXE'],
      ['ax-only', 'AX'],
    ] as const) {
      const r = await ops(h.app, 'PUT', `/v1/huawei/apps/${key}`, { appSecret: `secret-of-${key}-0001`, mode, poolKey: 'HWAXE' });
      expect(r.status).toBeLessThan(300);
    }
    axe = new HuaweiClient({ baseUrl: base, appKey: 'axe-app', appSecret: 'secret-of-axe-app-0001' });
    wsse = new HuaweiClient({ baseUrl: base, appKey: 'axe-app', appSecret: 'secret-of-axe-app-0001', scheme: 'WSSE' });
    other = new HuaweiClient({ baseUrl: base, appKey: 'axe-other', appSecret: 'secret-of-axe-other-0001' });
    axOnly = new HuaweiClient({ baseUrl: base, appKey: 'ax-only', appSecret: 'secret-of-ax-only-0001' });
  });
  afterAll(async () => h?.stop());

  const bind = (c: HuaweiClient, body: Record<string, unknown>) => c.request('POST', AXE, { body });

  it('binds with every field; query v1 answers them all in +86 form; bindExpiredTime + timeUnit is the expiry', async () => {
    const now = await redisNow();
    const r = await bind(axe, {
      bindNum: g(aNo(1)),
      virtualNum: g(xNo(200)),
      extendNum: '1234',
      displayNumMode: '0',
      recordFlag: true,
      recordHintTone: '7.wav',
      callbackNum: '86' + aNo(99),
      timeUnit: '1',
      bindExpiredTime: 90,
      callbackExpiredTime: 30,
      userData: 'axe-1',
      maxDuration: 5,
      lastMinVoice: '8',
      preVoice: { callerHintTone: '11' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resultcode: '0', resultdesc: 'Success', subscriptionId: expect.any(String), virtualNum: g(xNo(200)), extendNum: '1234', bindNum: g(aNo(1)) });
    const q = await axe.request('GET', AXE, { query: { subscriptionId: r.body.subscriptionId } });
    expect(q.body).toEqual({
      resultcode: '0',
      resultdesc: 'Success',
      subscriptionId: r.body.subscriptionId,
      virtualNum: g(xNo(200)),
      extendNum: '1234',
      bindNum: g(aNo(1)),
      displayNumMode: '0',
      recordFlag: 'true',
      recordHintTone: '7.wav',
      callbackNum: g(aNo(99)),
      timeUnit: '1',
      bindExpiredTime: 90,
      callbackExpiredTime: 30,
      userData: 'axe-1',
      maxDuration: 5,
      lastMinVoice: '8',
      preVoice: { callerHintTone: '11' },
      callDirection: 0,
    });
    const b = await h.ctx.store.get('HWAXE', xNo(200), r.body.subscriptionId);
    expect(b!.expiresAt - now).toBeGreaterThanOrEqual(90 * 60 - 1);
    expect(b!.expiresAt - now).toBeLessThanOrEqual(90 * 60 + 2);
    // the extension routes: a caller keying 1234 on X reaches A
    expect(await h.ctx.store.lookup(aNo(50), xNo(200), '1234')).toMatchObject({ kind: 'match', binding: { a: aNo(1) } });
    // by virtualNum + extendNum (literal '+' in the query string decodes to a space: accepted)
    const q2 = await wsse.request('GET', AXE, { rawQuery: `virtualNum=+86${xNo(200)}&extendNum=1234` });
    expect(q2.body.subscriptionId).toBe(r.body.subscriptionId);
  });

  it('auto-allocates extensions (3 digits); hours by default; none given: never expires; callbackTone stored', async () => {
    const now = await redisNow();
    const r1 = await bind(axe, { bindNum: aNo(2), virtualNum: xNo(201), bindExpiredTime: 2, callbackTone: '9' });
    expect(r1.body.extendNum).toMatch(/^\d{3}$/);
    const b1 = await h.ctx.store.get('HWAXE', xNo(201), r1.body.subscriptionId);
    expect(Math.abs(b1!.expiresAt - (now + 7200))).toBeLessThanOrEqual(2);
    expect(b1!.huawei).toMatchObject({ callbackTone: '9', bindExpiredTime: 2 });
    const r2 = await bind(wsse, { bindNum: aNo(3), virtualNum: xNo(201) });
    expect(r2.body.extendNum).toMatch(/^\d{3}$/);
    expect(r2.body.extendNum).not.toBe(r1.body.extendNum);
    const b2 = await h.ctx.store.get('HWAXE', xNo(201), r2.body.subscriptionId);
    expect(b2!.expiresAt).toBeGreaterThan(now + 50 * 365 * 86400);
    const q = await axe.request('GET', AXE, { query: { subscriptionId: r2.body.subscriptionId } });
    expect(q.body).toMatchObject({ timeUnit: '0', bindExpiredTime: 0, displayNumMode: '0', recordFlag: 'false' });
  });

  it('picks X by areaCode when no virtualNum (strict: none of that code → 1011002)', async () => {
    const r = await bind(axe, { bindNum: aNo(4), areaCode: '010' });
    expect(r.body.virtualNum).toBe(g(xNo(202)));
    const before = await snapshot(h.redis);
    const none = await bind(axe, { bindNum: aNo(5), areaCode: '020' });
    expect([none.status, none.body.resultcode]).toEqual([403, '1011002']);
    expect(await snapshot(h.redis)).toEqual(before);
    // an extendNum without virtualNum: an X of that area code where it is free
    const withExt = await bind(axe, { bindNum: aNo(6), areaCode: '010', extendNum: '77' });
    expect([withExt.body.virtualNum, withExt.body.extendNum]).toEqual([g(xNo(202)), '77']);
    expect((await bind(axe, { bindNum: aNo(7), areaCode: '010', extendNum: '77' })).body.resultcode).toBe('1011002');
    expect((await axe.request('DELETE', AXE, { query: { subscriptionId: withExt.body.subscriptionId } })).body.resultcode).toBe('0');
    const relaxed = await bind(axe, { bindNum: aNo(5), areaCode: '020', areaMatchMode: '1' });
    expect(relaxed.body.resultcode).toBe('0');
    // it may have taken any X of the pool: gone again, so the tests below find theirs free
    expect((await axe.request('DELETE', AXE, { query: { subscriptionId: relaxed.body.subscriptionId } })).body.resultcode).toBe('0');
  });

  it('refuses a taken extension (1011005), an A already on X (1016002), a full X (1020167), another mode\'s X, writing nothing', async () => {
    await bind(axe, { bindNum: aNo(6), virtualNum: xNo(203), extendNum: '55' });
    const before = await snapshot(h.redis);
    const taken = await bind(axe, { bindNum: aNo(7), virtualNum: xNo(203), extendNum: '55' });
    expect([taken.status, taken.body.resultcode]).toEqual([403, '1011005']);
    const dupA = await bind(axe, { bindNum: g(aNo(6)), virtualNum: xNo(203), extendNum: '56' });
    expect(dupA.body.resultcode).toBe('1016002');
    expect(await snapshot(h.redis)).toEqual(before);
    // an AX binding owns its X: an AXE bind there is refused as the X's resources being taken
    const axBound = await axOnly.request('POST', '/rest/provision/caas/privatenumber/v1.0', { body: { origNum: aNo(8), privateNum: xNo(204) } });
    expect(axBound.body.resultcode).toBe('0');
    const cross = await bind(axe, { bindNum: aNo(9), virtualNum: xNo(204) });
    expect(cross.body.resultcode).toBe('1011005');
  });

  it('answers 1020167 when X has no free extension left', async () => {
    await ops(h.app, 'PUT', '/v1/pools/HWFULL', { name: 'full' });
    await ops(h.app, 'POST', '/v1/pools/HWFULL/numbers', { numbers: [{ number: xNo(290), city: '深圳' }] });
    await ops(h.app, 'PUT', '/v1/huawei/apps/axe-full', { appSecret: 'secret-of-axe-full-0001', mode: 'AXE', poolKey: 'HWFULL' });
    const full = new HuaweiClient({ baseUrl: base, appKey: 'axe-full', appSecret: 'secret-of-axe-full-0001' });
    // extensions 1-9 given: every 3- and 4-digit one would begin with one of them, so the
    // allocator has nothing it may hand out
    for (let e = 1; e <= 9; e++) expect((await full.request('POST', AXE, { body: { bindNum: aNo(300 + e), virtualNum: xNo(290), extendNum: String(e) } })).body.resultcode).toBe('0');
    const before = await snapshot(h.redis);
    const r = await full.request('POST', AXE, { body: { bindNum: aNo(310), virtualNum: xNo(290) } });
    expect([r.status, r.body.resultcode]).toEqual([403, '1020167']);
    expect(await snapshot(h.redis)).toEqual(before);
    // a given extension is still possible
    expect((await full.request('POST', AXE, { body: { bindNum: aNo(310), virtualNum: xNo(290), extendNum: '0' } })).body.resultcode).toBe('0');
  });

  it.each([
    [{}, 'bindNum'],
    [{ bindNum: '12' }, 'bindNum'],
    [{ bindNum: aNo(11), virtualNum: 'x' }, 'virtualNum'],
    [{ bindNum: aNo(11), virtualNum: xNo(203), extendNum: '12345' }, 'extendNum'],
    [{ bindNum: aNo(11), virtualNum: xNo(203), extendNum: '1a' }, 'extendNum'],
    [{ bindNum: aNo(11), displayNumMode: '2' }, 'displayNumMode'],
    [{ bindNum: aNo(11), callbackNum: aNo(12), callbackTone: '9' }, 'callbackNum'],
    [{ bindNum: aNo(11), callbackTone: 'no-such-tone' }, 'callbackTone'],
    [{ bindNum: aNo(11), callbackNum: 'abc' }, 'callbackNum'],
    [{ bindNum: aNo(11), timeUnit: '2' }, 'timeUnit'],
    [{ bindNum: aNo(11), bindExpiredTime: -1 }, 'bindExpiredTime'],
    [{ bindNum: aNo(11), timeUnit: '0', bindExpiredTime: 87601 }, 'bindExpiredTime'],
    [{ bindNum: aNo(11), callbackExpiredTime: 'x' }, 'callbackExpiredTime'],
    [{ bindNum: aNo(11), recordHintTone: 'nope' }, 'recordHintTone'],
    [{ bindNum: aNo(11), userData: '}' }, 'userData'],
    [{ bindNum: aNo(11), areaCode: 'abc' }, 'areaCode'],
  ])('bind %j → 403 1010002 Invalid request.%s, nothing written', async (body, field) => {
    const before = await snapshot(h.redis);
    const r = await bind(axe, body);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ resultcode: '1010002', resultdesc: `Invalid request.${field}` });
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('an app of another mode gets 1010040 on every AXE interface, writing nothing', async () => {
    const before = await snapshot(h.redis);
    for (const [method, path] of [
      ['POST', AXE],
      ['PUT', AXE],
      ['GET', AXE],
      ['GET', AXE2],
      ['DELETE', AXE],
    ] as const) {
      const r = await axOnly.request(method, path, method === 'GET' || method === 'DELETE' ? { query: { subscriptionId: '1' } } : { body: { bindNum: aNo(13), virtualNum: xNo(203) } });
      expect([r.status, r.body.resultcode], `${method} ${path}`).toEqual([403, '1010040']);
    }
    expect(await snapshot(h.redis)).toEqual(before);
  });

  it('modifies fields, the A, and the expiry (restarted); callbackNum replaces callbackTone; others\' bindings are 1016001', async () => {
    const r = await bind(axe, { bindNum: aNo(20), virtualNum: xNo(203), extendNum: '7', callbackTone: '9', userData: 'u1' });
    const sid = r.body.subscriptionId;
    const now = await redisNow();
    const m = await axe.request('PUT', AXE, { body: { subscriptionId: sid, bindNum: g(aNo(21)), callbackNum: aNo(22), userData: 'u2', timeUnit: '1', bindExpiredTime: 10, displayNumMode: '1', recordFlag: 'true' } });
    expect(m.body).toEqual({ resultcode: '0', resultdesc: 'Success' });
    const q = await wsse.request('GET', AXE, { query: { virtualNum: g(xNo(203)), extendNum: '7' } });
    expect(q.body).toMatchObject({ subscriptionId: sid, bindNum: g(aNo(21)), callbackNum: g(aNo(22)), userData: 'u2', timeUnit: '1', bindExpiredTime: 10, displayNumMode: '1', recordFlag: 'true' });
    expect(q.body.callbackTone).toBeUndefined();
    const b = await h.ctx.store.get('HWAXE', xNo(203), sid);
    expect(Math.abs(b!.expiresAt - (now + 600))).toBeLessThanOrEqual(2);
    expect(await h.ctx.store.lookup(aNo(21), xNo(203))).toMatchObject({ kind: 'match', role: 'A' });
    const before = await snapshot(h.redis);
    expect((await other.request('PUT', AXE, { body: { subscriptionId: sid, userData: 'x' } })).body.resultcode).toBe('1016001');
    expect((await axe.request('PUT', AXE, { body: { virtualNum: xNo(203), extendNum: '8', userData: 'x' } })).body.resultcode).toBe('1016001');
    // the new A already has an extension on X
    await bind(axe, { bindNum: aNo(23), virtualNum: xNo(203), extendNum: '88' });
    const snap2 = await snapshot(h.redis);
    expect((await axe.request('PUT', AXE, { body: { subscriptionId: sid, bindNum: aNo(23) } })).body.resultcode).toBe('1016002');
    expect((await axe.request('PUT', AXE, { body: { subscriptionId: sid, callbackTone: 'nope' } })).body.resultdesc).toBe('Invalid request.callbackTone');
    expect((await axe.request('PUT', AXE, { body: { virtualNum: xNo(203), userData: 'x' } })).body.resultdesc).toBe('Invalid request.extendNum');
    expect(await snapshot(h.redis)).toEqual(snap2);
    void before;
  });

  it('query v2 pages over one X with the cursor (nextCusor while more follow); one binding by subscriptionId', async () => {
    await ops(h.app, 'PUT', '/v1/pools/HWAXE', { name: 'axe' });
    await ops(h.app, 'POST', '/v1/pools/HWAXE/numbers', { numbers: [{ number: xNo(250), city: '深圳' }] });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await bind(axe, { bindNum: aNo(60 + i), virtualNum: xNo(250) })).body.subscriptionId);
    // another app's binding on the same X is not shown to this one
    const foreign = await bind(other, { bindNum: aNo(70), virtualNum: xNo(250) });
    expect(foreign.body.resultcode).toBe('0');
    await axe.request('DELETE', AXE, { query: { subscriptionId: made[1] } });
    const live = made.filter((_, i) => i !== 1);
    const p1 = await axe.request('GET', AXE2, { query: { virtualNum: g(xNo(250)), limit: 2 } });
    expect(p1.status).toBe(200);
    expect(p1.body.bindList.map((b: { subscriptionId: string }) => b.subscriptionId)).toEqual(live.slice(0, 2));
    expect(p1.body.nextCusor).toMatch(/^\d{13}_\d{1,20}$/);
    expect(p1.body.bindList[0]).toMatchObject({ virtualNum: g(xNo(250)), bindNum: g(aNo(60)), extendNum: expect.stringMatching(/^\d{3}$/) });
    const p2 = await axe.request('GET', AXE2, { query: { virtualNum: g(xNo(250)), limit: 2, cursor: p1.body.nextCusor } });
    expect(p2.body.bindList.map((b: { subscriptionId: string }) => b.subscriptionId)).toEqual(live.slice(2, 4));
    const p3 = await axe.request('GET', AXE2, { query: { virtualNum: g(xNo(250)), limit: 2, cursor: p2.body.nextCusor } });
    // the last page: the foreign binding took a place, but is not shown; no nextCusor after it
    expect(p3.body.bindList).toEqual([]);
    expect(p3.body.nextCusor).toBeUndefined();
    const all = await axe.request('GET', AXE2, { query: { virtualNum: g(xNo(250)), cursor: '0000000000000_0' } });
    expect(all.body.bindList).toHaveLength(4);
    expect(all.body.nextCusor).toBeUndefined();
    const one = await axe.request('GET', AXE2, { query: { subscriptionId: made[0] } });
    expect(one.body.bindList.map((b: { subscriptionId: string }) => b.subscriptionId)).toEqual([made[0]]);
    expect((await axe.request('GET', AXE2, { query: { virtualNum: xNo(250), cursor: 'abc' } })).body).toEqual({ resultcode: '1010002', resultdesc: 'Invalid request.cursor' });
    expect((await axe.request('GET', AXE2, {})).body).toEqual({ resultcode: '1010002', resultdesc: 'Invalid request.virtualNum' });
    expect((await axe.request('GET', AXE2, { query: { subscriptionId: made[1] } })).body.resultcode).toBe('1016001');
  });

  it('unbinds by subscriptionId or virtualNum + extendNum; the extension is free again; twice: 1016001', async () => {
    const r = await bind(axe, { bindNum: aNo(80), virtualNum: xNo(203), extendNum: '4' });
    const u = await axe.request('DELETE', AXE, { query: { virtualNum: g(xNo(203)), extendNum: '4' } });
    expect(u.body).toEqual({ resultcode: '0', resultdesc: 'Success' });
    expect(await h.ctx.store.lookup(aNo(81), xNo(203), '4')).toEqual({ kind: 'none' });
    expect((await axe.request('DELETE', AXE, { query: { subscriptionId: r.body.subscriptionId } })).body.resultcode).toBe('1016001');
    const again = await bind(axe, { bindNum: aNo(82), virtualNum: xNo(203), extendNum: '4' });
    expect(again.body.resultcode).toBe('0');
    const before = await snapshot(h.redis);
    expect((await other.request('DELETE', AXE, { query: { subscriptionId: again.body.subscriptionId } })).body.resultcode).toBe('1016001');
    expect(await snapshot(h.redis)).toEqual(before);
    expect((await axe.request('DELETE', AXE, { query: { subscriptionId: again.body.subscriptionId } })).body.resultcode).toBe('0');
  });

  describe('recording link', () => {
    it('answers 301 with Location set to a signed link that downloads the file', async () => {
      const name = recordingFileName('call-hw-1@host');
      const wav = Buffer.from('RIFF....WAVEfmt fake recording bytes');
      writeFileSync(join(recDir, name), wav);
      // the call's CDR (as the SIP side writes it) names the recording and the app of its binding
      const events = new EventStore(h.redis, { retentionMs: 3600_000, liveTtlMs: 600_000, queue: false });
      h.ctx.callEvents = events;
      await events.produceCdr({
        pool_key: 'HWAXE',
        sub_id: '',
        call_id: 'call-hw-1@host',
        phone_no: aNo(1),
        secret_no: xNo(200),
        peer_no: aNo(2),
        called_display_no: xNo(200),
        call_type: 1,
        call_time: '2025-01-01 00:00:00',
        release_time: '2025-01-01 00:00:09',
        release_dir: 1,
        release_cause: 16,
        record_path: join(recDir, name),
        app_key: 'axe-app',
      });
      // another app's recording is as unknown to it (recording-link scope: huawei-callstop.test.ts)
      expect((await axOnly.request('GET', RECORD, { query: { fileName: name, recordDomain: 'd' } })).body.resultcode).toBe('1012007');
      for (const c of [axe, wsse]) {
        const r = await c.request('GET', RECORD, { query: { fileName: name, recordDomain: 'xline.example.test' } });
        expect(r.status).toBe(301);
        const loc = r.headers.get('location')!;
        expect(loc).toMatch(new RegExp(`^https://xline\\.example\\.test/v1/recordings/${name.replace(/[.]/g, '\\.')}\\?expires=\\d+&sig=`));
        // the link is xline's own download route: fetch it from the listener
        const path = loc.replace('https://xline.example.test', base);
        const dl = await fetch(path);
        expect(dl.status).toBe(200);
        expect(Buffer.from(await dl.arrayBuffer())).toEqual(wav);
      }
    });

    it('an unknown file is 1012007; a missing fileName 1010002; a path is never followed', async () => {
      for (const fileName of ['nope.wav', '../etc/passwd', '.hidden.wav', 'x.mp3']) {
        const r = await axe.request('GET', RECORD, { query: { fileName, recordDomain: 'd' } });
        expect([r.status, r.body.resultcode], fileName).toEqual([404, '1012007']);
      }
      const r = await axe.request('GET', RECORD, { query: { recordDomain: 'd' } });
      expect(r.body).toEqual({ resultcode: '1010002', resultdesc: 'Invalid request.fileName' });
      const long = await axe.request('GET', RECORD, { query: { fileName: 'a.wav', recordDomain: 'd'.repeat(129) } });
      expect(long.body).toEqual({ resultcode: '1010002', resultdesc: 'Invalid request.recordDomain' });
      const unsigned = await axe.request('GET', RECORD, { query: { fileName: 'a.wav' }, sign: { digest: 'AAAA' } });
      expect([unsigned.status, unsigned.body.resultcode]).toEqual([401, '1010010']);
    });
  });
});
