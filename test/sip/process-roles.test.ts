// XLINE_ROLE=api and XLINE_ROLE=sip as two real xline processes (src/main.ts) on one real Redis,
// with a real drachtio-server and sipp. The api process serves the admin HTTP API and holds no SIP
// connection; the sip process takes the calls and serves no HTTP at all. A binding made through
// the api process routes a call through the sip process, whose events and CDR the api process then
// shows (QueryCallStatus while the call is up, /v1/cdrs after it, and its webhook events as dead
// letters once the receiver refused them, re-sent through the api process).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drachtioBin } from '../support/drachtio.js';
import { hasRedis } from '../support/redis.js';
import { cnMobile, inviteCallIds } from '../support/sip-msgs.js';
import { sippBin, uriUser } from '../support/sipp.js';
import { startSipSite, type SipSite } from '../support/sip-process.js';
import type { XlineProcess } from '../support/xline-process.js';
import { eventually, expirationIn, makePoolVia, tcpListening, xlineHttp, type XlineHttp } from '../support/xline-http.js';
import { startReceiver, type Receiver } from '../integration/events-receiver.js';

const KEY = { accessKeyId: 'roles', accessKeySecret: 'roles-secret', opsToken: 'roles-ops' };
const POOL = 'ROLES';

describe.skipIf(!(drachtioBin && sippBin && hasRedis))('XLINE_ROLE=api and XLINE_ROLE=sip as separate processes on one Redis', () => {
  let site: SipSite;
  let receiver: Receiver;
  let api: XlineProcess;
  let sip: XlineProcess;
  let http: XlineHttp;

  beforeAll(async () => {
    site = await startSipSite('roles');
    receiver = await startReceiver();
    receiver.answer = () => 500;
    // Both are given everything (the same drachtio-server, the same keys): the role alone decides.
    const common = {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: 'roles-hook',
      WEBHOOK_RETRY_SCHEDULE: '200ms,200ms',
      WEBHOOK_TIMEOUT_MS: '1500',
      WEBHOOK_CLAIM_IDLE_MS: '4500',
    };
    api = await site.startXline('roles-api', { ...(await site.env({ keys: KEY, spool: 'api-spool' })), ...common, XLINE_ROLE: 'api' });
    http = xlineHttp(api.adminPort, KEY);
    await api.waitLog((l) => l.msg === 'admin HTTP listening', 30_000, 'api admin HTTP');
    sip = await site.startXline('roles-sip', { ...(await site.env({ keys: KEY, spool: 'sip-spool' })), ...common, XLINE_ROLE: 'sip' });
    await sip.waitLog((l) => l.msg === 'connected to drachtio-server', 40_000, 'sip connected to drachtio-server');
  }, 90_000);

  afterAll(async () => {
    await site?.stop();
    await receiver?.close();
  });

  it('the api process serves the admin API and has no SIP side; the sip process has no HTTP listener', async () => {
    const health = await api.health();
    expect(health).toEqual({ status: 'degraded', redis: 'up', sip: 'down', media: 'down' });
    expect((await fetch(`http://127.0.0.1:${api.adminPort}/metrics`)).status).toBe(200);
    // The sip process connected long after the api process started: the api process never tried.
    for (const msg of ['SIP app started', 'connected to drachtio-server', 'MediaLink: connected to FreeSWITCH']) {
      expect(api.lines.some((l) => l.msg === msg), `api process logged '${msg}'`).toBe(false);
    }
    expect(api.lines.some((l) => String(l.msg).startsWith('MediaLink')), 'api process tried FreeSWITCH').toBe(false);

    expect(sip.lines.some((l) => l.msg === 'admin HTTP listening')).toBe(false);
    expect(await tcpListening(sip.adminPort), 'nothing listens on the sip process\'s ADMIN_PORT').toBe(false);
  });

  it('bind through the api process, call through the sip process: live state, CDR and webhook events through the api process', async () => {
    const [a, b, xNo] = [cnMobile('138'), cnMobile('139'), cnMobile('177')];
    await makePoolVia(http, POOL, [xNo]);
    const bind = await http.dypls('BindAxb', { PoolKey: POOL, PhoneNoA: a, PhoneNoB: b, PhoneNoX: xNo, Expiration: expirationIn(3600) });
    expect(bind.body.Code, JSON.stringify(bind.body)).toBe('OK');
    const subsId = String(bind.body.SecretBindDTO.SubsId);

    const call = await site.call({ x: xNo, a, b, holdMs: 3000, timeoutSec: 20 });
    const talking = await eventually(
      async () => {
        const r = await http.dypls('QueryCallStatus', { PoolKey: POOL, SubsId: subsId });
        return r.body.SecretCallStatusDTO?.CallState === 'TALKING' ? r.body.SecretCallStatusDTO : undefined;
      },
      5000,
      'the call answered, seen through the api process',
    );
    expect(talking).toMatchObject({ Status: 1, CalledNo: xNo, LiveCalls: 1 });

    const { a: ra, b: rb } = await call.done();
    const callIds = inviteCallIds(ra);
    expect(callIds).toEqual([talking.CallId]);
    const callId = callIds[0]!;
    const bInvite = rb.messages.find((m) => m.direction === 'received' && m.method === 'INVITE');
    expect(uriUser(bInvite?.uri)).toBe(b);
    expect(uriUser(bInvite?.header('from'))).toBe(xNo);
    // The sip process handled it (its log line may still be on its way through the pipe).
    await eventually(async () => (sip.lines.some((l) => l.msg === 'CallSession:end' && l.callId === callId) ? true : undefined), 5000, "the sip process's CallSession:end line");

    const cdrs = await eventually(
      async () => {
        const r = await http.ops('GET', `/v1/cdrs?sub_id=${subsId}`);
        return r.body.items?.length ? r.body.items : undefined;
      },
      5000,
      'the CDR through the api process',
    );
    expect(cdrs).toHaveLength(1);
    expect(cdrs[0]).toMatchObject({ call_id: callId, sub_id: subsId, pool_key: POOL, secret_no: xNo, phone_no: a, peer_no: b, release_dir: 1, release_cause: 16 });
    expect(cdrs[0].start_time).toBeDefined();
    expect((await http.dypls('QueryCallStatus', { PoolKey: POOL, SubsId: subsId })).body.SecretCallStatusDTO).toMatchObject({ CallState: 'IDLE', LiveCalls: 0 });

    // The receiver refused every POST: the call's five events are dead letters, re-sent from the api process.
    const ids = ['start', 'ring', 'answer', 'hangup', 'cdr'].map((t) => `${callId}:${t}`).sort();
    const dead = await eventually(
      async () => {
        const r = await http.ops('GET', '/v1/events/dead-letter?limit=100');
        const mine = (r.body.items as Array<{ id: string }>).filter((i) => i.id.startsWith(`${callId}:`));
        return mine.length === ids.length ? mine : undefined;
      },
      20_000,
      'the call\'s events dead-lettered',
    );
    expect(dead.map((i) => i.id).sort()).toEqual(ids);
    receiver.answer = () => 204;
    const before = receiver.got.length;
    const resend = await http.ops('POST', '/v1/events/dead-letter/resend', { ids });
    expect(resend.status).toBe(200);
    expect([...resend.body.resent].sort()).toEqual(ids);
    await receiver.waitFor(() => new Set(receiver.got.slice(before).map((g) => g.id)).size === ids.length, 10_000, 'the re-sent events');
    expect((await http.ops('GET', '/v1/events/stats')).body).toMatchObject({ dead: 0 });
  }, 60_000);
});
