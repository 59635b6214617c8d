// Huawei's callStop and the recording link's app scope through real HTTP (the suite's Huawei
// client) against a real redis-server, with the live-call records and CDRs written by the real
// events store and the end-call request carried by real Redis pub/sub: an unknown, ended or other
// app's session is 1020152 and nobody is asked to end anything; a bad body is 1010002 naming the
// field; the app's own live call is ended by whoever holds it (told control_type 'call-stop') and
// the answer comes once its live record is gone; with nobody holding it, 1010001. A recording is
// linked (301) for the app whose binding the call was on and no other (1012007, as unknown).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingFileName } from '../../src/audio-files/recording-files.js';
import { subscribeEndCall, type EndCallReason } from '../../src/events/end-call-channel.js';
import { EventStore } from '../../src/events/store.js';
import type { CallRecord } from '../../src/events/types.js';
import { HuaweiClient } from '../support/huawei-client.js';
import { hasRedis } from '../support/redis.js';
import { ops, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

const STOP = '/rest/httpsessions/callStop/v2.0';
const RECORD = '/rest/provision/voice/record/v1.0';

describe.skipIf(!hasRedis)('Huawei callStop and the recording link scope', () => {
  let h: Harness;
  let events: EventStore;
  let mine: HuaweiClient;
  let other: HuaweiClient;
  let recDir: string;
  const heard: Array<{ callId: string } & EndCallReason> = [];
  let onEnd: (callId: string) => void = () => undefined;
  let unsubscribe: () => void;

  beforeAll(async () => {
    recDir = join(mkdtempSync(join(tmpdir(), 'xline-hw-stop-')), 'rec');
    mkdirSync(recDir);
    h = await startHarness({ RECORDING_DIR: recDir, RECORDING_URL_SECRET: 'rec-secret-for-tests', PUBLIC_BASE_URL: 'https://xline.example.test' });
    // the live-call records and CDRs the SIP side writes, on the same Redis
    events = new EventStore(h.redis, { retentionMs: 3600_000, liveTtlMs: 600_000, queue: false, owner: 'test-owner' });
    h.ctx.callEvents = events;
    await ops(h.app, 'PUT', '/v1/pools/HWSTOP', { name: 'stop' });
    await ops(h.app, 'POST', '/v1/pools/HWSTOP/numbers', { numbers: [{ number: xNo(700), city: '深圳' }] });
    for (const [key, mode] of [
      ['stop-mine', 'AXB'],
      ['stop-other', 'AXE'],
    ] as const) {
      expect((await ops(h.app, 'PUT', `/v1/huawei/apps/${key}`, { appSecret: `secret-of-${key}-0001`, mode, poolKey: 'HWSTOP' })).status).toBe(201);
    }
    const base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    mine = new HuaweiClient({ baseUrl: base, appKey: 'stop-mine', appSecret: 'secret-of-stop-mine-0001' });
    other = new HuaweiClient({ baseUrl: base, appKey: 'stop-other', appSecret: 'secret-of-stop-other-0001', scheme: 'WSSE' });
    // a SIP instance's side of the channel: records what it is asked, then does what onEnd says
    unsubscribe = subscribeEndCall(h.redis, (callId, reason) => {
      heard.push({ callId, ...reason });
      onEnd(callId);
    });
    await new Promise((r) => setTimeout(r, 200)); // the subscription is made on its own connection
  });
  afterAll(async () => {
    unsubscribe?.();
    await h?.stop();
  });

  /** A call in progress as its instance records it: start (and answer) events of a binding of `appKey`. */
  async function liveCall(callId: string, appKey: string, answered = true): Promise<void> {
    const e = { call_id: callId, secret_no: xNo(700), sub_id: `${xNo(700)}000000001`, pool_key: 'HWSTOP', app_key: appKey, at: Date.now() };
    await events.produceEvent({ ...e, type: 'start' });
    if (answered) await events.produceEvent({ ...e, type: 'answer' });
  }

  /** What the instance writes when the call ends: the CDR (which clears the live record). */
  function endOf(callId: string, appKey: string, extra: Partial<CallRecord> = {}): CallRecord {
    return {
      pool_key: 'HWSTOP',
      sub_id: `${xNo(700)}000000001`,
      call_id: callId,
      phone_no: '13800000001',
      secret_no: xNo(700),
      peer_no: '13900000001',
      called_display_no: xNo(700),
      call_type: 0,
      call_time: '2025-01-01 00:00:00',
      release_time: '2025-01-01 00:00:09',
      release_dir: 0,
      release_cause: 16,
      app_key: appKey,
      ...extra,
    };
  }

  const stop = (c: HuaweiClient, body: unknown) => c.request('POST', STOP, { body });

  it('ends the app\'s own live call through whoever holds it, with control type call-stop, and answers once it ended', async () => {
    const callId = 'hw-stop-1@127.0.0.1';
    await liveCall(callId, 'stop-mine');
    heard.length = 0;
    onEnd = (id) => void events.produceCdr(endOf(id, 'stop-mine', { control_type: 'call-stop' }));
    const r = await stop(mine, { sessionid: callId, signal: 'call_stop' });
    expect([r.status, r.body]).toEqual([200, { resultcode: '0', resultdesc: 'Success' }]);
    expect(heard).toEqual([{ callId, controlType: 'call-stop' }]);
    expect(await events.liveCallRecord(callId)).toBeUndefined();
    // ended: a second request names no live call
    const again = await stop(mine, { sessionid: callId, signal: 'call_stop' });
    expect([again.status, again.body.resultcode]).toEqual([404, '1020152']);
  });

  it('an unknown session, or another app\'s live call, is 1020152 and nobody is asked to end it', async () => {
    await liveCall('hw-stop-2@127.0.0.1', 'stop-other', false);
    heard.length = 0;
    onEnd = () => undefined;
    const before = await snapshot(h.redis);
    for (const [c, sessionid] of [
      [mine, 'no-such-call@127.0.0.1'],
      [mine, 'hw-stop-2@127.0.0.1'],
      [other, 'hw-stop-3-never-live'],
    ] as const) {
      const r = await stop(c, { sessionid, signal: 'call_stop' });
      expect([r.status, r.body], sessionid).toEqual([404, { resultcode: '1020152', resultdesc: 'Invalid sessionId.' }]);
    }
    expect(await snapshot(h.redis)).toEqual(before);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual([]);
    // the app it belongs to may stop it
    onEnd = (id) => void events.produceCdr(endOf(id, 'stop-other'));
    expect((await stop(other, { sessionid: 'hw-stop-2@127.0.0.1', signal: 'call_stop' })).body.resultcode).toBe('0');
  });

  it('a bad body is 1010002 naming the field', async () => {
    await liveCall('hw-stop-4@127.0.0.1', 'stop-mine');
    heard.length = 0;
    for (const [body, field] of [
      [{ signal: 'call_stop' }, 'sessionid'],
      [{ sessionid: '', signal: 'call_stop' }, 'sessionid'],
      [{ sessionid: 42, signal: 'call_stop' }, 'sessionid'],
      [{ sessionid: 'hw-stop-4@127.0.0.1' }, 'signal'],
      [{ sessionid: 'hw-stop-4@127.0.0.1', signal: 'call_end' }, 'signal'],
      [['hw-stop-4@127.0.0.1'], 'body'],
    ] as const) {
      const r = await stop(mine, body);
      expect([r.status, r.body], JSON.stringify(body)).toEqual([403, { resultcode: '1010002', resultdesc: `Invalid request.${field}` }]);
    }
    expect(heard).toEqual([]);
    expect((await events.liveCallRecord('hw-stop-4@127.0.0.1'))?.state).toBe('talking');
  });

  it('with no instance holding the call (none listening), 1010001: retry later', async () => {
    await liveCall('hw-stop-5@127.0.0.1', 'stop-mine');
    unsubscribe();
    await new Promise((r) => setTimeout(r, 100));
    const r = await stop(mine, { sessionid: 'hw-stop-5@127.0.0.1', signal: 'call_stop' });
    expect([r.status, r.body.resultcode]).toEqual([503, '1010001']);
    unsubscribe = subscribeEndCall(h.redis, (callId, reason) => {
      heard.push({ callId, ...reason });
      onEnd(callId);
    });
  });

  it('links a recording for the app whose binding the call was on only: another app, or no CDR, is 1012007', async () => {
    const callId = 'hw-rec-1@127.0.0.1';
    const name = recordingFileName(callId);
    writeFileSync(join(recDir, name), Buffer.from('RIFF....WAVEfmt fake recording bytes'));
    const orphan = recordingFileName('hw-rec-no-cdr@127.0.0.1');
    writeFileSync(join(recDir, orphan), Buffer.from('RIFF....WAVEfmt fake recording bytes'));
    await events.produceCdr(endOf(callId, 'stop-mine', { record_path: join(recDir, name), start_time: '2025-01-01 00:00:01' }));

    const ok = await mine.request('GET', RECORD, { query: { fileName: name, recordDomain: 'd' } });
    expect(ok.status).toBe(301);
    expect(ok.headers.get('location')).toMatch(/^https:\/\/xline\.example\.test\/v1\/recordings\//);
    for (const [c, fileName] of [
      [other, name],
      [mine, orphan],
    ] as const) {
      const r = await c.request('GET', RECORD, { query: { fileName, recordDomain: 'd' } });
      expect([r.status, r.body, r.headers.get('location')], fileName).toEqual([404, { resultcode: '1012007', resultdesc: 'The record does not exist.' }, null]);
    }
  });
});
