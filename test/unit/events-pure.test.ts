// Pure parts of the events module: the webhook signature a receiver checks, the envelopes,
// QueryCallStatus's DTO and the CDR's unconnected_cause.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cdrEnvelope, eventEnvelope, signWebhook, verifyWebhook } from '../../src/events/webhook.js';
import { secretCallStatusDTO } from '../../src/api/dypls/actions/query-call-status.js';
import type { Binding } from '../../src/domain/binding.js';
import type { LiveCall } from '../../src/events/store.js';
import { unconnectedCause } from '../../src/events/types.js';

describe('webhook signature', () => {
  const body = '{"id":"c1:cdr"}';
  it('is HMAC-SHA256 over "<timestamp>.<body>", hex, prefixed sha256=', () => {
    const want = createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex');
    expect(signWebhook('s3cret', 1700000000, body)).toBe(`sha256=${want}`);
  });
  it('verifies only the right secret, body and a timestamp within 5 minutes', () => {
    const sig = signWebhook('k', 1000, body);
    expect(verifyWebhook({ secret: 'k', body, timestamp: '1000', signature: sig, nowSec: 1000 })).toBe(true);
    expect(verifyWebhook({ secret: 'k', body: Buffer.from(body), timestamp: '1000', signature: sig, nowSec: 1299 })).toBe(true);
    expect(verifyWebhook({ secret: 'k', body, timestamp: '1000', signature: sig, nowSec: 1301 })).toBe(false);
    expect(verifyWebhook({ secret: 'k', body, timestamp: '1000', signature: sig, nowSec: 699 })).toBe(false);
    expect(verifyWebhook({ secret: 'k', body, timestamp: '1001', signature: sig, nowSec: 1000 })).toBe(false);
    expect(verifyWebhook({ secret: 'K', body, timestamp: '1000', signature: sig, nowSec: 1000 })).toBe(false);
    expect(verifyWebhook({ secret: 'k', body, timestamp: undefined, signature: sig, nowSec: 1000 })).toBe(false);
    expect(verifyWebhook({ secret: 'k', body, timestamp: '1000', signature: 'sha256=00', nowSec: 1000 })).toBe(false);
  });
});

describe('envelopes', () => {
  it('carry a stable id and Alibaba report names', () => {
    const e = eventEnvelope({ type: 'answer', call_id: 'c1', secret_no: '1', at: 5 });
    expect(e.id).toBe('c1:answer');
    expect(JSON.parse(e.body)).toEqual({ id: 'c1:answer', type: 'answer', report: 'SecretPickUpReport', occurred_at: 5, event: { type: 'answer', call_id: 'c1', secret_no: '1', at: 5 } });
    expect(JSON.parse(eventEnvelope({ type: 'hangup', call_id: 'c1', secret_no: '1', at: 5 }).body).report).toBeUndefined();
    const c = cdrEnvelope({ call_id: 'c1' } as never, 9);
    expect(c).toMatchObject({ id: 'c1:cdr', type: 'cdr' });
    expect(JSON.parse(c.body)).toMatchObject({ report: 'SecretReport', occurred_at: 9, cdr: { call_id: 'c1' } });
  });
});

describe('QueryCallStatus DTO', () => {
  const b: Binding = { subsId: '1', mode: 'AXB', poolKey: 'P', x: '17000000000', a: '13800000001', b: '13800000002', expiresAt: 2000, createdAt: 1, recording: false, callDisplayType: 1 };
  const call = (id: string, state: LiveCall['state'], since: number, peer = '13800000002'): LiveCall => ({ call_id: id, state, since, phone_no: '13800000001', peer_no: peer });
  it('is Status 4 once the binding expired', () => {
    expect(secretCallStatusDTO(b, [call('c', 'talking', 1)], undefined, 2000, 'UTC')).toEqual({ Status: 4, CallState: 'IDLE', LiveCalls: 0 });
  });
  it('is IDLE with CalledNo = X without calls', () => {
    expect(secretCallStatusDTO(b, [], undefined, 1000, 'UTC')).toEqual({ Status: 1, CalledNo: '17000000000', CallState: 'IDLE', LiveCalls: 0 });
  });
  it('reports the most advanced call, counting ended ones out', () => {
    const d = secretCallStatusDTO(b, [call('new', 'ringing', 900_000), call('old', 'talking', 800_000), call('gone', 'ended', 950_000)], undefined, 1000, 'UTC');
    expect(d).toEqual({ Status: 1, CalledNo: '17000000000', CallState: 'TALKING', CallId: 'old', StateTime: '1970-01-01 00:13:20', LiveCalls: 2 });
  });
  it('narrows to CallNo', () => {
    const live = [call('x', 'talking', 1000, '13900000009'), call('y', 'ringing', 2000)];
    expect(secretCallStatusDTO(b, live, '13800000002', 1000, 'UTC')).toMatchObject({ CallState: 'RINGING', CallId: 'y', LiveCalls: 1 });
    expect(secretCallStatusDTO(b, live, '13700000000', 1000, 'UTC')).toMatchObject({ CallState: 'IDLE', LiveCalls: 0 });
  });
});

describe('unconnected_cause (Alibaba: 0 normal, 1 blacklist, 2 no binding, 3 restricted, 4 other)', () => {
  it.each([
    [false, undefined, 0], // put through, not answered (busy, no answer, cancel)
    [true, undefined, 0],
    [true, 'instance-lost', 0], // answered, then its instance died
    [false, 'no-binding', 2],
    [false, 'not-a-party', 2],
    [false, 'no-default-b', 2],
    [false, 'wrong-extension', 2],
    [false, 'call-restricted', 3],
    [false, 'self-call', 3],
    [false, 'unavailable', 4],
    [false, 'no-extension', 4],
    [false, 'instance-lost', 4],
  ] as const)('answered %s, control_type %s → %i', (answered, controlType, want) => {
    expect(unconnectedCause(answered, controlType)).toBe(want);
  });
});
