// POP parameters as the SDKs send them: `name=value&…`, UTF-8, percent-encoded. Decoded strictly:
// an escape that is not UTF-8 (%ED%A0%80 is a lone surrogate, %FF no character at all) is refused,
// where node:querystring would put U+FFFD in its place and the request would fail later as a
// puzzling SignatureDoesNotMatch; and more than MAX_PARAMS parameters are refused, where
// node:querystring silently keeps the first 1,000.
import { parse } from 'node:querystring';
import { gatewayError } from './gateway-errors.js';

/** No dypls action takes more than a few dozen parameters. */
export const MAX_PARAMS = 1000;

/** A percent-escape of a byte ≥ 0x80: the only escapes whose decoding can fail as UTF-8. */
const NON_ASCII_ESCAPE = /%[89a-fA-F]/;

export type RawParams = Record<string, string | string[]>;

export function tooManyParams(): Error {
  return gatewayError.badRequest(`the request has more than ${MAX_PARAMS} parameters`);
}

/** `a=1&b=2` → { a: '1', b: '2' } (repeated names give arrays, refused by the gateway). */
export function parseParamText(text: string): RawParams {
  // Counted before parsing: a 256 KiB body of `&` must not build a 100,000-key object first.
  let pairs = 1;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
    if (++pairs > MAX_PARAMS) throw tooManyParams();
  }
  let bad = false;
  const out = parse(text, '&', '=', {
    maxKeys: 0,
    // Called only for names and values holding an escape or '+'; a throw would make
    // node:querystring fall back to its lenient decoder, hence the flag.
    decodeURIComponent: (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        bad = true;
        return s;
      }
    },
  });
  if (bad) throw gatewayError.badRequest('a parameter is not percent-encoded UTF-8 text');
  return out as RawParams;
}

/**
 * The query string's parameters: fastify's own parse (done while routing) unless it holds a
 * non-ASCII escape, whose decoding fastify does not check (an undecodable one is kept as the
 * literal text "%ED…").
 */
export function queryParams(url: string, parsed: unknown): unknown {
  const q = url.indexOf('?');
  if (q === -1 || !NON_ASCII_ESCAPE.test(url)) return parsed;
  return parseParamText(url.slice(q + 1));
}
