// The console's Live page during a real call: a real xline process on real drachtio-server and
// redis-server, sipp as caller and far end, headless Chromium as the operator. The call shows up
// talking, "End call" (after the confirmation) makes xline send BYE to both parties, and the CDR
// says the platform released it with normal clearing.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_KEYS } from '../../src/events/keys.js';
import type { CallRecord } from '../../src/events/types.js';
import { buildConsole, chromiumBin, launchBrowser, newConsolePage, signIn, until } from '../support/console-browser.js';
import { drachtioBin } from '../support/drachtio.js';
import { hasRedis } from '../support/redis.js';
import { cnMobile } from '../support/sip-msgs.js';
import { sippBin } from '../support/sipp.js';
import { startSipSite, type SipSite } from '../support/sip-process.js';
import type { XlineProcess } from '../support/xline-process.js';
import { expirationIn, makePoolVia, xlineHttp, type XlineHttp } from '../support/xline-http.js';

const KEY = { accessKeyId: 'live', accessKeySecret: 'live-secret', opsToken: 'live-ops' };

describe.skipIf(!(chromiumBin && drachtioBin && sippBin && hasRedis))('console Live page during a real SIP call', () => {
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
    x = await site.startXline('console-live', { ...(await site.env({ keys: KEY })), CONSOLE_DIR: join(site.dir, 'console') });
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
});
