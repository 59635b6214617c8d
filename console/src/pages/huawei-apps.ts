// Huawei apps: the applications Huawei PrivateNumber clients authenticate as (app_key /
// app_secret), each bound to a mode and a pool. Listed without secrets (the API never answers
// one); created or replaced with a secret typed again; deleted after a confirmation.
import { api, errorText } from '../api.js';
import { clear, field, h, notice, table } from '../dom.js';
import { t } from '../i18n.js';
import type { PageCtx } from '../page.js';
import { deleteButton, firstLoad, rowActions, rowButton, type Notice } from '../row-actions.js';

interface HuaweiApp {
  appKey: string;
  mode: string;
  poolKey: string;
  statusUrl?: string;
  feeUrl?: string;
  createdAt: number;
}

const MODES = ['AXB', 'AX', 'AXE'] as const;
// the API's own rules (src/api/huawei/apps.ts), checked here first so the common mistakes are
// said in the operator's language
const APP_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
const POOL_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const SECRET = /^[\x21-\x7e]{16,256}$/;
const URL_RE = /^https?:\/\/\S+$/;

export async function huaweiAppsPage(c: PageCtx): Promise<void> {
  const msg = notice();
  const list = h('div', { class: 'results' });
  const pools = h('datalist', { id: 'hw-pools' });
  const load = async () => {
    const [r, p] = await Promise.all([api<{ apps: HuaweiApp[] }>('GET', '/v1/huawei/apps'), api<{ pools: string[] }>('GET', '/v1/pools')]);
    if (!c.alive()) return;
    clear(pools);
    for (const k of p.pools) pools.append(h('option', { value: k }));
    clear(list);
    list.append(appsTable(r.apps, { edit: (a) => form.edit(a), msg, reload: load }));
  };
  const form = appForm(pools, load);

  c.root.append(h('h1', {}, t('hw.title')), msg.el, list, h('section', { 'aria-label': t('hw.save') }, h('h2', {}, t('hw.save')), h('p', {}, t('hw.secretHint')), form.el));
  await firstLoad(msg, load);
}

function appsTable(apps: HuaweiApp[], o: { edit(a: HuaweiApp): void; msg: Notice; reload(): Promise<void> }): HTMLElement {
  return table({
    label: t('hw.title'),
    rows: apps,
    empty: t('hw.empty'),
    columns: [
      { key: 'key', label: t('hw.appKey'), value: (a) => a.appKey },
      { key: 'mode', label: t('hw.mode'), value: (a) => a.mode },
      { key: 'pool', label: t('hw.pool'), value: (a) => a.poolKey },
      { key: 'status', label: t('hw.statusUrl'), value: (a) => a.statusUrl },
      { key: 'fee', label: t('hw.feeUrl'), value: (a) => a.feeUrl },
      {
        key: 'act',
        label: '',
        plain: true,
        value: () => '',
        render: (a) =>
          rowActions(
            rowButton(t('hw.edit'), a.appKey, () => o.edit(a)),
            deleteButton({
              label: t('hw.delete'),
              name: a.appKey,
              question: t('hw.deleteConfirm', { key: a.appKey }),
              path: `/v1/huawei/apps/${encodeURIComponent(a.appKey)}`,
              done: t('hw.deleted', { key: a.appKey }),
              msg: o.msg,
              reload: o.reload,
            }),
          ),
      },
    ],
  });
}

/** The create-or-replace form (the secret typed again every time); edit() fills it from an app. */
function appForm(pools: HTMLDataListElement, reload: () => Promise<void>): { el: HTMLFormElement; edit(a: HuaweiApp): void } {
  const appKey = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const secret = h('input', { type: 'password', autocomplete: 'new-password' });
  const mode = h('select', {}, MODES.map((m) => h('option', { value: m }, m)));
  const poolKey = h('input', { type: 'text', list: 'hw-pools', autocomplete: 'off', spellcheck: 'false' });
  const statusUrl = h('input', { type: 'url', autocomplete: 'off', placeholder: 'https://' });
  const feeUrl = h('input', { type: 'url', autocomplete: 'off', placeholder: 'https://' });
  const formMsg = notice();

  /** The first thing wrong with the form, in words; undefined when it may be sent. */
  const problem = (): string | undefined => {
    if (!APP_KEY.test(appKey.value.trim())) return t('hw.badAppKey');
    if (!SECRET.test(secret.value)) return t('hw.badSecret');
    if (!poolKey.value.trim()) return t('hw.noPool');
    if (!POOL_KEY.test(poolKey.value.trim())) return t('hw.badPool');
    for (const u of [statusUrl, feeUrl]) if (u.value.trim() && !URL_RE.test(u.value.trim())) return t('hw.badUrl');
    return undefined;
  };

  const el = h(
    'form',
    {
      class: 'grid',
      novalidate: true,
      'aria-label': t('hw.save'),
      onsubmit: async (e: Event) => {
        e.preventDefault();
        formMsg.clear();
        const bad = problem();
        if (bad) return formMsg.error(bad);
        const key = appKey.value.trim();
        const body: Record<string, string> = { appSecret: secret.value, mode: mode.value, poolKey: poolKey.value.trim() };
        if (statusUrl.value.trim()) body.statusUrl = statusUrl.value.trim();
        if (feeUrl.value.trim()) body.feeUrl = feeUrl.value.trim();
        try {
          await api('PUT', `/v1/huawei/apps/${encodeURIComponent(key)}`, body);
          formMsg.ok(t('hw.saved', { key }));
          appKey.value = secret.value = poolKey.value = statusUrl.value = feeUrl.value = '';
          await reload();
        } catch (err) {
          formMsg.error(errorText(err));
        } finally {
          secret.value = '';
        }
      },
    },
    field(t('hw.appKey'), appKey),
    field(t('hw.appSecret'), secret),
    field(t('hw.mode'), mode),
    field(t('hw.pool'), poolKey),
    field(t('hw.statusUrlOptional'), statusUrl),
    field(t('hw.feeUrlOptional'), feeUrl),
    pools,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('hw.save'))),
    formMsg.el,
  );
  const edit = (a: HuaweiApp) => {
    appKey.value = a.appKey;
    mode.value = a.mode;
    poolKey.value = a.poolKey;
    statusUrl.value = a.statusUrl ?? '';
    feeUrl.value = a.feeUrl ?? '';
    secret.value = '';
    formMsg.ok(t('hw.editing', { key: a.appKey }));
    secret.focus();
  };
  return { el, edit };
}
