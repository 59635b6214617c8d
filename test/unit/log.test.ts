// Privacy is the product: real numbers never reach a log line unmasked, whatever the level, in
// the line's own fields, one level down, or a child logger's bindings.
import { Writable } from 'node:stream';
import Srf from 'drachtio-srf';
import { describe, expect, it } from 'vitest';
import { createLogger, maskNumberFields } from '../../src/log.js';

function capture() {
  const lines: Array<Record<string, any>> = [];
  const raw: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      raw.push(String(chunk));
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { log: createLogger('debug', {}, dest as never), lines, raw };
}

const A = '13800138000';
const B = '13912345678';

describe('log masking', () => {
  it('masks number fields at the top level and keeps the others', () => {
    const { log, lines, raw } = capture();
    log.info({ callId: 'c1@h', caller: A, target: B, x: '17100000000', outcome: 'answered', releaseCause: 16 }, 'CallSession:end');
    expect(lines[0]).toMatchObject({ callId: 'c1@h', caller: '138****8000', target: '139****5678', outcome: 'answered', releaseCause: 16, msg: 'CallSession:end' });
    expect(raw.join('')).not.toContain(A);
    expect(raw.join('')).not.toContain(B);
  });

  it('masks them one level down, in arrays of that level too, and leaves the caller’s object alone', () => {
    const { log, lines, raw } = capture();
    const binding = { a: A, b: B, subsId: '42' };
    const obj = { binding, parties: { phoneNo: A, peerNo: B } };
    log.warn(obj, 'x');
    expect(lines[0]!.binding).toEqual({ a: '138****8000', b: '139****5678', subsId: '42' });
    expect(lines[0]!.parties).toEqual({ phoneNo: '138****8000', peerNo: '139****5678' });
    expect(raw.join('')).not.toMatch(/13800138000|13912345678/);
    expect(obj.binding).toBe(binding);
    expect(binding.a).toBe(A);
  });

  it('masks a child logger’s bindings', () => {
    const { log, lines, raw } = capture();
    log.child({ callId: 'c2@h', caller: A, x: '17100000000' }).info({ a: B }, 'ringing');
    expect(lines[0]).toMatchObject({ callId: 'c2@h', caller: '138****8000', a: '139****5678' });
    expect(raw.join('')).not.toMatch(/13800138000|13912345678/);
  });

  it('leaves errors and non-string values to pino’s serializers', () => {
    const { log, lines } = capture();
    log.error({ err: new Error('boom'), number: 5, caller: undefined }, 'failed');
    expect(lines[0]!.err).toMatchObject({ type: 'Error', message: 'boom' });
    expect(lines[0]!.number).toBe(5);
  });

  it('logs an error without the SIP message or Redis command it carries, its number fields masked', () => {
    const { log, lines, raw } = capture();
    // drachtio-srf's createUAC rejects with a SipError holding the whole response of B
    const sip = Object.assign(new Srf.SipError(480, 'Temporarily Unavailable'), {
      res: { status: 480, msg: { uri: `sip:${B}@10.0.0.1`, headers: { to: `<sip:${B}@10.0.0.1>` } } },
    });
    // ioredis errors carry the command and its arguments (a bind script's A and B)
    const redis = Object.assign(new Error('OOM command not allowed'), { command: { name: 'evalsha', args: ['f00', 1, 'xline:{17100000000}', A, B] } });
    const own = Object.assign(new Error('lookup failed'), { caller: A, status: 503 });
    log.error({ err: sip }, 'bridge failed');
    log.error({ err: redis }, 'bind failed');
    log.error(own, 'lookup failed');
    log.error({ err: new AggregateError([sip, redis], 'both') }, 'all failed');
    expect(lines[0]!.err).toMatchObject({ type: 'SipError', message: 'Sip non-success response: 480', status: 480, reason: 'Temporarily Unavailable' });
    expect(lines[0]!.err.stack).toContain('SipError');
    expect(lines[1]!.err).toMatchObject({ type: 'Error', message: 'OOM command not allowed' });
    expect(lines[2]!.err).toMatchObject({ message: 'lookup failed', caller: '138****8000', status: 503 });
    expect(lines[3]!.err.aggregateErrors).toHaveLength(2);
    expect(raw.join('')).not.toMatch(/13800138000|13912345678/);
  });

  it('returns the object itself when nothing is a number field', () => {
    const o = { callId: 'c', nested: { outcome: 'x' } };
    expect(maskNumberFields(o)).toBe(o);
  });
});
