// English and 简体中文. The language follows the browser's until the operator picks one (kept in
// localStorage); every string the pages show goes through t(). The strings: strings-en.ts, strings-zh.ts.

import { en, type Key } from './strings-en.js';
import { zh } from './strings-zh.js';

export type { Key };
export type Lang = 'en' | 'zh';

const DICTS: Record<Lang, Record<Key, string>> = { en, zh };

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem('xline.lang');
    if (saved === 'en' || saved === 'zh') return saved;
  } catch {
    /* storage blocked: follow the browser */
  }
  return (navigator.languages?.[0] ?? navigator.language ?? 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let lang: Lang = initialLang();

export const getLang = () => lang;

export function setLang(l: Lang): void {
  lang = l;
  try {
    localStorage.setItem('xline.lang', l);
  } catch {
    /* not kept: fine */
  }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = DICTS[lang][key] ?? en[key];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function has(key: string): key is Key {
  return key in en;
}

/** Q.850 causes in words (the ones calls end with in practice). */
const CAUSES: Record<number, [string, string]> = {
  1: ['unallocated number (no live binding)', '空号（无有效绑定）'],
  3: ['no route to destination', '无路由'],
  16: ['normal clearing', '正常挂机'],
  17: ['user busy', '用户忙'],
  18: ['no user responding', '无用户响应'],
  19: ['no answer', '无人接听'],
  20: ['subscriber absent', '用户不在服务区'],
  21: ['call rejected', '呼叫被拒绝'],
  22: ['number changed', '号码已改变'],
  27: ['destination out of order', '目的地故障'],
  28: ['invalid number format', '号码格式无效'],
  31: ['normal, unspecified', '正常，未指定'],
  34: ['no circuit available', '无可用线路'],
  38: ['network out of order', '网络故障'],
  41: ['temporary failure', '临时故障'],
  42: ['switching equipment congestion', '交换设备拥塞'],
  58: ['bearer capability not available', '承载能力不可用'],
  63: ['service not available', '服务不可用'],
  79: ['service not implemented', '服务未实现'],
  102: ['timer expired (no digits / timeout)', '超时（未按键）'],
  127: ['interworking, unspecified', '互通，未指定'],
};

export function causeText(cause: number | undefined): string {
  if (cause === undefined || cause === null) return t('none');
  const c = CAUSES[cause];
  const words = c ? c[lang === 'zh' ? 1 : 0] : lang === 'zh' ? '其他原因' : 'other cause';
  return `${words} (${cause})`;
}
