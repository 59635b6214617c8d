// Huawei fields in the packed binding record, area-code candidate lists, area code normalising.
import { describe, expect, it } from 'vitest';
import { normalizeAreaCode, liveTempCallee, type HuaweiFields } from '../../src/domain/huawei-binding.js';
import { SEP, packTail, unpackRecord } from '../../src/store/codec.js';
import { HF, huaweiPairs } from '../../src/store/huawei-record.js';
import { areaLists, poolHint } from '../../src/store/redis-store.js';

const head = (t: string) => ['AX', '13800000001', '', '', '1800000000', '1700000000'].join(SEP) + (t ? SEP + t : '');

describe('Huawei fields in the record', () => {
  const full: HuaweiFields = {
    app: 'app-1',
    maxDuration: 30,
    lastMinVoice: 'last.wav',
    recordHintTone: 'hint.wav',
    privateSms: 'false',
    userData: 'order 42 | a,b "q"',
    callerHintTone: 'caller.wav',
    calleeHintTone: 'callee.wav',
    displayMode: '1',
    callbackNum: '13900000009',
    callbackTone: 'cb.wav',
    timeUnit: '1',
    bindExpiredTime: 90,
    callbackExpiredTime: 0,
    tempCallee: { number: '13700000001', expiresAt: 1800000100, userData: 'tc' },
  };
  it('round-trips every field, numbers as numbers (0 included)', () => {
    const raw = head(packTail({ recording: true, callDisplayType: 1, huawei: full }));
    expect(unpackRecord(raw, '17100000001', '1', 'P').huawei).toEqual(full);
  });
  it('a record without an app is no Huawei binding, and costs nothing extra', () => {
    const tail = packTail({ recording: false, callDisplayType: 1 });
    expect(tail).toBe('');
    expect(unpackRecord(head(tail), '17100000001', '1', 'P').huawei).toBeUndefined();
  });
  it('keeps only the app when nothing else is given', () => {
    const raw = head(packTail({ recording: false, callDisplayType: 1, huawei: { app: 'k' } }));
    expect(raw.split(SEP)).toHaveLength(HF.app);
    expect(unpackRecord(raw, '17100000001', '1', 'P').huawei).toEqual({ app: 'k' });
  });
  it('a patch names only the fields it sets; null clears; the temporary callee is three fields', () => {
    expect(huaweiPairs({ userData: 'u', maxDuration: null })).toEqual([HF.maxDuration, '', HF.userData, 'u']);
    expect(huaweiPairs({ tempCallee: { number: '137', expiresAt: 5 } })).toEqual([HF.tempCallee, '137', HF.tempCalleeExp, '5', HF.tempCalleeData, '']);
    expect(huaweiPairs({ tempCallee: null })).toEqual([HF.tempCallee, '', HF.tempCalleeExp, '', HF.tempCalleeData, '']);
    expect(huaweiPairs({})).toEqual([]);
  });
  it('a temporary callee applies until its expiry second', () => {
    const h: HuaweiFields = { app: 'k', tempCallee: { number: '137', expiresAt: 100 } };
    expect(liveTempCallee(h, 99)?.number).toBe('137');
    expect(liveTempCallee(h, 100)).toBeUndefined();
    expect(liveTempCallee({ app: 'k' }, 0)).toBeUndefined();
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
    byCity: new Map([['深圳', ['x1', 'x2', 'z1']], ['北京', ['y1']]]),
    byArea: new Map([['0755', ['x1', 'x2']], ['010', ['y1']]]),
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
