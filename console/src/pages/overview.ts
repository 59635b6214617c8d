// Overview: health of Redis and of each drachtio-server and its FreeSWITCH, live calls, the last
// hour's calls and failures, the webhook queue; refreshed every 2 s without reloading.
import { api, errorText } from '../api.js';
import { clear, h, notice } from '../dom.js';
import { t } from '../i18n.js';
import { every, type PageCtx } from '../page.js';

interface Health {
  status: string;
  redis: 'up' | 'down';
  sip: 'up' | 'down';
  media: 'up' | 'down';
  drachtio?: Array<{ server: string; sip: 'up' | 'down'; media: 'up' | 'down' }>;
}

const REFRESH_MS = 2000;

function stat(label: string, value: string | number, cls?: string): HTMLElement {
  return h('div', { class: `stat ${cls ?? ''}` }, h('span', { class: 'label' }, label), h('strong', { class: 'value' }, String(value)));
}

export async function overviewPage(c: PageCtx): Promise<void> {
  const msg = notice();
  const body = h('div', { class: 'cards' });
  const stamp = h('p', { class: 'muted', 'aria-live': 'off' });
  c.root.append(h('h1', {}, t('nav.overview')), msg.el, body, stamp);
  every(c, REFRESH_MS, async () => {
    try {
      const health = await fetch('/v1/health', { cache: 'no-store' }).then((r) => r.json() as Promise<Health>);
      const [live, hour, queue] = await Promise.all([
        api<{ items: unknown[] }>('GET', '/v1/calls/live'),
        api<{ calls: number; failed: number; capped: boolean }>('GET', '/v1/calls/stats'),
        api<{ queued: number; retrying: number; dead: number }>('GET', '/v1/events/stats'),
      ]);
      if (!c.alive()) return;
      msg.clear();
      clear(body);
      const row = (label: string, v: 'up' | 'down') => h('li', {}, h('span', {}, label), h('span', { class: `badge ${v}` }, t(v)));
      const healthList = h('ul', { class: 'health' }, row(t('ov.redis'), health.redis));
      if (health.drachtio?.length) {
        for (const d of health.drachtio) {
          healthList.append(row(t('ov.drachtio', { server: d.server }), d.sip), row(t('ov.freeswitch', { server: d.server }), d.media));
        }
      } else {
        healthList.append(row(t('ov.sip'), health.sip), row(t('ov.media'), health.media));
      }
      body.append(
        h('section', { class: 'card', 'aria-label': t('ov.health') }, h('h2', {}, t('ov.health')), healthList),
        h('section', { class: 'card', 'aria-label': t('ov.live') }, h('h2', {}, t('ov.live')), stat(t('ov.live'), live.items.length, 'big')),
        h(
          'section',
          { class: 'card', 'aria-label': t('ov.lastHour') },
          h('h2', {}, t('ov.lastHour')),
          stat(t('ov.calls'), hour.calls + (hour.capped ? '+' : '')),
          stat(t('ov.failed'), hour.failed),
        ),
        h(
          'section',
          { class: 'card', 'aria-label': t('ov.queue') },
          h('h2', {}, t('ov.queue')),
          stat(t('ov.queued'), queue.queued),
          stat(t('ov.retrying'), queue.retrying),
          stat(t('ov.dead'), queue.dead),
        ),
      );
      stamp.textContent = t('updatedAt', { time: new Date().toLocaleTimeString() });
    } catch (err) {
      if (c.alive()) msg.error(errorText(err));
    }
  });
}
