// The console during real calls: a real xline process on real drachtio-server and redis-server,
// sipp as caller and far end, headless Chromium as the operator. Live: the call shows up talking,
// "End call" (after the confirmation) makes xline send BYE to both parties, and the CDR says the
// platform released it with normal clearing. Deliveries: a call refused on a Huawei app's X whose
// statusUrl / feeUrl are down leaves dead letters named by where they were going (next to the
// webhook's), filtered by target, and resent from the page to the app's receiver once it is up.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { freePort } from '../../src/store/embedded-redis.js';
import type { CallRecord } from '../../src/events/types.js';
import { buildConsole, chromiumBin, launchBrowser, newConsolePage, signIn, until } from '../support/console-browser.js';
import { drachtioBin } from '../support/drachtio.js';
import { startHuaweiReceiver } from '../support/huawei-receiver.js';
import { hasRedis } from '../support/redis.js';
import { cnMobile } from '../support/sip-msgs.js';
import { cleanupSipp, sippBin, startSipp } from '../support/sipp.js';
import { startSipSite, type SipSite } from '../support/sip-process.js';
import type { XlineProcess } from '../support/xline-process.js';
import { expirationIn, makePoolVia, xlineHttp, type XlineHttp } from '../support/xline-http.js';

const KEY = { accessKeyId: 'live', accessKeySecret: 'live-secret', opsToken: 'live-ops' };

describe.skipIf(!(chromiumBin && drachtioBin && sippBin && hasRedis))('console Live and Deliveries pages during real SIP calls', () => {
  let site: SipSite;
  let redis: Redis;
  let x: XlineProcess;
  let http: XlineHttp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    site = await startSipSite('console-live');
    buildConsole(join(site.dir, 'console'));
    redis = new Redis(site.redis.url);
    x = await site.startXline('console-live', {
      ...(await site.env({ keys: KEY })),
      CONSOLE_DIR: join(site.dir, 'console'),
      // the webhook and the Huawei apps' URLs on closed ports, one quick retry: dead letters at once
      WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/hook`,
      WEBHOOK_RETRY_SCHEDULE: '100ms',
      HUAWEI_CALLBACK_RETRY_SCHEDULE: '100ms',
      WEBHOOK_TIMEOUT_MS: '1000',
    });
    http = xlineHttp(x.adminPort, KEY);
    await x.waitLog((l) => l.msg === 'connected to drachtio-server', 40_000, 'connected to drachtio-server');
    browser = await launchBrowser();
    ({ page } = await newConsolePage(browser));
    await signIn(page, `http://127.0.0.1:${x.adminPort}`, KEY.opsToken);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    redis?.disconnect();
    await site?.stop();
  });

  it('shows the call talking, masked, with a ticking duration; "End call" ends both legs with a CDR of the platform (cause 16)', async () => {
    const [a, b, xNo] = [cnMobile('138'), cnMobile('139'), cnMobile('177')];
    await makePoolVia(http, 'LIVE', [xNo]);
    const bind = await http.dypls('BindAxb', { PoolKey: 'LIVE', PhoneNoA: a, PhoneNoB: b, PhoneNoX: xNo, Expiration: expirationIn(3600) });
    expect(bind.body.Code, JSON.stringify(bind.body)).toBe('OK');

    await page.getByRole('link', { name: 'Live', exact: true }).click();
    await page.getByText('No calls in progress.').waitFor();

    // A waits (up to 15 s) for the BYE the operator's "End call" makes xline send
    const call = await site.call({ uac: 'uac-bye-from-b-expect-200.xml', x: xNo, a, b });

    const row = page.getByRole('table', { name: 'Calls in progress' }).getByRole('row').filter({ hasText: xNo });
    await row.getByText('talking').waitFor({ timeout: 10_000 });
    const text = await row.innerText();
    expect(text).toContain(`${a.slice(0, 3)}****${a.slice(-4)}`);
    expect(text).not.toContain(a);
    expect(text).not.toContain(b);
    const callId = (await row.locator('td').first().innerText()).trim();
    const t0 = await row.locator('.duration').innerText();
    await until(async () => (await row.locator('.duration').innerText()) !== t0, 3000, 'the duration ticking');

    await row.getByRole('button', { name: 'End call' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'End call' }).click();
    await page.getByText('Call ended.').waitFor();
    await page.getByText('No calls in progress.').waitFor({ timeout: 2500 });

    const { a: ra, b: rb } = await call.done();
    expect(ra.messages.some((m) => m.direction === 'received' && m.method === 'BYE'), 'A got a BYE').toBe(true);
    expect(rb.messages.some((m) => m.direction === 'received' && m.method === 'BYE'), 'B got a BYE').toBe(true);

    const cdr = await until(async () => {
      const r = await redis.hget(EVENT_KEYS.cdr(callId), 'r');
      return r ? (JSON.parse(r) as CallRecord) : undefined;
    }, 5000, 'the CDR');
    expect(cdr).toMatchObject({ call_id: callId, secret_no: xNo, release_dir: 0, release_cause: 16 });
    expect(cdr.start_time).toBeDefined();
    expect(x.lines.some((l) => l.msg === 'call ended by an operator' && l.callId === callId)).toBe(true);
  });

  it("Deliveries: a Huawei app's callbacks to its closed URLs are dead letters named by target, filtered, resent from the page to the app's receiver; numbers never shown", async () => {
    const APP = 'hw-dead';
    const SECRET = 'hw-dead-secret-0123456789';
    const [caller, xNo] = [cnMobile('138'), cnMobile('177')];
    await makePoolVia(http, 'HWDEAD', [xNo]);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const app = { appSecret: SECRET, mode: 'AXB', poolKey: 'HWDEAD', statusUrl: `${closed}/status`, feeUrl: `${closed}/fee` };
    expect((await http.ops('PUT', `/v1/huawei/apps/${APP}`, app)).status).toBeLessThan(300);

    // a call to the app's X with no binding on it: refused (404), reported to the app (callin,
    // disconnect 8014, fee) and to the webhook, all through xline's own pipeline
    const sipp = await startSipp({ scenario: 'uac-unbound-expect-404.xml', remote: `127.0.0.1:${site.drachtio.sipPort}`, service: xNo, caller });
    const done = await sipp.done;
    cleanupSipp(done);
    expect(done.code, done.errors).toBe(0);
    type Dead = { id: string; type: string; target: string; dead_at: number; payload: { statusInfo?: { sessionId?: string } } };
    const deadOf = async (target?: string) => (await http.ops('GET', `/v1/events/dead-letter?limit=1000${target ? `&target=${target}` : ''}`)).body.items as Dead[];
    // everything tried and given up (nothing queued or waiting for a retry) before the page is read
    await until(async () => {
      const q = (await http.ops('GET', '/v1/events/stats')).body as { queued: number; retrying: number };
      return q.queued === 0 && q.retrying === 0 && (await deadOf('huawei')).length >= 3;
    }, 15_000, 'the dead letters of the call');
    const hw = await deadOf('huawei');
    expect(hw.map((d) => `${d.type} ${d.target}`).sort()).toEqual([`callin huawei:status:${APP}`, `disconnect huawei:status:${APP}`, `fee huawei:fee:${APP}`]);
    const callin = hw.find((d) => d.type === 'callin')!;
    const fee = hw.find((d) => d.type === 'fee')!;
    const hooks = await deadOf('webhook');
    expect(hooks.length).toBeGreaterThan(0);

    await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
    const table = page.getByRole('table', { name: 'Dead letters' });
    const row = (id: string) => table.getByRole('row').filter({ has: page.getByRole('cell', { name: id, exact: true }) });
    expect(await row(callin.id).innerText()).toContain(`Huawei app ${APP} — call events`);
    expect(await row(fee.id).innerText()).toContain(`Huawei app ${APP} — CDRs`);
    await row(hooks[0]!.id).getByRole('cell', { name: 'Webhook', exact: true }).waitFor();
    const shown = await table.innerText();
    expect(shown).not.toContain(caller);
    expect(shown).not.toContain(caller.slice(-8));
    expect(shown).not.toContain(xNo.slice(-8));

    // filtered by target: only the app's call events, then only the webhook's
    const rows = table.locator('tbody tr');
    await page.getByLabel('Going to').selectOption({ label: 'Huawei apps — call events' });
    await until(async () => (await rows.count()) === 2, 5000, 'two call-event rows');
    for (const text of await rows.allInnerTexts()) expect(text).toContain(`Huawei app ${APP} — call events`);
    await page.getByLabel('Going to').selectOption({ label: 'Webhook' });
    await until(async () => (await rows.count()) === hooks.length, 5000, 'the webhook rows only');
    for (const text of await rows.allInnerTexts()) expect(text).not.toContain('Huawei');
    // "Resend all" while filtered re-sends those shown only: the app's CDR stays dead as it was
    await page.getByRole('button', { name: 'Resend all' }).click();
    await page.getByRole('dialog').getByText(`Queue the ${hooks.length} dead letters shown again?`).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Resend all' }).click();
    await page.getByText(`Queued again: ${hooks.length}.`).waitFor();
    expect((await deadOf(`huawei:fee:${APP}`)).map((d) => [d.id, d.dead_at])).toEqual([[fee.id, fee.dead_at]]);

    // the customer's receiver is up (the app's URL changed): "Resend" on the callin delivers it, signed
    const rx = await startHuaweiReceiver(APP, SECRET);
    try {
      expect((await http.ops('PUT', `/v1/huawei/apps/${APP}`, { ...app, statusUrl: `${rx.url}/status` })).status).toBe(200);
      await page.getByLabel('Going to').selectOption({ label: 'Huawei apps — call events' });
      await until(async () => (await rows.count()) === 2, 5000, 'two call-event rows');
      await row(callin.id).getByRole('button', { name: 'Resend' }).click();
      await page.getByText('Queued again: 1.').waitFor();
      await rx.waitFor(() => rx.got.some((c) => c.json.eventType === 'callin'), 10_000, 'the re-sent callin');
      const got = rx.got.find((c) => c.json.eventType === 'callin')!;
      expect(got.valid).toBe(true);
      expect(got.json.statusInfo).toMatchObject({ sessionId: callin.payload.statusInfo!.sessionId, caller: `+86${caller}`, called: `+86${xNo}` });
      await until(async () => !(await deadOf('huawei')).some((d) => d.id === callin.id), 5000, 'the callin no longer dead');
      await row(callin.id).waitFor({ state: 'detached' });
    } finally {
      await rx.close();
    }

    // in Chinese too
    const zh = await newConsolePage(browser, { locale: 'zh-CN' });
    try {
      await zh.context.addCookies(await page.context().cookies());
      await zh.page.goto(`http://127.0.0.1:${x.adminPort}/console/#/deliveries`);
      await zh.page.getByRole('cell', { name: `华为应用 ${APP} — 话单`, exact: true }).waitFor();
      await zh.page.getByLabel('推送目标').selectOption({ label: '华为应用 — 话单' });
    } finally {
      await zh.context.close();
    }
  });
});
