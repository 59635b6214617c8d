// Request bodies must be text: UTF-8 bytes, and no lone UTF-16 surrogate (`"\ud800"` in JSON),
// which is not a character — encodeURIComponent throws on it, and Redis would store U+FFFD in its
// place. Both are refused as the client's error (400) before any route sees them.
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** A surrogate code unit with no partner (with the u flag a valid pair is one astral code point). */
const LONE_SURROGATE = /\p{Cs}/u;
/** A JSON escape of a surrogate: the only way one reaches a parsed body (raw bytes decode to U+FFFD). */
const ESCAPED_SURROGATE = /\\u[dD][89a-fA-F]/;

export { isUtf8 };

export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Every string (keys included) in a parsed JSON value is well-formed text. */
export function wellFormedDeep(v: unknown): boolean {
  if (typeof v === 'string') return isWellFormedText(v);
  if (Array.isArray(v)) return v.every(wellFormedDeep);
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (!isWellFormedText(k) || !wellFormedDeep(x)) return false;
  }
  return true;
}

/** A 400 that both APIs' error handlers answer in their own format, without logging it. */
export function notTextError(message: string): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(message), { statusCode: 400, code: 'XLINE_NOT_TEXT' });
}

/**
 * Replaces fastify's application/json parser with the same parser (prototype-poisoning checks
 * included) behind the two text checks. Register on the root instance before any route.
 */
export function useTextJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req: FastifyRequest, body, done) => {
    const buf = body as Buffer;
    if (!isUtf8(buf)) return done(notTextError('the body is not UTF-8 text'), undefined);
    const text = buf.toString();
    parseJson(req, text, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      if (ESCAPED_SURROGATE.test(text) && !wellFormedDeep(value)) {
        return done(notTextError('the body holds a lone UTF-16 surrogate (\\uD800–\\uDFFF without its pair), which is not text'), undefined);
      }
      done(null, value);
    });
  });
}
