// Reading Huawei request fields (JSON bodies and query strings) with Huawei's refusals: a bad field
// is `1010002 Invalid request.<field>`. Numbers are read in +86…, 86… or national form and answered
// in global form (+86…, fixed lines without their leading 0), HUAWEI.md §2.
import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js';
import { globalNumber, type Canonical } from '../../domain/numbers.js';
import { canonicalNumberFast } from '../../domain/fast-number.js';
import type { Config } from '../../config.js';
import { ringToneExists } from '../../audio-files/ring-tones.js';
import { invalid } from './result-codes.js';
import { toneIdCandidates, USER_DATA_FORBIDDEN } from './lenient.js';

/** A parsed JSON body or query: field → value (query values are strings). */
export type Params = Record<string, unknown>;

export interface FieldReader {
  /** An optional string field of length [min, max]; absent (undefined / null) → undefined. */
  str(p: Params, name: string, min: number, max: number): string | undefined;
  /** An optional integer in [min, max] (a numeric string is accepted). */
  int(p: Params, name: string, min: number, max: number): number | undefined;
  /** "true" / "false" or a JSON boolean. */
  bool(p: Params, name: string): boolean | undefined;
  /** One of the given string values (an integer is read as its decimal string). */
  oneOf<T extends string>(p: Params, name: string, values: readonly T[]): T | undefined;
  /** A phone number String(min-max) in any accepted form, canonical (store) form. */
  phone(p: Params, name: string, min?: number, max?: number): Canonical | undefined;
  /** userData: 1–256 characters without braces or control characters. */
  userData(p: Params, name?: string): string | undefined;
  /** A tone name (String(0-128)) that names an uploaded ring tone; '' → undefined. */
  tone(p: Params, name: string, label?: string): Promise<string | undefined>;
  /** The answer form of a stored number: +86… for home numbers, as stored for foreign ones. */
  global(n: string | undefined): string | undefined;
}

/** Control characters are refused in every text field (the store's records are US-separated). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

export function fieldReader(config: Pick<Config, 'DEFAULT_COUNTRY' | 'RING_TONE_DIR'>): FieldReader {
  const country = config.DEFAULT_COUNTRY as CountryCode;
  const cc = getCountryCallingCode(country);
  const present = (v: unknown) => v !== undefined && v !== null;
  const intl = `+${cc}`;
  /**
   * Huawei clients send +86…: with the country code taken off, a national CN mobile takes the bind
   * path's fast check (fast-number.ts, the same verdict as libphonenumber's); the rest the full parse.
   */
  const canonical = (text: string): Canonical | undefined => {
    if (text.length === 11 + intl.length && text.startsWith(intl)) {
      const fast = canonicalNumberFast(text.slice(intl.length), country);
      if (fast) return fast;
    }
    return canonicalNumberFast(text, country);
  };

  const r: FieldReader = {
    str(p, name, min, max) {
      const v = p[name];
      if (!present(v)) return undefined;
      if (typeof v !== 'string' || v.length < min || v.length > max || CONTROL.test(v)) throw invalid(name);
      return v;
    },
    int(p, name, min, max) {
      const v = p[name];
      if (!present(v) || v === '') return undefined;
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(name);
      return n;
    },
    bool(p, name) {
      const v = p[name];
      if (!present(v) || v === '') return undefined;
      if (v === true || v === 'true') return true;
      if (v === false || v === 'false') return false;
      throw invalid(name);
    },
    oneOf(p, name, values) {
      const v = p[name];
      if (!present(v) || v === '') return undefined;
      const s = typeof v === 'number' && Number.isInteger(v) ? String(v) : v;
      if (typeof s !== 'string' || !(values as readonly string[]).includes(s)) throw invalid(name);
      return s as (typeof values)[number];
    },
    phone(p, name, min = 4, max = 31) {
      const v = p[name];
      if (!present(v) || v === '') return undefined;
      // a literal '+' in a query string arrives as a space (lenient.ts)
      const text = typeof v === 'string' ? v.trim() : v;
      if (typeof text !== 'string' || text.length < min - 1 || text.length > max) throw invalid(name);
      const c = canonical(text);
      if (!c) throw invalid(name);
      return c;
    },
    userData(p, name = 'userData') {
      const v = r.str(p, name, 1, 256);
      if (v !== undefined && USER_DATA_FORBIDDEN.test(v)) throw invalid(name);
      return v;
    },
    async tone(p, name, label = name) {
      const v = r.str(p, name, 0, 128);
      if (!v) return undefined;
      for (const id of toneIdCandidates(v)) if (await ringToneExists(config, id)) return v;
      throw invalid(label);
    },
    global(n) {
      if (n === undefined || n === '') return undefined;
      return globalNumber(n, country);
    },
  };
  return r;
}
