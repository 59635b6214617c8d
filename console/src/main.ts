// The console's shell: sign-in, the header (navigation, language, "Reveal numbers", sign-out)
// and a hash router that shows one page at a time and stops its timers when it is left.
import { api, ApiError, errorText, setCsrf, whenSessionEnds } from './api.js';
import { clear, field, h, notice } from './dom.js';
import { getLang, setLang, t, type Key, type Lang } from './i18n.js';
import { isRevealed, logReveal, setRevealed } from './privacy.js';
import type { Page, PageCtx } from './page.js';
import { overviewPage } from './pages/overview.js';
import { poolsPage } from './pages/pools.js';
import { bindingPage, bindingsPage } from './pages/bindings.js';
import { callPage, callsPage } from './pages/calls.js';
import { livePage } from './pages/live.js';
import { deliveriesPage } from './pages/deliveries.js';
import { ringTonesPage } from './pages/ring-tones.js';
import { huaweiAppsPage } from './pages/huawei-apps.js';

interface Route {
  /** Page name for the reveal log. */
  name: string;
  nav: string;
  page: Page;
}

const NAV: Array<{ path: string; key: Key }> = [
  { path: 'overview', key: 'nav.overview' },
  { path: 'pools', key: 'nav.pools' },
  { path: 'bindings', key: 'nav.bindings' },
  { path: 'calls', key: 'nav.calls' },
  { path: 'live', key: 'nav.live' },
  { path: 'deliveries', key: 'nav.deliveries' },
  { path: 'ring-tones', key: 'nav.ringTones' },
  { path: 'huawei-apps', key: 'nav.huaweiApps' },
];

function route(parts: string[]): Route {
  const [first, second] = parts;
  switch (first) {
    case 'pools':
      return { name: 'pools', nav: 'pools', page: poolsPage };
    case 'bindings':
      return second ? { name: 'binding', nav: 'bindings', page: bindingPage } : { name: 'bindings', nav: 'bindings', page: bindingsPage };
    case 'calls':
      return second ? { name: 'call', nav: 'calls', page: callPage } : { name: 'calls', nav: 'calls', page: callsPage };
    case 'live':
      return { name: 'live', nav: 'live', page: livePage };
    case 'deliveries':
      return { name: 'deliveries', nav: 'deliveries', page: deliveriesPage };
    case 'ring-tones':
      return { name: 'ring-tones', nav: 'ring-tones', page: ringTonesPage };
    case 'huawei-apps':
      return { name: 'huawei-apps', nav: 'huawei-apps', page: huaweiAppsPage };
    default:
      return { name: 'overview', nav: 'overview', page: overviewPage };
  }
}

const app = document.getElementById('app')!;
let leave: Array<() => void> = [];
let signedIn = false;

function parseHash(): { parts: string[]; query: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path = '', q = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map((p) => decodeURIComponent(p)), query: new URLSearchParams(q) };
}

function stopPage(): void {
  for (const f of leave.splice(0)) f();
}

function languageSelect(onChange: () => void): HTMLElement {
  const sel = h(
    'select',
    {
      onchange: (e: Event) => {
        setLang((e.target as HTMLSelectElement).value as Lang);
        onChange();
      },
    },
    h('option', { value: 'en', selected: getLang() === 'en', lang: 'en' }, 'English'),
    h('option', { value: 'zh', selected: getLang() === 'zh', lang: 'zh-CN' }, '简体中文'),
  );
  return field(t('language'), sel);
}

function signInView(message?: string): void {
  stopPage();
  signedIn = false;
  clear(app);
  document.title = t('title');
  const msg = notice();
  if (message) msg.ok(message);
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit' }, t('signIn'));
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        button.disabled = true;
        msg.clear();
        try {
          const s = await api<{ csrf: string }>('POST', '/console/api/session', { token: input.value }, { signIn: true });
          setCsrf(s.csrf);
          input.value = '';
          signedIn = true;
          show();
        } catch (err) {
          msg.error(errorText(err));
          input.select();
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h1', {}, t('signInTitle')),
    h('p', {}, t('signInHelp')),
    field(t('opsToken'), input),
    button,
    msg.el,
  );
  app.appendChild(h('main', { class: 'signin-page' }, form, languageSelect(() => signInView(message))));
  input.focus();
}

let revealError = notice();

function header(current: Route): HTMLElement {
  const sw = h('input', {
    type: 'checkbox',
    role: 'switch',
    checked: isRevealed(),
    onchange: async (e: Event) => {
      const box = e.target as HTMLInputElement;
      try {
        await setRevealed(box.checked, current.name);
        revealError.clear();
        show();
      } catch (err) {
        box.checked = isRevealed();
        revealError.error(errorText(err));
      }
    },
  });
  const swId = 'reveal-switch';
  sw.id = swId;
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'skip', href: '#main', onclick: (e: Event) => (e.preventDefault(), document.getElementById('main')?.focus()) }, 'Skip to content'),
    h('span', { class: 'brand' }, 'xline'),
    h(
      'nav',
      { 'aria-label': 'main' },
      h(
        'ul',
        {},
        NAV.map((n) => h('li', {}, h('a', { href: `#/${n.path}`, 'aria-current': n.path === current.nav ? 'page' : null }, t(n.key)))),
      ),
    ),
    h(
      'div',
      { class: 'controls' },
      h('div', { class: 'switch' }, sw, h('label', { for: swId }, t('reveal'))),
      languageSelect(() => show()),
      h('button', { type: 'button', class: 'secondary', onclick: signOut }, t('signOut')),
    ),
    revealError.el,
  );
}

async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/console/api/session');
  } catch {
    // the session is gone either way
  }
  await setRevealed(false, 'overview').catch(() => undefined);
  signInView(t('signedOut'));
}

function show(): void {
  if (!signedIn) return;
  stopPage();
  const { parts, query } = parseHash();
  const r = route(parts);
  clear(app);
  revealError = notice();
  const main = h('main', { id: 'main', tabindex: -1 });
  app.append(header(r), main);
  document.title = `${t(NAV.find((n) => n.path === r.nav)!.key)} · ${t('title')}`;
  let alive = true;
  leave.push(() => (alive = false));
  const ctx: PageCtx = {
    root: main,
    parts,
    query,
    alive: () => alive,
    onLeave: (f) => leave.push(f),
    rerender: show,
  };
  void logReveal(r.name).catch((err: unknown) => revealError.error(errorText(err)));
  Promise.resolve(r.page(ctx)).catch((err: unknown) => {
    if (alive) main.appendChild(h('p', { class: 'notice error', role: 'alert' }, errorText(err)));
  });
}

window.addEventListener('hashchange', () => {
  show();
  document.getElementById('main')?.focus();
});
whenSessionEnds(() => signInView(t('err.session')));

async function start(): Promise<void> {
  setLang(getLang());
  try {
    const s = await api<{ csrf: string }>('GET', '/console/api/session', undefined, { signIn: true });
    setCsrf(s.csrf);
    signedIn = true;
    show();
  } catch (err) {
    signInView(err instanceof ApiError && err.status === 401 ? undefined : errorText(err));
  }
}

void start();
