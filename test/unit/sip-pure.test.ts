// The SIP app's pure helpers: Q.850 mapping and Reason headers, source allow-lists, URI users,
// the outbound URI, report times.
import { describe, expect, it } from 'vitest';
import { causeForStatus, parseQ850, reasonHeader, statusForCause } from '../../src/sip/q850.js';
import { parseCidrList } from '../../src/sip/cidr.js';
import { rawUser } from '../../src/sip/middleware.js';
import { parseOutboundUri } from '../../src/sip/b-leg.js';
import { reportTime } from '../../src/domain/wall-clock.js';

describe('Q.850', () => {
  it.each([
    [486, false, 17],
    [600, false, 17],
    [480, false, 18],
    [480, true, 19],
    [404, false, 1],
    [603, false, 21],
    [403, false, 21],
    [408, false, 102],
    [503, false, 41],
    [500, false, 41],
    [484, false, 28],
    [599, false, 41],
    [499, false, 31],
  ])('status %i (alerted %s) → cause %i', (status, alerted, cause) => {
    expect(causeForStatus(status, alerted)).toBe(cause);
  });

  it('reads the Q.850 cause of a Reason header, ignoring SIP reasons and junk', () => {
    expect(parseQ850('Q.850;cause=17;text="User busy"')).toBe(17);
    expect(parseQ850('SIP;cause=486, Q.850;cause=17')).toBe(17);
    expect(parseQ850('q.850 ; cause = 16')).toBe(16);
    expect(parseQ850('Q.850;text="x";cause=31')).toBe(31);
    expect(parseQ850('SIP;cause=200;text="Call completed elsewhere"')).toBeUndefined();
    expect(parseQ850('Q.850;cause=999')).toBeUndefined();
    expect(parseQ850(undefined)).toBeUndefined();
  });

  it('writes Reason headers without characters that would break the header', () => {
    expect(reasonHeader(41)).toBe('Q.850;cause=41');
    expect(reasonHeader(21, 'a "b"\r\nX: y')).toBe('Q.850;cause=21;text="a bX: y"');
    expect(statusForCause(1)).toBe(404);
    expect(statusForCause(19)).toBe(480);
  });
});

describe('source allow-list (node:net BlockList)', () => {
  it('matches CIDRs, single addresses, IPv6 and IPv4-mapped IPv6', () => {
    const l = parseCidrList('127.0.0.1/32, 10.0.0.0/8,192.0.2.7, 2001:db8::/32');
    expect(l.has('127.0.0.1')).toBe(true);
    expect(l.has('127.0.0.2')).toBe(false);
    expect(l.has('10.200.3.4')).toBe(true);
    expect(l.has('192.0.2.7')).toBe(true);
    expect(l.has('192.0.2.8')).toBe(false);
    expect(l.has('2001:db8::1')).toBe(true);
    expect(l.has('[2001:db8::1]')).toBe(true);
    expect(l.has('::ffff:10.1.1.1')).toBe(true);
    expect(l.has('not an address')).toBe(false);
  });
  it('refuses malformed entries by name', () => {
    expect(() => parseCidrList('10.0.0.0/33')).toThrow(/10\.0\.0\.0\/33/);
    expect(() => parseCidrList('example.com')).toThrow(/example\.com/);
    expect(() => parseCidrList('10.0.0.0/8/1')).toThrow();
    expect(parseCidrList('').has('127.0.0.1')).toBe(false);
  });
});

describe('URI users', () => {
  it.each([
    ['sip:13800000001@10.0.0.1', '13800000001'],
    ['<sip:+8613800000001@h;transport=udp>', '+8613800000001'],
    ['sip:+86-138-0000-0001;npdi@h', '+86-138-0000-0001'],
    ['sips:8613800000001:secret@h', '8613800000001'],
    ['tel:+8613800000001;phone-context=x', '+8613800000001'],
    ['sip:%2B8613800000001@h', '+8613800000001'],
    ['sip:h.example.com', undefined],
    ['', undefined],
  ])('%s → %s', (uri, user) => {
    expect(rawUser(uri)).toBe(user);
  });
});

describe('SIP_OUTBOUND_URI', () => {
  it('keeps host:port and parameters, drops nothing', () => {
    expect(parseOutboundUri('sip:127.0.0.1:5090')).toEqual({ scheme: 'sip', hostport: '127.0.0.1:5090', params: '', transport: '' });
    expect(parseOutboundUri('sip:trunk.example.com;transport=tcp')).toEqual({
      scheme: 'sip',
      hostport: 'trunk.example.com',
      params: ';transport=tcp',
      transport: ';transport=tcp',
    });
    expect(parseOutboundUri('sip:10.0.0.1:5060;user=phone;Transport=TCP').transport).toBe(';transport=tcp');
    expect(() => parseOutboundUri('http://x')).toThrow();
  });
});

describe('report times', () => {
  it('formats wall-clock time in the configured zone as Alibaba does', () => {
    expect(reportTime(Date.UTC(2024, 0, 1, 16, 0, 5), 'Asia/Shanghai')).toBe('2024-01-02 00:00:05');
    expect(reportTime(Date.UTC(2024, 6, 1, 0, 0, 0), 'UTC')).toBe('2024-07-01 00:00:00');
  });

  it('follows daylight-saving transitions to the second', () => {
    // New York springs forward at 02:00 EST (07:00Z) to 03:00 EDT
    expect(reportTime(Date.UTC(2024, 2, 10, 6, 59, 59, 999), 'America/New_York')).toBe('2024-03-10 01:59:59');
    expect(reportTime(Date.UTC(2024, 2, 10, 7, 0, 0), 'America/New_York')).toBe('2024-03-10 03:00:00');
    // and falls back at 02:00 EDT (06:00Z) to 01:00 EST
    expect(reportTime(Date.UTC(2024, 10, 3, 5, 59, 59), 'America/New_York')).toBe('2024-11-03 01:59:59');
    expect(reportTime(Date.UTC(2024, 10, 3, 6, 0, 0), 'America/New_York')).toBe('2024-11-03 01:00:00');
  });

  it('agrees with Intl at random instants in several zones', () => {
    const intl = (ms: number, timeZone: string) =>
      new Intl.DateTimeFormat('sv-SE', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(ms));
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const zone of ['Asia/Shanghai', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/London', 'America/St_Johns']) {
      for (let i = 0; i < 300; i++) {
        const ms = Date.UTC(2020, 0, 1) + Math.floor(rnd() * 6 * 365 * 86_400_000);
        expect(reportTime(ms, zone)).toBe(intl(ms, zone));
      }
    }
  });
});
