// The AX temporary callee in the packed record and its lifetime; area codes: normalising,
// candidate lists, the pool index value.
import { describe, expect, it } from 'vitest';
import type { HuaweiFields } from '../../src/domain/binding.js';
import { liveTempCallee, normalizeAreaCode } from '../../src/domain/huawei-binding.js';
import { SEP, packTail, poolHint, unpackRecord } from '../../src/store/codec.js';
import { areaLists } from '../../src/store/pool-store.js';

const head = (t: string) => ['AX', '13800000001', '', '', '1800000000', '1700000000'].join(SEP) + (t ? SEP + t : '');

describe('the AX temporary callee', () => {
  it('round-trips in the record with the other Huawei fields', () => {
    const h: HuaweiFields = { appKey: 'k', userData: 'u', tempCallee: { number: '13700000001', expiresAt: 1800000100, userData: 'tc' } };
    expect(unpackRecord(head(packTail({ recording: false, callDisplayType: 1, huawei: h })), '17100000001', '1', 'P').huawei).toEqual(h);
  });
  it('applies until its expiry second', () => {
    const h: HuaweiFields = { appKey: 'k', tempCallee: { number: '137', expiresAt: 100 } };
    expect(liveTempCallee(h, 99)?.number).toBe('137');
    expect(liveTempCallee(h, 100)).toBeUndefined();
    expect(liveTempCallee({ appKey: 'k' }, 0)).toBeUndefined();
    expect(liveTempCallee(undefined, 0)).toBeUndefined();
  });
});

describe('area codes', () => {
  it('are kept with their leading 0; 755 gains it; anything else is refused', () => {
    expect(normalizeAreaCode('0755')).toBe('0755');
    expect(normalizeAreaCode('010')).toBe('010');
    expect(normalizeAreaCode('755')).toBe('0755');
    for (const bad of ['', '0', '7', 'abc', '07-55', '0755123456', 755]) expect(normalizeAreaCode(bad), String(bad)).toBeUndefined();
  });
  const pool = {
    settings: { name: 'p', strictCity: false },
    all: ['x1', 'x2', 'y1', 'z1'],
    byCity: new Map([
      ['深圳', ['x1', 'x2', 'z1']],
      ['北京', ['y1']],
    ]),
    byArea: new Map([
      ['0755', ['x1', 'x2']],
      ['010', ['y1']],
    ]),
  };
  it('strict: only numbers of that area code (none: an empty list)', () => {
    expect(areaLists(pool, '0755', 'strict')).toEqual([['x1', 'x2']]);
    expect(areaLists(pool, '020', 'strict')).toEqual([[]]);
  });
  it('relaxed: that area code first, then every other number once', () => {
    expect(areaLists(pool, '0755', 'relaxed')).toEqual([['x1', 'x2'], ['y1', 'z1']]);
    expect(areaLists(pool, '020', 'relaxed')).toEqual([[], ['x1', 'x2', 'y1', 'z1']]);
  });
  it('the pool index value carries the area code after the city', () => {
    expect(poolHint('深圳', '0755')).toBe(`深圳${SEP}0755`);
    expect(poolHint('深圳')).toBe('深圳');
  });
});
