import { describe, expect, it } from 'vitest';
import { canonicalNumberFast, fastPathActive } from '../../src/domain/fast-number.js';
import { canonicalNumber } from '../../src/domain/numbers.js';

describe('canonicalNumberFast', () => {
  it('is active for CN with the installed libphonenumber metadata', () => {
    expect(fastPathActive).toBe(true);
  });

  it('agrees with canonicalNumber on 200,000 random 11-digit numbers starting with 1', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let valid = 0;
    for (let i = 0; i < 200_000; i++) {
      const n = '1' + String(Math.floor(rnd() * 1e10)).padStart(10, '0');
      const want = canonicalNumber(n, 'CN');
      expect(canonicalNumberFast(n, 'CN')).toBe(want);
      if (want) valid++;
    }
    expect(valid).toBeGreaterThan(10_000); // the sample really covers valid mobiles too
  });

  it.each(['+8613800000001', '8613800000001', '01012345678', '138-0000-0001', '12000000000', 'abc', '', '+14155550100'])(
    'agrees on %j',
    (n) => {
      expect(canonicalNumberFast(n, 'CN')).toBe(canonicalNumber(n, 'CN'));
    },
  );

  it('takes no shortcut for another home country', () => {
    expect(canonicalNumberFast('7911123456', 'GB')).toBe(canonicalNumber('7911123456', 'GB'));
  });
});
