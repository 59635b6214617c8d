// The operator console in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
// builds the console into a temp dir for the xline process under test, launches one browser per
// test file, signs in. Tests skip loudly, naming chromium, when it is absent.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { findBinary } from '../../src/util/binaries.js';
import { requireBinary } from './binaries.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const chromiumBin = requireBinary('chromium', 'CHROMIUM_BIN', 'apt-get install -y chromium');

/** `npm run build:console` into `dir` (what `npm start` serves from dist/console). */
export function buildConsole(dir: string): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'console', 'build.mjs'), dir], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`console build failed:\n${r.stdout}\n${r.stderr}`);
  return dir;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumBin!,
    headless: true,
    // root in CI containers cannot use Chromium's sandbox
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
  });
}

export async function newConsolePage(browser: Browser, opts: { locale?: string; width?: number; height?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    locale: opts.locale ?? 'en-US',
    timezoneId: 'Asia/Shanghai',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return { context, page };
}

export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.getByLabel('Ops token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Overview', exact: true }).waitFor();
}

/**
 * Screenshots for the README (docs/console), only when XLINE_CONSOLE_SCREENSHOTS names a
 * directory; made small with pngquant when it is installed.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.XLINE_CONSOLE_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  const pngquant = findBinary('pngquant');
  if (pngquant) spawnSync(pngquant, ['--quality', '60-85', '--speed', '1', '--strip', '--force', '--output', path, path]);
}

/** Polls until `fn` returns something other than undefined/false. */
export async function until<T>(fn: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
