// The operator console in a real headless Chromium against a real xline process (src/main.ts) on a
// real redis-server: sign-in and sign-out, every page, bindings made and changed in the browser and
// seen through the dypls API, numbers added by CSV, a recording played, masking and reveal, CSRF
// refusals, an XSS attempt through OutId. Calls and dead letters are produced through the events
// module's own store (what the SIP side writes); live calls from a real SIP call are in
// console-live.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/events/store.js';
import type { CallRecord } from '../../src/events/types.js';
import { recordingFileName } from '../../src/audio-files/recording-files.js';
import { freePort, type RedisChild } from '../../src/store/embedded-redis.js';
import { toneWav } from '../media/fixtures.js';
import { buildConsole, chromiumBin, launchBrowser, newConsolePage, screenshot, signIn, until } from '../support/console-browser.js';
import { hasRedis, startTestRedis } from '../support/redis.js';
import { startXlineProcess, type XlineProcess } from '../support/xline-process.js';
import { expirationIn, makePoolVia, xlineHttp, type XlineHttp } from '../support/xline-http.js';

const KEY = { accessKeyId: 'console', accessKeySecret: 'console-secret', opsToken: 'console-ops-token' };
const XS = ['17100001001', '17100001002', '17100001003', '17100001004', '17100001005', '17100001006'];
const A = '13800000001';
const B = '13900000002';
const B2 = '13900000003';
const XSS = '<img src=x onerror="window.__xss=1">';

/** In the page: an audio element's duration once its metadata loaded (the test tsconfig has no DOM types). */
const audioDuration = (a: unknown) => {
  const el = a as { readyState: number; duration: number };
  return el.readyState >= 1 && Number.isFinite(el.duration) ? el.duration : undefined;
};

describe.skipIf(!(chromiumBin && hasRedis))('operator console in Chromium', () => {
  let server: RedisChild;
  let redis: Redis;
  let events: EventStore;
  let x: XlineProcess;
  let http: XlineHttp;
  let base: string;
  let dir: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  /** A CDR as the SIP side writes it (through the events module's store, into the same Redis). */
  const cdr = async (r: Partial<CallRecord> & { call_id: string }) => {
    const full: CallRecord = {
      pool_key: 'CONSOLE',
      sub_id: '',
      phone_no: A,
      secret_no: XS[0]!,
      peer_no: B,
      called_display_no: XS[0]!,
      call_type: 0,
      call_time: expirationIn(-60),
      release_time: expirationIn(-30),
      release_dir: 1,
      release_cause: 16,
      ...r,
    };
    expect(await events.produceCdr(full)).toBe(true);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xline-console-'));
    buildConsole(join(dir, 'console'));
    server = await startTestRedis();
    redis = new Redis(server.url);
    events = new EventStore(redis, { retentionMs: 86_400_000, liveTtlMs: 3_600_000, queue: true, owner: 'console-test~1' });
    x = await startXlineProcess('console', {
      REDIS_URL: server.url,
      ACCESS_KEYS: `${KEY.accessKeyId}:${KEY.accessKeySecret}`,
      OPS_TOKEN: KEY.opsToken,
      CONSOLE_DIR: join(dir, 'console'),
      RECORDING_DIR: join(dir, 'recordings'),
      RING_TONE_DIR: join(dir, 'tones'),
      EVENT_SPOOL_DIR: join(dir, 'spool'),
      // no drachtio-server or FreeSWITCH here: the SIP app keeps retrying, health says down
      DRACHTIO_PORT: String(await freePort()),
      FREESWITCH_PORT: String(await freePort()),
      // webhooks to a closed port, one quick retry: events become dead letters at once
      WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/hook`,
      WEBHOOK_RETRY_SCHEDULE: '100ms',
      WEBHOOK_TIMEOUT_MS: '1000',
      // this test's own "instance" heartbeats once; it must not be reaped
      EVENT_OWNER_GRACE_MS: '3600000',
    });
    base = `http://127.0.0.1:${x.adminPort}`;
    http = xlineHttp(x.adminPort, KEY);
    await x.waitLog((l) => l.msg === 'admin HTTP listening', 30_000, 'admin HTTP listening');
    await makePoolVia(http, 'CONSOLE', XS);
    browser = await launchBrowser();
    ({ context, page } = await newConsolePage(browser));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await x?.stop(5000);
    redis?.disconnect();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves /console/ with a strict CSP, no framing, no sniffing, a no-cache page and immutable content-hashed assets', async () => {
    const r = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/console/');
    const p = await fetch(`${base}/console/`);
    expect(p.status).toBe(200);
    const csp = p.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(p.headers.get('x-frame-options')).toBe('DENY');
    expect(p.headers.get('x-content-type-options')).toBe('nosniff');
    expect(p.headers.get('cache-control')).toBe('no-cache');
    const html = await p.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/\sstyle=|<style/); // no inline style
    const js = /src="(assets\/app\.[0-9a-f]{12}\.js)"/.exec(html)?.[1];
    const css = /href="(assets\/app\.[0-9a-f]{12}\.css)"/.exec(html)?.[1];
    expect(js, html).toBeDefined();
    expect(css, html).toBeDefined();
    for (const a of [js!, css!]) {
      const ar = await fetch(`${base}/console/${a}`);
      expect(ar.status).toBe(200);
      expect(ar.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    const bundle = await (await fetch(`${base}/console/${js}`)).text();
    expect(bundle).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect((await fetch(`${base}/console/assets/app.000000000000.js`)).status).toBe(404);
  });

  it('sign-in: a wrong token is refused in words, repeated failures are rate-limited, the right one sets an HttpOnly SameSite=Strict cookie with an expiry', async () => {
    await page.goto(`${base}/console/`);
    await page.getByLabel('Ops token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong ops token.' }).waitFor();
    expect(await context.cookies()).toEqual([]);

    // four more wrong tries from this address, then even the right token waits
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${base}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: `wrong-${i}` }) });
      expect(r.status).toBe(401);
    }
    const blocked = await fetch(`${base}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: KEY.opsToken }) });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Too many wrong tokens' }).waitFor();
    // the window ends (instead of waiting a minute, its counter in Redis goes)
    expect(await redis.del('xline:console:signin-failures:127.0.0.1')).toBe(1);

    await page.getByLabel('Ops token').fill(KEY.opsToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Overview', exact: true }).waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'xline_console', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 3600_000);
    expect(cookie!.expires * 1000).toBeLessThan(Date.now() + 13 * 3600_000);
    // the session lives in Redis (every instance honours it), keyed by a hash of the cookie
    expect(await redis.keys('xline:console:session:*')).toHaveLength(1);
    expect(await redis.keys(`*${cookie!.value}*`)).toEqual([]);
    // scripts cannot read the cookie
    expect(await page.evaluate('document.cookie')).toBe('');
    const signedIn = x.lines.find((l) => l.msg === 'console: signed in');
    expect(signedIn?.who).toMatch(/^console:[0-9a-f]{8}$/);
  });

  it('has the eight navigation links on every page, each reaching its page', async () => {
    const pages: Array<[string, string]> = [
      ['Overview', 'Overview'],
      ['Pools', 'Pools'],
      ['Bindings', 'Bindings'],
      ['Calls', 'Calls'],
      ['Live', 'Calls in progress'],
      ['Deliveries', 'Webhook deliveries'],
      ['Ring tones', 'Ring tones'],
      ['Huawei apps', 'Huawei apps'],
    ];
    for (const [link, heading] of pages) {
      await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
      expect(await page.getByRole('navigation', { name: 'main' }).getByRole('link').allInnerTexts()).toEqual(pages.map(([l]) => l));
      expect(await page.getByRole('link', { name: link, exact: true }).getAttribute('aria-current')).toBe('page');
    }
  });

  it('Overview: Redis up, the drachtio-server and its FreeSWITCH down, counts refreshed without a reload', async () => {
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    const health = page.getByRole('region', { name: 'Health' });
    await health.getByText('Redis').waitFor();
    await until(async () => (await health.innerText()).includes('up'), 5000, 'Redis up');
    const text = await health.innerText();
    expect(text).toMatch(/drachtio-server 127\.0\.0\.1:\d+\s+down/);
    expect(text).toMatch(/FreeSWITCH of 127\.0\.0\.1:\d+\s+down/);
    const hour = page.getByRole('region', { name: 'Last hour' });
    const calls = async () => Number(/Calls\s+(\d+)/.exec(await hour.innerText())?.[1]);
    const failed = async () => Number(/Failed calls\s+(\d+)/.exec(await hour.innerText())?.[1]);
    await until(async () => Number.isFinite(await calls()), 5000, 'last-hour counts');
    const [c0, f0] = [await calls(), await failed()];
    let reloaded = false;
    page.once('load', () => (reloaded = true));
    await cdr({ call_id: 'overview-answered', start_time: expirationIn(-50) });
    await cdr({ call_id: 'overview-failed', release_cause: 17, release_dir: 2 });
    await until(async () => (await calls()) === c0 + 2 && (await failed()) === f0 + 1, 8000, 'the new calls counted');
    // both CDRs were queued for the webhook (a closed port): they become dead letters, counted too
    await until(async () => /Dead letters\s+[1-9]/.test(await page.getByRole('region', { name: 'Webhook queue' }).innerText()), 10_000, 'dead letters counted');
    expect(reloaded).toBe(false);
    await screenshot(page, 'overview');
  });

  it('Pools: create a pool, add numbers from a CSV (added / existing / conflicts), counts per city, sortable', async () => {
    await page.getByRole('link', { name: 'Pools', exact: true }).click();
    const create = page.getByRole('form', { name: 'Create pool' });
    await create.getByLabel('Pool key').fill('CSVPOOL');
    await create.getByLabel('Name').fill('Imported <b>pool</b>');
    await create.getByRole('button', { name: 'Create pool' }).click();
    await create.getByText('Pool CSVPOOL saved.').waitFor();
    const add = page.getByRole('form', { name: 'Add numbers' });
    await add.getByLabel('Pool', { exact: true }).selectOption('CSVPOOL');
    // pasted lines first, then a CSV: a header line, the pasted number again, a mobile, a fixed
    // line with its area code, and an X of another pool
    await add.getByLabel(/^Numbers, one per line/).fill('17100002001,杭州\n');
    await add.getByRole('button', { name: 'Add numbers' }).click();
    await add.getByText('Added 1, already in this pool 0, conflicts 0.').waitFor();
    const csv = ['number,city,areaCode', '17100002001,杭州', '17100002002,杭州', '88001234,北京,010', `${XS[5]},杭州`].join('\n');
    await add.getByLabel('or a CSV file').setInputFiles({ name: 'numbers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await add.getByRole('button', { name: 'Add numbers' }).click();
    await add.getByText('Added 2, already in this pool 1, conflicts 1.').waitFor();
    expect(await add.innerText()).toContain(`In another pool (not added): ${XS[5]}`);
    const pool = await http.ops('GET', '/v1/pools/CSVPOOL');
    expect(pool.body).toMatchObject({ numbers: 3, byCity: { 杭州: 2, 北京: 1 } });
    const row = page.getByRole('row').filter({ hasText: 'CSVPOOL' });
    await row.waitFor();
    expect(await row.innerText()).toContain('Imported <b>pool</b>'); // a pool name is text, not markup
    expect(await row.innerText()).toMatch(/杭州 2/);
    // sort by the Numbers column, both ways
    const keysInOrder = async () => (await page.getByRole('table', { name: 'Pools' }).locator('tbody tr td:first-child').allInnerTexts());
    await page.getByRole('button', { name: 'Numbers', exact: true }).click();
    expect(await keysInOrder()).toEqual(['CSVPOOL', 'CONSOLE']);
    expect(await page.getByRole('columnheader', { name: /Numbers/ }).first().getAttribute('aria-sort')).toBe('ascending');
    await page.getByRole('button', { name: 'Numbers', exact: true }).click();
    expect(await keysInOrder()).toEqual(['CONSOLE', 'CSVPOOL']);
    await screenshot(page, 'pools');
  });

  let subsId = '';

  it('Bindings: creates an AXB with an XSS attempt as OutId (shown as text), seen through the dypls API; A and B masked', async () => {
    await page.getByRole('link', { name: 'Bindings', exact: true }).click();
    await page.getByText('Search for a binding by X, A, B, SubsId or OutId').waitFor();
    const form = page.getByRole('form', { name: 'Create binding' });
    await form.getByLabel('Mode').selectOption('AXB');
    await form.getByLabel('Pool', { exact: true }).selectOption('CONSOLE');
    await form.getByLabel('A', { exact: true }).fill(A);
    await form.getByLabel('B', { exact: true }).fill(B);
    await form.getByLabel(/^X /).fill(XS[0]!);
    await form.getByLabel('OutId').fill(XSS);
    await form.getByLabel('Recording').check();
    await form.getByRole('button', { name: 'Create binding' }).click();
    await page.getByRole('heading', { level: 1, name: /^Binding \d+$/ }).waitFor();
    subsId = /^Binding (\d+)$/.exec(await page.getByRole('heading', { level: 1 }).innerText())![1]!;

    const main = page.locator('main');
    const text = await main.innerText();
    expect(text).toContain(XSS); // the OutId, literally
    expect(await main.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(text).toContain('138****0001');
    expect(text).toContain('139****0002');
    expect(text).not.toContain(A);
    expect(text).not.toContain(B);

    const d = await http.dypls('QuerySubscriptionDetail', { PoolKey: 'CONSOLE', SubsId: subsId, PhoneNoX: XS[0]! });
    expect(d.body.Code, JSON.stringify(d.body)).toBe('OK');
    expect(d.body.SecretBindDetailDTO).toMatchObject({ SubsId: subsId, PhoneNoA: A, PhoneNoB: B, PhoneNoX: XS[0], NeedRecord: true });
    expect(d.body.SecretBindDetailDTO.OutId ?? XSS).toBe(XSS);
    await screenshot(page, 'binding');
  });

  it('Bindings: search by the full A, B, X, SubsId and OutId while numbers are masked', async () => {
    await page.getByRole('link', { name: 'Bindings', exact: true }).click();
    const search = page.getByRole('search');
    for (const [by, value] of [
      ['A', A],
      ['B', B],
      ['X', XS[0]!],
      ['SubsId', subsId],
      ['OutId', XSS],
    ] as const) {
      await search.getByLabel('Search by').selectOption({ label: by });
      await search.getByLabel('Value').fill(value);
      await search.getByRole('button', { name: 'Search' }).click();
      const row = page.getByRole('table', { name: 'Bindings' }).getByRole('row').filter({ hasText: subsId });
      await row.waitFor();
      const rowText = await row.innerText();
      expect(rowText).toContain('138****0001');
      expect(rowText).not.toContain(A);
    }
    await search.getByLabel('Search by').selectOption({ label: 'A' });
    await search.getByLabel('Value').fill('13800009999');
    await search.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No live binding matches.').waitFor();
    await screenshot(page, 'bindings');
  });

  it('Reveal numbers shows them and logs who, when and which page at info level', async () => {
    await page.goto(`${base}/console/#/bindings/${subsId}`);
    await page.getByRole('heading', { level: 1, name: `Binding ${subsId}` }).waitFor();
    const before = x.lines.filter((l) => l.msg === 'console: numbers revealed').length;
    await page.getByRole('switch', { name: 'Reveal numbers' }).check();
    await page.locator('main').getByText(A, { exact: true }).waitFor();
    expect(await page.locator('main').innerText()).toContain(B);
    const line = await x.waitLog((l) => l.msg === 'console: numbers revealed' && x.lines.filter((m) => m.msg === 'console: numbers revealed').length > before, 5000, 'reveal logged');
    expect(line).toMatchObject({ level: 30, page: 'binding' });
    expect(String(line.who)).toMatch(/^console:[0-9a-f]{8}$/);
    expect(Date.parse(String(line.at))).toBeGreaterThan(Date.now() - 60_000);
    await page.getByRole('switch', { name: 'Reveal numbers' }).uncheck();
    await page.locator('main').getByText('138****0001', { exact: true }).waitFor();
    expect(await page.locator('main').innerText()).not.toContain(A);
  });

  it('Bindings: change B, expiry, restriction and recording, seen through the dypls API; unbind only after confirmation', async () => {
    const change = page.getByRole('form', { name: 'Change' });
    await change.getByLabel('New B').fill(B2);
    await change.getByLabel('Restriction').selectOption('CONTROL_BX_DISABLE');
    await change.getByLabel('Recording').selectOption('off');
    await change.getByLabel('New expiration').fill('2031-06-01T12:30');
    await change.getByRole('button', { name: 'Save changes' }).click();
    await change.getByText('Saved.').waitFor();
    const d = await http.dypls('QuerySubscriptionDetail', { PoolKey: 'CONSOLE', SubsId: subsId, PhoneNoX: XS[0]! });
    expect(d.body.SecretBindDetailDTO).toMatchObject({ PhoneNoB: B2, NeedRecord: false, CallRestrict: 'CONTROL_BX_DISABLE', ExpireDate: '2031-06-01 12:30:00' });

    await page.getByRole('button', { name: 'Unbind' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(`Unbind ${subsId}?`).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await http.dypls('QuerySubscriptionDetail', { PoolKey: 'CONSOLE', SubsId: subsId, PhoneNoX: XS[0]! })).body.Code).toBe('OK');

    await page.getByRole('button', { name: 'Unbind' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Unbind' }).click();
    await page.getByText(`Binding ${subsId} removed.`).waitFor();
    const gone = await http.dypls('QuerySubscriptionDetail', { PoolKey: 'CONSOLE', SubsId: subsId, PhoneNoX: XS[0]! });
    expect(gone.body.Code).toBe('isv.SUBS_NOT_EXIST');
  });

  it('Bindings: creates AXN, AXN extension and AX bindings; an API refusal is shown in words', async () => {
    const made: Array<{ mode: string; subsId: string }> = [];
    for (const [mode, xNo] of [
      ['AXN', XS[1]!],
      ['AXE', XS[2]!],
      ['AX', XS[3]!],
    ] as const) {
      const form = page.getByRole('form', { name: 'Create binding' });
      // The click changes the hash at once but the page is drawn again only on 'hashchange', a
      // task later: filling the form still on screen would be lost when the new one replaces it.
      const stale = (await form.count()) ? await form.elementHandle() : null;
      await page.getByRole('link', { name: 'Bindings', exact: true }).click();
      if (stale) await stale.waitForElementState('hidden');
      await form.getByLabel('Mode').selectOption(mode);
      await form.getByLabel('Pool', { exact: true }).selectOption('CONSOLE');
      await form.getByLabel('A', { exact: true }).fill('13800000011');
      if (mode === 'AXN') await form.getByLabel('B', { exact: true }).fill('13900000012');
      if (mode === 'AXE') await form.getByLabel(/^Extension/).fill('123');
      await form.getByLabel(/^X /).fill(xNo);
      await form.getByRole('button', { name: 'Create binding' }).click();
      await page.getByRole('heading', { level: 1, name: /^Binding \d+$/ }).waitFor();
      made.push({ mode, subsId: /(\d+)$/.exec(await page.getByRole('heading', { level: 1 }).innerText())![1]! });
    }
    for (const m of made) {
      const q = await http.ops('GET', `/v1/bindings/${m.subsId}`);
      expect(q.body).toMatchObject({ mode: m.mode, a: '13800000011' });
    }
    expect((await http.ops('GET', `/v1/bindings/${made[1]!.subsId}`)).body.extension).toBe('123');

    // X already bound by this A in AXB terms: the store's refusal, in words
    await page.getByRole('link', { name: 'Bindings', exact: true }).click();
    const form = page.getByRole('form', { name: 'Create binding' });
    await form.getByLabel('Pool', { exact: true }).selectOption('CONSOLE');
    await form.getByLabel('A', { exact: true }).fill('12345');
    await form.getByLabel('B', { exact: true }).fill(B);
    await form.getByRole('button', { name: 'Create binding' }).click();
    await form.getByRole('alert').filter({ hasText: 'A phone number is not valid.' }).waitFor();
    expect(await form.getByRole('alert').innerText()).not.toContain('{');
  });

  it('Calls: filters, pages, a call detail with its timeline and cause in words, and its recording plays in the page', async () => {
    const sub = `${XS[4]}000000042`;
    for (let i = 0; i < 55; i++) {
      await cdr({ call_id: `paged-${String(i).padStart(2, '0')}`, sub_id: sub, secret_no: XS[4]!, start_time: i % 5 === 0 ? undefined : expirationIn(-50) });
    }
    const recorded = 'recorded-call-1';
    mkdirSync(join(dir, 'recordings'), { recursive: true });
    writeFileSync(join(dir, 'recordings', recordingFileName(recorded)), toneWav(440, 2));
    await cdr({ call_id: recorded, sub_id: sub, secret_no: XS[4]!, ring_time: expirationIn(-58), start_time: expirationIn(-55), release_cause: 16, release_dir: 2 });

    await page.getByRole('link', { name: 'Calls', exact: true }).click();
    const form = page.getByRole('search');
    await form.getByLabel('SubsId').fill(sub);
    await form.getByRole('button', { name: 'Search' }).click();
    const rows = page.getByRole('table', { name: 'Calls' }).locator('tbody tr');
    await until(async () => (await rows.count()) === 50, 5000, 'first page of 50');
    await page.getByRole('button', { name: 'Next page' }).last().click();
    await until(async () => (await rows.count()) === 6, 5000, 'second page of 6');
    await page.getByRole('button', { name: 'Previous page' }).last().click();
    await until(async () => (await rows.count()) === 50, 5000, 'back to the first page');

    await form.getByLabel('Outcome').selectOption('failed');
    await form.getByRole('button', { name: 'Search' }).click();
    await until(async () => (await rows.count()) === 11, 5000, 'the 11 failed calls');
    expect(new Set(await rows.locator('td[data-label="Outcome"]').allInnerTexts())).toEqual(new Set(['failed']));
    await screenshot(page, 'calls');

    await page.goto(`${base}/console/#/calls/${recorded}`);
    await page.getByRole('heading', { level: 1, name: `Call ${recorded}` }).waitFor();
    const timeline = await page.getByRole('region', { name: 'Timeline' }).innerText();
    expect(timeline).toMatch(/Call arrived[\s\S]*Called party ringing[\s\S]*Answered[\s\S]*Released/);
    expect(timeline).toContain('normal clearing (16)');
    expect(await page.locator('main').innerText()).toMatch(/Released by\s+the called party/);
    const audio = page.locator('audio');
    const duration = await until(
      async () => audio.evaluate(audioDuration),
      10_000,
      'the recording loaded',
    );
    expect(duration).toBeCloseTo(2, 1);
    const download = page.getByRole('link', { name: 'Download recording' });
    expect(await download.getAttribute('download')).toBe(`${recorded}.wav`);
    const href = await download.getAttribute('href');
    expect(href).toBe(await audio.getAttribute('src'));
    const file = await fetch(base + href);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('audio/wav');
    await screenshot(page, 'call');
  });

  it('Live: a call appears within 2 s with its state and duration and goes when it ends, without a reload', async () => {
    await page.getByRole('link', { name: 'Live', exact: true }).click();
    await page.getByText('No calls in progress.').waitFor();
    await events.heartbeat('console-test~1');
    const at = Date.now();
    await events.produceEvent({ type: 'start', call_id: 'live-1', sub_id: 'live-sub', secret_no: XS[0]!, phone_no: A, peer_no: B, call_type: 0, at });
    const row = page.getByRole('row').filter({ hasText: 'live-1' });
    await row.waitFor({ timeout: 2500 });
    expect(await row.innerText()).toContain('calling');
    await events.produceEvent({ type: 'answer', call_id: 'live-1', sub_id: 'live-sub', secret_no: XS[0]!, phone_no: A, peer_no: B, call_type: 0, at: Date.now() });
    await row.getByText('talking').waitFor({ timeout: 2500 });
    const t0 = await row.locator('.duration').innerText();
    await until(async () => (await row.locator('.duration').innerText()) !== t0, 3000, 'the duration ticking');
    expect(await row.innerText()).toContain('138****0001');
    await screenshot(page, 'live');
    await cdr({ call_id: 'live-1', sub_id: 'live-sub', start_time: expirationIn(-1) });
    await page.getByText('No calls in progress.').waitFor({ timeout: 2500 });
  });

  it('Deliveries: dead letters with their last error; resend one and all', async () => {
    await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
    const table = page.getByRole('table', { name: 'Dead letters' });
    await table.waitFor();
    const first = table.locator('tbody tr').first();
    expect(await first.innerText()).toMatch(/ECONNREFUSED|connect|refused|fetch failed/i);
    const before = (await http.ops('GET', '/v1/events/stats')).body.dead as number;
    expect(before).toBeGreaterThan(1);
    await first.getByRole('button', { name: 'Resend' }).click();
    await page.getByText('Queued again: 1.').waitFor();
    await screenshot(page, 'deliveries');
    await page.getByRole('button', { name: 'Resend all' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Resend all' }).click();
    await page.getByText(/Queued again: ([2-9]|\d\d+)\./).waitFor();
    expect((await http.ops('GET', '/v1/events/dead-letter')).body.items.length).toBeLessThan(before);
  });

  it('Ring tones: upload a WAV, play it, deletion refused while a pool uses it (saying which), then deleted', async () => {
    await page.getByRole('link', { name: 'Ring tones', exact: true }).click();
    await page.getByText('No ring tones yet.').waitFor();
    const form = page.getByRole('form', { name: 'Upload' });
    await form.getByLabel('Tone id').fill('welcome');
    await form.getByLabel('WAV file').setInputFiles({ name: 'welcome.wav', mimeType: 'audio/wav', buffer: toneWav(600, 1.5) });
    await form.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Ring tone welcome stored.').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'welcome' });
    expect(await row.innerText()).toContain(`${(toneWav(600, 1.5).length / 1024).toFixed(1)} KB`);
    await row.getByRole('button', { name: 'Play welcome' }).click();
    const duration = await until(
      async () => page.locator('audio').evaluate(audioDuration),
      10_000,
      'the tone loaded',
    );
    expect(duration).toBeCloseTo(1.5, 1);
    await screenshot(page, 'ring-tones');

    expect((await http.ops('PUT', '/v1/pools/CONSOLE', { name: 'CONSOLE', ringConfig: { AXBRing_A: 'welcome' } })).status).toBe(200);
    await row.getByRole('button', { name: 'Delete welcome' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alert').filter({ hasText: 'ring tone welcome is used by pool CONSOLE' }).waitFor();
    expect((await http.ops('GET', '/v1/ring-tones')).body.ringTones).toHaveLength(1);

    expect((await http.ops('PUT', '/v1/pools/CONSOLE', { name: 'CONSOLE' })).status).toBe(200);
    await row.getByRole('button', { name: 'Delete welcome' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Ring tone welcome deleted.').waitFor();
    expect((await http.ops('GET', '/v1/ring-tones')).body.ringTones).toEqual([]);
  });

  it('Huawei apps: bad input refused in words, an app created, listed and seen through the API without its secret, edited, deleted after a confirmation', async () => {
    const SECRET = 'console-Secret-0123456789!';
    const SECRET2 = 'console-Secret-abcdefghij?';
    await page.getByRole('link', { name: 'Huawei apps', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Huawei apps', exact: true }).waitFor();
    await page.getByText('No Huawei apps yet.').waitFor();
    const form = page.getByRole('form', { name: 'Create or update app' });
    expect(await form.getByLabel('App secret').getAttribute('type')).toBe('password');

    // no pool: said in words before anything is sent
    await form.getByLabel('App key').fill('hw-console');
    await form.getByLabel('App secret').fill(SECRET);
    await form.getByLabel('Mode').selectOption('AX');
    await form.getByRole('button', { name: 'Create or update app' }).click();
    await form.getByRole('alert').filter({ hasText: 'Enter the pool key the app takes its X numbers from.' }).waitFor();
    // a pool that does not exist: the API's refusal, in words
    await form.getByLabel('Pool key').fill('NOPOOL');
    await form.getByRole('button', { name: 'Create or update app' }).click();
    await form.getByRole('alert').filter({ hasText: 'No such pool.' }).waitFor();
    expect(await form.getByRole('alert').innerText()).not.toMatch(/[{}]/);
    expect((await http.ops('GET', '/v1/huawei/apps')).body.apps).toEqual([]);

    await form.getByLabel('App secret').fill(SECRET);
    await form.getByLabel('Pool key').fill('CONSOLE');
    await form.getByLabel(/^Status URL/).fill('https://crm.example/huawei/status');
    await form.getByRole('button', { name: 'Create or update app' }).click();
    await form.getByText('App hw-console saved.').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'hw-console' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/hw-console\s+AX\s+CONSOLE\s+https:\/\/crm\.example\/huawei\/status/);
    const listed = await http.ops('GET', '/v1/huawei/apps');
    expect(listed.status).toBe(200);
    expect(listed.body.apps).toEqual([expect.objectContaining({ appKey: 'hw-console', mode: 'AX', poolKey: 'CONSOLE', statusUrl: 'https://crm.example/huawei/status' })]);
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    expect(await form.getByLabel('App secret').inputValue()).toBe('');
    expect(await page.content()).not.toContain(SECRET);
    await screenshot(page, 'huawei-apps');

    // edit: the row fills the form but for the secret, which is typed again
    await row.getByRole('button', { name: 'Edit hw-console' }).click();
    expect(await form.getByLabel('App key').inputValue()).toBe('hw-console');
    expect(await form.getByLabel('Pool key').inputValue()).toBe('CONSOLE');
    expect(await form.getByLabel('App secret').inputValue()).toBe('');
    await form.getByLabel('App secret').fill(SECRET2);
    await form.getByLabel('Mode').selectOption('AXB');
    await form.getByLabel(/^Fee URL/).fill('https://crm.example/huawei/fee');
    await form.getByRole('button', { name: 'Create or update app' }).click();
    await form.getByText('App hw-console saved.').waitFor();
    await until(async () => /hw-console\s+AXB\s+CONSOLE/.test(await row.innerText()), 5000, 'the row showing AXB');
    const one = await http.ops('GET', '/v1/huawei/apps/hw-console');
    expect(one.body).toMatchObject({ mode: 'AXB', feeUrl: 'https://crm.example/huawei/fee' });
    expect(JSON.stringify(one.body)).not.toContain(SECRET2);
    expect(await page.content()).not.toContain(SECRET2);

    // delete: cancelled first (still there), then confirmed
    await row.getByRole('button', { name: 'Delete hw-console' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Delete app hw-console?').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await http.ops('GET', '/v1/huawei/apps/hw-console')).status).toBe(200);
    await row.getByRole('button', { name: 'Delete hw-console' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('App hw-console deleted.').waitFor();
    await page.getByText('No Huawei apps yet.').waitFor();
    expect((await http.ops('GET', '/v1/huawei/apps/hw-console')).status).toBe(404);
    expect((await http.ops('GET', '/v1/huawei/apps')).body.apps).toEqual([]);

    // revealing numbers on this page is logged with its name, like on every other page
    await page.getByRole('switch', { name: 'Reveal numbers' }).check();
    const line = await x.waitLog((l) => l.msg === 'console: numbers revealed' && l.page === 'huawei-apps', 5000, 'reveal on Huawei apps logged');
    expect(line).toMatchObject({ level: 30 });
    expect(String(line.who)).toMatch(/^console:[0-9a-f]{8}$/);
    await page.getByRole('heading', { level: 1, name: 'Huawei apps', exact: true }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.getByRole('switch', { name: 'Reveal numbers' }).uncheck();
  });

  it('CSRF: a write with the session cookie but without the token, or from another origin, is refused and changes nothing', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'xline_console')!;
    const headers = { cookie: `xline_console=${cookie.value}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ name: 'csrf' });
    const noToken = await fetch(`${base}/v1/pools/CSRF1`, { method: 'PUT', headers, body });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe('CSRF_REFUSED');
    const csrf = ((await (await fetch(`${base}/console/api/session`, { headers })).json()) as { csrf: string }).csrf;
    const otherSite = await fetch(`${base}/v1/pools/CSRF1`, { method: 'PUT', headers: { ...headers, 'x-csrf-token': csrf, origin: 'http://evil.example' }, body });
    expect(otherSite.status).toBe(403);
    const wrong = await fetch(`${base}/v1/pools/CSRF1`, { method: 'PUT', headers: { ...headers, 'x-csrf-token': `${csrf}x` }, body });
    expect(wrong.status).toBe(403);
    expect((await http.ops('GET', '/v1/pools/CSRF1')).status).toBe(404);
    // the same request with the token is accepted: the refusals above were the CSRF check's
    const ok = await fetch(`${base}/v1/pools/CSRF1`, { method: 'PUT', headers: { ...headers, 'x-csrf-token': csrf, origin: base }, body });
    expect(ok.status).toBe(200);
    // and in the browser: a script on the page without the header is refused too
    const status = await page.evaluate(async () => (await fetch('/v1/pools/CSRF2', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' })).status);
    expect(status).toBe(403);
  });

  it('languages: 简体中文 from the browser, switchable on every page', async () => {
    const zh = await newConsolePage(browser, { locale: 'zh-CN' });
    try {
      await zh.context.addCookies(await context.cookies());
      await zh.page.goto(`${base}/console/#/bindings`);
      await zh.page.getByRole('link', { name: '概览', exact: true }).waitFor();
      await zh.page.getByRole('heading', { level: 1, name: '绑定' }).waitFor();
      await zh.page.getByLabel('语言').selectOption('en');
      await zh.page.getByRole('heading', { level: 1, name: 'Bindings' }).waitFor();
      await zh.page.getByLabel('Language').selectOption('zh');
      await zh.page.getByRole('link', { name: '实时通话', exact: true }).click();
      await zh.page.getByText('没有进行中的通话').waitFor();
      await zh.page.getByRole('link', { name: '华为应用', exact: true }).click();
      await zh.page.getByRole('heading', { level: 1, name: '华为应用' }).waitFor();
      await zh.page.getByText('还没有华为应用。').waitFor();
    } finally {
      await zh.context.close();
    }
  });

  it('works on a 390-px phone screen and by keyboard with a visible focus', async () => {
    const phone = await newConsolePage(browser, { width: 390, height: 844 });
    try {
      await phone.context.addCookies(await context.cookies());
      await phone.page.goto(`${base}/console/#/pools`);
      await phone.page.getByRole('row').filter({ hasText: 'CSVPOOL' }).waitFor();
      const overflow = Number(await phone.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      expect(overflow).toBeLessThanOrEqual(0);
      for (const name of ['Overview', 'Pools', 'Bindings', 'Calls', 'Live', 'Deliveries', 'Ring tones', 'Huawei apps']) {
        expect(await phone.page.getByRole('link', { name, exact: true }).isVisible()).toBe(true);
      }
      // keyboard: Tab reaches the navigation, Enter follows a link, the focused element is outlined
      await phone.page.keyboard.press('Tab');
      let focused = '';
      for (let i = 0; i < 6 && focused !== 'Bindings'; i++) {
        await phone.page.keyboard.press('Tab');
        focused = String(await phone.page.evaluate("document.activeElement?.textContent ?? ''"));
      }
      expect(focused).toBe('Bindings');
      const outline = await phone.page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
      expect(outline).not.toBe('none');
      await phone.page.keyboard.press('Enter');
      await phone.page.getByRole('heading', { level: 1, name: 'Bindings' }).waitFor();
    } finally {
      await phone.context.close();
    }
  });

  it('sign-out ends the session on the server: the old cookie is refused afterwards', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'xline_console')!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await page.getByLabel('Ops token').waitFor();
    const r = await fetch(`${base}/v1/pools`, { headers: { cookie: `xline_console=${cookie.value}` } });
    expect(r.status).toBe(401);
    expect(await redis.keys('xline:console:session:*')).toEqual([]);
    await page.goto(`${base}/console/#/bindings`);
    await page.getByLabel('Ops token').waitFor();
    await screenshot(page, 'sign-in');
  });
});
