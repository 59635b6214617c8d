// Deliveries: the webhook queue's counts, the dead letters with their last error, resend one or all.
import { api, errorText } from '../api.js';
import { clear, confirmDialog, fmtTime, h, notice, table } from '../dom.js';
import { t } from '../i18n.js';
import type { PageCtx } from '../page.js';

interface Dead {
  id: string;
  type: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  dead_at: number;
}

export async function deliveriesPage(c: PageCtx): Promise<void> {
  const msg = notice();
  const counts = h('div', { class: 'cards' });
  const list = h('div', { class: 'results' });
  c.root.append(h('h1', {}, t('d.title')), msg.el, counts, h('h2', {}, t('d.dead')), list);

  const resend = async (ids: string[] | 'all') => {
    try {
      const r = await api<{ resent: string[] }>('POST', ids === 'all' ? '/v1/events/dead-letter/resend' : `/v1/events/dead-letter/${encodeURIComponent(ids[0]!)}/resend`, ids === 'all' ? { all: true } : undefined);
      await load();
      msg.ok(t('d.resent', { n: r.resent.length }));
    } catch (err) {
      msg.error(errorText(err));
    }
  };

  const load = async () => {
    const [q, dead] = await Promise.all([
      api<{ queued: number; retrying: number; dead: number }>('GET', '/v1/events/stats'),
      api<{ items: Dead[] }>('GET', '/v1/events/dead-letter?limit=1000'),
    ]);
    if (!c.alive()) return;
    clear(counts);
    const stat = (label: string, v: number) => h('div', { class: 'stat' }, h('span', { class: 'label' }, label), h('strong', { class: 'value' }, String(v)));
    counts.append(h('section', { class: 'card', 'aria-label': t('ov.queue') }, stat(t('ov.queued'), q.queued), stat(t('ov.retrying'), q.retrying), stat(t('ov.dead'), q.dead)));
    clear(list);
    if (dead.items.length) {
      list.append(
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', onclick: async () => (await confirmDialog(t('d.resendAllConfirm'), t('d.resendAll'))) && void resend('all') }, t('d.resendAll')),
        ),
      );
    }
    list.append(
      table({
        label: t('d.dead'),
        rows: dead.items,
        empty: t('d.empty'),
        columns: [
          { key: 'id', label: t('d.id'), value: (d) => d.id },
          { key: 'type', label: t('d.type'), value: (d) => d.type },
          { key: 'n', label: t('d.attempts'), value: (d) => d.attempts },
          { key: 'err', label: t('d.lastError'), value: (d) => `${d.last_status ? `HTTP ${d.last_status}: ` : ''}${d.last_error ?? ''}` },
          { key: 'at', label: t('d.deadAt'), value: (d) => d.dead_at, render: (d) => fmtTime(d.dead_at) },
          { key: 'act', label: '', plain: true, value: () => '', render: (d) => h('button', { type: 'button', onclick: () => void resend([d.id]) }, t('d.resend')) },
        ],
      }),
    );
  };
  try {
    await load();
  } catch (err) {
    msg.error(errorText(err));
  }
}
