// Alibaba POP RPC signature, version 1.0 (HMAC-SHA1), exactly as the official SDKs compute it:
// StringToSign = METHOD + "&" + enc("/") + "&" + enc(canonicalized query), key = secret + "&".
// Pure: no I/O.
import { createHmac, timingSafeEqual } from 'node:crypto';

const NEEDS_EXTRA = /[!'()*]/;
const UNRESERVED = /^[A-Za-z0-9_.~-]*$/;

/**
 * POP percent-encoding: RFC 3986 unreserved characters (A–Z a–z 0–9 - _ . ~) stay, everything
 * else is %XX of its UTF-8 bytes; so space is %20 (never +), * is %2A and ~ stays ~.
 */
export function percentEncode(s: string): string {
  // Most names and values need no encoding at all (hot path: ~30 calls per request).
  if (UNRESERVED.test(s)) return s;
  // encodeURIComponent already leaves ~ alone and writes %20 for space; it only spares !'()*.
  const e = encodeURIComponent(s);
  return NEEDS_EXTRA.test(e) ? e.replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()) : e;
}

/** The canonicalized query string: every parameter but Signature, sorted by name, encoded. */
export function canonicalQuery(params: Readonly<Record<string, string>>): string {
  const keys = Object.keys(params).filter((k) => k !== 'Signature');
  // Parameter names are ASCII, where code-unit order (JS sort) equals byte order (POP's rule).
  keys.sort();
  let out = '';
  for (const k of keys) {
    if (out) out += '&';
    out += percentEncode(k) + '=' + percentEncode(params[k]!);
  }
  return out;
}

/** percentEncode applied twice (the string to sign encodes the already-encoded query). */
function encodeTwice(s: string): string {
  return UNRESERVED.test(s) ? s : percentEncode(s).replace(/%/g, '%25');
}

/**
 * METHOD&%2F&enc(canonicalQuery): built in one pass, each name and value encoded twice in place
 * ('=' → %3D, '&' → %26, '%' → %25) instead of re-encoding the whole joined query.
 */
export function stringToSign(method: string, params: Readonly<Record<string, string>>): string {
  const keys = Object.keys(params).filter((k) => k !== 'Signature');
  keys.sort();
  let out = method.toUpperCase() + '&%2F&';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i) out += '%26';
    out += encodeTwice(k) + '%3D' + encodeTwice(params[k]!);
  }
  return out;
}

export function sign(method: string, params: Readonly<Record<string, string>>, secret: string): string {
  return createHmac('sha1', secret + '&').update(stringToSign(method, params), 'utf8').digest('base64');
}

/** Constant-time comparison of the request's Signature with ours. */
export function signatureMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
