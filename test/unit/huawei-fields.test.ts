// The Huawei field reader (src/api/huawei/fields.ts): numbers in every accepted form read as
// canonicalNumber reads them (the +86 fast path included), answered in +86 form; each bad field is
// 1010002 naming it.
import { describe, expect, it } from 'vitest';
import { fieldReader } from '../../src/api/huawei/fields.js';
import { HuaweiError } from '../../src/api/huawei/result-codes.js';
import { canonicalNumber } from '../../src/domain/numbers.js';

const f = fieldReader({ DEFAULT_COUNTRY: 'CN', RING_TONE_DIR: '/nonexistent' });

describe('Huawei field reader', () => {
  it('reads numbers as canonicalNumber does, +86 / 86 / national / with a decoded-+ space', () => {
    const inputs = ['+8613800000001', '8613800000001', '13800000001', ' 8613800000001', '+8612345678901', '+8610012345678', '+86 138 0000 0001', '+861380000000', '+8617090000000', '+85291234567', '01012345678', '+861012345678'];
    for (const v of inputs) {
      let got: string | undefined;
      try {
        got = f.phone({ n: v }, 'n');
      } catch (e) {
        expect((e as HuaweiError).code).toBe('1010002');
        got = undefined;
      }
      expect(got, v).toBe(canonicalNumber(v.trim(), 'CN'));
    }
  });

  it('answers +86 form: mobiles, fixed lines without the leading 0, foreign numbers as stored', () => {
    expect(f.global('13800000001')).toBe('+8613800000001');
    expect(f.global('01012345678')).toBe('+861012345678');
    expect(f.global('+85291234567')).toBe('+85291234567');
    expect(f.global(undefined)).toBeUndefined();
  });

  it('refuses bad fields with 1010002 naming them', async () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return `${(e as HuaweiError).code} ${(e as HuaweiError).message}`;
      }
      return 'ok';
    };
    expect(code(() => f.int({ d: '12x' }, 'd', 0, 10))).toBe('1010002 Invalid request.d');
    expect(code(() => f.int({ d: 11 }, 'd', 0, 10))).toBe('1010002 Invalid request.d');
    expect(f.int({ d: '7' }, 'd', 0, 10)).toBe(7);
    expect(code(() => f.bool({ b: 'TRUE' }, 'b'))).toBe('1010002 Invalid request.b');
    expect(f.bool({ b: true }, 'b')).toBe(true);
    expect(code(() => f.userData({ userData: 'a{b' }))).toBe('1010002 Invalid request.userData');
    expect(code(() => f.oneOf({ m: '2' }, 'm', ['0', '1']))).toBe('1010002 Invalid request.m');
    expect(f.oneOf({ m: 1 }, 'm', ['0', '1'])).toBe('1');
    await expect(f.tone({ t: 'none' }, 't', 'preVoice.t')).rejects.toMatchObject({ code: '1010002', message: 'Invalid request.preVoice.t' });
    expect(await f.tone({ t: '' }, 't')).toBeUndefined();
  });
});
