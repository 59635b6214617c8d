// Pure helpers of the Redis store: SubsId format, record packing, the candidate lists bind tries.
import { describe, expect, it } from 'vitest';
import { DUE_SHARDS, SEP, dueShard, formatSubsId, packTail, parseSubsId, unpackRecord, xKeys } from '../../src/store/codec.js';
import { candidateLists } from '../../src/store/pool-store.js';

describe('SubsId', () => {
  it('embeds X and a fixed-width sequence, and parses back', () => {
    expect(formatSubsId('17100000001', 42)).toBe('17100000001000000042');
    expect(parseSubsId('17100000001000000042')).toEqual({ x: '17100000001', seq: '42' });
    expect(parseSubsId(formatSubsId('+4915112345678', 7))).toEqual({ x: '+4915112345678', seq: '7' });
    expect(parseSubsId(formatSubsId('01012345678', 999999999))).toEqual({ x: '01012345678', seq: '999999999' });
  });
  it('rejects what no bind could have produced', () => {
    for (const bad of ['', 'abc', '12345', '17100000001000000000', '1710000000100000004x', ' 17100000001000000042']) {
      expect(parseSubsId(bad), bad).toBeUndefined();
    }
  });
});

describe('keys', () => {
  it('share the hash tag {X}', () => {
    expect(xKeys('17100000001').every((k) => k.includes('{17100000001}'))).toBe(true);
  });
  it('spread X over every due shard', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(dueShard('171' + String(i).padStart(8, '0')));
    expect(seen.size).toBe(DUE_SHARDS);
  });
});

describe('record', () => {
  const head = (t: string) => ['AXB', '13800000001', '13900000002', '', '1800000000', '1700000000'].join(SEP) + (t ? SEP + t : '');
  it('keeps a minimal AXB record short (listpack-friendly)', () => {
    const raw = head(packTail({ recording: false, callDisplayType: 1 }));
    expect(raw.length).toBeLessThanOrEqual(64);
    expect(unpackRecord(raw, '17100000001', '5', 'P')).toEqual({
      subsId: '17100000001000000005',
      mode: 'AXB',
      poolKey: 'P',
      x: '17100000001',
      a: '13800000001',
      b: '13900000002',
      expiresAt: 1800000000,
      createdAt: 1700000000,
      recording: false,
      callDisplayType: 1,
    });
  });
  it('round-trips every optional field, free text with separators of other formats included', () => {
    const fields = {
      recording: true,
      callDisplayType: 2,
      callRestrict: 'CONTROL_BX_DISABLE',
      outId: 'a|b,c "q"',
      outOrderId: 'oo',
      expectCity: '杭州',
      asrStatus: false,
      asrModelId: 'm',
      ringConfig: { AXBRing_A: 't1', AXBRing_B: 't2' },
    } as const;
    const tail = packTail(fields);
    expect(unpackRecord(head(tail), '17100000001', '1', 'P')).toMatchObject(fields);
  });
});

describe('candidateLists', () => {
  const pool = (strictCity: boolean) => ({
    settings: { name: 'p', strictCity },
    all: ['x1', 'x2', 'x3', 'y1'],
    byCity: new Map([
      ['hz', ['x1', 'x2', 'x3']],
      ['bj', ['y1']],
    ]),
  });
  it('without ExpectCity: every number, in one list', () => {
    expect(candidateLists(pool(false))).toEqual([['x1', 'x2', 'x3', 'y1']]);
    expect(candidateLists(pool(true))).toEqual([['x1', 'x2', 'x3', 'y1']]);
  });
  it('strict ExpectCity: only that city', () => {
    expect(candidateLists(pool(true), 'hz')).toEqual([['x1', 'x2', 'x3']]);
    expect(candidateLists(pool(true), 'sh')).toEqual([[]]);
  });
  it('relaxed ExpectCity: that city first, then each other city', () => {
    expect(candidateLists(pool(false), 'bj')).toEqual([['y1'], ['x1', 'x2', 'x3']]);
    expect(candidateLists(pool(false), 'sh')).toEqual([[], ['x1', 'x2', 'x3'], ['y1']]);
  });
});
