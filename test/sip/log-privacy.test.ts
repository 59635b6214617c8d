// Privacy of the log: xline as users run it (src/main.ts, one process), LOG_LEVEL=debug, bindings
// made through the dypls API with Alibaba's own client, and calls of every kind through a real
// drachtio-server (and FreeSWITCH for an extension call when it is there): routed both ways,
// numbers in +86 / 86 / dashed forms, P-Asserted-Identity, refused, busy, cancelled, a webhook
// that fails once. Then the whole log (stdout and stderr, every line, also the shutdown) is
// searched for every real number the calls and binds carried, in any form: none may appear
// unmasked.
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskNumber } from '../../src/domain/numbers.js';
import { callerScenario, farEndScenario } from '../support/sipp-scenarios.js';
import { freeUdpTcpPort, startDrachtio, type DrachtioServer } from '../support/drachtio.js';
import { freeswitchBin, startFreeSwitch, type FreeSwitch } from '../support/freeswitch.js';
import { cleanupSipp, startSipp, type SippResult } from '../support/sipp.js';
import { sipProcessEnv } from '../support/sip-process.js';
import { startXlineProcess, type XlineProcess } from '../support/xline-process.js';
import { canRun, cleanup, finalAtCaller, mobile, placeCall, startRedisSide, waitFor, type CallRun, type RedisSide } from './harness.js';

const require = createRequire(import.meta.url);
// CommonJS, no types: Alibaba's official dypls client
const DyplsClient = require('@alicloud/dyplsapi-2017-05-25') as new (c: Record<string, unknown>) => Record<string, (p: object, o?: object) => Promise<any>>;

const POOL = 'FC_PRIVACY';
const EXT_POOL = 'FC_PRIVACY_EXT';
const OPS_TOKEN = 'privacy-ops-token';
const KEY = { id: 'privacy-key', secret: 'privacy-secret' };

/** A national number with any of the separators people and trunks put in (none, -, space, dot, parens). */
const anyForm = (national: string) => new RegExp(national.split('').join('[\\s\\-.()]?'));

describe.skipIf(!canRun)('privacy: the whole debug-level log of real calls holds no real number', { timeout: 60_000 }, () => {
  let side: RedisSide;
  let d: DrachtioServer;
  let fs: FreeSwitch | undefined;
  let x: XlineProcess;
  let hook: Server;
  let dir: string;
  let farEndPort: number;
  let client: Record<string, (p: object, o?: object) => Promise<any>>;
  /** Every real number the binds and calls carried (national form); X numbers are not private. */
  const real = new Set<string>();
  const runs: CallRun[] = [];
  const extra: SippResult[] = [];
  const hookSeen = new Set<string>();

  const num = (prefix: Parameters<typeof mobile>[0]) => {
    const n = mobile(prefix);
    real.add(n);
    return n;
  };
  const ops = async (method: string, path: string, body: unknown) => {
    const r = await fetch(`http://127.0.0.1:${x.adminPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(r.status, `${method} ${path}: ${await r.clone().text()}`).toBeLessThan(300);
  };
  const call = async (o: Parameters<typeof placeCall>[1]) => {
    const r = await placeCall({ drachtio: d, farEndPort, transport: 'udp' }, o);
    runs.push(r);
    expect(r.a.code, `${o.uac}: ${r.a.errors}${r.a.output.slice(-800)}`).toBe(0);
    return r;
  };
  /** The lines of the whole log that carry a real number unmasked. */
  const leaks = () => {
    const log = x.fullOutput();
    const out: string[] = [];
    for (const n of real) {
      const re = anyForm(n);
      for (const line of log.split('\n')) if (re.test(line)) out.push(`${n}: ${line.slice(0, 600)}`);
    }
    return out;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xline-privacy-'));
    side = await startRedisSide();
    [d, fs] = await Promise.all([startDrachtio(), freeswitchBin ? startFreeSwitch() : Promise.resolve(undefined)]);
    farEndPort = await freeUdpTcpPort();
    // A webhook receiver that refuses each event once: the delivery failure and retry are logged too.
    hook = createServer((req, res) => {
      const id = String(req.headers['x-xline-event-id']);
      req.resume();
      req.on('end', () => {
        const again = hookSeen.has(id);
        hookSeen.add(id);
        res.writeHead(again ? 204 : 500).end(again ? undefined : 'not now');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    x = await startXlineProcess('privacy', {
      ...(await sipProcessEnv({
        redisUrl: side.child.url,
        drachtio: d,
        // Without FreeSWITCH: a closed port (plain bridges need no media).
        freeswitch: fs,
        farEndPort,
        dir,
        keys: { accessKeyId: KEY.id, accessKeySecret: KEY.secret, opsToken: OPS_TOKEN },
        trunkCidrs: '127.0.0.1/32,127.0.0.3/32',
      })),
      LOG_LEVEL: 'debug',
      SIP_TRUSTED_PAI_CIDRS: '127.0.0.1/32',
      SIP_RING_TIMEOUT: '5',
      WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`,
      WEBHOOK_SECRET: 'privacy-webhook-secret',
      WEBHOOK_RETRY_SCHEDULE: '200ms,200ms',
    });
    await x.waitLog((l) => l.msg === 'connected to drachtio-server', 40_000, 'connected to drachtio-server');
    if (fs) await x.waitLog((l) => l.msg === 'MediaLink: connected to FreeSWITCH', 40_000, 'connected to FreeSWITCH');
    client = new DyplsClient({ accessKeyId: KEY.id, accessKeySecret: KEY.secret, endpoint: `http://127.0.0.1:${x.adminPort}` });
  }, 120_000);

  afterAll(async () => {
    await x?.stop(5000);
    await Promise.all([d?.stop(), fs?.stop()]);
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    await side?.close();
    for (const r of runs) cleanup(r);
    for (const r of extra) cleanupSipp(r);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('binds through the API and places routed, refused, busy and cancelled calls with numbers in every form', async () => {
    const [xAxb, xAxn] = [mobile('177'), mobile('177')];
    await ops('PUT', `/v1/pools/${POOL}`, { name: 'privacy', strictCity: false });
    await ops('POST', `/v1/pools/${POOL}/numbers`, { numbers: [xAxb, xAxn].map((number) => ({ number, city: '杭州' })) });
    const o = { method: 'POST', timeout: 5000 };
    const expiration = new Date(Date.now() + 8 * 3600_000 + 3600_000).toISOString().slice(0, 19).replace('T', ' ');

    const a = num('138');
    const b = num('139');
    const axb = await client.bindAxb!({ PoolKey: POOL, PhoneNoA: a, PhoneNoB: `+86${num('186')}`, PhoneNoX: xAxb, Expiration: expiration }, o);
    expect(axb.Code).toBe('OK');
    const { SubsId } = axb.SecretBindDTO;
    expect((await client.updateSubscription!({ PoolKey: POOL, SubsId, PhoneNoX: xAxb, OperateType: 'updateNoB', PhoneNoB: b }, o)).Code).toBe('OK');
    expect((await client.querySubscriptionDetail!({ PoolKey: POOL, SubsId, PhoneNoX: xAxb }, o)).SecretBindDetailDTO.PhoneNoB).toBe(b);
    // refused binds: a number that is none, and A again on the same X
    await expect(client.bindAxb!({ PoolKey: POOL, PhoneNoA: num('150'), PhoneNoB: '1380000', Expiration: expiration }, o)).rejects.toMatchObject({ code: 'isv.MOBILE_NUMBER_ILLEGAL' });
    await expect(client.bindAxb!({ PoolKey: POOL, PhoneNoA: a, PhoneNoB: num('133'), PhoneNoX: xAxb, Expiration: expiration }, o)).rejects.toMatchObject({ code: 'isv.BIND_CONFLICT' });
    const a2 = num('138');
    const b2 = num('139');
    expect((await client.bindAxn!({ PoolKey: POOL, PhoneNoA: a2, PhoneNoB: b2, PhoneNoX: xAxn, Expiration: expiration }, o)).Code).toBe('OK');

    // routed both ways, the caller in national, +86 and 86 forms; B answers, busy, or rings until cancelled
    await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: xAxb, caller: a, target: b });
    await call({ uac: 'uac-bye-from-b-expect-200.xml', uas: 'uas-answer-then-bye.xml', x: `+86${xAxb}`, caller: `+86${b}`, target: a, ringMs: 200 });
    await call({ uac: 'uac-busy-expect-486.xml', uas: 'uas-busy.xml', x: xAxb, caller: `86${a}`, target: b });
    await call({ uac: 'uac-cancel-expect-487.xml', uas: 'uas-ring-until-cancel.xml', x: xAxb, caller: a, target: b });
    // the caller named by P-Asserted-Identity from a trusted trunk, From anonymous
    await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: xAxb, caller: 'anonymous', target: b, extraHeader: `P-Asserted-Identity: "A" <sip:+86${a}@127.0.0.1>` });
    // AXN: anyone (a dashed From user) rings A; A rings its default B
    const n = num('150');
    await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: xAxn, caller: `${n.slice(0, 3)}-${n.slice(3, 7)}-${n.slice(7)}`, target: a2 });
    await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x: xAxn, caller: a2, target: b2 });
    // refused: a stranger on AXB, an X with no binding, a source outside the trunks, an untrusted PAI
    const refused = [
      await call({ uac: 'uac-refused-expect-403.xml', x: xAxb, caller: num('133') }),
      await call({ uac: 'uac-unbound-expect-404.xml', x: mobile('177'), caller: num('186') }),
      await call({ uac: 'uac-refused-expect-403.xml', x: xAxb, caller: a, localIp: '127.0.0.2' }),
      await call({ uac: 'uac-refused-expect-403.xml', x: xAxb, caller: num('133'), localIp: '127.0.0.3', extraHeader: `P-Asserted-Identity: <sip:${a}@127.0.0.1>` }),
    ];
    expect(refused.map((r) => finalAtCaller(r.a)?.status)).toEqual([403, 404, 403, 403]);
    // the webhook got every call's receipt (but the one from outside the trunks: no CDR), each refused once first
    const withCdr = runs.filter((r) => r !== refused[2]);
    await waitFor(() => withCdr.every((r) => hookSeen.has(`${r.callId}:cdr`)), 15_000, 'CDR receipts');

    expect(leaks()).toEqual([]);
  });

  it.skipIf(!freeswitchBin)('an AXN-extension call through FreeSWITCH (prompt, SIP INFO digits, recording)', async () => {
    const xe = mobile('177');
    await ops('PUT', `/v1/pools/${EXT_POOL}`, { name: 'privacy ext', strictCity: false });
    await ops('POST', `/v1/pools/${EXT_POOL}/numbers`, { numbers: [{ number: xe, city: '杭州' }] });
    const a = num('138');
    const expiration = new Date(Date.now() + 8 * 3600_000 + 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    const ext = await client.bindAxnExtension!(
      { PoolKey: EXT_POOL, PhoneNoA: a, PhoneNoX: xe, Extension: '305', Expiration: expiration, IsRecordingEnabled: true },
      { method: 'POST', timeout: 5000 },
    );
    expect(ext.Code).toBe('OK');
    const caller = num('139');
    const far = await startSipp({ scenario: farEndScenario(dir, 'uas-ext', { ringMs: 200 }), port: farEndPort, service: a, timeoutSec: 30 });
    const r = await (
      await startSipp({
        scenario: callerScenario(dir, 'uac-ext', { info: '305#', infoAfterMs: 500, hangUpAfterMs: 1500 }),
        remote: `127.0.0.1:${d.sipPort}`,
        service: xe,
        caller: `+86${caller}`,
        timeoutSec: 30,
      })
    ).done;
    extra.push(r, await Promise.race([far.done, new Promise<SippResult>((res) => setTimeout(() => void far.stop().then(res), 8000))]));
    expect(r.code, r.errors + r.output.slice(-800)).toBe(0);
    await x.waitLog((l) => l.msg === 'MediaSession:extension routed', 5000, 'the extension routed');
    expect(leaks()).toEqual([]);
  });

  it('the whole log, shutdown included, was written at debug level and masks what it shows', async () => {
    await x.stop(10_000);
    // Not vacuous: debug lines are there, and numbers are logged, masked.
    expect(x.lines.some((l) => l.level === 20)).toBe(true);
    const log = x.fullOutput();
    const masked = [...real].filter((n) => log.includes(maskNumber(n)));
    expect(masked.length, 'no masked number in the log: the search would prove nothing').toBeGreaterThan(0);
    expect(leaks()).toEqual([]);
  });
});
