// Bindings: search by X, A, B, SubsId or OutId; create AXB / AXN / AXN extension / AX; a
// binding's detail with its recent calls; change B, expiry, restriction, recording; unbind.
import { api, errorText } from '../api.js';
import { clear, confirmDialog, field, fmtTime, h, link, notice, table, type Column } from '../dom.js';
import { causeText, t } from '../i18n.js';
import type { PageCtx } from '../page.js';
import { fieldList, openDetail } from '../detail-page.js';
import type { Notice } from '../row-actions.js';
import { num } from '../privacy.js';

export interface Binding {
  subsId: string;
  mode: 'AXB' | 'AXN' | 'AXE' | 'AX';
  poolKey: string;
  x: string;
  a: string;
  b?: string;
  extension?: string;
  expiresAt: number;
  expiration: string;
  createdAt?: number;
  callRestrict?: string;
  ringConfig?: Record<string, string>;
  recording: boolean;
  outId?: string;
}

export interface Cdr {
  call_id: string;
  sub_id?: string;
  secret_no: string;
  phone_no: string;
  peer_no: string;
  call_type: number;
  call_time: string;
  ring_time?: string;
  start_time?: string;
  release_time: string;
  release_dir: number;
  release_cause: number;
  control_type?: string;
  control_msg?: string;
  out_id?: string;
}

const KINDS = [
  { v: 'x', label: 'X' },
  { v: 'a', label: 'A' },
  { v: 'b', label: 'B' },
  { v: 'subs_id', label: 'SubsId' },
  { v: 'out_id', label: 'OutId' },
] as const;

const bindingHref = (subsId: string) => `#/bindings/${encodeURIComponent(subsId)}`;

function bindingColumns(): Column<Binding>[] {
  return [
    { key: 'subsId', label: t('b.subsId'), value: (b) => b.subsId, render: (b) => link(bindingHref(b.subsId), b.subsId) },
    { key: 'mode', label: t('b.mode'), value: (b) => t(`mode.${b.mode}` as 'mode.AXB') },
    { key: 'x', label: t('b.x'), value: (b) => b.x },
    { key: 'a', label: t('b.a'), value: (b) => num(b.a) },
    { key: 'b', label: t('b.b'), value: (b) => (b.b ? num(b.b) : undefined) },
    { key: 'ext', label: t('b.ext'), value: (b) => b.extension },
    { key: 'exp', label: t('b.expires'), value: (b) => b.expiration },
    { key: 'outId', label: t('b.outId'), value: (b) => b.outId },
  ];
}

/** 'YYYY-MM-DDTHH:mm' of a datetime-local input → ISO with the browser's offset. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function localInputValue(ms: number): string {
  const d = new Date(ms);
  const p = (v: number) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

async function poolKeys(): Promise<string[]> {
  return (await api<{ pools: string[] }>('GET', '/v1/pools')).pools;
}

export async function bindingsPage(c: PageCtx): Promise<void> {
  const msg = notice();
  const found = searchPart(c);
  const create = createForm(await poolKeys().catch(() => [] as string[]));
  const done = c.query.get('unbound');
  if (done) msg.ok(t('b.unbound', { subsId: done }));
  c.root.append(
    h('h1', {}, t('b.title')),
    msg.el,
    found.form,
    found.results,
    h('section', { 'aria-label': t('b.create') }, h('h2', {}, t('b.create')), create),
  );
  await found.initial();
}

/** The search form and its results; initial() runs the search the page's query names, if any. */
function searchPart(c: PageCtx): { form: HTMLFormElement; results: HTMLElement; initial(): Promise<void> } {
  const results = h('div', { class: 'results' }, h('p', { class: 'empty' }, t('b.empty')));
  const kind = h('select', {}, KINDS.map((k) => h('option', { value: k.v, selected: c.query.get('by') === k.v }, k.label)));
  const q = h('input', { type: 'search', value: c.query.get('q') ?? '', autocomplete: 'off' });
  const search = async () => {
    const value = q.value.trim();
    if (!value) return;
    clear(results);
    results.append(h('p', { class: 'muted' }, t('loading')));
    try {
      const r = await api<{ items: Binding[]; truncated: boolean }>('GET', `/v1/bindings?${new URLSearchParams({ [kind.value]: value })}`);
      if (!c.alive()) return;
      clear(results);
      if (r.truncated) results.append(h('p', { class: 'notice' }, t('b.truncated')));
      results.append(table({ columns: bindingColumns(), rows: r.items, empty: t('b.noMatch'), label: t('b.title') }));
    } catch (err) {
      clear(results);
      results.append(h('p', { class: 'notice error', role: 'alert' }, errorText(err)));
    }
  };
  const searchForm = h(
    'form',
    {
      class: 'inline',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        history.replaceState(null, '', `#/bindings?${new URLSearchParams({ by: kind.value, q: q.value.trim() })}`);
        void search();
      },
    },
    field(t('b.searchBy'), kind),
    field(t('b.query'), q),
    h('button', { type: 'submit' }, t('search')),
  );

  return { form: searchForm, results, initial: async () => (q.value ? search() : undefined) };
}

/** The create form; a binding made opens its own page. */
function createForm(pools: string[]): HTMLFormElement {
  const mode = h('select', {}, (['AXB', 'AXN', 'AXE', 'AX'] as const).map((m) => h('option', { value: m }, t(`mode.${m}`))));
  const pool = h('select', {}, pools.map((p) => h('option', { value: p }, p)));
  const a = h('input', { type: 'tel', autocomplete: 'off', required: true });
  const b = h('input', { type: 'tel', autocomplete: 'off' });
  const x = h('input', { type: 'tel', autocomplete: 'off' });
  const ext = h('input', { type: 'text', inputmode: 'numeric', pattern: '\\d{1,4}', autocomplete: 'off' });
  const exp = h('input', { type: 'datetime-local', required: true, value: localInputValue(Date.now() + 24 * 3600_000) });
  const rec = h('input', { type: 'checkbox' });
  const restrict = h(
    'select',
    {},
    h('option', { value: '' }, t('restrict.none')),
    h('option', { value: 'CONTROL_AX_DISABLE' }, t('restrict.CONTROL_AX_DISABLE')),
    h('option', { value: 'CONTROL_BX_DISABLE' }, t('restrict.CONTROL_BX_DISABLE')),
  );
  const outId = h('input', { type: 'text', maxlength: 64, autocomplete: 'off' });
  const bField = field(t('b.bOptional'), b);
  const extField = field(t('b.extOptional'), ext);
  const syncMode = () => {
    bField.hidden = mode.value === 'AX';
    extField.hidden = mode.value !== 'AXE';
  };
  mode.addEventListener('change', syncMode);
  syncMode();
  const createMsg = notice();
  return h(
    'form',
    {
      class: 'grid',
      'aria-label': t('b.create'),
      onsubmit: async (e: Event) => {
        e.preventDefault();
        createMsg.clear();
        const body: Record<string, unknown> = { mode: mode.value, poolKey: pool.value, a: a.value.trim(), expiration: isoOf(exp.value) ?? '' };
        if (mode.value !== 'AX' && b.value.trim()) body.b = b.value.trim();
        if (x.value.trim()) body.x = x.value.trim();
        if (mode.value === 'AXE' && ext.value.trim()) body.extension = ext.value.trim();
        if (rec.checked) body.recording = true;
        if (restrict.value) body.callRestrict = restrict.value;
        if (outId.value) body.outId = outId.value;
        try {
          const made = await api<Binding>('POST', '/v1/bindings', body);
          location.hash = bindingHref(made.subsId);
        } catch (err) {
          createMsg.error(errorText(err));
        }
      },
    },
    field(t('b.mode'), mode),
    field(t('b.pool'), pool),
    field(t('b.a'), a),
    bField,
    field(t('b.xOptional'), x),
    extField,
    field(t('b.expiration'), exp),
    field(t('b.restrict'), restrict),
    field(t('b.outId'), outId),
    h('div', { class: 'field check' }, rec, h('label', { for: (rec.id = 'create-rec') }, t('b.recording'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('b.create'))),
    createMsg.el,
  );
}

export function cdrColumns(withSub: boolean): Column<Cdr>[] {
  const cols: Column<Cdr>[] = [
    { key: 'time', label: t('c.time'), value: (r) => r.call_time, render: (r) => link(`#/calls/${encodeURIComponent(r.call_id)}`, r.call_time) },
    { key: 'x', label: t('b.x'), value: (r) => r.secret_no },
    // call_type 0: phone_no called through X; 1: phone_no was called
    { key: 'caller', label: t('c.caller'), value: (r) => num(r.call_type === 1 ? r.peer_no : r.phone_no) },
    { key: 'called', label: t('c.called'), value: (r) => num(r.call_type === 1 ? r.phone_no : r.peer_no) },
    { key: 'outcome', label: t('c.outcome'), value: (r) => (r.start_time ? t('c.answered') : t('c.failed')) },
    { key: 'cause', label: t('c.cause'), value: (r) => causeText(r.release_cause) },
  ];
  if (withSub) cols.splice(2, 0, { key: 'sub', label: t('b.subsId'), value: (r) => r.sub_id });
  return cols;
}

export async function bindingPage(c: PageCtx): Promise<void> {
  const subsId = c.parts[1]!;
  const opened = await openDetail<Binding>(c, { href: '#/bindings', label: t('b.back') }, t('b.detail', { subsId }), `/v1/bindings/${encodeURIComponent(subsId)}`);
  if (!opened) return;
  const { data: bd, msg } = opened;
  const details = detailsList();
  details.draw(bd);
  const calls = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  c.root.append(
    details.el,
    h('section', { 'aria-label': t('b.change') }, h('h2', {}, t('b.change')), changeForm(subsId, bd, details.draw)),
    h('div', { class: 'actions' }, unbindButton(subsId, msg)),
    h('section', { 'aria-label': t('b.recent') }, h('h2', {}, t('b.recent')), calls),
  );
  await recentCalls(c, subsId, calls);
}

/** The binding's fields as a definition list; draw() shows a binding (again, after a change). */
function detailsList(): { el: HTMLElement; draw(b: Binding): void } {
  const { el: details, row } = fieldList();
  const draw = (b: Binding) => {
    clear(details);
    row(t('b.subsId'), b.subsId);
    row(t('b.mode'), t(`mode.${b.mode}` as 'mode.AXB'));
    row(t('b.pool'), b.poolKey);
    row(t('b.x'), b.x);
    row(t('b.a'), num(b.a));
    row(t('b.b'), b.b ? num(b.b) : undefined);
    row(t('b.ext'), b.extension);
    row(t('b.expires'), b.expiration);
    row(t('b.restrict'), b.callRestrict ? t(`restrict.${b.callRestrict}` as 'restrict.none') : t('restrict.none'));
    row(t('b.recording'), b.recording ? t('yes') : t('no'));
    row(t('b.ring'), b.ringConfig ? Object.entries(b.ringConfig).map(([k, v]) => `${k}: ${v}`).join(', ') : undefined);
    row(t('b.outId'), b.outId);
    row(t('b.created'), b.createdAt ? fmtTime(b.createdAt * 1000) : undefined);
  };
  return { el: details, draw };
}

/** The change form (B, expiry, restriction, recording); a saved change is drawn with `draw`. */
function changeForm(subsId: string, bd: Binding, draw: (b: Binding) => void): HTMLFormElement {
  const newB = h('input', { type: 'tel', autocomplete: 'off' });
  const newExp = h('input', { type: 'datetime-local' });
  const restrict = h(
    'select',
    {},
    h('option', { value: '' }, t('b.unchanged')),
    ['CONTROL_AX_DISABLE', 'CONTROL_BX_DISABLE', 'CONTROL_CLEAR_DISABLE'].map((r) => h('option', { value: r }, t(`restrict.${r}` as 'restrict.none'))),
  );
  const rec = h('select', {}, h('option', { value: '' }, t('b.unchanged')), h('option', { value: 'on' }, t('b.on')), h('option', { value: 'off' }, t('b.off')));
  const changeMsg = notice();
  return h(
    'form',
    {
      class: 'grid',
      'aria-label': t('b.change'),
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const body: Record<string, unknown> = {};
        if (newB.value.trim()) body.b = newB.value.trim();
        const iso = isoOf(newExp.value);
        if (iso) body.expiration = iso;
        if (restrict.value) body.callRestrict = restrict.value;
        if (rec.value) body.recording = rec.value === 'on';
        if (Object.keys(body).length === 0) return changeMsg.error(t('b.nothing'));
        try {
          const changed = await api<Binding>('PATCH', `/v1/bindings/${encodeURIComponent(subsId)}`, body);
          draw(changed);
          newB.value = '';
          newExp.value = '';
          restrict.value = '';
          rec.value = '';
          changeMsg.ok(t('b.saved'));
        } catch (err) {
          changeMsg.error(errorText(err));
        }
      },
    },
    bd.mode === 'AX' ? null : field(t('b.newB'), newB),
    field(t('b.newExpiration'), newExp),
    field(t('b.restrict'), restrict),
    field(t('b.recording'), rec),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('save'))),
    changeMsg.el,
  );
}

function unbindButton(subsId: string, msg: Notice): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        if (!(await confirmDialog(t('b.unbindConfirm', { subsId }), t('b.unbind')))) return;
        try {
          await api('DELETE', `/v1/bindings/${encodeURIComponent(subsId)}`);
          location.hash = `#/bindings?${new URLSearchParams({ unbound: subsId })}`;
        } catch (err) {
          msg.error(errorText(err));
        }
      },
    },
    t('b.unbind'),
  );
}

/** The binding's last 20 calls, newest first, drawn into `calls`. */
async function recentCalls(c: PageCtx, subsId: string, calls: HTMLElement): Promise<void> {
  try {
    const r = await api<{ items: Cdr[] }>('GET', `/v1/calls?${new URLSearchParams({ sub_id: subsId, limit: '500' })}`);
    if (!c.alive()) return;
    clear(calls);
    calls.append(table({ columns: cdrColumns(false), rows: r.items.slice(-20).reverse(), empty: t('b.noCalls'), label: t('b.recent') }));
  } catch (err) {
    clear(calls);
    calls.append(h('p', { class: 'notice error', role: 'alert' }, errorText(err)));
  }
}
