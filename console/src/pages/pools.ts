// Pools: counts per city; create a pool; add numbers by pasting lines or a CSV file
// (number,city[,areaCode]), showing what was added, what was already there and the conflicts.
import { api, errorText } from '../api.js';
import { clear, field, h, notice, table } from '../dom.js';
import { t } from '../i18n.js';
import type { PageCtx } from '../page.js';
import { firstLoad } from '../row-actions.js';

interface Pool {
  poolKey: string;
  name: string;
  strictCity: boolean;
  numbers: number;
  numbersInUse: number;
  bindings: number;
  byCity: Record<string, number>;
}

const CHUNK = 10_000;

/** Lines of number,city[,areaCode] → entries; a fixed-line number gets its area code in front. */
export function parseNumberLines(text: string): { entries: Array<{ number: string; city: string }>; bad?: { line: number; text: string } } {
  const entries: Array<{ number: string; city: string }> = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    const parts = raw.split(/[,\t;，]/).map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
    const [number = '', city = '', area = ''] = parts;
    if (i === 0 && !/\d/.test(number)) continue; // a header line
    if (!/^\+?[\d -]{3,32}$/.test(number) || !city || parts.length > 3 || (area && !/^0?\d{2,4}$/.test(area))) {
      return { entries, bad: { line: i + 1, text: raw } };
    }
    let n = number.replace(/[ -]/g, '');
    if (area && !n.startsWith('+')) {
      const code = area.startsWith('0') ? area : `0${area}`;
      if (!n.startsWith(code)) n = code + n.replace(/^0/, '');
    }
    entries.push({ number: n, city });
  }
  return { entries };
}

export async function poolsPage(c: PageCtx): Promise<void> {
  const msg = notice();
  const list = h('div', { class: 'results' });
  const poolSelect = h('select', {});
  const load = async () => {
    const keys = (await api<{ pools: string[] }>('GET', '/v1/pools')).pools;
    const pools = await Promise.all(keys.map((k) => api<Pool>('GET', `/v1/pools/${encodeURIComponent(k)}`)));
    if (!c.alive()) return;
    clear(list);
    list.append(poolsTable(pools));
    const selected = poolSelect.value;
    clear(poolSelect);
    for (const k of keys) poolSelect.append(h('option', { value: k, selected: k === selected }, k));
  };

  c.root.append(
    h('h1', {}, t('pools.title')),
    msg.el,
    list,
    h('section', { 'aria-label': t('pools.create') }, h('h2', {}, t('pools.create')), createForm(poolSelect, load)),
    h('section', { 'aria-label': t('pools.add') }, h('h2', {}, t('pools.add')), addNumbersForm(poolSelect, load)),
  );
  await firstLoad(msg, load);
}

function poolsTable(pools: Pool[]): HTMLElement {
  return table({
    label: t('pools.title'),
    rows: pools,
    empty: t('pools.empty'),
    columns: [
      { key: 'key', label: t('pools.key'), value: (p) => p.poolKey },
      { key: 'name', label: t('pools.name'), value: (p) => p.name },
      { key: 'n', label: t('pools.numbers'), value: (p) => p.numbers },
      { key: 'use', label: t('pools.inUse'), value: (p) => p.numbersInUse },
      { key: 'b', label: t('pools.bindings'), value: (p) => p.bindings },
      {
        key: 'city',
        label: t('pools.byCity'),
        value: (p) => Object.entries(p.byCity).map(([city, n]) => `${city} ${n}`).join(', '),
      },
    ],
  });
}

/** The create form: PUT the pool, then select it for adding numbers. */
function createForm(poolSelect: HTMLSelectElement, load: () => Promise<void>): HTMLFormElement {
  const key = h('input', { type: 'text', pattern: '[A-Za-z0-9_.\\-]{1,64}', required: true, autocomplete: 'off' });
  const name = h('input', { type: 'text', maxlength: 64, required: true, autocomplete: 'off' });
  const strict = h('input', { type: 'checkbox', id: 'pool-strict' });
  const createMsg = notice();
  return h(
    'form',
    {
      class: 'grid',
      'aria-label': t('pools.create'),
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const p = await api<Pool>('PUT', `/v1/pools/${encodeURIComponent(key.value.trim())}`, { name: name.value.trim(), strictCity: strict.checked });
          createMsg.ok(t('pools.created', { key: p.poolKey }));
          poolSelect.value = p.poolKey;
          key.value = name.value = '';
          await load();
          poolSelect.value = p.poolKey;
        } catch (err) {
          createMsg.error(errorText(err));
        }
      },
    },
    field(t('pools.key'), key),
    field(t('pools.name'), name),
    h('div', { class: 'field check' }, strict, h('label', { for: 'pool-strict' }, t('pools.strict'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('pools.create'))),
    createMsg.el,
  );
}

/** Adds numbers to the selected pool from pasted lines or a CSV file, CHUNK at a time. */
function addNumbersForm(poolSelect: HTMLSelectElement, load: () => Promise<void>): HTMLFormElement {
  const lines = h('textarea', { rows: 6, spellcheck: 'false', placeholder: '17100000001,杭州\n88001234,北京,010' });
  const csv = h('input', { type: 'file', accept: '.csv,text/csv,text/plain' });
  const addMsg = notice();
  return h(
    'form',
    {
      class: 'grid',
      'aria-label': t('pools.add'),
      onsubmit: async (e: Event) => {
        e.preventDefault();
        addMsg.clear();
        const file = csv.files?.[0];
        const text = [lines.value, file ? await file.text() : ''].filter(Boolean).join('\n');
        const parsed = parseNumberLines(text);
        if (parsed.bad) return addMsg.error(t('pools.badLine', parsed.bad));
        if (parsed.entries.length === 0) return addMsg.error(t('pools.noLines'));
        const total = { added: 0, existing: 0, conflicts: [] as string[] };
        try {
          for (let i = 0; i < parsed.entries.length; i += CHUNK) {
            const r = await api<{ added: number; existing: number; conflicts: string[] }>('POST', `/v1/pools/${encodeURIComponent(poolSelect.value)}/numbers`, {
              numbers: parsed.entries.slice(i, i + CHUNK),
            });
            total.added += r.added;
            total.existing += r.existing;
            total.conflicts.push(...r.conflicts);
          }
          addMsg.ok(
            t('pools.added', { added: total.added, existing: total.existing, conflicts: total.conflicts.length }) +
              (total.conflicts.length ? ` ${t('pools.conflicts', { list: total.conflicts.slice(0, 50).join(', ') })}` : ''),
          );
          lines.value = '';
          csv.value = '';
          await load();
        } catch (err) {
          addMsg.error(errorText(err));
        }
      },
    },
    field(t('pools.pool'), poolSelect),
    field(t('pools.lines'), lines),
    field(t('pools.csv'), csv),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('pools.add'))),
    addMsg.el,
  );
}
