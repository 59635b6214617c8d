// Ring tones: upload a WAV, play it, delete it (xline refuses while a pool or binding names it).
import { api, errorText } from '../api.js';
import { clear, field, h, notice, table } from '../dom.js';
import { t } from '../i18n.js';
import type { PageCtx } from '../page.js';
import { deleteButton, firstLoad, rowActions, rowButton, type Notice } from '../row-actions.js';

interface Tone {
  id: string;
  bytes: number;
  durationSec?: number;
}

export async function ringTonesPage(c: PageCtx): Promise<void> {
  const msg = notice();
  const list = h('div', { class: 'results' });
  const player = h('div', { class: 'player' });
  const load = async () => {
    const r = await api<{ ringTones: Tone[] }>('GET', '/v1/ring-tones');
    if (!c.alive()) return;
    clear(list);
    list.append(tonesTable(r.ringTones, { player, msg, reload: load }));
  };
  const upload = uploadForm(msg, load);
  c.root.append(h('h1', {}, t('r.title')), msg.el, list, player, h('section', { 'aria-label': t('r.upload') }, h('h2', {}, t('r.upload')), upload));
  await firstLoad(msg, load);
}

function tonesTable(tones: Tone[], o: { player: HTMLElement; msg: Notice; reload(): Promise<void> }): HTMLElement {
  const play = (x: Tone) => {
    clear(o.player);
    const audio = h('audio', { controls: true, src: `/v1/ring-tones/${encodeURIComponent(x.id)}`, 'aria-label': x.id });
    o.player.append(h('p', {}, x.id), audio);
    void audio.play().catch(() => undefined);
  };
  return table({
    label: t('r.title'),
    rows: tones,
    empty: t('r.empty'),
    columns: [
      { key: 'id', label: t('r.id'), value: (x) => x.id },
      { key: 'dur', label: t('r.duration'), value: (x) => x.durationSec, render: (x) => (x.durationSec !== undefined ? `${x.durationSec.toFixed(1)} s` : t('none')) },
      { key: 'size', label: t('r.size'), value: (x) => x.bytes, render: (x) => `${(x.bytes / 1024).toFixed(1)} KB` },
      {
        key: 'act',
        label: '',
        plain: true,
        value: () => '',
        render: (x) =>
          rowActions(
            rowButton(t('r.play'), x.id, () => play(x)),
            deleteButton({
              label: t('r.delete'),
              name: x.id,
              question: t('r.deleteConfirm', { id: x.id }),
              path: `/v1/ring-tones/${encodeURIComponent(x.id)}`,
              done: t('r.deleted', { id: x.id }),
              msg: o.msg,
              reload: o.reload,
            }),
          ),
      },
    ],
  });
}

function uploadForm(msg: Notice, reload: () => Promise<void>): HTMLFormElement {
  const id = h('input', { type: 'text', pattern: '[A-Za-z0-9_\\-][A-Za-z0-9_.\\-]{0,63}', required: true, autocomplete: 'off' });
  const file = h('input', { type: 'file', accept: '.wav,audio/wav,audio/x-wav' });
  return h(
    'form',
    {
      class: 'grid',
      'aria-label': t('r.upload'),
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const f = file.files?.[0];
        if (!f) return msg.error(t('r.noFile'));
        try {
          await api('PUT', `/v1/ring-tones/${encodeURIComponent(id.value.trim())}`, undefined, { raw: { body: f, type: 'audio/wav' } });
          msg.ok(t('r.uploaded', { id: id.value.trim() }));
          id.value = '';
          file.value = '';
          await reload();
        } catch (err) {
          msg.error(errorText(err));
        }
      },
    },
    field(t('r.id'), id),
    field(t('r.file'), file),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('r.upload'))),
  );
}
