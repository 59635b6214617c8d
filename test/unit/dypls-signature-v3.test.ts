import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { canonicalRequestV3, parseV3Authorization, sha256Hex, signV3 } from '../../src/api/dypls/signature-v3.js';

const require = createRequire(import.meta.url);
const OpenApiUtil = require('@alicloud/openapi-util').default as {
  getAuthorization(req: object, alg: string, payloadHash: string, id: string, secret: string): string;
};

describe('V3 signature (ACS3-HMAC-SHA256)', () => {
  const headers = {
    host: '127.0.0.1:8080',
    'x-acs-action': 'BindAxb',
    'x-acs-version': '2017-05-25',
    'x-acs-date': '2030-01-01T00:00:00Z',
    'x-acs-signature-nonce': 'n-1',
    'x-acs-content-sha256': sha256Hex(''),
    'user-agent': 'not signed',
  };
  const query = { PoolKey: 'FC1', PhoneNoA: '13800000001', OutId: 'a b*~' };

  it("matches Alibaba's own signer (@alicloud/openapi-util) byte for byte", () => {
    const auth = OpenApiUtil.getAuthorization({ pathname: '/', method: 'POST', query, headers }, 'ACS3-HMAC-SHA256', sha256Hex(''), 'id1', 'secret1');
    const parsed = parseV3Authorization(auth)!;
    expect(parsed.accessKeyId).toBe('id1');
    expect(parsed.signedHeaders).toEqual(['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version']);
    const canonical = canonicalRequestV3({ method: 'POST', path: '/', query, headers, signedHeaders: parsed.signedHeaders, payloadHash: sha256Hex('') });
    expect(signV3('secret1', canonical)).toBe(parsed.signature);
    expect(signV3('secret2', canonical)).not.toBe(parsed.signature);
    const tampered = canonicalRequestV3({ method: 'POST', path: '/', query: { ...query, PhoneNoA: '13800000002' }, headers, signedHeaders: parsed.signedHeaders, payloadHash: sha256Hex('') });
    expect(signV3('secret1', tampered)).not.toBe(parsed.signature);
  });

  it('refuses malformed Authorization values', () => {
    expect(parseV3Authorization('ACS3-HMAC-SHA256 Credential=a')).toBeUndefined();
    expect(parseV3Authorization('Bearer x')).toBeUndefined();
  });
});
