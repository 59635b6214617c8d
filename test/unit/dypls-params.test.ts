import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { makeFields, parseParams } from '../../src/api/dypls/fields.js';
import { GatewayError } from '../../src/api/dypls/gateway-errors.js';
import { formatWallClock, parsePopTimestamp, parseWallClock } from '../../src/domain/wall-clock.js';
import { RateLimiter } from '../../src/api/dypls/rate-limit.js';
import { XlineError } from '../../src/domain/errors.js';

const f = makeFields({ country: 'CN', timezone: 'Asia/Shanghai' });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof XlineError || e instanceof GatewayError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('wall clock (Alibaba Expiration)', () => {
  it('reads YYYY-MM-DD HH:mm:ss in the zone', () => {
    expect(parseWallClock('2030-01-01 08:00:00', 'Asia/Shanghai')).toBe(Date.UTC(2030, 0, 1, 0, 0, 0) / 1000);
    expect(parseWallClock('2030-01-01 00:00:00', 'UTC')).toBe(Date.UTC(2030, 0, 1) / 1000);
  });

  it('handles a zone with daylight saving time', () => {
    // New York: EST (−5) in January, EDT (−4) in July.
    expect(parseWallClock('2030-01-15 12:00:00', 'America/New_York')).toBe(Date.UTC(2030, 0, 15, 17) / 1000);
    expect(parseWallClock('2030-07-15 12:00:00', 'America/New_York')).toBe(Date.UTC(2030, 6, 15, 16) / 1000);
  });

  it.each(['2030-02-30 00:00:00', '2030-13-01 00:00:00', '2030-01-01 24:00:00', '2030-01-01T00:00:00', '2030-1-1 00:00:00', '', 'tomorrow'])(
    'refuses %j',
    (s) => {
      expect(parseWallClock(s, 'Asia/Shanghai')).toBeUndefined();
    },
  );

  it('formats back to the same text', () => {
    const t = parseWallClock('2031-06-30 23:59:59', 'Asia/Shanghai')!;
    expect(formatWallClock(t, 'Asia/Shanghai')).toBe('2031-06-30 23:59:59');
  });

  it('reads POP Timestamps', () => {
    expect(parsePopTimestamp('2016-02-23T12:46:24Z')).toBe(Date.UTC(2016, 1, 23, 12, 46, 24));
    expect(parsePopTimestamp('2016-02-23T12:46:24.123Z')).toBe(Date.UTC(2016, 1, 23, 12, 46, 24));
    expect(parsePopTimestamp('2016-02-23 12:46:24')).toBeUndefined();
    expect(parsePopTimestamp('2016-02-23T12:46:24+08:00')).toBeUndefined();
  });

  it.each(['2026-02-31T00:00:00Z', '2026-02-29T00:00:00Z', '2026-04-31T12:00:00Z', '2026-06-31T23:59:59Z'])(
    'refuses the POP Timestamp %s: a day its month does not have',
    (s) => {
      expect(parsePopTimestamp(s)).toBeUndefined();
    },
  );

  it('reads the last day of each month, a leap day and a leap second', () => {
    expect(parsePopTimestamp('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
    expect(parsePopTimestamp('2026-04-30T00:00:00Z')).toBe(Date.UTC(2026, 3, 30));
    expect(parsePopTimestamp('2026-12-31T23:59:60Z')).toBe(Date.UTC(2027, 0, 1));
  });
});

describe('action parameter fields', () => {
  const schema = z.object({
    PhoneNoA: f.phone('PhoneNoA'),
    Expiration: f.expiration().optional(),
    OutId: f.text('OutId', 8).optional(),
    IsRecordingEnabled: f.bool('IsRecordingEnabled').optional(),
    CallDisplayType: f.int('CallDisplayType', 0, 2).optional(),
    Extension: f.digits('Extension', 1, 3).optional(),
    CallRestrict: f.callRestrict(false).optional(),
    RingConfig: f.ringConfig(['AXBRing_A', 'AXBRing_B']).optional(),
  });

  it('parses good values to typed, canonical ones', () => {
    const p = parseParams(schema, {
      PhoneNoA: '+86 138-0000-0001',
      Expiration: '2030-01-01 08:00:00',
      OutId: 'abc',
      IsRecordingEnabled: 'TRUE',
      CallDisplayType: '1',
      Extension: '007',
      CallRestrict: 'CONTROL_AX_DISABLE',
      RingConfig: '{"AXBRing_A":"1000001","AXBRing_B":2}',
    });
    expect(p).toEqual({
      PhoneNoA: '13800000001',
      Expiration: Date.UTC(2030, 0, 1) / 1000,
      OutId: 'abc',
      IsRecordingEnabled: true,
      CallDisplayType: 1,
      Extension: '007',
      CallRestrict: 'CONTROL_AX_DISABLE',
      RingConfig: { AXBRing_A: '1000001', AXBRing_B: '2' },
    });
  });

  it.each([
    [{}, 'MissingPhoneNoA'],
    [{ PhoneNoA: 'abc' }, 'isv.MOBILE_NUMBER_ILLEGAL'],
    [{ PhoneNoA: '12345' }, 'isv.MOBILE_NUMBER_ILLEGAL'],
    [{ PhoneNoA: '13800000001', Expiration: '2030-01-01' }, 'isv.EXPIRE_DATE_ILLEGAL'],
    [{ PhoneNoA: '13800000001', OutId: '123456789' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', IsRecordingEnabled: 'yes' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', CallDisplayType: '7' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', CallDisplayType: '1.5' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', Extension: '1234' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', Extension: '1a' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', CallRestrict: 'CONTROL_CLEAR_DISABLE' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', RingConfig: 'not json' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', RingConfig: '[1]' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', RingConfig: '{"AXNRing_N":"1"}' }, 'isv.INVALID_PARAMETERS'],
    [{ PhoneNoA: '13800000001', RingConfig: '{"AXBRing_A":"a b"}' }, 'isv.INVALID_PARAMETERS'],
  ])('%j → %s', (raw, code) => {
    expect(codeOf(() => parseParams(schema, raw as Record<string, string>))).toBe(code);
  });

  it('accepts CONTROL_CLEAR_DISABLE only where allowed (UpdateSubscription)', () => {
    const s = z.object({ CallRestrict: f.callRestrict(true) });
    expect(parseParams(s, { CallRestrict: 'CONTROL_CLEAR_DISABLE' })).toEqual({ CallRestrict: 'CONTROL_CLEAR_DISABLE' });
  });
});

describe('per-key rate limiter', () => {
  it('allows the rate as a one-second burst, then refills with time', () => {
    let now = 0;
    const r = new RateLimiter(10, () => now);
    for (let i = 0; i < 10; i++) expect(r.take('k')).toBe(true);
    expect(r.take('k')).toBe(false);
    expect(r.take('other')).toBe(true);
    now += 100; // 0.1 s → one token
    expect(r.take('k')).toBe(true);
    expect(r.take('k')).toBe(false);
  });

  it('is off at 0', () => {
    const r = new RateLimiter(0, () => 0);
    for (let i = 0; i < 1000; i++) expect(r.take('k')).toBe(true);
  });
});
