// Authentication of every /rest/... request (HUAWEI.md §1): the current AKSK scheme
//   Authorization: AKSK realm="SDP",profile="UsernameToken",type="Appkey"
//   X-AKSK: UsernameToken Username="<app_key>",PasswordDigest="<d>",Nonce="<n>",Created="<c>"
//   d = Base64(HMAC-SHA256(key = app_secret, Nonce + Created))
// and the legacy WSSE scheme (Authorization: WSSE …, X-WSSE, d = Base64(SHA-256(Nonce + Created +
// app_secret))). Pure apart from the clock: the plugin looks the app up and claims the nonce.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { hwErr, type HwCode } from './result-codes.js';
import { akskDigest } from '../../util/huawei-aksk.js';
import { CREATED, MALFORMED_CREATED_CODE, NONCE, TYPE_ATTRIBUTE_ALIASES, WSSE_ACCEPT_HEX_DIGEST } from './lenient.js';

export type Scheme = 'AKSK' | 'WSSE';

export interface Credentials {
  scheme: Scheme;
  appKey: string;
  nonce: string;
  created: string;
  /** Created as epoch ms. */
  createdMs: number;
  digest: string;
}

/** Codes of the missing parts of X-AKSK / X-WSSE, in Huawei's order: header, Username, Nonce, Created, PasswordDigest. */
const MISSING: Record<Scheme, [HwCode, HwCode, HwCode, HwCode, HwCode]> = {
  AKSK: ['1023033', '1023034', '1023035', '1023036', '1023037'],
  WSSE: ['1023026', '1023027', '1023028', '1023029', '1023030'],
};

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isSpace = (c: number) => c === 32 || c === 9;

/**
 * name="value" attributes of a header (spaces around '=' allowed), names lower-cased (lenient.ts:
 * case-insensitive); the first of a repeated name counts. A scan, not a regex: it runs twice per
 * request.
 */
export function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  for (;;) {
    const eq = text.indexOf('=', i);
    if (eq < 0) return out;
    let q = eq + 1;
    while (q < text.length && isSpace(text.charCodeAt(q))) q++;
    if (text.charCodeAt(q) !== 34 /* " */) {
      i = eq + 1;
      continue;
    }
    const end = text.indexOf('"', q + 1);
    if (end < 0) return out;
    let e = eq;
    while (e > 0 && isSpace(text.charCodeAt(e - 1))) e--;
    let b = e;
    while (b > 0 && isLetter(text.charCodeAt(b - 1))) b--;
    if (b < e) {
      const k = text.slice(b, e).toLowerCase();
      if (!out.has(k)) out.set(k, text.slice(q + 1, end));
    }
    i = end + 1;
  }
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

/** Epoch ms of a Created value, or undefined when it is not `yyyy-MM-ddTHH:mm:ssZ`. */
export function parseCreated(created: string): number | undefined {
  const m = CREATED.exec(created);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const hh = Number(m[4]);
  const mm = Number(m[5]);
  const ss = Number(m[6]);
  // 2024-02-30 and the like are not dates; nor years 0-99, which Date.UTC would read as 19xx
  // (checked by arithmetic: a Date per request costs)
  if (y < 100 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || hh > 23 || mm > 59 || ss > 59) return undefined;
  return Date.UTC(y, mo - 1, d, hh, mm, ss);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (y: number, mo: number) => (mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : DAYS[mo - 1]!);

/**
 * The credentials of a request, or the HuaweiError of its first missing or wrong part: the
 * Authorization header (scheme, realm, profile, type), then X-AKSK / X-WSSE and its four attributes.
 */
export function parseCredentials(h: IncomingHttpHeaders): Credentials {
  const authorization = header(h, 'authorization');
  if (!authorization || !authorization.trim()) throw hwErr('1023006');
  const word = /^\s*([A-Za-z]+)(?:\s|$)/.exec(authorization)?.[1]?.toUpperCase();
  if (word !== 'AKSK' && word !== 'WSSE') throw hwErr('1023013');
  const scheme: Scheme = word;
  const a = attributes(authorization);
  const realm = a.get('realm');
  if (!realm) throw hwErr('1023007');
  const profile = a.get('profile');
  if (!profile) throw hwErr('1023008');
  let type: string | undefined;
  for (const n of TYPE_ATTRIBUTE_ALIASES) if ((type = a.get(n))) break;
  if (!type) throw hwErr('1023012');
  if (realm !== 'SDP') throw hwErr('1023009');
  if (profile !== 'UsernameToken') throw hwErr('1023010');
  if (type !== 'Appkey') throw hwErr('1023011');

  const codes = MISSING[scheme];
  const token = header(h, scheme === 'AKSK' ? 'x-aksk' : 'x-wsse');
  if (!token || !token.trim()) throw hwErr(codes[0]);
  const t = attributes(token);
  const appKey = t.get('username');
  if (!appKey) throw hwErr(codes[1]);
  const nonce = t.get('nonce');
  if (!nonce) throw hwErr(codes[2]);
  const created = t.get('created');
  if (!created) throw hwErr(codes[3]);
  const digest = t.get('passworddigest');
  if (!digest) throw hwErr(codes[4]);
  if (!NONCE.test(nonce)) throw hwErr(codes[2], `Nonce must be 1-128 letters and digits.`);
  const createdMs = parseCreated(created);
  if (createdMs === undefined) throw hwErr(MALFORMED_CREATED_CODE, 'Time out limit. Created must be yyyy-MM-ddTHH:mm:ssZ (UTC).');
  return { scheme, appKey, nonce, created, createdMs, digest };
}

/** Created within windowMs of now, either way; else 1010013. */
export function checkCreated(createdMs: number, now: number, windowMs: number): void {
  if (Math.abs(now - createdMs) > windowMs) throw hwErr('1010013');
}

/** How long a nonce must be remembered: until its Created leaves the window (plus a minute for clocks that disagree). */
export function nonceTtlSeconds(createdMs: number, now: number, windowMs: number): number {
  return Math.max(60, Math.ceil((createdMs + windowMs - now) / 1000) + 60);
}

export function wsseDigest(secret: string, nonce: string, created: string, hex = false): string {
  const h = createHash('sha256').update(nonce + created + secret);
  return hex ? Buffer.from(h.digest('hex')).toString('base64') : h.digest('base64');
}

/**
 * Constant-time in the content: only the length (public: every right digest is 44 characters of
 * Base64) decides without looking at the characters.
 */
function same(given: string, expected: string): boolean {
  const g = Buffer.from(given);
  const e = Buffer.from(expected);
  return g.length === e.length && timingSafeEqual(g, e);
}

/** true when the request's PasswordDigest is the app secret's (constant-time comparison). */
export function digestMatches(c: Credentials, secret: string): boolean {
  if (c.scheme === 'AKSK') return same(c.digest, akskDigest(secret, c.nonce, c.created));
  const raw = same(c.digest, wsseDigest(secret, c.nonce, c.created));
  // both compared, whichever matches: no early exit that would tell them apart by time
  const hex = WSSE_ACCEPT_HEX_DIGEST ? same(c.digest, wsseDigest(secret, c.nonce, c.created, true)) : false;
  return raw || hex;
}

// The X-AKSK computation itself is shared with the events worker, which signs callbacks with it.
export { akskDigest, akskHeaders, formatCreated } from '../../util/huawei-aksk.js';
