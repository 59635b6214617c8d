// Calls: CDRs filtered by time range, X, SubsId and outcome, paged with the API's cursor; a call's
// detail with its timeline, the release cause in words and its recording (played and downloadable).
import { api, errorText } from '../api.js';
import { clear, field, h, notice, table } from '../dom.js';
import { causeText, t } from '../i18n.js';
import { fieldList, openDetail } from '../detail-page.js';
import type { PageCtx } from '../page.js';
import { num } from '../privacy.js';
import { cdrColumns, type Cdr } from './bindings.js';

const PAGE = 50;

function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function callsPage(c: PageCtx): Promise<void> {
  const results = h('div', { class: 'results' });
  const msg = notice();
  // cursors of the pages before the current one (the API pages forward only)
  let cursors: Array<string | undefined> = [];
  let current: string | undefined;

  const load = async (cursor: string | undefined) => {
    msg.clear();
    try {
      const r = await api<{ items: Cdr[]; next_cursor: string | null }>('GET', `/v1/calls?${filter.params(cursor)}`);
      if (!c.alive()) return;
      current = cursor;
      clear(results);
      results.append(table({ columns: cdrColumns(true), rows: r.items, empty: t('c.empty'), pageSize: PAGE, label: t('c.title') }));
      results.append(
        pager(
          cursors.length === 0 ? undefined : () => void load(cursors.pop()),
          !r.next_cursor
            ? undefined
            : () => {
                cursors.push(current);
                void load(r.next_cursor ?? undefined);
              },
        ),
      );
    } catch (err) {
      msg.error(errorText(err));
    }
  };

  const filter = filterForm(c.query.get('sub_id') ?? '', () => {
    cursors = [];
    void load(undefined);
  });
  c.root.append(h('h1', {}, t('c.title')), filter.el, msg.el, results);
  await load(undefined);
}

/** Previous and next page buttons; one without its action is disabled. */
function pager(prev: (() => void) | undefined, next: (() => void) | undefined): HTMLElement {
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'result pages' },
    h('button', { type: 'button', disabled: !prev, onclick: () => prev?.() }, t('prev')),
    h('button', { type: 'button', disabled: !next, onclick: () => next?.() }, t('next')),
  );
}

/** The search form (time range, X, SubsId, outcome); params() is its query for one page. */
function filterForm(subId: string, search: () => void): { el: HTMLFormElement; params(cursor: string | undefined): URLSearchParams } {
  const from = h('input', { type: 'datetime-local' });
  const to = h('input', { type: 'datetime-local' });
  const x = h('input', { type: 'tel', autocomplete: 'off' });
  const sub = h('input', { type: 'text', autocomplete: 'off', value: subId });
  const outcome = h(
    'select',
    {},
    h('option', { value: '' }, t('c.any')),
    h('option', { value: 'answered' }, t('c.answered')),
    h('option', { value: 'failed' }, t('c.failed')),
  );
  const params = (cursor: string | undefined) => {
    const p = new URLSearchParams({ limit: String(PAGE) });
    const f = isoOf(from.value);
    const tt = isoOf(to.value);
    if (f) p.set('from', f);
    if (tt) p.set('to', tt);
    if (x.value.trim()) p.set('x', x.value.trim());
    if (sub.value.trim()) p.set('sub_id', sub.value.trim());
    if (outcome.value) p.set('outcome', outcome.value);
    if (cursor) p.set('cursor', cursor);
    return p;
  };
  const el = h(
    'form',
    {
      class: 'grid',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        search();
      },
    },
    field(t('c.from'), from),
    field(t('c.to'), to),
    field(t('b.x'), x),
    field(t('b.subsId'), sub),
    field(t('c.outcome'), outcome),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('search'))),
  );
  return { el, params };
}

interface CallDetail {
  cdr: Cdr;
  outcome: 'answered' | 'failed';
  recording?: { url: string; durationSec?: number };
}

export async function callPage(c: PageCtx): Promise<void> {
  const callId = c.parts[1]!;
  const opened = await openDetail<CallDetail>(c, { href: '#/calls', label: t('c.back') }, t('c.detail', { callId }), `/v1/calls/${encodeURIComponent(callId)}`);
  if (!opened) return;
  const d = opened.data;
  const r = d.cdr;
  const { el: details, row } = fieldList();
  row(t('b.subsId'), r.sub_id);
  row(t('b.x'), r.secret_no);
  row(t('c.caller'), num(r.call_type === 1 ? r.peer_no : r.phone_no));
  row(t('c.called'), num(r.call_type === 1 ? r.phone_no : r.peer_no));
  row(t('c.outcome'), d.outcome === 'answered' ? t('c.answered') : t('c.failed'));
  row(t('c.cause'), causeText(r.release_cause));
  row(t('c.releasedBy'), t(`c.dir.${r.release_dir}` as 'c.dir.0'));
  if (r.control_type) row(t('c.control'), `${r.control_type}${r.control_msg ? ` (${r.control_msg})` : ''}`);
  row(t('b.outId'), r.out_id);

  const events: Array<[string, string | undefined]> = [
    [t('c.ev.call'), r.call_time],
    [t('c.ev.ring'), r.ring_time],
    [t('c.ev.answer'), r.start_time],
    [t('c.ev.release'), r.release_time],
  ];
  const timeline = h(
    'ol',
    { class: 'timeline' },
    events
      .filter(([, at]) => !!at)
      .map(([what, at]) =>
        h('li', {}, h('time', {}, at!), ' ', h('span', {}, what), what === t('c.ev.release') ? h('span', { class: 'muted' }, ` — ${causeText(r.release_cause)}`) : null),
      ),
  );

  const rec = h('section', { 'aria-label': t('c.recording') }, h('h2', {}, t('c.recording')));
  if (d.recording) {
    rec.append(
      h('audio', { controls: true, preload: 'metadata', src: d.recording.url }),
      h('p', {}, h('a', { href: d.recording.url, download: `${callId}.wav` }, t('c.download'))),
    );
  } else {
    rec.append(h('p', { class: 'empty' }, t('c.noRecording')));
  }
  c.root.append(details, h('section', { 'aria-label': t('c.timeline') }, h('h2', {}, t('c.timeline')), timeline), rec);
}
