// Real numbers are masked (138****0001) unless the operator switches "Reveal numbers" on; each
// reveal is reported to xline, which logs who, when and on which page.
import { api } from './api.js';

let revealed = false;
export const isRevealed = () => revealed;

export function mask(n: string | undefined | null): string {
  if (!n) return '';
  const s = String(n);
  if (s.length <= 4) return '*'.repeat(s.length);
  if (s.length <= 7) return s.slice(0, 1) + '*'.repeat(s.length - 3) + s.slice(-2);
  return s.slice(0, 3) + '*'.repeat(s.length - 7) + s.slice(-4);
}

/** A real (customer) number as the page shows it. */
export const num = (n: string | undefined | null): string => (revealed ? String(n ?? '') : mask(n));

export async function setRevealed(on: boolean, page: string): Promise<void> {
  if (on) await api('POST', '/v1/console/reveal', { page });
  revealed = on;
}

/** Called when a page is shown while numbers are revealed: that page's reveal is logged too. */
export async function logReveal(page: string): Promise<void> {
  if (revealed) await api('POST', '/v1/console/reveal', { page });
}
