// Live: calls in progress on every instance with their state and duration, refreshed every
// second without reloading; "End call" after a confirmation.
import { api, errorText } from '../api.js';
import { clear, confirmDialog, fmtDuration, h, notice, table } from '../dom.js';
import { t } from '../i18n.js';
import { every, type PageCtx } from '../page.js';
import { num } from '../privacy.js';

interface LiveCall {
  call_id: string;
  state: 'calling' | 'ringing' | 'talking';
  since: number;
  started_at?: number;
  answered_at?: number;
  sub_id?: string;
  secret_no?: string;
  phone_no?: string;
  peer_no?: string;
  call_type?: number;
}

const REFRESH_MS = 1000;

export async function livePage(c: PageCtx): Promise<void> {
  const msg = notice();
  const body = h('div', { class: 'results' });
  c.root.append(h('h1', {}, t('l.title')), msg.el, body);
  // the table is redrawn only when its rows change; durations tick in place
  let shown = '';
  let rows: LiveCall[] = [];
  const durations = new Map<string, HTMLElement>();
  const endCall = async (id: string) => {
    if (!(await confirmDialog(t('l.endConfirm', { callId: id }), t('l.end')))) return;
    try {
      await api('POST', `/v1/calls/live/${encodeURIComponent(id)}/end`);
      msg.ok(t('l.ended'));
    } catch (err) {
      msg.error(errorText(err));
    }
  };
  const dur = (r: LiveCall) => fmtDuration((Date.now() - (r.answered_at ?? r.started_at ?? r.since)) / 1000);
  every(c, REFRESH_MS, async () => {
    try {
      rows = (await api<{ items: LiveCall[] }>('GET', '/v1/calls/live')).items;
    } catch (err) {
      if (c.alive()) msg.error(errorText(err));
      return;
    }
    if (!c.alive()) return;
    const key = JSON.stringify(rows.map((r) => [r.call_id, r.state]));
    if (key !== shown) {
      shown = key;
      durations.clear();
      clear(body);
      body.append(
        table({
          label: t('l.title'),
          rows,
          empty: t('l.empty'),
          columns: [
            { key: 'id', label: 'Call-ID', value: (r) => r.call_id },
            { key: 'x', label: t('b.x'), value: (r) => r.secret_no },
            { key: 'caller', label: t('c.caller'), value: (r) => num(r.call_type === 1 ? r.peer_no : r.phone_no) },
            { key: 'called', label: t('c.called'), value: (r) => num(r.call_type === 1 ? r.phone_no : r.peer_no) },
            { key: 'state', label: t('l.state'), value: (r) => t(`state.${r.state}`), render: (r) => h('span', { class: `badge ${r.state}` }, t(`state.${r.state}`)) },
            {
              key: 'dur',
              label: t('l.duration'),
              value: (r) => r.answered_at ?? r.started_at ?? r.since,
              render: (r) => {
                const el = h('span', { class: 'duration' }, dur(r));
                durations.set(r.call_id, el);
                return el;
              },
            },
            { key: 'end', label: '', plain: true, value: () => '', render: (r) => h('button', { type: 'button', class: 'danger', onclick: () => void endCall(r.call_id) }, t('l.end')) },
          ],
        }),
      );
    } else {
      for (const r of rows) {
        const el = durations.get(r.call_id);
        if (el) el.textContent = dur(r);
      }
    }
  });
}
