import { describe, expect, it } from 'vitest';
import { canonicalNumber, maskNumber } from '../../src/domain/numbers.js';

describe('canonicalNumber', () => {
  it.each([
    ['13800000001', '13800000001'],
    ['+8613800000001', '13800000001'],
    ['8613800000001', '13800000001'],
    ['008613800000001', '13800000001'],
    ['138-0000-0001', '13800000001'],
    [' 138 0000 0001 ', '13800000001'],
    ['01012345678', '01012345678'],
    ['+861012345678', '01012345678'],
    ['861012345678', '01012345678'],
    ['057188886666', '057188886666'],
    ['+14155550100', '+14155550100'],
    ['4008123123', '4008123123'],
    ['+86 138-0000-0001', '13800000001'],
    ['(010) 1234 5678', '01012345678'],
    ['+86 (10) 1234-5678', '01012345678'],
    ['0571.8888.6666', '057188886666'],
  ])('%s → %s', (input, out) => {
    expect(canonicalNumber(input)).toBe(out);
  });

  it.each(['', 'abc', '1380000000a', '12345', '+', '138000000011234567890123456789012', '13800000001;x', '99999999999'])(
    'refuses %j',
    (input) => {
      expect(canonicalNumber(input)).toBeUndefined();
    },
  );

  // Stripping separators used to turn these into a valid number someone else owns.
  it.each(['-13800000222', '--13800000222', '.13800000222', ')13800000222', '13800000222-', '13800000222)', '+-8613800000222', '-+8613800000222', '1380000022+2'])(
    'refuses %j: not a number written in any common form',
    (input) => {
      expect(canonicalNumber(input)).toBeUndefined();
    },
  );

  it('refuses non-strings', () => {
    expect(canonicalNumber(13800000001 as unknown as string)).toBeUndefined();
  });
});

describe('maskNumber', () => {
  it.each([
    ['13800000001', '138****0001'],
    ['057188886666', '057*****6666'],
    ['+14155550100', '+14*****0100'],
    ['12345', '1**45'],
    ['123', '***'],
    ['', ''],
  ])('%s → %s', (input, out) => {
    expect(maskNumber(input)).toBe(out);
  });

  it('never returns the digits that identify the subscriber', () => {
    const n = '13912345678';
    expect(maskNumber(n)).not.toContain('1234');
  });
});
