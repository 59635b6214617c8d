// Huawei authentication, pure part (src/api/huawei/auth.ts): headers built by the test suite's own
// Huawei client (test/support/huawei-client.ts, written from HUAWEI.md) are read and verified, and
// every missing or wrong part answers its own code. The HTTP path is in test/integration/huawei-axb.test.ts.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { akskHeaders, checkCreated, digestMatches, parseCreated, parseCredentials } from '../../src/api/huawei/auth.js';
import { HuaweiError } from '../../src/api/huawei/result-codes.js';
import { HuaweiClient, hwCreated, type SignOverrides } from '../support/huawei-client.js';

const KEY = 'appkey0001';
const SECRET = 'app-secret-0123456789';
const client = new HuaweiClient({ baseUrl: 'http://unused', appKey: KEY, appSecret: SECRET });

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const creds = (o: SignOverrides = {}) => parseCredentials(lower(client.headers(o)));
function code(o: SignOverrides): string {
  try {
    creds(o);
  } catch (e) {
    expect(e).toBeInstanceOf(HuaweiError);
    return (e as HuaweiError).code;
  }
  return 'none';
}

describe('Huawei credentials', () => {
  it('reads AKSK and WSSE headers as the client sends them, ", " or "," between attributes', () => {
    for (const scheme of ['AKSK', 'WSSE'] as const) {
      for (const spacedAttributes of [false, true]) {
        const c = creds({ scheme, spacedAttributes, nonce: 'abc123', created: '2026-01-02T03:04:05Z' });
        expect(c).toMatchObject({ scheme, appKey: KEY, nonce: 'abc123', created: '2026-01-02T03:04:05Z', createdMs: Date.UTC(2026, 0, 2, 3, 4, 5) });
        expect(digestMatches(c, SECRET)).toBe(true);
        expect(digestMatches(c, SECRET + 'x')).toBe(false);
      }
    }
  });

  it('AKSK digest is Base64(HMAC-SHA256(secret, Nonce + Created)); WSSE Base64(SHA-256(Nonce + Created + secret)), raw or of its hex', () => {
    const n = 'n1';
    const t = '2026-01-02T03:04:05Z';
    const aksk = createHmac('sha256', SECRET).update(n + t).digest('base64');
    expect(digestMatches(creds({ nonce: n, created: t, digest: aksk }), SECRET)).toBe(true);
    // the WSSE formula under the AKSK scheme is a wrong digest, and the reverse
    const wsse = createHash('sha256').update(n + t + SECRET).digest('base64');
    expect(digestMatches(creds({ nonce: n, created: t, digest: wsse }), SECRET)).toBe(false);
    expect(digestMatches(creds({ scheme: 'WSSE', nonce: n, created: t, digest: wsse }), SECRET)).toBe(true);
    expect(digestMatches(creds({ scheme: 'WSSE', nonce: n, created: t, digest: aksk }), SECRET)).toBe(false);
    expect(digestMatches(creds({ scheme: 'WSSE', wsseHex: true }), SECRET)).toBe(true);
    // hex (not Base64) is not one of the accepted encodings
    const hex = createHmac('sha256', SECRET).update(n + t).digest('hex');
    expect(digestMatches(creds({ nonce: n, created: t, digest: hex }), SECRET)).toBe(false);
  });

  it('Authorization: missing 1023006, unknown scheme 1023013, realm/profile/type missing 1023007/1023008/1023012, wrong 1023009/1023010/1023011', () => {
    expect(code({ authorization: null })).toBe('1023006');
    expect(code({ authorization: '' })).toBe('1023006');
    expect(code({ authorization: 'Basic realm="SDP",profile="UsernameToken",type="Appkey"' })).toBe('1023013');
    expect(code({ authorization: 'realm="SDP",profile="UsernameToken",type="Appkey"' })).toBe('1023013');
    expect(code({ authorization: 'AKSK profile="UsernameToken",type="Appkey"' })).toBe('1023007');
    expect(code({ authorization: 'AKSK realm="SDP",type="Appkey"' })).toBe('1023008');
    expect(code({ authorization: 'AKSK realm="SDP",profile="UsernameToken"' })).toBe('1023012');
    expect(code({ authorization: 'AKSK realm="XYZ",profile="UsernameToken",type="Appkey"' })).toBe('1023009');
    expect(code({ authorization: 'AKSK realm="SDP",profile="Digest",type="Appkey"' })).toBe('1023010');
    expect(code({ authorization: 'AKSK realm="SDP",profile="UsernameToken",type="User"' })).toBe('1023011');
    // the Java demo's dsl="Appkey" (lenient.ts)
    expect(code({ scheme: 'WSSE', authorization: 'WSSE realm="SDP",profile="UsernameToken",dsl="Appkey"' })).toBe('none');
  });

  it('X-AKSK missing 1023033 and its parts 1023034–1023037; X-WSSE 1023026 and 1023027–1023030', () => {
    expect(code({ token: null })).toBe('1023033');
    expect(code({ appKey: null })).toBe('1023034');
    expect(code({ nonce: null })).toBe('1023035');
    expect(code({ created: null })).toBe('1023036');
    expect(code({ digest: null })).toBe('1023037');
    expect(code({ scheme: 'WSSE', token: null })).toBe('1023026');
    expect(code({ scheme: 'WSSE', appKey: null })).toBe('1023027');
    expect(code({ scheme: 'WSSE', nonce: null })).toBe('1023028');
    expect(code({ scheme: 'WSSE', created: null })).toBe('1023029');
    expect(code({ scheme: 'WSSE', digest: null })).toBe('1023030');
    // an AKSK Authorization with only an X-WSSE header is missing its X-AKSK
    const h = lower(client.headers({ scheme: 'WSSE' }));
    h.authorization = 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"';
    expect(() => parseCredentials(h)).toThrow(expect.objectContaining({ code: '1023033' }));
  });

  it('Created: UTC yyyy-MM-ddTHH:mm:ssZ (milliseconds tolerated); anything else 1010013; outside the window 1010013', () => {
    expect(parseCreated('2018-02-12T15:30:20Z')).toBe(Date.UTC(2018, 1, 12, 15, 30, 20));
    expect(parseCreated('2018-02-12T15:30:20.123Z')).toBe(Date.UTC(2018, 1, 12, 15, 30, 20));
    for (const bad of ['2018-02-12 15:30:20', '2018-02-30T15:30:20Z', '2018-02-12T25:30:20Z', '1518449420', '2018-02-12T15:30:20+08:00']) {
      expect(parseCreated(bad), bad).toBeUndefined();
      expect(code({ created: bad }), bad).toBe('1010013');
    }
    const now = Date.now();
    const win = 15 * 60_000;
    expect(() => checkCreated(now - win, now, win)).not.toThrow();
    expect(() => checkCreated(now + win, now, win)).not.toThrow();
    expect(() => checkCreated(now - win - 1000, now, win)).toThrow(expect.objectContaining({ code: '1010013', status: 401 }));
    expect(() => checkCreated(now + win + 1000, now, win)).toThrow(expect.objectContaining({ code: '1010013', status: 401 }));
    expect(hwCreated()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a Nonce outside 1-128 letters, digits, - and _ is refused as a missing Nonce', () => {
    expect(code({ nonce: 'a'.repeat(128) })).toBe('none');
    expect(code({ nonce: 'a'.repeat(129) })).toBe('1023035');
    expect(code({ nonce: 'a b' })).toBe('1023035');
    expect(code({ scheme: 'WSSE', nonce: 'ä' })).toBe('1023028');
  });

  it("xline's own signed callbacks verify with the client's formula", () => {
    const h = lower(akskHeaders(KEY, SECRET, 'cbnonce'));
    const c = parseCredentials(h);
    expect(c.appKey).toBe(KEY);
    expect(c.digest).toBe(createHmac('sha256', SECRET).update('cbnonce' + c.created).digest('base64'));
  });
});

describe('Huawei header attributes', () => {
  it('reads name="value" pairs in any order and case, with spaces around = and between pairs; first of a repeat wins', async () => {
    const { attributes } = await import('../../src/api/huawei/auth.js');
    const a = attributes('UsernameToken Username = "k1", PasswordDigest="ab+/c=",Nonce="n",  Created="2026-01-01T00:00:00Z",username="k2"');
    expect(Object.fromEntries(a)).toEqual({ username: 'k1', passworddigest: 'ab+/c=', nonce: 'n', created: '2026-01-01T00:00:00Z' });
    expect(Object.fromEntries(attributes('AKSK realm="SDP",profile=UsernameToken,type="Appkey"'))).toEqual({ realm: 'SDP', type: 'Appkey' });
    expect(Object.fromEntries(attributes('a="unterminated'))).toEqual({});
    expect(Object.fromEntries(attributes('="x",b=""'))).toEqual({ b: '' });
  });
});
