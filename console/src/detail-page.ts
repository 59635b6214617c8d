// What the detail pages (a binding, a call) share, written once: the top (a link back, the
// title, a notice), the one fetch of what they show, and the definition list of its fields.
import { api, errorText } from './api.js';
import { h, link, notice } from './dom.js';
import { t } from './i18n.js';
import type { PageCtx } from './page.js';
import type { Notice } from './row-actions.js';

/**
 * Draws the page's top and GETs `path`: what it answered, with the page's notice; undefined when
 * the request failed (said in the notice) or the page was left meanwhile.
 */
export async function openDetail<T>(c: PageCtx, back: { href: string; label: string }, title: string, path: string): Promise<{ data: T; msg: Notice } | undefined> {
  const msg = notice();
  c.root.append(h('p', {}, link(back.href, back.label)), h('h1', {}, title), msg.el);
  let data: T;
  try {
    data = await api<T>('GET', path);
  } catch (err) {
    msg.error(errorText(err));
    return undefined;
  }
  return c.alive() ? { data, msg } : undefined;
}

/** A definition list; row() adds a field (absent or empty: shown as none). */
export function fieldList(): { el: HTMLElement; row(k: string, v: string | undefined): void } {
  const el = h('dl', { class: 'details' });
  return { el, row: (k, v) => el.append(h('dt', {}, k), h('dd', {}, v === undefined || v === '' ? t('none') : v)) };
}
