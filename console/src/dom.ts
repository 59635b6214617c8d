// Building the page without markup strings: every text goes in as a text node, every attribute
// through setAttribute, so nothing an operator or a business system typed (OutId, pool names)
// can become markup. There is no innerHTML anywhere in the console.
import { t } from './i18n.js';

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') {
      if (!k.startsWith('on')) throw new Error(`not an event: ${k}`);
      el.addEventListener(k.slice(2), v);
    } else if (k.startsWith('on')) {
      throw new Error(`event handler ${k} must be a function`);
    } else if (k === 'value' && 'value' in el) {
      (el as HTMLInputElement).value = String(v);
    } else if (k === 'checked' || k === 'selected') {
      (el as unknown as Record<string, boolean>)[k] = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

let uid = 0;
export const nextId = (p: string) => `${p}-${++uid}`;

/** A labelled form field: the label names the control (getByLabel finds it). */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || nextId('f');
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', {}, hint) : null);
}

/** A message area; `show` replaces its text (role=status, or alert for errors). */
export function notice(): { el: HTMLElement; ok(text: string): void; error(text: string): void; clear(): void } {
  const el = h('div', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    ok(text) {
      el.className = 'notice ok';
      el.setAttribute('role', 'status');
      el.textContent = text;
    },
    error(text) {
      el.className = 'notice error';
      el.setAttribute('role', 'alert');
      el.textContent = text;
    },
    clear() {
      el.className = 'notice';
      el.textContent = '';
    },
  };
}

/** A modal confirmation (the native <dialog>: focus is trapped, Esc cancels). */
export function confirmDialog(message: string, okLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm', 'aria-label': t('confirm') });
    const done = (v: boolean) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    const cancel = h('button', { type: 'button', onclick: () => done(false) }, t('cancel'));
    const ok = h('button', { type: 'button', class: 'danger', onclick: () => done(true) }, okLabel);
    append(dlg, [h('p', {}, message), h('div', { class: 'actions' }, cancel, ok)]);
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

export interface Column<T> {
  key: string;
  label: string;
  /** What the column sorts by (and shows, without render). */
  value: (row: T) => string | number | undefined;
  render?: (row: T) => Child;
  /** Not sortable (actions). */
  plain?: boolean;
}

/**
 * A table that sorts on its column headers (buttons, so the keyboard reaches them) and pages
 * long lists; `empty` is shown instead when there are no rows.
 */
export function table<T>(opts: { columns: Column<T>[]; rows: T[]; empty: Child; pageSize?: number; caption?: string; label?: string }): HTMLElement {
  const { columns, rows } = opts;
  const pageSize = opts.pageSize ?? 25;
  if (rows.length === 0) return h('p', { class: 'empty' }, opts.empty);
  let sortKey: string | undefined;
  let dir = 1;
  let page = 0;
  const wrap = h('div', { class: 'table-wrap' });
  const render = () => {
    clear(wrap);
    const col = columns.find((c) => c.key === sortKey);
    const sorted = col
      ? [...rows].sort((a, b) => {
          const x = col.value(a) ?? '';
          const y = col.value(b) ?? '';
          return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
        })
      : rows;
    const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
    page = Math.min(page, pages - 1);
    const head = h(
      'tr',
      {},
      columns.map((c) =>
        h(
          'th',
          { scope: 'col', 'aria-sort': c.key === sortKey ? (dir > 0 ? 'ascending' : 'descending') : c.plain ? null : 'none' },
          c.plain
            ? c.label
            : h(
                'button',
                {
                  type: 'button',
                  class: 'sort',
                  title: t('sortBy', { col: c.label }),
                  onclick: () => {
                    if (sortKey === c.key) dir = -dir;
                    else {
                      sortKey = c.key;
                      dir = 1;
                    }
                    render();
                    (wrap.querySelector(`th:nth-child(${columns.indexOf(c) + 1}) button`) as HTMLElement | null)?.focus();
                  },
                },
                c.label,
                h('span', { class: 'arrow', 'aria-hidden': 'true' }, c.key === sortKey ? (dir > 0 ? ' ▲' : ' ▼') : ''),
              ),
        ),
      ),
    );
    const body = sorted.slice(page * pageSize, (page + 1) * pageSize).map((r) =>
      h(
        'tr',
        {},
        columns.map((c) => h('td', { 'data-label': c.label }, c.render ? c.render(r) : (c.value(r) ?? t('none')))),
      ),
    );
    append(wrap, [h('table', { 'aria-label': opts.label ?? opts.caption ?? null }, opts.caption ? h('caption', {}, opts.caption) : null, h('thead', {}, head), h('tbody', {}, body))]);
    if (pages > 1) {
      append(wrap, [
        h(
          'nav',
          { class: 'pager', 'aria-label': 'pages' },
          h('button', { type: 'button', disabled: page === 0, onclick: () => ((page -= 1), render()) }, t('prev')),
          h('span', {}, t('pageOf', { page: page + 1, pages })),
          h('button', { type: 'button', disabled: page >= pages - 1, onclick: () => ((page += 1), render()) }, t('next')),
        ),
      ]);
    }
  };
  render();
  return wrap;
}

export function link(href: string, text: Child): HTMLAnchorElement {
  return h('a', { href }, text);
}

export function fmtTime(ms: number | undefined): string {
  if (!ms) return t('none');
  const d = new Date(ms);
  const p = (v: number) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDuration(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const m = Math.floor(s / 60);
  const hh = Math.floor(m / 60);
  const p = (v: number) => String(v).padStart(2, '0');
  return hh ? `${hh}:${p(m % 60)}:${p(s % 60)}` : `${p(m)}:${p(s % 60)}`;
}
