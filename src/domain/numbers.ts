// Phone numbers: parse any common form (national, +86…, 86…, 0086…, fixed line with area code)
// into one canonical form, and mask numbers for logs. Pure: no I/O.
import { parsePhoneNumberFromString, getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';

/**
 * Canonical form stored in bindings and used as Redis keys: for numbers of the home country the
 * national dialling form as Alibaba shows them (mobile `13800000000`, fixed line `01012345678`);
 * for foreign numbers `+` and E.164 digits.
 */
export type Canonical = string & { readonly __canonical: unique symbol };

const MAX_INPUT = 32;
/** An optional '+', then a digit or '(' first, a digit last, digits and separators between. */
const SHAPE = /^\+?[\d(][\d\s\-().]*\d$/;

export function canonicalNumber(input: string, home: CountryCode = 'CN'): Canonical | undefined {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_INPUT) return undefined;
  const text = input.trim();
  // Visual separators (space, - . ( )) only inside the number: "-13800000222" or "138…1-" is not
  // a way of writing a number, and stripping the sign would store another number than was meant.
  if (!SHAPE.test(text)) return undefined;
  const raw = text.replace(/[\s\-().]/g, '');
  if (!/^\+?\d{3,20}$/.test(raw)) return undefined;
  const cc = getCountryCallingCode(home);
  const candidates: string[] = [];
  if (raw.startsWith('+')) candidates.push(raw);
  else if (raw.startsWith('00')) candidates.push('+' + raw.slice(2));
  else {
    candidates.push(raw);
    // "8613800000000": country code without '+', common on carrier trunks.
    if (raw.startsWith(cc)) candidates.push('+' + raw);
  }
  for (const c of candidates) {
    const p = c.startsWith('+') ? parsePhoneNumberFromString(c) : parsePhoneNumberFromString(c, home);
    if (!p || !p.isValid()) continue;
    if (p.countryCallingCode === cc) {
      return p.formatNational().replace(/\D/g, '') as Canonical;
    }
    return p.number as Canonical;
  }
  return undefined;
}

/** "13800000001" → "138****0001": enough to correlate log lines, not enough to dial. */
export function maskNumber(n: string | undefined | null): string {
  if (!n) return '';
  const s = String(n);
  if (s.length <= 4) return '*'.repeat(s.length);
  if (s.length <= 7) return s.slice(0, 1) + '*'.repeat(s.length - 3) + s.slice(-2);
  return s.slice(0, 3) + '*'.repeat(s.length - 7) + s.slice(-4);
}

/**
 * Huawei's global form of a canonical number (HUAWEI.md §2): `+` and the country code, fixed lines
 * without their trunk 0 (`075528000001` → `+8675528000001`); foreign numbers are canonical with
 * `+` already; anything that is not digits (an anonymous caller) is left as it is.
 */
export function globalNumber(n: string, home: CountryCode = 'CN'): string {
  if (n.startsWith('+') || !/^\d+$/.test(n)) return n;
  return `+${getCountryCallingCode(home)}${n.startsWith('0') ? n.slice(1) : n}`;
}
