import { describe, expect, it } from 'vitest';
import { canonicalQuery, percentEncode, sign, signatureMatches, stringToSign } from '../../src/api/dypls/signature.js';

describe('POP percent-encoding', () => {
  it.each([
    ['a b', 'a%20b'],
    ['a*b', 'a%2Ab'],
    ['a~b', 'a~b'],
    ['a+b', 'a%2Bb'],
    ["!'()", '%21%27%28%29'],
    ['-_.', '-_.'],
    ['2016-02-23T12:46:24Z', '2016-02-23T12%3A46%3A24Z'],
    ['{"AXBRing_A":"1"}', '%7B%22AXBRing_A%22%3A%221%22%7D'],
    ['北京', '%E5%8C%97%E4%BA%AC'],
  ])('%j → %s', (input, out) => {
    expect(percentEncode(input)).toBe(out);
  });
});

describe('POP signature v1 (HMAC-SHA1)', () => {
  // Alibaba's documented example (ECS DescribeRegions, secret "testsecret").
  const doc = {
    AccessKeyId: 'testid',
    Action: 'DescribeRegions',
    Format: 'XML',
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
    SignatureVersion: '1.0',
    Timestamp: '2016-02-23T12:46:24Z',
    Version: '2014-05-26',
  };

  it("reproduces Alibaba's documented StringToSign and Signature", () => {
    expect(stringToSign('GET', doc)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(sign('GET', doc, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('builds the string to sign in one pass exactly as the definition: enc(canonical query)', () => {
    const awkward = ['', 'a b', "!'()*~", '100%', 'a=b&c', '北京', '+86 138-0000-0001', '{"AXNRing_A":"1"}', '%41', 'x'.repeat(300)];
    for (const v of awkward) {
      const params = { ...doc, OutId: v, [`K${v.length}`]: v };
      expect(stringToSign('POST', params)).toBe('POST&%2F&' + percentEncode(canonicalQuery(params)));
    }
  });

  it('ignores the Signature parameter itself and sorts by name', () => {
    expect(canonicalQuery({ b: '2', Signature: 'x', a: '1', B: '3' })).toBe('B=3&a=1&b=2');
  });

  it('depends on the method, every value and the secret', () => {
    const base = sign('GET', doc, 'testsecret');
    expect(sign('POST', doc, 'testsecret')).not.toBe(base);
    expect(sign('GET', { ...doc, Action: 'DescribeZones' }, 'testsecret')).not.toBe(base);
    expect(sign('GET', doc, 'other')).not.toBe(base);
  });

  it('compares signatures exactly', () => {
    expect(signatureMatches('abc=', 'abc=')).toBe(true);
    expect(signatureMatches('abc=', 'abd=')).toBe(false);
    expect(signatureMatches('abc=', 'abc')).toBe(false);
  });
});
