// Deliveries: the delivery queue's counts and its dead letters — to the operator's webhook or to a
// Huawei app's statusUrl / feeUrl — each with where it was going and its last error; the list
// filtered by where (the API's ?target=); resend one, or all (only those shown when filtered).
import { api, errorText } from '../api.js';
import { clear, confirmDialog, field, fmtTime, h, notice, table } from '../dom.js';
import { t, type Key } from '../i18n.js';
import type { PageCtx } from '../page.js';

interface Dead {
  id: string;
  type: string;
  /** 'webhook', `huawei:status:<appKey>` or `huawei:fee:<appKey>` (src/events/delivery.ts). */
  target: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  dead_at: number;
}

/** The filter's choices: the API's target values (prefixes of a dead letter's target). */
const TARGETS: ReadonlyArray<readonly [string, Key]> = [
  ['', 'd.toAny'],
  ['webhook', 'd.toWebhook'],
  ['huawei', 'd.toHuawei'],
  ['huawei:status', 'd.toHuaweiStatusAll'],
  ['huawei:fee', 'd.toHuaweiFeeAll'],
];

/** Where a dead letter was going, in the operator's words. */
export function targetText(target: string): string {
  if (target === 'webhook') return t('d.toWebhook');
  const m = /^huawei:(status|fee):(.+)$/.exec(target);
  if (!m) return target;
  return t(m[1] === 'status' ? 'd.toHuaweiStatus' : 'd.toHuaweiFee', { app: m[2]! });
}

export async function deliveriesPage(c: PageCtx): Promise<void> {
  const msg = notice();
  const counts = h('div', { class: 'cards' });
  const list = h('div', { class: 'results' });
  const filter = h('select', { onchange: () => void load().catch((err: unknown) => msg.error(errorText(err))) }, ...TARGETS.map(([v, k]) => h('option', { value: v }, t(k))));
  c.root.append(h('h1', {}, t('d.title')), msg.el, counts, h('h2', {}, t('d.dead')), h('form', { class: 'grid', role: 'search', onsubmit: (e: Event) => e.preventDefault() }, field(t('d.target'), filter)), list);

  // everything, or (filtered) exactly the rows shown
  const resend = async (ids: string[] | 'all') => {
    try {
      const one = ids !== 'all' && ids.length === 1;
      const r = await api<{ resent: string[] }>(
        'POST',
        one ? `/v1/events/dead-letter/${encodeURIComponent(ids[0]!)}/resend` : '/v1/events/dead-letter/resend',
        one ? undefined : ids === 'all' ? { all: true } : { ids },
      );
      await load();
      msg.ok(t('d.resent', { n: r.resent.length }));
    } catch (err) {
      msg.error(errorText(err));
    }
  };

  const load = async () => {
    const q = new URLSearchParams({ limit: '1000' });
    if (filter.value) q.set('target', filter.value);
    const [depth, dead] = await Promise.all([
      api<{ queued: number; retrying: number; dead: number }>('GET', '/v1/events/stats'),
      api<{ items: Dead[] }>('GET', `/v1/events/dead-letter?${q}`),
    ]);
    if (!c.alive()) return;
    clear(counts);
    const stat = (label: string, v: number) => h('div', { class: 'stat' }, h('span', { class: 'label' }, label), h('strong', { class: 'value' }, String(v)));
    counts.append(h('section', { class: 'card', 'aria-label': t('ov.queue') }, stat(t('ov.queued'), depth.queued), stat(t('ov.retrying'), depth.retrying), stat(t('ov.dead'), depth.dead)));
    clear(list);
    if (dead.items.length) {
      const shown = filter.value ? dead.items.map((d) => d.id) : undefined;
      const question = shown ? t('d.resendShownConfirm', { n: shown.length }) : t('d.resendAllConfirm');
      const all = async () => (await confirmDialog(question, t('d.resendAll'))) && void resend(shown ?? 'all');
      list.append(h('div', { class: 'actions' }, h('button', { type: 'button', onclick: all }, t('d.resendAll'))));
    }
    list.append(deadTable(dead.items, (id) => void resend([id])));
  };
  try {
    await load();
  } catch (err) {
    msg.error(errorText(err));
  }
}

// Rows show no payload: the numbers of a call are in it, and nothing here needs them.
function deadTable(items: Dead[], resend: (id: string) => void): HTMLElement {
  return table({
    label: t('d.dead'),
    rows: items,
    empty: t('d.empty'),
    columns: [
      { key: 'id', label: t('d.id'), value: (d) => d.id },
      { key: 'type', label: t('d.type'), value: (d) => d.type },
      { key: 'to', label: t('d.target'), value: (d) => targetText(d.target) },
      { key: 'n', label: t('d.attempts'), value: (d) => d.attempts },
      { key: 'err', label: t('d.lastError'), value: (d) => `${d.last_status ? `HTTP ${d.last_status}: ` : ''}${d.last_error ?? ''}` },
      { key: 'at', label: t('d.deadAt'), value: (d) => d.dead_at, render: (d) => fmtTime(d.dead_at) },
      { key: 'act', label: '', plain: true, value: () => '', render: (d) => h('button', { type: 'button', onclick: () => resend(d.id) }, t('d.resend')) },
    ],
  });
}
